// The distributed LogIndex on OpenSearch 2/3 or Elasticsearch 8/9: one data stream per category and namespace,
// `logs-emporium.<category>-<namespace>`, from the composable template `emporium-logs` with explicit mappings.
//
// Writes: `_bulk` with `create` and `_id` = event.id. 201 and 409 (already there) count as indexed; other 4xx items are
// rejected for good with the engine's reason; any 429/5xx item, or a 429/5xx/connection failure of the request, throws
// a `retryable` EngineUnavailable: the caller sends the whole batch again, which is safe because repeats answer 409.
// Dedup holds within a backing index only: after a rollover the same _id can land again (elasticsearch#44794).
// Reads: every value goes through the query DSL (query-dsl.ts), never into a query string. Terms are exact on one
// shard; over several backing indices the engine's shard_size heuristic applies. Percentiles are t-digest estimates
// (compression 100): on OpenSearch 2.19 within 0.4 % of the exact value on 1000 values, 1.03 % on 334, varying with
// segment layout, exact at p0/p100; on a handful of values it interpolates differently from the exact definition.
// Retention in the app: deleteOlderThan deletes whole non-write backing indices whose newest @timestamp is before the
// cut-off, and `_delete_by_query` trims older records from the indices that straddle it; rollover() starts new
// backing indices. ILM/ISM policies may replace both.
//
// Verified here against OpenSearch 2.19.6 (single node, scripts/stack). Relied on for Elasticsearch 8/9, from its
// documentation, NOT verified by a test here:
// - opensearch-js 3.9 talks to Elasticsearch: it defines a distribution check (Transport#checkCompatibleInfo, which
//   would refuse ES 8/9) but never calls it; requests carry explicit application/json and application/x-ndjson
//   content types, so OPENSEARCH_CLIENT_APIVERSIONING's vendor media types never reach ES.
// - The REST shapes used are common: PUT _index_template (priority, data_stream {}, template.settings/mappings),
//   _bulk create items with status/error.type/error.reason, _search with track_total_hits and ignore_unavailable,
//   date_histogram fixed_interval in ms, terms with order [_count desc, _key asc] and on `_index`, percentiles with
//   keyed: false, GET _data_stream/<pattern> (indices[].index_name, last = write index), POST <stream>/_rollover,
//   DELETE of a non-write backing index, _delete_by_query on a backing index, _refresh, _count.
// - Priority 200 puts this template above the built-in `logs-*-*` (priority 100), so none of the built-in logs@
//   component templates (ILM policy, logs@settings) apply.
// - flavor 'elasticsearch' maps message/error.message as match_only_text (ES 7.14+; phrases are checked against
//   _source, slower but smaller) and sets index.mode: standard, so ES 9's logsdb default for `logs-*-*` data streams
//   (synthetic _source, host.name sort) does not change the documents this adapter returns. OpenSearch has neither.
import { Client, errors } from '@opensearch-project/opensearch'
import { EngineUnavailable } from '../../core/errors.ts'
import { type EcsRecord, LOG_CATEGORIES, type LogCategory } from '../../logging/ecs.ts'
import { INDEXED_FIELDS } from '../fields.ts'
import {
  type HistogramBucket,
  type IndexResult,
  type LogIndex,
  type LogPage,
  type LogQuery,
  markRetryable,
} from '../log-index.ts'
import {
  histogramStarts,
  percentilesField,
  percentKey,
  type ResolvedFilter,
  resolveCutoff,
  resolveFilter,
  resolvePage,
  routeRecord,
  termsField,
} from '../resolve.ts'
import { compileFilterDsl, type Dsl } from './query-dsl.ts'

type Filter = Omit<LogQuery, 'page' | 'limit' | 'sort'>
export type SearchEngineFlavor = 'opensearch' | 'elasticsearch'

