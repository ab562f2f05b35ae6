// The embedded AnalyticsStore on DuckDB (@duckdb/node-api): three columnar tables, queries compiled to SQL.
//
// The database (a file under the data dir, or in memory) is opened offline and locked: enable_external_access=false
// (no file but its own, no network), autoinstall/autoload_known_extensions=false, allow_community_extensions=false and
// lock_configuration=true, so no statement can change those settings. Writes go through the appender into per-batch
// staging tables, then INSERT OR IGNORE on the primary key (id): a replayed record changes nothing. One writer at a
// time (a promise chain); queries each take their own connection. The raw console adds two guards of its own: the
// tokenizer (raw-guard.ts), then DuckDB's parser (exactly one statement, of type SELECT), and runs it in a READ ONLY
// transaction that is rolled back, on a connection that is interrupted at the time limit.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBInstance,
  DuckDBTimestampValue,
  DuckDBTypeId,
  type DuckDBValue,
  StatementType,
} from '@duckdb/node-api'
import { EngineUnavailable, QueryTimeout, ValidationFailed } from '../../core/errors.ts'
import type { AnalyticsStore, WriteResult } from '../analytics-store.ts'
import { type AnalyticsBatch, type CheckedBatch, checkBatch, parseDay } from '../events.ts'
import {
  type AnalyticsQuery,
  type AnalyticsResult,
  type CohortQuery,
  type CohortResult,
  type Dimension,
  type Filter,
  type FunnelQuery,
  type FunnelResult,
  funnelResult,
  type GroupTotals,
  type Measure,
  monthsBetween,
  type RawQuery,
  type RawResult,
  type RawValue,
  type ResolvedQuery,
  resolveCohorts,
  resolveFunnel,
  resolveQuery,
  resolveRaw,
  sourcesOf,
  toRow,
} from '../query.ts'
import { checkSqlStatement, refuse } from '../raw-guard.ts'

