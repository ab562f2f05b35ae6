// The distributed AnalyticsStore on Apache Cassandra 5 (cassandra-driver 4): query-first tables (schema.ts),
// prepared statements, idempotent writes through executeConcurrent, client-side aggregation after a partition fan-out
// over the range's (day, hour) buckets, and daily rollups that rollup(day) recomputes and overwrites.
//
// A whole day inside the range is read from its rollup when the rollup started after the day's last write (plus
// rollupClockSkewMs, the clock skew tolerated between writers and rollers) and the query can be answered exactly from
// it: distinct orders add up across days and across order-level fields (country, coupon, channel), but not across
// products or categories, so an in-list filter on product or category that is not also grouped reads the facts, and so
// do sessions (distinct sessions never add up). Everything else is read from the facts. Writes and reads run at
// LOCAL_QUORUM, so a rollup sees every write acknowledged before it started.
//
// The raw console runs one CQL SELECT (raw-guard.ts), confined to the store's keyspace, with the driver's readTimeout
// as the time limit, no retry, and one page of maxRows + 1 rows.
import cassandra from 'cassandra-driver'
import { EngineUnavailable, QueryTimeout, ValidationFailed } from '../../core/errors.ts'
import { markRetryable } from '../../log-index/log-index.ts'
import type { AnalyticsStore, WriteResult } from '../analytics-store.ts'
import { type AnalyticsBatch, checkBatch, DAY_MS, dayOf, daysBetween, monthOf, parseDay, weekOf } from '../events.ts'
import {
  type AnalyticsQuery,
  type AnalyticsResult,
  CohortCounter,
  type CohortQuery,
  type CohortResult,
  compareRows,
  type Dimension,
  type DimensionValue,
  emptyTotals,
  FUNNEL_STEPS,
  FunnelCounter,
  type FunnelQuery,
  type FunnelResult,
  type GroupTotals,
  groupIsPresent,
  matchesFilters,
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
import { checkCqlStatement } from '../raw-guard.ts'
import {
  CUSTOMER_SHARDS,
  isKeyspaceName,
  type Replication,
  ROLLUP_TABLES,
  type RollupLevel,
  replicationCql,
  tableStatements,
} from './schema.ts'

const { Client, concurrent, errors, policies, types } = cassandra

export interface CassandraAnalyticsOptions {
  /** host or host:port */
  contactPoints: string[]
  /** Required by the driver: the data centre whose nodes it talks to. */
  localDataCenter: string
  /** Lower-case letters, digits and _; created by migrate(). */
  keyspace: string
  currency: string
  /** Default SimpleStrategy with factor 1 (one node); production: NetworkTopologyStrategy, e.g. {dc1: 3}. */
  replication?: Replication
  credentials?: { username: string; password: string }
  /** Reads in flight per fan-out; default 64. */
  concurrency?: number
  /** Writes in flight per batch (executeConcurrent); default 256, about 30,000 events/s on one local node. */
  writeConcurrency?: number
  /** Default 12,000 ms. */
  requestTimeoutMs?: number
  /** Clock skew tolerated between writers and rollers; default 1000 ms. */
  rollupClockSkewMs?: number
}

const HOUR_MS = 3_600_000
const hourOf = (ms: number): number => Math.floor((ms % DAY_MS) / HOUR_MS)
const localDate = (day: string) => types.LocalDate.fromString(day)
const orNull = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v))

/** FNV-1a, to spread customers over shards the same way in every process. */
function shardOf(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % CUSTOMER_SHARDS
}