export interface SearchEngineLogIndexOptions {
  url: string
  /** The data-stream namespace: lower-case letters, digits and `_` (default `default`). */
  namespace?: string
  flavor?: SearchEngineFlavor
  /** Replicas per backing index (default 1; a single node needs 0 to be green). */
  replicas?: number
  /** Primary shards per backing index (default 1: size shards at 10-50 GB and roll over). */
  shards?: number
  templateName?: string
  /** Above the built-in logs-*-* template of Elasticsearch (100). */
  templatePriority?: number
  requestTimeoutMs?: number
  /** Use this client instead of opening one; it is left open on close(). */
  client?: Client
}

export const TEMPLATE_NAME = 'emporium-logs'
export const INDEX_PATTERN = 'logs-emporium.*-*'

const JSON_HEADERS = { 'content-type': 'application/json' }
const NDJSON_HEADERS = { 'content-type': 'application/x-ndjson' }
/** Reads tolerate streams that do not exist yet (no record of that category so far). */
const LENIENT = { ignore_unavailable: 'true', allow_no_indices: 'true' }

/** The composable index template: explicit mappings from fields.ts, nothing dynamic. */
export function indexTemplate(options: {
  flavor: SearchEngineFlavor
  replicas: number
  shards: number
  priority: number
}): Dsl {
  const properties: Record<string, unknown> = {}
  for (const field of INDEXED_FIELDS) {
    const mapping =
      field.type === 'text'
        ? { type: options.flavor === 'elasticsearch' ? 'match_only_text' : 'text' }
        : field.type === 'keyword'
          ? field.ignoreAbove
            ? { type: 'keyword', ignore_above: field.ignoreAbove }
            : { type: 'keyword' }
          : { type: field.type }
    let level = properties
    const keys = field.path.split('.')
    keys.forEach((key, i) => {
      if (i === keys.length - 1) level[key] = mapping
      else {
        if (!level[key]) level[key] = { properties: {} }
        level = (level[key] as { properties: Record<string, unknown> }).properties
      }
    })
  }
  const settings: Record<string, unknown> = {
    number_of_shards: options.shards,
    number_of_replicas: options.replicas,
  }
  if (options.flavor === 'elasticsearch') settings['index.mode'] = 'standard'
  return {
    index_patterns: [INDEX_PATTERN],
    priority: options.priority,
    data_stream: {},
    template: { settings, mappings: { dynamic: false, properties } },
    _meta: { managed_by: 'emporium', description: 'Emporium log records (ECS), one data stream per category' },
  }
}

interface BulkItem {
  status: number
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } }
}
interface SearchBody {
  hits: { total: { value: number } | number; hits: { _source: EcsRecord }[] }
  aggregations?: Record<string, unknown>
}
interface Bucket {
  key: string | number
  doc_count: number
}

const describeItemError = (error: BulkItem['error']): string => {
  if (!error) return 'rejected without a reason'
  const cause = error.caused_by ? ` (${error.caused_by.type}: ${error.caused_by.reason})` : ''
  return `${error.type}: ${error.reason}${cause}`
}

export class SearchEngineLogIndex implements LogIndex {
  readonly kind: SearchEngineFlavor
  readonly namespace: string
  private readonly client: Client
  private readonly ownsClient: boolean
  private readonly engineName: string

  constructor(private readonly options: SearchEngineLogIndexOptions) {
    this.kind = options.flavor ?? 'opensearch'
    this.engineName = this.kind === 'opensearch' ? 'OpenSearch' : 'Elasticsearch'
    this.namespace = options.namespace ?? 'default'
    if (!/^[a-z0-9_]{1,64}$/.test(this.namespace))
      throw new Error(`log index namespace "${this.namespace}": use 1-64 lower-case letters, digits and _`)
    this.ownsClient = !options.client
    this.client =
      options.client ?? new Client({ node: options.url, requestTimeout: options.requestTimeoutMs ?? 30_000 })
  }

  /** The data stream of a category in this namespace. */
  dataStream(category: LogCategory): string {
    return `logs-emporium.${category}-${this.namespace}`
  }

  private targets(categories: readonly LogCategory[] | undefined): string {
    return (categories ?? LOG_CATEGORIES).map((c) => this.dataStream(c)).join(',')
  }

