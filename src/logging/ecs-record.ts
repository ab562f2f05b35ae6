// Turns one pino log object (as Fastify and the app write it) into an ECS record, born with its event.id.
import { newEventId } from '../core/ids.ts'
import type { EcsRecord, LogCategory, LogLevel } from './ecs.ts'

export interface ToEcsOptions {
  service: string
  serviceVersion?: string
}

/** Bounds that keep one record small whatever the app logs. */
export const ECS_LIMITS = {
  message: 16 * 1024,
  stackTrace: 16 * 1024,
  urlPath: 2048,
  urlQuery: 2048,
  userAgent: 512,
  labels: 32,
  labelKey: 64,
  labelValue: 1024,
  labelDepth: 3,
} as const

const LEVEL_BY_NUMBER: readonly [number, LogLevel][] = [
  [60, 'fatal'],
  [50, 'error'],
  [40, 'warn'],
  [30, 'info'],
  [20, 'debug'],
  [10, 'trace'],
]
const LEVEL_NAMES = new Set<string>(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])

export function levelOf(level: unknown): LogLevel {
  if (typeof level === 'number') {
    for (const [n, name] of LEVEL_BY_NUMBER) if (level >= n) return name
    return 'trace'
  }
  if (typeof level === 'string') {
    const lower = level.toLowerCase()
    if (LEVEL_NAMES.has(lower)) return lower as LogLevel
    if (lower === 'warning') return 'warn'
  }
  return 'info'
}

/** The markers the app puts on a log call, strongest first: `{ security: 'login.failed' }`. */
const MARKERS = ['security', 'audit', 'business'] as const satisfies readonly LogCategory[]

/** Keys that toEcs maps to ECS fields; everything else becomes a label. */
const MAPPED = new Set([
  'level',
  'time',
  'msg',
  'err',
  'req',
  'res',
  'responseTime',
  'reqId',
  'userId',
  'hostname',
  'pid',
  'name',
  'event',
  ...MARKERS,
])

const FAILED_ACTION = /(?:^|[._-])(?:fail(?:ed|ure)?|denied|rejected|refused|locked)$/

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

const str = (v: unknown, max: number): string | undefined => {
  if (typeof v === 'string') return v.length > max ? `${v.slice(0, max)}…` : v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  return undefined
}

const finiteNumber = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined
}

// Lines come in bursts within the same millisecond; formatting a date is the dearest step of the mapping.
let lastMs = Number.NaN
let lastIso = ''

function isoOf(ms: number): string | undefined {
  if (ms === lastMs) return lastIso
  const d = new Date(ms)
  if (Number.isNaN(d.getTime())) return undefined
  lastMs = ms
  lastIso = d.toISOString()
  return lastIso
}

function timestampOf(time: unknown): string {
  const ms = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : Number.NaN
  return (Number.isFinite(ms) && isoOf(ms)) || new Date().toISOString()
}

const safeKeys = new Map<string, string>()

/** ES treats dots in a key as object paths; labels stay flat, so keys keep to [A-Za-z0-9_]. */
function labelKey(key: string): string {
  let safe = safeKeys.get(key)
  if (safe === undefined) {
    safe = key.replace(/[^A-Za-z0-9_]/g, '_').slice(0, ECS_LIMITS.labelKey)
    if (safeKeys.size > 10_000) safeKeys.clear()
    safeKeys.set(key, safe)
  }
  return safe
}

interface LabelState {
  into: Record<string, string | number | boolean>
  count: number
  dropped: number
}

function putLabel(state: LabelState, key: string, value: unknown, depth: number): void {
  if (value === undefined || value === null || typeof value === 'function' || typeof value === 'symbol') return
  if (isRecord(value) && depth < ECS_LIMITS.labelDepth) {
    for (const k in value) putLabel(state, `${key}_${k}`, value[k], depth + 1)
    return
  }
  if (state.count >= ECS_LIMITS.labels) {
    state.dropped++
    return
  }
  let primitive: string | number | boolean
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return
    primitive = value
  } else if (typeof value === 'boolean') primitive = value
  else if (typeof value === 'string') primitive = str(value, ECS_LIMITS.labelValue) as string
  else {
    let json: string | undefined
    try {
      json = typeof value === 'bigint' ? value.toString() : JSON.stringify(value)
    } catch {
      json = '[unserializable]'
    }
    if (json === undefined) return
    primitive = str(json, ECS_LIMITS.labelValue) as string
  }
  state.into[labelKey(key)] = primitive
  state.count++
}

/**
 * Maps one pino object: level numbers, `time`, `msg`, `err`, Fastify's `req`/`res`/`responseTime`, `reqId`,
 * `userId` and the security/audit/business markers; other fields become `labels`. Assigns `event.id` (UUIDv7)
 * unless the object already carries one. Never throws on odd input.
 */
