// The LogIndex port: indexed log records with search, aggregations and retention.
// Adapters: sqlite/ (FTS5, embedded) and search-engine/ (Elasticsearch 8/9, OpenSearch 2/3 data streams).
// One conformance suite (log-index.conformance.ts) pins the behaviour below on every adapter.
import type { EcsRecord, LogCategory } from '../logging/ecs.ts'

export interface IndexResult {
  /** Records the index now holds (new ones, and ones it had already: duplicates by event.id count as indexed). */
  indexed: number
  /**
   * Records refused for good (mapping conflicts, malformed, no event.id, unknown category): never retry these; send
   * them to the dead letters. `eventId` is '' when the record has none.
   */
  rejected: { eventId: string; reason: string }[]
}

export interface LogQuery {
  /**
   * Operator syntax (query.ts): `level:error AND url.path:/checkout "timeout"`, `NOT status:200`, `-user.id:u1`,
   * `http.response.status_code:>=500`, `event.duration:[1000 TO 5000]`, bare words and quoted phrases over message
   * and error.message. Adjacent clauses are ANDed. Bad syntax throws EMP_VALIDATION with `fields.q`.
   */
  q?: string
  /** Inclusive, ISO-8601. */
  from: string
  /** Exclusive, ISO-8601. */
  to: string
  /** Data streams to search (a record without event.category is in `app`); absent: all. */
  categories?: LogCategory[]
  /** By @timestamp, ties by event.id; default 'desc' (newest first). */
  sort?: 'asc' | 'desc'
  /** 1-based. page × limit may not exceed 10,000 (the engines' max_result_window). */
  page: number
  /** 1 to 1000. */
  limit: number
}

export interface LogPage {
  /** The records as they were indexed. */
  items: EcsRecord[]
  /** Exact number of matches. */
  total: number
}

export interface HistogramBucket {
  /** ISO start of the bucket */
  at: string
  counts: Record<string, number>
}

export interface LogIndex {
  readonly kind: string
  /** Creates tables / templates; safe to run again, keeps data. */
  migrate(): Promise<void>
  /**
   * Idempotent by event.id: indexing the same record twice keeps one copy. Throws an error with `retryable: true`
   * (see isRetryable) when the engine is unreachable or overloaded: the caller backs off and sends the batch again.
   */
  index(records: readonly EcsRecord[]): Promise<IndexResult>
  search(query: LogQuery): Promise<LogPage>
  /**
   * Counts per bucket of intervalMs, split by log.level. Buckets are aligned to the epoch (UTC) and cover the whole
   * window, empty ones included (`counts: {}`), at most 5000.
   */
  histogram(query: Omit<LogQuery, 'page' | 'limit' | 'sort'>, intervalMs: number): Promise<HistogramBucket[]>
  /**
   * Top values of a keyword or numeric field (e.g. url.route, http.response.status_code; aliases allowed), by count
   * descending then key ascending. Numeric keys come back as decimal strings.
   */
  terms(
    query: Omit<LogQuery, 'page' | 'limit' | 'sort'>,
    field: string,
    size: number,
  ): Promise<{ key: string; count: number }[]>
  /**
   * Percentiles of a numeric field (event.duration), e.g. [50, 95, 99], keyed by String(percent); null without data.
   * Adapters state their accuracy (exact, or an estimate such as t-digest).
   */
  percentiles(
    query: Omit<LogQuery, 'page' | 'limit' | 'sort'>,
    field: string,
    percents: number[],
  ): Promise<Record<string, number | null>>
  /** Deletes records with @timestamp before the cut-off; returns how many records went. */
  deleteOlderThan(cutoff: string): Promise<number>
  /** Makes recent writes visible to search (a refresh); tests and the pipeline's checkpoint use it. */
  refresh(): Promise<void>
  count(query?: Omit<LogQuery, 'page' | 'limit' | 'sort'>): Promise<number>
  ping(): Promise<void>
  close(): Promise<void>
}

/** An error the caller may retry after a backoff (429, 5xx, connection failure); anything else will fail again. */
export type RetryableError = Error & { retryable: true }

export function markRetryable<E extends Error>(error: E): E & { retryable: true } {
  return Object.assign(error, { retryable: true as const })
}

export const isRetryable = (error: unknown): error is RetryableError =>
  error instanceof Error && (error as { retryable?: unknown }).retryable === true