  private async call<T>(
    method: string,
    path: string,
    request: { body?: unknown; bulkBody?: unknown[]; querystring?: Record<string, string> } = {},
    options: { maxRetries?: number; ignore?: number[] } = {},
  ): Promise<T> {
    try {
      const response = await this.client.transport.request(
        {
          method,
          path,
          ...(request.body !== undefined ? { body: request.body as Record<string, unknown> } : {}),
          ...(request.bulkBody ? { bulkBody: request.bulkBody as Record<string, unknown>[] } : {}),
          ...(request.querystring ? { querystring: request.querystring } : {}),
        },
        {
          headers: request.bulkBody ? NDJSON_HEADERS : JSON_HEADERS,
          ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
          ...(options.ignore ? { ignore: options.ignore } : {}),
        },
      )
      return response.body as T
    } catch (error) {
      throw this.translate(error, `${method} ${path}`)
    }
  }

  /** 429, 5xx and connection failures are retryable; other answers are bugs or misconfiguration and are not. */
  private translate(error: unknown, what: string): Error {
    if (error instanceof errors.ResponseError) {
      const status = error.statusCode
      const reason = JSON.stringify(error.body?.error ?? error.body ?? null).slice(0, 500)
      if (status === 429 || status >= 500)
        return markRetryable(new EngineUnavailable(this.engineName).withDetails({ status, reason, request: what }))
      return Object.assign(new Error(`${this.engineName} answered ${status} to ${what}: ${reason}`), {
        status,
        retryable: false,
      })
    }
    if (
      error instanceof errors.ConnectionError ||
      error instanceof errors.TimeoutError ||
      error instanceof errors.NoLivingConnectionsError
    )
      return markRetryable(
        new EngineUnavailable(this.engineName).withDetails({ reason: (error as Error).message, request: what }),
      )
    return error instanceof Error ? error : new Error(String(error))
  }

  async migrate(): Promise<void> {
    const body = indexTemplate({
      flavor: this.kind,
      replicas: this.options.replicas ?? 1,
      shards: this.options.shards ?? 1,
      priority: this.options.templatePriority ?? 200,
    })
    await this.call('PUT', `/_index_template/${encodeURIComponent(this.options.templateName ?? TEMPLATE_NAME)}`, {
      body,
    })
  }

  async ping(): Promise<void> {
    await this.call('GET', '/', {}, { maxRetries: 0 })
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close()
  }

  async index(records: readonly EcsRecord[]): Promise<IndexResult> {
    const rejected: IndexResult['rejected'] = []
    const lines: unknown[] = []
    const sent: string[] = []
    for (const record of records) {
      const route = routeRecord(record)
      if (!route.ok) {
        const id = (record as { event?: { id?: unknown } } | null)?.event?.id
        rejected.push({ eventId: typeof id === 'string' ? id : '', reason: route.reason })
        continue
      }
      lines.push({ create: { _index: this.dataStream(route.category), _id: route.eventId } }, record)
      sent.push(route.eventId)
    }
    if (sent.length === 0) return { indexed: 0, rejected }
    // No client-side retries: the caller's capped, jittered backoff owns retrying.
    const body = await this.call<{ errors: boolean; items: Record<string, BulkItem>[] }>(
      'POST',
      '/_bulk',
      // Only what classifying the items needs: a far smaller answer for the engine to build and for us to parse.
      { bulkBody: lines, querystring: { filter_path: 'errors,items.*.status,items.*.error' } },
      { maxRetries: 0 },
    )
    let indexed = 0
    let retry: { status: number; reason: string } | undefined
    let retryCount = 0
    body.items.forEach((item, i) => {
      const result = item.create ?? Object.values(item)[0]!
      if (result.status < 300 || result.status === 409) indexed++
      else if (result.status === 429 || result.status >= 500) {
        retryCount++
        retry ??= { status: result.status, reason: describeItemError(result.error) }
      } else rejected.push({ eventId: sent[i]!, reason: describeItemError(result.error) })
    })
    if (retry)
      throw markRetryable(
        new EngineUnavailable(this.engineName).withDetails({
          ...retry,
          retryCount,
          indexed,
          rejected: rejected.length,
        }),
      )
    return { indexed, rejected }
  }