export function toEcs(obj: Record<string, unknown>, options: ToEcsOptions): EcsRecord {
  const level = levelOf(obj.level)
  const err = obj.err
  const errObj = isRecord(err) ? err : undefined
  const msg = str(obj.msg, ECS_LIMITS.message) ?? (errObj ? str(errObj.message, ECS_LIMITS.message) : undefined)
  const given = isRecord(obj.event) ? obj.event : undefined
  const givenId = given && typeof given.id === 'string' && given.id.length > 0 && given.id.length <= 128 && given.id

  const record: EcsRecord = {
    '@timestamp': timestampOf(obj.time),
    message: msg ?? '',
    log: { level },
    event: { id: givenId || newEventId() },
    service: options.serviceVersion
      ? { name: options.service, version: options.serviceVersion }
      : { name: options.service },
  }
  const logger = str(obj.name, 128)
  if (logger) record.log.logger = logger
  const hostname = str(obj.hostname, 255)
  if (hostname) record.host = { name: hostname }
  const pid = finiteNumber(obj.pid)
  if (pid !== undefined) record.process = { pid }

  for (const marker of MARKERS) {
    const action = str(obj[marker], 256)
    if (action === undefined) continue
    record.event.category = marker
    record.event.action = action
    if (FAILED_ACTION.test(action)) record.event.outcome = 'failure'
    break
  }

  if (err !== undefined && err !== null) {
    if (errObj) {
      const error: NonNullable<EcsRecord['error']> = {}
      const message = str(errObj.message, ECS_LIMITS.message)
      const type = str(errObj.type ?? errObj.name, 256)
      const stack = str(errObj.stack, ECS_LIMITS.stackTrace)
      const code = str(errObj.code, 256)
      if (message !== undefined) error.message = message
      if (type !== undefined) error.type = type
      if (stack !== undefined) error.stack_trace = stack
      if (code !== undefined) error.code = code
      record.error = error
    } else {
      const message = str(err, ECS_LIMITS.message)
      if (message !== undefined) record.error = { message }
    }
  }

  const req = isRecord(obj.req) ? obj.req : undefined
  const res = isRecord(obj.res) ? obj.res : undefined
  const reqId = str(obj.reqId, 128)
  if (req || res || reqId) {
    const http: NonNullable<EcsRecord['http']> = {}
    const method = req && str(req.method, 16)
    if (method || reqId) {
      const request: NonNullable<typeof http.request> = {}
      if (method) request.method = method
      if (reqId) request.id = reqId
      http.request = request
    }
    if (res) {
      const status = finiteNumber(res.statusCode)
      const headers = isRecord(res.headers) ? res.headers : undefined
      const bytes = finiteNumber(res.bytes ?? res.contentLength ?? headers?.['content-length'])
      const response: NonNullable<typeof http.response> = {}
      if (status !== undefined) {
        response.status_code = status
        record.event.outcome ??= status >= 400 ? 'failure' : 'success'
      }
      if (bytes !== undefined) response.body = { bytes }
      http.response = response
    }
    record.http = http
    if (reqId) record.trace = { id: reqId }
  }
  if (req) {
    const url = typeof req.url === 'string' ? req.url : undefined
    const route = str(req.route ?? (isRecord(req.routeOptions) ? req.routeOptions.url : undefined), 512)
    if (url !== undefined || route !== undefined) {
      const u: NonNullable<EcsRecord['url']> = {}
      if (url !== undefined) {
        const q = url.indexOf('?')
        u.path = str(q < 0 ? url : url.slice(0, q), ECS_LIMITS.urlPath) as string
        if (q >= 0 && q < url.length - 1) u.query = str(url.slice(q + 1), ECS_LIMITS.urlQuery) as string
      }
      if (route !== undefined) u.route = route
      record.url = u
    }
    const ip = str(req.remoteAddress ?? req.ip, 64)
    if (ip) record.client = { ip }
    const headers = isRecord(req.headers) ? req.headers : undefined
    const ua = str(req.userAgent ?? headers?.['user-agent'], ECS_LIMITS.userAgent)
    if (ua) record.user_agent = { original: ua }
  }
  const responseTime = finiteNumber(obj.responseTime)
  if (responseTime !== undefined && responseTime >= 0) record.event.duration = Math.round(responseTime * 1e6)

  const userId = str(obj.userId, 128)
  if (userId) record.user = { id: userId }

  const state: LabelState = { into: {}, count: 0, dropped: 0 }
  for (const key in obj) if (!MAPPED.has(key)) putLabel(state, key, obj[key], 1)
  const labels = state.into
  const dropped = state.dropped
  // A route logged beside a marker (`{ security: 'rate_limited', route }`) is the route template.
  if (typeof labels.route === 'string' && !record.url?.route) {
    record.url = { ...record.url, route: labels.route }
    delete labels.route
  }
  if (dropped > 0) labels.labels_dropped = dropped
  for (const _ in labels) {
    record.labels = labels
    break
  }
  return record
}
