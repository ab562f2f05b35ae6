// The indexed ECS fields of the LogIndex: their types, the operator aliases, and the SQLite column of each.
// One list drives the query parser, the SQLite table and the search-engine template mapping, so they cannot drift.

export type FieldType = 'keyword' | 'long' | 'date' | 'text'

export interface FieldSpec {
  /** ECS dotted path, as in the document. */
  readonly path: string
  readonly type: FieldType
  /** The SQLite column that holds the field's normalised value (text fields live in FTS5 instead). */
  readonly column: string | null
  /** Free-form keywords that can be long: not indexed by the search engine beyond this many characters. */
  readonly ignoreAbove?: number
}

const spec = (path: string, type: FieldType, column: string | null, ignoreAbove?: number): FieldSpec =>
  ignoreAbove === undefined ? { path, type, column } : { path, type, column, ignoreAbove }

export const INDEXED_FIELDS: readonly FieldSpec[] = [
  spec('@timestamp', 'date', 'ts'),
  spec('message', 'text', null),
  spec('error.message', 'text', null),
  spec('log.level', 'keyword', 'level'),
  spec('log.logger', 'keyword', 'logger'),
  spec('event.id', 'keyword', 'event_id'),
  spec('event.category', 'keyword', 'category'),
  spec('event.dataset', 'keyword', 'dataset'),
  spec('event.action', 'keyword', 'action'),
  spec('event.outcome', 'keyword', 'outcome'),
  spec('event.duration', 'long', 'duration'),
  spec('service.name', 'keyword', 'service_name'),
  spec('service.version', 'keyword', 'service_version'),
  spec('host.name', 'keyword', 'host_name'),
  spec('http.request.method', 'keyword', 'method'),
  spec('http.request.id', 'keyword', 'request_id'),
  spec('http.response.status_code', 'long', 'status'),
  spec('http.response.body.bytes', 'long', 'bytes'),
  spec('url.path', 'keyword', 'path', 1024),
  spec('url.route', 'keyword', 'route'),
  spec('url.query', 'keyword', 'url_query', 1024),
  spec('user.id', 'keyword', 'user_id'),
  spec('client.ip', 'keyword', 'ip'),
  spec('user_agent.original', 'keyword', 'ua_original', 1024),
  spec('user_agent.name', 'keyword', 'ua_name'),
  spec('user_agent.version', 'keyword', 'ua_version'),
  spec('user_agent.os.name', 'keyword', 'ua_os'),
  spec('user_agent.device.name', 'keyword', 'ua_device'),
  spec('trace.id', 'keyword', 'trace_id'),
  spec('error.type', 'keyword', 'error_type'),
  spec('error.code', 'keyword', 'error_code'),
]

/** Short names operators type in the query box and the dashboards pass to terms/percentiles. */
export const FIELD_ALIASES: Readonly<Record<string, string>> = {
  level: 'log.level',
  status: 'http.response.status_code',
  path: 'url.path',
  route: 'url.route',
  method: 'http.request.method',
  category: 'event.category',
  user: 'user.id',
  trace: 'trace.id',
  ip: 'client.ip',
  duration: 'event.duration',
  timestamp: '@timestamp',
  service: 'service.name',
}

const byPath = new Map(INDEXED_FIELDS.map((f) => [f.path, f]))

/** The indexed field behind a name or alias, or undefined. */
export function resolveField(name: string): FieldSpec | undefined {
  return byPath.get(FIELD_ALIASES[name] ?? name)
}

/** The text fields a bare word or an unfielded phrase searches. */
export const DEFAULT_TEXT_FIELDS = ['message', 'error.message'] as const

/** Names shown in "unknown field" errors: aliases first, then the ECS paths. */
export const knownFieldNames = (): string[] => [...Object.keys(FIELD_ALIASES), ...byPath.keys()]

/** Reads a dotted ECS path out of a nested record. */
export function getPath(record: unknown, path: string): unknown {
  let value: unknown = record
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}