  private async searchBody(categories: readonly LogCategory[] | undefined, body: Dsl): Promise<SearchBody> {
    return this.call<SearchBody>('POST', `/${this.targets(categories)}/_search`, { body, querystring: LENIENT })
  }

  async search(query: LogQuery): Promise<LogPage> {
    const page = resolvePage(query)
    if (page.categories?.length === 0) return { items: [], total: 0 }
    const result = await this.searchBody(page.categories, {
      query: compileFilterDsl(page),
      from: page.offset,
      size: page.limit,
      track_total_hits: true,
      sort: [{ '@timestamp': { order: page.order } }, { 'event.id': { order: page.order } }],
    })
    const total = typeof result.hits.total === 'number' ? result.hits.total : result.hits.total.value
    return { items: result.hits.hits.map((hit) => hit._source), total }
  }

  async count(query?: Filter): Promise<number> {
    const filter: ResolvedFilter | undefined = query ? resolveFilter(query) : undefined
    if (filter?.categories?.length === 0) return 0
    const body = filter ? { query: compileFilterDsl(filter) } : { query: { match_all: {} } }
    const result = await this.call<{ count: number }>('POST', `/${this.targets(filter?.categories)}/_count`, {
      body,
      querystring: LENIENT,
    })
    return result.count
  }

  private async aggregate(filter: ResolvedFilter, aggs: Dsl): Promise<Record<string, unknown> | undefined> {
    if (filter.categories?.length === 0) return undefined
    const result = await this.searchBody(filter.categories, {
      size: 0,
      track_total_hits: false,
      query: compileFilterDsl(filter),
      aggs,
    })
    return result.aggregations
  }

  async histogram(query: Filter, intervalMs: number): Promise<HistogramBucket[]> {
    const filter = resolveFilter(query)
    const starts = histogramStarts(filter, intervalMs)
    const buckets = starts.map((at) => ({ at: new Date(at).toISOString(), counts: {} as Record<string, number> }))
    if (starts.length === 0) return buckets
    const aggs = await this.aggregate(filter, {
      over_time: {
        date_histogram: { field: '@timestamp', fixed_interval: `${intervalMs}ms`, min_doc_count: 1 },
        aggs: { levels: { terms: { field: 'log.level', size: 20 } } },
      },
    })
    const overTime = aggs?.over_time as { buckets: (Bucket & { levels: { buckets: Bucket[] } })[] } | undefined
    for (const bucket of overTime?.buckets ?? []) {
      const target = buckets[(Number(bucket.key) - starts[0]!) / intervalMs]
      if (!target) continue
      for (const level of bucket.levels.buckets) target.counts[String(level.key)] = level.doc_count
    }
    return buckets
  }

  async terms(query: Filter, field: string, size: number): Promise<{ key: string; count: number }[]> {
    const spec = termsField(field, size)
    const aggs = await this.aggregate(resolveFilter(query), {
      top: { terms: { field: spec.path, size, order: [{ _count: 'desc' }, { _key: 'asc' }] } },
    })
    const top = aggs?.top as { buckets: Bucket[] } | undefined
    return (top?.buckets ?? []).map((b) => ({ key: String(b.key), count: b.doc_count }))
  }

  async percentiles(query: Filter, field: string, percents: number[]): Promise<Record<string, number | null>> {
    const spec = percentilesField(field, percents)
    const aggs = await this.aggregate(resolveFilter(query), {
      pct: { percentiles: { field: spec.path, percents, keyed: false } },
    })
    const values = (aggs?.pct as { values: { key: number; value: number | null }[] } | undefined)?.values
    const result: Record<string, number | null> = {}
    percents.forEach((p, i) => {
      const value = values?.[i]?.value
      result[percentKey(p)] = typeof value === 'number' && Number.isFinite(value) ? value : null
    })
    return result
  }

