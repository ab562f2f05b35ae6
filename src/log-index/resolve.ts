// Checks shared by the LogIndex adapters: a LogQuery's window, paging and filters, and the identity of a record.
import { ValidationFailed } from '../core/errors.ts'
import { LOG_CATEGORIES, type LogCategory } from '../logging/ecs.ts'
import { type FieldSpec, resolveField } from './fields.ts'
import type { LogQuery } from './log-index.ts'
import { parseQuery, type QueryNode } from './query.ts'
import { parseTimestamp } from './time.ts'

export const MAX_PAGE_SIZE = 1000
/** Deepest result a page may reach (page × limit), as the search engines' default index.max_result_window. */
export const MAX_RESULT_WINDOW = 10_000
export const MAX_HISTOGRAM_BUCKETS = 5000
export const MAX_TERMS = 1000

export interface ResolvedFilter {
  node: QueryNode
  /** Inclusive. */
  fromMs: number
  /** Exclusive. */
  toMs: number
  /** Undefined: every category. */
  categories: LogCategory[] | undefined
}

const bad = (field: string, reason: string) =>
  new ValidationFailed(`${field}: ${reason}`).withFields({ [field]: reason })

export function resolveFilter(query: Omit<LogQuery, 'page' | 'limit' | 'sort'>): ResolvedFilter {
  const node = parseQuery(query.q)
  const fromMs = parseTimestamp(query.from)
  if (fromMs === undefined || typeof query.from !== 'string') throw bad('from', 'must be an ISO-8601 date-time')
  const toMs = parseTimestamp(query.to)
  if (toMs === undefined || typeof query.to !== 'string') throw bad('to', 'must be an ISO-8601 date-time')
  if (toMs < fromMs) throw bad('to', 'must not be before from')
  let categories: LogCategory[] | undefined
  if (query.categories !== undefined) {
    if (!Array.isArray(query.categories)) throw bad('categories', 'must be a list')
    const unknown = query.categories.filter((c) => !(LOG_CATEGORIES as readonly string[]).includes(c))
    if (unknown.length > 0) throw bad('categories', `unknown: ${unknown.join(', ')}`)
    categories = [...new Set(query.categories)]
  }
  return { node, fromMs, toMs, categories }
}

export interface ResolvedPage extends ResolvedFilter {
  order: 'asc' | 'desc'
  offset: number
  limit: number
}

export function resolvePage(query: LogQuery): ResolvedPage {
  const filter = resolveFilter(query)
  if (query.sort !== undefined && query.sort !== 'asc' && query.sort !== 'desc')
    throw bad('sort', 'must be asc or desc')
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_PAGE_SIZE)
    throw bad('limit', `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
  if (!Number.isInteger(query.page) || query.page < 1) throw bad('page', 'must be a whole number from 1')
  if (query.page * query.limit > MAX_RESULT_WINDOW)
    throw bad('page', `page × limit may not exceed ${MAX_RESULT_WINDOW}; narrow the time range or the query`)
  return { ...filter, order: query.sort ?? 'desc', offset: (query.page - 1) * query.limit, limit: query.limit }
}

/** Epoch ms of a retention cut-off. */
export function resolveCutoff(cutoff: string): number {
  const ms = typeof cutoff === 'string' ? parseTimestamp(cutoff) : undefined
  if (ms === undefined) throw bad('cutoff', 'must be an ISO-8601 date-time')
  return ms
}

/** The fixed buckets [start, start + interval) covering the window, aligned to the epoch as date_histogram does. */
export function histogramStarts(filter: ResolvedFilter, intervalMs: number): number[] {
  if (!Number.isInteger(intervalMs) || intervalMs < 1) throw bad('interval', 'must be a whole number of ms from 1')
  if (filter.toMs <= filter.fromMs) return []
  const first = Math.floor(filter.fromMs / intervalMs) * intervalMs
  const count = Math.ceil((filter.toMs - first) / intervalMs)
  if (count > MAX_HISTOGRAM_BUCKETS)
    throw bad('interval', `gives ${count} buckets; at most ${MAX_HISTOGRAM_BUCKETS}: widen the interval`)
  return Array.from({ length: count }, (_, i) => first + i * intervalMs)
}

/** A field the terms aggregation can group by: keyword or numeric. */
export function termsField(name: string, size: number): FieldSpec {
  const field = resolveField(name)
  if (!field || field.type === 'text' || field.type === 'date')
    throw bad('field', `${name} cannot be grouped by; use a keyword or numeric field`)
  if (!Number.isInteger(size) || size < 1 || size > MAX_TERMS) throw bad('size', `must be from 1 to ${MAX_TERMS}`)
  return field
}

/** A numeric field and percents in [0, 100] for the percentiles aggregation. */
export function percentilesField(name: string, percents: number[]): FieldSpec {
  const field = resolveField(name)
  if (field?.type !== 'long') throw bad('field', `${name} is not a numeric field`)
  if (!Array.isArray(percents) || percents.length === 0 || percents.length > 20)
    throw bad('percents', 'give 1 to 20 percents')
  for (const p of percents)
    if (typeof p !== 'number' || !(p >= 0 && p <= 100)) throw bad('percents', 'each must be from 0 to 100')
  return field
}

/** The key a percentile is reported under: `50`, `99.9`. */
export const percentKey = (p: number): string => String(p)

export type RecordRoute = { ok: true; eventId: string; category: LogCategory } | { ok: false; reason: string }

/**
 * Where a record goes, or why no index can take it: an `event.id` is needed for idempotency, and the category picks
 * the data stream (absent: `app`).
 */
export function routeRecord(record: unknown): RecordRoute {
  if (record === null || typeof record !== 'object' || Array.isArray(record))
    return { ok: false, reason: 'the record is not an object' }
  const event = (record as { event?: unknown }).event
  const id = event !== null && typeof event === 'object' ? (event as { id?: unknown }).id : undefined
  if (typeof id !== 'string' || id.length === 0 || Buffer.byteLength(id) > 512)
    return { ok: false, reason: 'event.id: must be a string of 1 to 512 bytes' }
  const category = (event as { category?: unknown }).category ?? 'app'
  if (typeof category !== 'string' || !(LOG_CATEGORIES as readonly string[]).includes(category))
    return { ok: false, reason: `event.category: must be one of ${LOG_CATEGORIES.join(', ')}` }
  return { ok: true, eventId: id, category: category as LogCategory }
}

/** Exact percentile by linear interpolation between closest ranks (NumPy's default) over sorted values. */
export function interpolatedRank(n: number, percent: number): { low: number; high: number; weight: number } {
  const rank = (percent / 100) * (n - 1)
  const low = Math.floor(rank)
  return { low, high: Math.min(low + 1, n - 1), weight: rank - low }
}
