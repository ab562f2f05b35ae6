// The AnalyticsStore port: behaviour events and order-line / refund-line facts in, structured queries, funnels,
// cohorts and a read-only raw console out. Adapters: duckdb/ (embedded) and cassandra/ (distributed).
// One conformance suite (analytics-store.conformance.ts) pins the behaviour below on every adapter.
import type { AnalyticsBatch } from './events.ts'
import type {
  AnalyticsQuery,
  AnalyticsResult,
  CohortQuery,
  CohortResult,
  FunnelQuery,
  FunnelResult,
  RawQuery,
  RawResult,
} from './query.ts'

export interface WriteResult {
  /** Records in the batch (a replayed record counts, though it changes nothing). */
  events: number
  orderLines: number
  refundLines: number
}

export interface AnalyticsStore {
  /** 'duckdb' or 'cassandra'. */
  readonly kind: string
  /** The one currency the store sums (the shop's); records in another currency are refused. */
  readonly currency: string
  /** Creates the schema (DuckDB tables; Cassandra keyspace and tables); safe to run again, keeps data. */
  migrate(): Promise<void>
  /**
   * Writes a batch, idempotent by record id: writing a record again (a replay, a retry after a timeout) changes no
   * answer. The whole batch is checked first: a bad record fails it with EMP_VALIDATION and nothing is written.
   * Throws a retryable error (see log-index.ts isRetryable) when the engine is unreachable: send the batch again.
   */
  write(batch: AnalyticsBatch): Promise<WriteResult>
  /**
   * Recomputes one UTC day's (`YYYY-MM-DD`) rollups from the facts and overwrites them; never increments. Safe to
   * repeat and to run while writes go on: a day written after its rollup started is read from the facts until it is
   * rolled up again. Adapters without rollups (DuckDB scans the facts) do nothing.
   */
  rollup(day: string): Promise<void>
  /** Structured query (see query.ts for the measures' definitions); bad input throws EMP_VALIDATION with fields. */
  query(query: AnalyticsQuery): Promise<AnalyticsResult>
  funnel(query: FunnelQuery): Promise<FunnelResult>
  cohorts(query: CohortQuery): Promise<CohortResult>
  /**
   * Runs one read-only statement with a time and row limit and no file or network access. Anything else throws
   * EMP_QUERY_REFUSED (details.refusal names why); running past timeoutMs throws EMP_QUERY_TIMEOUT. Changes nothing.
   */
  raw(query: RawQuery): Promise<RawResult>
  ping(): Promise<void>
  close(): Promise<void>
}