  /** This namespace's data streams with their backing indices, oldest first (the last one takes the writes). */
  async dataStreams(): Promise<{ name: string; indices: string[] }[]> {
    const ours = new Set(LOG_CATEGORIES.map((c) => this.dataStream(c)))
    const result = await this.call<{ data_streams: { name: string; indices: { index_name: string }[] }[] }>(
      'GET',
      `/_data_stream/${encodeURIComponent(`logs-emporium.*-${this.namespace}`)}`,
      {},
      { ignore: [404] },
    )
    return (result.data_streams ?? [])
      .filter((s) => ours.has(s.name))
      .map((s) => ({ name: s.name, indices: s.indices.map((i) => i.index_name) }))
  }

  /** Starts a new write index for each of this namespace's data streams (all, or those meeting the conditions). */
  async rollover(conditions?: {
    maxAge?: string
    maxDocs?: number
  }): Promise<{ dataStream: string; newIndex: string; rolledOver: boolean }[]> {
    const body =
      conditions && (conditions.maxAge || conditions.maxDocs)
        ? {
            conditions: {
              ...(conditions.maxAge ? { max_age: conditions.maxAge } : {}),
              ...(conditions.maxDocs ? { max_docs: conditions.maxDocs } : {}),
            },
          }
        : {}
    const rolled: { dataStream: string; newIndex: string; rolledOver: boolean }[] = []
    for (const stream of await this.dataStreams()) {
      const result = await this.call<{ new_index: string; rolled_over: boolean }>('POST', `/${stream.name}/_rollover`, {
        body,
      })
      rolled.push({ dataStream: stream.name, newIndex: result.new_index, rolledOver: result.rolled_over })
    }
    return rolled
  }

  async deleteOlderThan(cutoff: string): Promise<number> {
    const cutoffMs = resolveCutoff(cutoff)
    const streams = await this.dataStreams()
    if (streams.length === 0) return 0
    const backing = streams.flatMap((s) => s.indices)
    const stats = await this.call<SearchBody>('POST', `/${streams.map((s) => s.name).join(',')}/_search`, {
      body: {
        size: 0,
        aggs: {
          by_index: {
            terms: { field: '_index', size: backing.length + 10 },
            aggs: { oldest: { min: { field: '@timestamp' } }, newest: { max: { field: '@timestamp' } } },
          },
        },
      },
      querystring: LENIENT,
    })
    const perIndex = new Map<string, { count: number; oldest: number; newest: number }>()
    const byIndex = stats.aggregations?.by_index as
      | { buckets: (Bucket & { oldest: { value: number }; newest: { value: number } })[] }
      | undefined
    for (const b of byIndex?.buckets ?? [])
      perIndex.set(String(b.key), { count: b.doc_count, oldest: b.oldest.value, newest: b.newest.value })

    let deleted = 0
    const expired: string[] = []
    const straddling: string[] = []
    for (const stream of streams) {
      const writeIndex = stream.indices.at(-1)
      for (const index of stream.indices) {
        const s = perIndex.get(index)
        if (index !== writeIndex && (!s || s.newest < cutoffMs)) {
          expired.push(index)
          deleted += s?.count ?? 0
        } else if (s && s.oldest < cutoffMs) straddling.push(index)
      }
    }
    for (let i = 0; i < expired.length; i += 50) await this.call('DELETE', `/${expired.slice(i, i + 50).join(',')}`)
    if (straddling.length > 0) {
      const result = await this.call<{ deleted: number }>('POST', `/${straddling.join(',')}/_delete_by_query`, {
        body: { query: { range: { '@timestamp': { lt: cutoffMs, format: 'epoch_millis' } } } },
        querystring: { conflicts: 'proceed', refresh: 'true' },
      })
      deleted += result.deleted
    }
    return deleted
  }

  async refresh(): Promise<void> {
    await this.call('POST', `/${this.targets(undefined)}/_refresh`, { querystring: LENIENT })
  }
}

export function openSearchEngineLogIndex(options: SearchEngineLogIndexOptions): SearchEngineLogIndex {
  return new SearchEngineLogIndex(options)
}
