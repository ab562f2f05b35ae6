// The LogIndex port: indexed log records with search, aggregations and retention.
// Adapters: sqlite/ (FTS5, embedded) and search-engine/ (Elasticsearch 8/9, OpenSearch 2/3 data streams).
import type { EcsRecord, LogCategory } from '../logging/ecs.ts'

export interface IndexResult {
  /** Records the index now holds (new ones, and ones it had already: duplicates by event.id count as indexed). */
  indexed: number
  /** Records refused for good (mapping conflicts, malformed): never retry these; send them to the dead letters. */
  rejected: { eventId: string; reason: string }[]
}

export interface LogQuery {
  /**
   * Operator syntax: `level:error AND url.path:/checkout "timeout"`, `NOT status:200`, `-user.id:u1`,
   * `http.response.status_code:>=500`, `event.duration:[1000 TO 5000]`, bare words and quoted phrases over message.
   */
  q?: string
  from: string
  to: string
  categories?: LogCategory[]
  sort?: 'asc' | 'desc'
  page: number
  limit: number
}

export interface LogPage {
  items: EcsRecord[]
  total: number
}

export interface HistogramBucket {
  /** ISO start of the bucket */
  at: string
  counts: Record<string, number>
}

export interface LogIndex {
  readonly kind: string
  migrate(): Promise<void>
  /** Idempotent by event.id: indexing the same record twice keeps one copy. */
  index(records: readonly EcsRecord[]): Promise<IndexResult>
  search(query: LogQuery): Promise<LogPage>
  /** Counts per bucket of intervalMs, split by log.level. */
  histogram(query: Omit<LogQuery, 'page' | 'limit' | 'sort'>, intervalMs: number): Promise<HistogramBucket[]>
  /** Top values of a field (e.g. url.route, http.response.status_code). */
  terms(
    query: Omit<LogQuery, 'page' | 'limit' | 'sort'>,
    field: string,
    size: number,
  ): Promise<{ key: string; count: number }[]>
  /** Percentiles of a numeric field (event.duration), e.g. [50, 95, 99]. */
  percentiles(
    query: Omit<LogQuery, 'page' | 'limit' | 'sort'>,
    field: string,
    percents: number[],
  ): Promise<Record<string, number | null>>
  /** Deletes records older than the cut-off; returns how many (or backing indices) went. */
  deleteOlderThan(cutoff: string): Promise<number>
  /** Makes recent writes visible to search (a refresh); tests and the pipeline's checkpoint use it. */
  refresh(): Promise<void>
  count(query?: Omit<LogQuery, 'page' | 'limit' | 'sort'>): Promise<number>
  ping(): Promise<void>
  close(): Promise<void>
}