/** Runs tasks with at most `limit` in flight; the first failure fails the whole. */
async function inParallel<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await task(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/** The (day, hour) buckets a range touches, with the range's bounds. */
function hourBuckets(fromMs: number, toMs: number): { day: string; hour: number }[] {
  const out: { day: string; hour: number }[] = []
  for (let h = Math.floor(fromMs / HOUR_MS) * HOUR_MS; h < toMs; h += HOUR_MS)
    out.push({ day: dayOf(h), hour: hourOf(h) })
  return out
}

interface Group {
  keys: DimensionValue[]
  totals: GroupTotals
  orderIds: Set<string>
  sessionIds: Set<string>
}

type Row = cassandra.types.Row

function isUnavailable(error: unknown): boolean {
  return (
    error instanceof errors.NoHostAvailableError ||
    error instanceof errors.OperationTimedOutError ||
    (error instanceof errors.ResponseError &&
      [
        types.responseErrorCodes.unavailableException,
        types.responseErrorCodes.overloaded,
        types.responseErrorCodes.writeTimeout,
        types.responseErrorCodes.readTimeout,
        types.responseErrorCodes.isBootstrapping,
      ].includes(error.code))
  )
}

/** Driver values as JSON can carry them. */
function rawValue(v: unknown): RawValue {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v)
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()
  if (v instanceof Date) return v.toISOString()
  if (Buffer.isBuffer(v)) return v.toString('base64')
  if (v instanceof types.Long)
    return v.lessThanOrEqual(types.Long.fromNumber(Number.MAX_SAFE_INTEGER)) &&
      v.greaterThanOrEqual(types.Long.fromNumber(Number.MIN_SAFE_INTEGER))
      ? v.toNumber()
      : v.toString()
  if (Array.isArray(v)) return v.map(rawValue)
  if (v instanceof Set) return [...v].map(rawValue)
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), rawValue(x)]))
  if (typeof v === 'object') {
    const s = (v as { toString(): string }).toString()
    if (s !== '[object Object]') return s // Uuid, LocalDate, LocalTime, InetAddress, BigDecimal, Duration
    const out: Record<string, RawValue> = {}
    for (const [k, x] of Object.entries(v)) out[k] = rawValue(x)
    return out
  }
  return String(v)
}

export function openCassandraAnalyticsStore(options: CassandraAnalyticsOptions): CassandraAnalyticsStore {
  if (!options.localDataCenter) throw new RangeError('localDataCenter is required')
  if (!isKeyspaceName(options.keyspace))
    throw new RangeError(`keyspace ${options.keyspace} must be lower-case letters, digits and _, from a letter`)
  const client = new Client({
    contactPoints: options.contactPoints,
    localDataCenter: options.localDataCenter,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    encoding: { useBigIntAsLong: true },
    queryOptions: {
      consistency: types.consistencies.localQuorum,
      prepare: true,
      isIdempotent: true,
    },
    socketOptions: { readTimeout: options.requestTimeoutMs ?? 12_000, connectTimeout: 5000 },
  })
  return new CassandraAnalyticsStore(client, options)
}

export class CassandraAnalyticsStore implements AnalyticsStore {
  readonly kind = 'cassandra'
  readonly currency: string
  readonly keyspace: string
  /** How the last structured query was answered: whole days from rollups, and days read from the facts. */
  lastPlan: { rollupDays: string[]; factDays: string[] } = { rollupDays: [], factDays: [] }
  private readonly concurrency: number
  private readonly writeConcurrency: number
  private readonly skewMs: number
  private connected: Promise<void> | undefined
  private closed = false

  constructor(
    private readonly client: cassandra.Client,
    private readonly options: CassandraAnalyticsOptions,
  ) {
    this.currency = options.currency
    this.keyspace = options.keyspace
    this.concurrency = options.concurrency ?? 64
    this.writeConcurrency = options.writeConcurrency ?? 256
    this.skewMs = options.rollupClockSkewMs ?? 1000
  }

  async migrate(): Promise<void> {
    await this.connect()
    const ks = this.keyspace
    const replication = replicationCql(this.options.replication ?? { class: 'SimpleStrategy', replicationFactor: 1 })
    await this.run(`CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = ${replication}`, [], { prepare: false })
    for (const statement of tableStatements(ks)) await this.run(statement, [], { prepare: false })
    const rs = await this.run(`SELECT value FROM ${ks}.analytics_meta WHERE key = 'currency'`, [])
    const stored = rs.first()?.get('value') as string | undefined
    if (stored === undefined)
      await this.run(`INSERT INTO ${ks}.analytics_meta (key, value) VALUES ('currency', ?)`, [this.currency])
    else if (stored !== this.currency)
      throw new ValidationFailed(`This analytics keyspace sums ${stored}, not ${this.currency}`).withFields({
        currency: `must be ${stored}`,
      })
  }