export interface DuckDbAnalyticsOptions {
  /** A file (its folder is created) or ':memory:'. */
  path: string
  /** The shop's currency: the one the store sums. */
  currency: string
  /** DuckDB worker threads; default: DuckDB's (the cores). */
  threads?: number
  /** e.g. '2GB'; default: DuckDB's (80 % of RAM). */
  memoryLimit?: string
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS analytics_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS events (
    id VARCHAR PRIMARY KEY,
    type VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    session_id VARCHAR NOT NULL,
    customer_id VARCHAR,
    product_id VARCHAR,
    category VARCHAR,
    quantity INTEGER NOT NULL,
    value BIGINT NOT NULL,
    order_id VARCHAR,
    country VARCHAR,
    coupon VARCHAR,
    channel VARCHAR
  )`,
  `CREATE TABLE IF NOT EXISTS order_lines (
    id VARCHAR PRIMARY KEY,
    order_id VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    session_id VARCHAR,
    product_id VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    quantity INTEGER NOT NULL,
    revenue BIGINT NOT NULL,
    country VARCHAR,
    coupon VARCHAR,
    channel VARCHAR,
    paid_at TIMESTAMP NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS refund_lines (
    id VARCHAR PRIMARY KEY,
    refund_id VARCHAR NOT NULL,
    order_id VARCHAR NOT NULL,
    product_id VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    quantity INTEGER NOT NULL,
    amount BIGINT NOT NULL,
    country VARCHAR,
    coupon VARCHAR,
    channel VARCHAR,
    refunded_at TIMESTAMP NOT NULL
  )`,
]

const TABLES = ['events', 'order_lines', 'refund_lines'] as const

const rowsOf = (batch: CheckedBatch, table: (typeof TABLES)[number]): number =>
  table === 'events'
    ? batch.events.length
    : table === 'order_lines'
      ? batch.orderLines.length
      : batch.refundLines.length

/**
 * DuckDB's memory limit bounds the buffers a write works in (a batch, its staging table, the parts of the id indexes it
 * touches); the data itself lives on disk. Measured: 6 million events written at a 48 MiB limit with flat memory,
 * while 32 MiB was too little for batches of 20,000. Past the limit a write fails; say so in words an operator can act
 * on, instead of DuckDB's allocator message.
 */
function outOfMemory(error: unknown): Error | undefined {
  const message = error instanceof Error ? error.message : String(error)
  if (!/Out of Memory Error/i.test(message)) return undefined
  return new EngineUnavailable(
    `The analytics store (DuckDB ran out of its memory limit while writing; writes need some 48 MiB: raise ANALYTICS_DUCKDB_MEMORY_MIB or move analytics to Cassandra. DuckDB said: ${message.split('\n')[0]})`,
  )
}

const micros = (ms: number): bigint => BigInt(ms) * 1000n
const timestamp = (ms: number) => new DuckDBTimestampValue(micros(ms))

function text(a: DuckDBAppender, v: string | null): void {
  if (v === null) a.appendNull()
  else a.appendVarchar(v)
}

export async function openDuckDbAnalyticsStore(options: DuckDbAnalyticsOptions): Promise<DuckDbAnalyticsStore> {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
  const config: Record<string, string> = {
    enable_external_access: 'false',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    allow_community_extensions: 'false',
    lock_configuration: 'true',
    // DuckDB's allocator keeps up to 128 MiB (512 MiB after bulk frees) of released memory for reuse, and only purges
    // it on its own threads when asked to: without these a shop process stayed some 100 MB larger after a burst of
    // projections (measured: 260 MiB resident after 240k events, 183 MiB three idle seconds later with them).
    allocator_background_threads: 'true',
    allocator_flush_threshold: '16MB',
    allocator_bulk_deallocation_flush_threshold: '16MB',
  }
  if (options.threads !== undefined) config.threads = String(options.threads)
  if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit
  const instance = await DuckDBInstance.create(options.path, config)
  const writer = await instance.connect()
  return new DuckDbAnalyticsStore(instance, writer, options.currency)
}

type SqlParams = DuckDBValue[]

/** The time column, dimension expressions and filters of one source table. */
class SourceSql {
  constructor(
    readonly table: string,
    readonly time: string,
    readonly columns: Record<Exclude<Dimension, 'day' | 'week' | 'month'>, string>,
  ) {}

  dimension(d: Dimension): string {
    switch (d) {
      case 'day':
        return `CAST(${this.time} AS DATE)`
      case 'week':
        return `CAST(date_trunc('week', ${this.time}) AS DATE)`
      case 'month':
        return `CAST(date_trunc('month', ${this.time}) AS DATE)`
      default:
        return this.columns[d]
    }
  }

  where(fromMs: number, toMs: number, filters: readonly Filter[], params: SqlParams, extra?: string): string {
    params.push(micros(fromMs), micros(toMs))
    const clauses = [
      `${this.time} >= make_timestamp($${params.length - 1}::BIGINT)`,
      `${this.time} < make_timestamp($${params.length}::BIGINT)`,
    ]
    if (extra) clauses.push(extra)
    for (const f of filters) clauses.push(filterSql(this.dimension(f.field), f, params))
    return clauses.join(' AND ')
  }
}

function filterSql(expr: string, f: Filter, params: SqlParams): string {
  const values = f.values.filter((v): v is string => v !== null)
  const parts: string[] = []
  if (values.length > 0) {
    const time = f.field === 'day' || f.field === 'week' || f.field === 'month'
    const placeholders = values.map((v) => {
      params.push(time ? (f.field === 'month' ? `${v}-01` : v) : v)
      return time ? `CAST($${params.length} AS DATE)` : `$${params.length}`
    })
    parts.push(`${expr} IN (${placeholders.join(', ')})`)
  }
  if (values.length < f.values.length) parts.push(`${expr} IS NULL`)
  return `(${parts.join(' OR ')})`
}

const LINE_COLUMNS = {
  product: 'product_id',
  category: 'category',
  country: 'country',
  coupon: 'coupon',
  channel: 'channel',
} as const
const ORDER_SOURCE = new SourceSql('order_lines', 'paid_at', LINE_COLUMNS)
const REFUND_SOURCE = new SourceSql('refund_lines', 'refunded_at', LINE_COLUMNS)
const VIEW_SOURCE = new SourceSql('events', 'occurred_at', LINE_COLUMNS)

const TOTAL_COLUMNS = ['lines', 'gross', 'units', 'orders', 'refund_lines', 'refunds', 'views', 'sessions'] as const

const MEASURE_SQL: Record<Measure, string> = {
  revenue: 'gross - refunds',
  gross_revenue: 'gross',
  refunds: 'refunds',
  orders: 'orders',
  units: 'units',
  average_order_value: 'CASE WHEN orders = 0 THEN NULL ELSE (2 * gross + orders) // (2 * orders) END',
  sessions: 'sessions',
  conversion_rate: 'CASE WHEN sessions = 0 THEN NULL ELSE orders::DOUBLE / sessions END',
  refund_rate: 'CASE WHEN gross = 0 THEN NULL ELSE refunds::DOUBLE / gross END',
}

/** Compiles a resolved query to one SQL statement that returns the group keys and totals, sorted and limited. */
export function compileQuery(q: ResolvedQuery): { sql: string; params: SqlParams } {
  const params: SqlParams = []
  const sources = sourcesOf(q.measures)
  const keys = q.dimensions.map((_, i) => `k${i}`)
  const ctes: string[] = []
  const union: string[] = []
  const branch = (
    name: string,
    source: SourceSql,
    aggregates: Partial<Record<(typeof TOTAL_COLUMNS)[number], string>>,
    extra?: string,
  ) => {
    const dims = q.dimensions.map((d, i) => `${source.dimension(d)} AS k${i}`)
    const select = [...dims, ...Object.entries(aggregates).map(([c, e]) => `${e} AS ${c}`)].join(', ')
    const group = keys.length > 0 ? ` GROUP BY ${keys.join(', ')}` : ''
    ctes.push(
      `${name} AS (SELECT ${select} FROM ${source.table} WHERE ${source.where(q.fromMs, q.toMs, q.filters, params, extra)}${group})`,
    )
    const cols = TOTAL_COLUMNS.map((c) => (c in aggregates ? c : `0 AS ${c}`))
    union.push(`SELECT ${[...keys, ...cols].join(', ')} FROM ${name}`)
  }
  // Only what the measures read: a distinct count of orders costs far more than the sums.
  const wants = (...ms: Measure[]) => ms.some((m) => q.measures.includes(m))
  if (sources.has('orders'))
    branch('o', ORDER_SOURCE, {
      lines: 'count(*)',
      ...(wants('revenue', 'gross_revenue', 'average_order_value', 'refund_rate')
        ? { gross: 'coalesce(sum(revenue), 0)' }
        : {}),
      ...(wants('units') ? { units: 'coalesce(sum(quantity), 0)' } : {}),
      ...(wants('orders', 'average_order_value', 'conversion_rate') ? { orders: 'count(DISTINCT order_id)' } : {}),
    })
  if (sources.has('refunds'))
    branch('r', REFUND_SOURCE, { refund_lines: 'count(*)', refunds: 'coalesce(sum(amount), 0)' })
  if (sources.has('views'))
    branch('v', VIEW_SOURCE, { views: 'count(*)', sessions: 'count(DISTINCT session_id)' }, `type = 'product_view'`)
  const totals = TOTAL_COLUMNS.map((c) => `CAST(sum(${c}) AS BIGINT) AS ${c}`)
  const group = keys.length > 0 ? ` GROUP BY ${keys.join(', ')}` : ''
  ctes.push(`u AS (${union.join(' UNION ALL ')})`)
  ctes.push(`g AS (SELECT ${[...keys, ...totals].join(', ')} FROM u${group})`)
  const present = [
    sources.has('orders') ? 'lines > 0' : '',
    sources.has('refunds') ? 'refund_lines > 0' : '',
    sources.has('views') ? 'views > 0' : '',
  ].filter(Boolean)
  const formatted = q.dimensions.map((d, i) =>
    d === 'month'
      ? `strftime(k${i}, '%Y-%m') AS k${i}`
      : TIME_OUTPUT.has(d)
        ? `strftime(k${i}, '%Y-%m-%d') AS k${i}`
        : `k${i}`,
  )
  const order = q.sort.map((s) => {
    const dim = q.dimensions.indexOf(s.by as Dimension)
    const expr = dim >= 0 ? `g.k${dim}` : `(${MEASURE_SQL[s.by as Measure]})`
    return `${expr} ${s.desc ? 'DESC' : 'ASC'} NULLS LAST`
  })
  params.push(BigInt(q.limit))
  const sql =
    `WITH ${ctes.join(',\n')}\nSELECT ${[...formatted, ...TOTAL_COLUMNS].join(', ')} FROM g WHERE ${present.join(' OR ')}` +
    `${order.length > 0 ? ` ORDER BY ${order.join(', ')}` : ''} LIMIT $${params.length}`
  return { sql, params }
}

const TIME_OUTPUT = new Set<Dimension>(['day', 'week'])

/** A DuckDB value as JSON can carry it: safe bigints as numbers, larger ones and dates as strings. */
function rawValue(v: unknown): RawValue {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v)
  if (typeof v === 'string' || typeof v === 'boolean') return v
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString()
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64')
  if (Array.isArray(v)) return v.map(rawValue)
  if (typeof v === 'object') {
    const out: Record<string, RawValue> = {}
    for (const [k, x] of Object.entries(v)) out[k] = rawValue(x)
    return out
  }
  return String(v)
}

const isInterrupt = (e: unknown): boolean => e instanceof Error && /INTERRUPT/i.test(e.message)
/** An error the statement itself caused while it ran (a value that does not cast, error()): the user's to fix. */
const isStatementError = (e: unknown): boolean =>
  e instanceof Error &&
  /^(Conversion|Invalid Input|Out of Range|Binder|Catalog|Parser|Not implemented|Mismatch Type|Invalid type) Error:/.test(
    e.message,
  )

export class DuckDbAnalyticsStore implements AnalyticsStore {
  readonly kind = 'duckdb'
  private writing: Promise<unknown> = Promise.resolve()
  private closed = false

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    readonly currency: string,
  ) {}

  async migrate(): Promise<void> {
    await this.serialized(async () => {
      for (const statement of SCHEMA) await this.writer.run(statement)
      const existing = await this.writer.runAndReadAll(`SELECT value FROM analytics_meta WHERE key = 'currency'`)
      const stored = existing.getRows()[0]?.[0]
      if (stored === undefined)
        await this.writer.run(`INSERT INTO analytics_meta VALUES ('currency', $1)`, [this.currency])
      else if (stored !== this.currency)
        throw new ValidationFailed(`This analytics database sums ${stored}, not ${this.currency}`).withFields({
          currency: `must be ${String(stored)}`,
        })
    })
  }

  async write(batch: AnalyticsBatch): Promise<WriteResult> {
    const checked = checkBatch(batch, this.currency)
    // Only the tables this batch has rows for: a batch of events alone is two statements, not six.
    const filled = TABLES.filter((t) => rowsOf(checked, t) > 0)
    return this.serialized(async () => {
      await this.stage(checked, filled)
      try {
        await this.writer.run('BEGIN TRANSACTION')
        try {
          for (const table of filled)
            await this.writer.run(`INSERT OR IGNORE INTO ${table} SELECT * FROM stage_${table}`)
          await this.writer.run('COMMIT')
        } catch (error) {
          await this.writer.run('ROLLBACK').catch(() => undefined)
          throw outOfMemory(error) ?? error
        }
      } finally {
        // Dropped, not emptied: DuckDB keeps the storage of rows deleted from a table, so a staging table that was
        // only ever emptied grew by every batch (measured: 120 MiB of memory after a million events, and writes at a
        // third of the speed).
        for (const table of filled) await this.writer.run(`DROP TABLE IF EXISTS temp.stage_${table}`)
      }
      return {
        events: checked.events.length,
        orderLines: checked.orderLines.length,
        refundLines: checked.refundLines.length,
      }
    })
  }

  /** DuckDB scans the facts directly; there is nothing to roll up. */
  async rollup(day: string): Promise<void> {
    if (parseDay(day) === undefined)
      throw new ValidationFailed('The day is not valid').withFields({ day: 'must be a day as YYYY-MM-DD' })
  }

  async query(input: AnalyticsQuery): Promise<AnalyticsResult> {
    const q = resolveQuery(input)
    const { sql, params } = compileQuery(q)
    const rows = await this.read(sql, params)
    return {
      currency: this.currency,
      dimensions: q.dimensions,
      measures: q.measures,
      rows: rows.map((r) => {
        const totals = Object.fromEntries(TOTAL_COLUMNS.map((c) => [c, Number(r[c])])) as Record<string, number>
        const t: GroupTotals = {
          lines: totals.lines!,
          gross: totals.gross!,
          units: totals.units!,
          orders: totals.orders!,
          refundLines: totals.refund_lines!,
          refunds: totals.refunds!,
          views: totals.views!,
          sessions: totals.sessions!,
        }
        return toRow(
          q,
          q.dimensions.map((_, i) => (r[`k${i}`] ?? null) as string | null),
          t,
        )
      }),
    }
  }

  async funnel(input: FunnelQuery): Promise<FunnelResult> {
    const f = resolveFunnel(input)
    const params: SqlParams = []
    const where = VIEW_SOURCE.where(
      f.fromMs,
      f.toMs,
      f.filters,
      params,
      `type IN ('product_view', 'add_to_cart', 'checkout_started', 'order_paid')`,
    )
    const step = (n: number, type: string) =>
      `s${n} AS (SELECT e.session_id, min(e.occurred_at) AS t FROM e JOIN s${n - 1} p ON e.session_id = p.session_id ` +
      `WHERE e.type = '${type}' AND e.occurred_at >= p.t GROUP BY e.session_id)`
    const sql = `WITH e AS (SELECT session_id, type, occurred_at FROM events WHERE ${where}),
      s1 AS (SELECT session_id, min(occurred_at) AS t FROM e WHERE type = 'product_view' GROUP BY session_id),
      ${step(2, 'add_to_cart')}, ${step(3, 'checkout_started')}, ${step(4, 'order_paid')}
      SELECT (SELECT count(*) FROM s1) AS a, (SELECT count(*) FROM s2) AS b,
             (SELECT count(*) FROM s3) AS c, (SELECT count(*) FROM s4) AS d`
    const [row] = await this.read(sql, params)
    return funnelResult([row!.a, row!.b, row!.c, row!.d].map(Number))
  }

  async cohorts(input: CohortQuery): Promise<CohortResult> {
    const range = resolveCohorts(input)
    const params: SqlParams = [micros(range.fromMs), micros(range.toMs)]
    const sql = `WITH firsts AS (
        SELECT customer_id, date_trunc('month', min(paid_at)) AS cohort FROM order_lines
        WHERE paid_at < make_timestamp($2::BIGINT) GROUP BY customer_id
      ), c AS (SELECT * FROM firsts WHERE cohort >= make_timestamp($1::BIGINT)),
      active AS (
        SELECT DISTINCT customer_id, date_trunc('month', paid_at) AS month FROM order_lines
        WHERE paid_at >= make_timestamp($1::BIGINT) AND paid_at < make_timestamp($2::BIGINT)
      )
      SELECT strftime(c.cohort, '%Y-%m') AS cohort, strftime(active.month, '%Y-%m') AS month, count(*) AS n
      FROM c JOIN active ON c.customer_id = active.customer_id
      GROUP BY c.cohort, active.month ORDER BY c.cohort, active.month`
    const rows = await this.read(sql, params)
    const cohorts = new Map<string, number[]>()
    for (const r of rows) {
      const cohort = String(r.cohort)
      const startMs = Date.parse(`${cohort}-01T00:00:00Z`)
      let active = cohorts.get(cohort)
      if (!active) {
        active = new Array(monthsBetween(startMs, range.toMs)).fill(0)
        cohorts.set(cohort, active)
      }
      active[monthsBetween(startMs, Date.parse(`${String(r.month)}-01T00:00:00Z`))] = Number(r.n)
    }
    return {
      cohorts: [...cohorts.entries()].map(([cohort, active]) => ({
        cohort,
        customers: active[0]!,
        active,
        retention: active.map((n) => n / active[0]!),
      })),
    }
  }

  async raw(input: RawQuery): Promise<RawResult> {
    const { statement, timeoutMs, maxRows } = resolveRaw(input)
    checkSqlStatement(statement)
    const conn = await this.instance.connect()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      conn.interrupt()
    }, timeoutMs)
    try {
      const extracted = await conn.extractStatements(statement).catch(engineRefusal)
      if (extracted.count !== 1) throw refuse('multiple_statements', 'only one statement may run')
      const prepared = await extracted.prepare(0).catch(engineRefusal)
      if (prepared.statementType !== StatementType.SELECT)
        throw refuse('not_read_only', 'DuckDB reads it as something other than a SELECT')
      await conn.run('BEGIN TRANSACTION READ ONLY')
      try {
        const result = await prepared.stream()
        const columns = result.deduplicatedColumnNames()
        const dates = columns.map((_, i) => result.columnTypeId(i) === DuckDBTypeId.DATE)
        const rows: RawValue[][] = []
        for await (const chunk of result.yieldRowsJs()) {
          for (const row of chunk) {
            if (rows.length === maxRows) return { columns, rows, truncated: true }
            rows.push(row.map((v, i) => (dates[i] && v instanceof Date ? v.toISOString().slice(0, 10) : rawValue(v))))
          }
        }
        return { columns, rows, truncated: false }
      } finally {
        await conn.run('ROLLBACK').catch(() => undefined)
      }
    } catch (error) {
      if (timedOut || isInterrupt(error)) throw new QueryTimeout(timeoutMs)
      if (isStatementError(error)) engineRefusal(error)
      throw error
    } finally {
      clearTimeout(timer)
      conn.closeSync()
    }
  }

  async ping(): Promise<void> {
    await this.read('SELECT 1', [])
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.writing.catch(() => undefined)
    this.writer.closeSync()
    this.instance.closeSync()
  }

  private async read(sql: string, params: SqlParams): Promise<Record<string, unknown>[]> {
    const conn = await this.instance.connect()
    try {
      const reader = await conn.runAndReadAll(sql, params)
      return reader.getRowObjectsJS() as Record<string, unknown>[]
    } finally {
      conn.closeSync()
    }
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.writing.then(fn, fn)
    this.writing = next.catch(() => undefined)
    return next
  }

  /** Fresh staging tables for the tables this batch fills (write() drops them again). */
  private async stage(batch: CheckedBatch, filled: readonly (typeof TABLES)[number][]): Promise<void> {
    for (const table of filled)
      await this.writer.run(`CREATE OR REPLACE TEMP TABLE stage_${table} AS SELECT * FROM ${table} LIMIT 0`)
    const append = async (table: string, rows: number, each: (a: DuckDBAppender, i: number) => void) => {
      if (rows === 0) return
      const a = await this.writer.createAppender(`stage_${table}`, 'main', 'temp')
      try {
        for (let i = 0; i < rows; i++) {
          each(a, i)
          a.endRow()
        }
        a.flushSync()
      } finally {
        a.closeSync()
      }
    }
    await append('events', batch.events.length, (a, i) => {
      const e = batch.events[i]!
      a.appendVarchar(e.id)
      a.appendVarchar(e.type)
      a.appendTimestamp(timestamp(e.atMs))
      a.appendVarchar(e.sessionId)
      text(a, e.customerId)
      text(a, e.productId)
      text(a, e.category)
      a.appendInteger(e.quantity)
      a.appendBigInt(BigInt(e.value))
      text(a, e.orderId)
      text(a, e.country)
      text(a, e.coupon)
      text(a, e.channel)
    })
    await append('order_lines', batch.orderLines.length, (a, i) => {
      const l = batch.orderLines[i]!
      a.appendVarchar(l.id)
      a.appendVarchar(l.orderId)
      a.appendVarchar(l.customerId)
      text(a, l.sessionId)
      a.appendVarchar(l.productId)
      a.appendVarchar(l.category)
      a.appendInteger(l.quantity)
      a.appendBigInt(BigInt(l.revenue))
      text(a, l.country)
      text(a, l.coupon)
      text(a, l.channel)
      a.appendTimestamp(timestamp(l.paidAtMs))
    })
    await append('refund_lines', batch.refundLines.length, (a, i) => {
      const l = batch.refundLines[i]!
      a.appendVarchar(l.id)
      a.appendVarchar(l.refundId)
      a.appendVarchar(l.orderId)
      a.appendVarchar(l.productId)
      a.appendVarchar(l.category)
      a.appendInteger(l.quantity)
      a.appendBigInt(BigInt(l.amount))
      text(a, l.country)
      text(a, l.coupon)
      text(a, l.channel)
      a.appendTimestamp(timestamp(l.refundedAtMs))
    })
  }
}

/** A statement DuckDB cannot parse or bind is the analyst's to fix: 400 with the engine's reason. */
function engineRefusal(error: unknown): never {
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error)
  throw new ValidationFailed(`The statement does not run: ${message}`).withFields({ statement: message })
}