  async write(batch: AnalyticsBatch): Promise<WriteResult> {
    const checked = checkBatch(batch, this.currency)
    await this.connect()
    const ks = this.keyspace
    const queries: { query: string; params: unknown[] }[] = []
    const days = new Set<string>()
    const insertEvent = `INSERT INTO ${ks}.events_by_day (day, type, hour, occurred_at, id, session_id, customer_id,
      product_id, category, quantity, value, order_id, country, coupon, channel)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    for (const e of checked.events)
      queries.push({
        query: insertEvent,
        params: [
          localDate(dayOf(e.atMs)),
          e.type,
          hourOf(e.atMs),
          new Date(e.atMs),
          e.id,
          e.sessionId,
          e.customerId,
          e.productId,
          e.category,
          e.quantity,
          BigInt(e.value),
          e.orderId,
          e.country,
          e.coupon,
          e.channel,
        ],
      })
    const insertLine = `INSERT INTO ${ks}.order_lines_by_day (day, hour, paid_at, id, order_id, customer_id, session_id,
      product_id, category, quantity, revenue, country, coupon, channel) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    const insertMonth = `INSERT INTO ${ks}.customer_months (shard, customer_id, month) VALUES (?, ?, ?)`
    const months = new Set<string>()
    for (const l of checked.orderLines) {
      const day = dayOf(l.paidAtMs)
      days.add(day)
      queries.push({
        query: insertLine,
        params: [
          localDate(day),
          hourOf(l.paidAtMs),
          new Date(l.paidAtMs),
          l.id,
          l.orderId,
          l.customerId,
          l.sessionId,
          l.productId,
          l.category,
          l.quantity,
          BigInt(l.revenue),
          l.country,
          l.coupon,
          l.channel,
        ],
      })
      const month = monthOf(l.paidAtMs)
      const key = `${l.customerId}\u0000${month}`
      if (!months.has(key)) {
        months.add(key)
        queries.push({ query: insertMonth, params: [shardOf(l.customerId), l.customerId, month] })
      }
    }
    const insertRefund = `INSERT INTO ${ks}.refund_lines_by_day (day, hour, refunded_at, id, refund_id, order_id,
      product_id, category, quantity, amount, country, coupon, channel) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    for (const l of checked.refundLines) {
      const day = dayOf(l.refundedAtMs)
      days.add(day)
      queries.push({
        query: insertRefund,
        params: [
          localDate(day),
          hourOf(l.refundedAtMs),
          new Date(l.refundedAtMs),
          l.id,
          l.refundId,
          l.orderId,
          l.productId,
          l.category,
          l.quantity,
          BigInt(l.amount),
          l.country,
          l.coupon,
          l.channel,
        ],
      })
    }
    await this.concurrently(queries)
    // After the facts: a rollup that started before this moment may have missed them, so it is stale for these days.
    const writtenAt = Date.now()
    await this.concurrently(
      [...days].map((day) => ({
        query: `UPDATE ${ks}.rollup_state USING TIMESTAMP ? SET written_at = ? WHERE day = ?`,
        params: [BigInt(writtenAt) * 1000n, new Date(writtenAt), localDate(day)],
      })),
    )
    return {
      events: checked.events.length,
      orderLines: checked.orderLines.length,
      refundLines: checked.refundLines.length,
    }
  }

  async rollup(day: string): Promise<void> {
    const dayMs = parseDay(day)
    if (dayMs === undefined)
      throw new ValidationFailed('The day is not valid').withFields({ day: 'must be a day as YYYY-MM-DD' })
    await this.connect()
    const ks = this.keyspace
    const startedAt = Date.now()
    type Acc = {
      key: string[]
      lines: number
      gross: number
      units: number
      orders: Set<string>
      rl: number
      refunds: number
    }
    const levels = Object.keys(ROLLUP_TABLES) as RollupLevel[]
    const maps = new Map<RollupLevel, Map<string, Acc>>(levels.map((l) => [l, new Map()]))
    const accFor = (level: RollupLevel, r: Row): Acc => {
      const key = ROLLUP_TABLES[level].keys.map((k) => (r.get(k) as string | null) ?? '')
      const id = JSON.stringify(key)
      const map = maps.get(level)!
      let acc = map.get(id)
      if (!acc) {
        acc = { key, lines: 0, gross: 0, units: 0, orders: new Set(), rl: 0, refunds: 0 }
        map.set(id, acc)
      }
      return acc
    }
    await this.eachFactRow('order_lines_by_day', 'paid_at', dayMs, dayMs + DAY_MS, (r) => {
      for (const level of levels) {
        const acc = accFor(level, r)
        acc.lines++
        acc.gross += num(r.get('revenue'))
        acc.units += num(r.get('quantity'))
        acc.orders.add(r.get('order_id') as string)
      }
    })
    await this.eachFactRow('refund_lines_by_day', 'refunded_at', dayMs, dayMs + DAY_MS, (r) => {
      for (const level of levels) {
        const acc = accFor(level, r)
        acc.rl++
        acc.refunds += num(r.get('amount'))
      }
    })
    const at = BigInt(startedAt) * 1000n
    const queries: { query: string; params: unknown[] }[] = []
    for (const level of levels) {
      const { table, keys } = ROLLUP_TABLES[level]
      await this.run(`DELETE FROM ${ks}.${table} USING TIMESTAMP ? WHERE day = ?`, [at, localDate(day)])
      const insert = `INSERT INTO ${ks}.${table} (day, ${keys.join(', ')}, lines, gross, units, orders, refund_lines,
        refunds) VALUES (?, ${keys.map(() => '?').join(', ')}, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?`
      for (const acc of maps.get(level)!.values())
        queries.push({
          query: insert,
          params: [
            localDate(day),
            ...acc.key,
            acc.lines,
            BigInt(acc.gross),
            BigInt(acc.units),
            acc.orders.size,
            acc.rl,
            BigInt(acc.refunds),
            at + 1n,
          ],
        })
    }
    await this.concurrently(queries)
    await this.run(`UPDATE ${ks}.rollup_state USING TIMESTAMP ? SET rolled_at = ? WHERE day = ?`, [
      at,
      new Date(startedAt),
      localDate(day),
    ])
  }

  async query(input: AnalyticsQuery): Promise<AnalyticsResult> {
    const q = resolveQuery(input)
    await this.connect()
    const sources = sourcesOf(q.measures)
    const groups = new Map<string, Group>()
    const groupOf = (keys: DimensionValue[]): Group => {
      const id = JSON.stringify(keys)
      let g = groups.get(id)
      if (!g) {
        g = { keys, totals: emptyTotals(), orderIds: new Set(), sessionIds: new Set() }
        groups.set(id, g)
      }
      return g
    }
    const days = daysBetween(q.fromMs, q.toMs)
    const level = rollupLevel(q)
    const whole = days.filter((d) => {
      const start = parseDay(d)!
      return start >= q.fromMs && start + DAY_MS <= q.toMs
    })
    const fresh =
      level && (sources.has('orders') || sources.has('refunds')) ? await this.freshDays(whole) : new Set<string>()
    this.lastPlan = { rollupDays: [...fresh], factDays: days.filter((d) => !fresh.has(d)) }

    if (sources.has('orders') || sources.has('refunds')) {
      const { table, keys } = ROLLUP_TABLES[level ?? 'order']
      const rollupRead = [...fresh].map((day) => async () => {
        const dayMs = parseDay(day)!
        await this.eachRow(`SELECT * FROM ${this.keyspace}.${table} WHERE day = ?`, [localDate(day)], (r) => {
          const value = (d: Dimension): DimensionValue => {
            if (d === 'day') return day
            if (d === 'week') return weekOf(dayMs)
            if (d === 'month') return monthOf(dayMs)
            const column = d === 'product' ? 'product_id' : d
            return (keys as readonly string[]).includes(column) ? orNull(r.get(column)) : null
          }
          if (!matchesFilters(q.filters, value)) return
          const g = groupOf(q.dimensions.map(value))
          g.totals.lines += num(r.get('lines'))
          g.totals.gross += num(r.get('gross'))
          g.totals.units += num(r.get('units'))
          g.totals.orders += num(r.get('orders'))
          g.totals.refundLines += num(r.get('refund_lines'))
          g.totals.refunds += num(r.get('refunds'))
        })
      })
      const factRanges = this.lastPlan.factDays.map((day) => {
        const start = parseDay(day)!
        return { from: Math.max(start, q.fromMs), to: Math.min(start + DAY_MS, q.toMs) }
      })
      const factRead = factRanges.flatMap((range) => [
        ...(sources.has('orders')
          ? [
              async () =>
                this.eachFactRow('order_lines_by_day', 'paid_at', range.from, range.to, (r) => {
                  const value = lineValue(r, 'paid_at')
                  if (!matchesFilters(q.filters, value)) return
                  const g = groupOf(q.dimensions.map(value))
                  g.totals.lines++
                  g.totals.gross += num(r.get('revenue'))
                  g.totals.units += num(r.get('quantity'))
                  g.orderIds.add(r.get('order_id') as string)
                }),
            ]
          : []),
        ...(sources.has('refunds')
          ? [
              async () =>
                this.eachFactRow('refund_lines_by_day', 'refunded_at', range.from, range.to, (r) => {
                  const value = lineValue(r, 'refunded_at')
                  if (!matchesFilters(q.filters, value)) return
                  const g = groupOf(q.dimensions.map(value))
                  g.totals.refundLines++
                  g.totals.refunds += num(r.get('amount'))
                }),
            ]
          : []),
      ])
      await inParallel([...rollupRead, ...factRead], 8, (task) => task())
    }
    if (sources.has('views')) {
      await this.eachEvent(['product_view'], q.fromMs, q.toMs, (r) => {
        const value = lineValue(r, 'occurred_at')
        if (!matchesFilters(q.filters, value)) return
        const g = groupOf(q.dimensions.map(value))
        g.totals.views++
        g.sessionIds.add(r.get('session_id') as string)
      })
    }
    const rows = []
    for (const g of groups.values()) {
      g.totals.orders += g.orderIds.size
      g.totals.sessions = g.sessionIds.size
      if (groupIsPresent(g.totals, sources)) rows.push(toRow(q, g.keys, g.totals))
    }
    rows.sort(compareRows(q.sort))
    return { currency: this.currency, dimensions: q.dimensions, measures: q.measures, rows: rows.slice(0, q.limit) }
  }

  async funnel(input: FunnelQuery): Promise<FunnelResult> {
    const f = resolveFunnel(input)
    await this.connect()
    const counter = new FunnelCounter()
    await this.eachEvent(FUNNEL_STEPS, f.fromMs, f.toMs, (r) => {
      const value = lineValue(r, 'occurred_at')
      if (matchesFilters(f.filters, value))
        counter.add(r.get('session_id') as string, r.get('type') as string, (r.get('occurred_at') as Date).getTime())
    })
    return counter.result()
  }

  async cohorts(input: CohortQuery): Promise<CohortResult> {
    const range = resolveCohorts(input)
    await this.connect()
    const counter = new CohortCounter()
    const last = monthOf(range.toMs - 1)
    const shards = Array.from({ length: CUSTOMER_SHARDS }, (_, i) => i)
    await inParallel(shards, this.concurrency, (shard) =>
      this.eachRow(`SELECT customer_id, month FROM ${this.keyspace}.customer_months WHERE shard = ?`, [shard], (r) => {
        const month = r.get('month') as string
        if (month <= last) counter.add(r.get('customer_id') as string, Date.parse(`${month}-01T00:00:00Z`))
      }),
    )
    return counter.result(range)
  }

  async raw(input: RawQuery): Promise<RawResult> {
    const { statement, timeoutMs, maxRows } = resolveRaw(input)
    checkCqlStatement(statement, this.keyspace)
    await this.connect()
    if (this.client.keyspace !== this.keyspace) await this.run(`USE ${this.keyspace}`, [], { prepare: false })
    try {
      const rs = await this.client.execute(statement, [], {
        prepare: false,
        fetchSize: maxRows + 1,
        readTimeout: timeoutMs,
        isIdempotent: false,
        retry: new policies.retry.FallthroughRetryPolicy(),
      })
      const columns = (rs.columns ?? []).map((c) => c.name)
      const rows = rs.rows.slice(0, maxRows).map((r) => columns.map((c) => rawValue(r.get(c))))
      return { columns, rows, truncated: rs.rows.length > maxRows }
    } catch (error) {
      const timedOut =
        error instanceof errors.OperationTimedOutError ||
        (error instanceof errors.ResponseError && error.code === types.responseErrorCodes.readTimeout) ||
        (error instanceof errors.NoHostAvailableError &&
          Object.values(error.innerErrors).some((e) => e instanceof errors.OperationTimedOutError))
      if (timedOut) throw new QueryTimeout(timeoutMs)
      if (error instanceof errors.ResponseError) {
        const reason = error.message.split('\n')[0]!
        throw new ValidationFailed(`The statement does not run: ${reason}`).withFields({ statement: reason })
      }
      throw this.unavailable(error)
    }
  }

  async ping(): Promise<void> {
    await this.connect()
    await this.run('SELECT release_version FROM system.local', [])
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.client.shutdown()
  }

  /** Whole days whose rollup started after their last write (by more than the tolerated clock skew). */
  private async freshDays(days: readonly string[]): Promise<Set<string>> {
    const fresh = new Set<string>()
    await inParallel(days, this.concurrency, async (day) => {
      const r = (
        await this.run(`SELECT written_at, rolled_at FROM ${this.keyspace}.rollup_state WHERE day = ?`, [
          localDate(day),
        ])
      ).first()
      const rolled = r?.get('rolled_at') as Date | null | undefined
      const written = r?.get('written_at') as Date | null | undefined
      if (rolled && (!written || rolled.getTime() > written.getTime() + this.skewMs)) fresh.add(day)
    })
    return fresh
  }

  /** Every row of a fact table with its time column in [fromMs, toMs), over the (day, hour) partitions. */
  private eachFactRow(
    table: 'order_lines_by_day' | 'refund_lines_by_day',
    time: 'paid_at' | 'refunded_at',
    fromMs: number,
    toMs: number,
    onRow: (r: Row) => void,
  ): Promise<void> {
    const query = `SELECT * FROM ${this.keyspace}.${table} WHERE day = ? AND hour = ? AND ${time} >= ? AND ${time} < ?`
    return inParallel(hourBuckets(fromMs, toMs), this.concurrency, (b) =>
      this.eachRow(query, [localDate(b.day), b.hour, new Date(fromMs), new Date(toMs)], onRow),
    )
  }

  private eachEvent(
    eventTypes: readonly string[],
    fromMs: number,
    toMs: number,
    onRow: (r: Row) => void,
  ): Promise<void> {
    const query = `SELECT * FROM ${this.keyspace}.events_by_day
      WHERE day = ? AND type = ? AND hour = ? AND occurred_at >= ? AND occurred_at < ?`
    const buckets = hourBuckets(fromMs, toMs).flatMap((b) => eventTypes.map((type) => ({ ...b, type })))
    return inParallel(buckets, this.concurrency, (b) =>
      this.eachRow(query, [localDate(b.day), b.type, b.hour, new Date(fromMs), new Date(toMs)], onRow),
    )
  }

  /** Pages through a result 5000 rows at a time. */
  private async eachRow(query: string, params: unknown[], onRow: (r: Row) => void): Promise<void> {
    let pageState: string | undefined
    do {
      const rs = await this.run(query, params, { fetchSize: 5000, ...(pageState ? { pageState } : {}) })
      for (const r of rs.rows) onRow(r)
      pageState = rs.pageState ?? undefined
    } while (pageState)
  }

  private async run(
    query: string,
    params: unknown[],
    options: cassandra.QueryOptions = {},
  ): Promise<cassandra.types.ResultSet> {
    try {
      return await this.client.execute(query, params, options)
    } catch (error) {
      throw this.unavailable(error)
    }
  }

  private async concurrently(queries: { query: string; params: unknown[] }[]): Promise<void> {
    if (queries.length === 0) return
    try {
      await concurrent.executeConcurrent(this.client, queries, {
        concurrencyLevel: this.writeConcurrency,
        raiseOnFirstError: true,
      })
    } catch (error) {
      throw this.unavailable(error)
    }
  }

  private unavailable(error: unknown): unknown {
    if (!isUnavailable(error)) return error
    const e = markRetryable(new EngineUnavailable('Cassandra'))
    e.cause = error
    return e.withDetails({ reason: error instanceof Error ? error.message : String(error) })
  }

  private connect(): Promise<void> {
    this.connected ??= this.client.connect().catch((error: unknown) => {
      this.connected = undefined
      throw this.unavailable(error)
    })
    return this.connected
  }
}

/** A fact or event row's value of each dimension (time dimensions from `time`). */
function lineValue(r: Row, time: string): (d: Dimension) => DimensionValue {
  return (d) => {
    switch (d) {
      case 'day':
        return dayOf((r.get(time) as Date).getTime())
      case 'week':
        return weekOf((r.get(time) as Date).getTime())
      case 'month':
        return monthOf((r.get(time) as Date).getTime())
      case 'product':
        return orNull(r.get('product_id'))
      default:
        return orNull(r.get(d))
    }
  }
}

/**
 * The rollup table that answers the query exactly, or null. Distinct orders add up over days and over order-level
 * fields, not over products or categories: an in-list on product (or category) needs that field grouped.
 */
export function rollupLevel(q: ResolvedQuery): RollupLevel | null {
  const used = new Set<Dimension>([...q.dimensions, ...q.filters.map((f) => f.field)])
  const many = (d: Dimension) => q.filters.some((f) => f.field === d && f.values.length > 1)
  if (many('product') && !q.dimensions.includes('product')) return null
  if (many('category') && !q.dimensions.includes('category') && !q.dimensions.includes('product')) return null
  if (used.has('product')) return 'product'
  if (used.has('category')) return 'category'
  return 'order'
}
