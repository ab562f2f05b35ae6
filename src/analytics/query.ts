// The analytics query model: structured queries, funnels, cohorts and raw-console requests, their validation, and the
// engine-free arithmetic every AnalyticsStore adapter shares (measures from group totals, ordering, funnel and cohort
// counting), so that DuckDB's SQL and Cassandra's client-side aggregation give the same answers.
//
// Definitions (UTC calendar, money in minor units of the store's currency):
//   gross_revenue        order-line revenue, on the day the order was paid
//   refunds              refund-line amounts, on the day of the refund
//   revenue              gross_revenue − refunds (a day with refunds only has negative revenue)
//   orders               distinct paid orders with a line in the group
//   units                quantities of the order lines
//   average_order_value  gross_revenue / orders, rounded half up to the minor unit; null without orders
//   sessions             distinct sessions with a product_view in the group
//   conversion_rate      orders / sessions (paid orders per viewing session); null without sessions
//   refund_rate          refunds / gross_revenue (money refunded per money taken); null without gross revenue
// A group is a row when it has data in a source a requested measure reads: order lines (revenue, gross_revenue,
// orders, units, average_order_value, conversion_rate, refund_rate), refund lines (revenue, refunds, refund_rate) or
// product views (sessions, conversion_rate).
import { ValidationFailed } from '../core/errors.ts'
import { monthOf, parseDay } from './events.ts'

export const MEASURES = [
  'revenue',
  'gross_revenue',
  'refunds',
  'orders',
  'units',
  'average_order_value',
  'sessions',
  'conversion_rate',
  'refund_rate',
] as const
export type Measure = (typeof MEASURES)[number]

export const DIMENSIONS = ['day', 'week', 'month', 'product', 'category', 'country', 'coupon', 'channel'] as const
export type Dimension = (typeof DIMENSIONS)[number]
export const TIME_DIMENSIONS: readonly Dimension[] = ['day', 'week', 'month']

/** A dimension value; null is "none" (an order without a coupon, an event without a country). */
export type DimensionValue = string | null

export interface AnalyticsQuery {
  measures: Measure[]
  /** Group by these, in this order; none: one row of totals. */
  dimensions?: Dimension[]
  /** Equality (one value) or in-list (a list) per dimension; all must hold. `day`/`week` take YYYY-MM-DD, `month` YYYY-MM. */
  filters?: Partial<Record<Dimension, DimensionValue | DimensionValue[]>>
  /** Inclusive ISO-8601 instant. */
  from: string
  /** Exclusive ISO-8601 instant. */
  to: string
  /** By requested measures or dimensions; default: the dimensions ascending. Nulls always come last. */
  sort?: { by: Measure | Dimension; direction?: 'asc' | 'desc' }[]
  /** 1 to 10,000; default 1000. */
  limit?: number
}

export type AnalyticsRow = Record<string, string | number | null>

export interface AnalyticsResult {
  currency: string
  dimensions: Dimension[]
  measures: Measure[]
  rows: AnalyticsRow[]
}

export interface FunnelQuery {
  from: string
  to: string
  /** Session-level fields only: every step's events must match. */
  filters?: { country?: DimensionValue | DimensionValue[]; channel?: DimensionValue | DimensionValue[] }
}

export const FUNNEL_STEPS = ['product_view', 'add_to_cart', 'checkout_started', 'order_paid'] as const
export type FunnelStep = (typeof FUNNEL_STEPS)[number]

export interface FunnelResult {
  /**
   * Distinct sessions that reached each step in order within the range: a view; then an add_to_cart at or after the
   * first view; then a checkout_started at or after that; then an order_paid at or after that.
   */
  steps: { step: FunnelStep; sessions: number; fromStart: number | null; fromPrevious: number | null }[]
}

export interface CohortQuery {
  /** First day of a month, 00:00 UTC (inclusive). */
  from: string
  /** First day of a month, 00:00 UTC (exclusive); at most 36 months after from. */
  to: string
}

export interface CohortResult {
  /**
   * Customers grouped by the month of their first paid order ever (cohorts starting in [from, to)); `active[k]` is how
   * many of them paid for an order in the cohort's month + k, for every month before `to`; `retention[k]` =
   * active[k] / customers.
   */
  cohorts: { cohort: string; customers: number; active: number[]; retention: number[] }[]
}

export interface RawQuery {
  /** One read-only statement: SQL on DuckDB, CQL SELECT on Cassandra. */
  statement: string
  /** 1 to 60,000; default 5000. */
  timeoutMs?: number
  /** 1 to 10,000; default 1000. */
  maxRows?: number
}

export type RawValue = string | number | boolean | null | RawValue[] | { [key: string]: RawValue }

export interface RawResult {
  columns: string[]
  rows: RawValue[][]
  /** More rows were there than maxRows. */
  truncated: boolean
}

export const QUERY_LIMITS = {
  defaultLimit: 1000,
  maxLimit: 10_000,
  maxRangeDays: 366,
  maxFilterValues: 100,
  maxCohortMonths: 36,
  defaultRawTimeoutMs: 5000,
  maxRawTimeoutMs: 60_000,
  defaultRawRows: 1000,
  maxRawRows: 10_000,
  maxStatementLength: 10_000,
} as const

// Validation: every problem is reported at once, each with its field, reason and a machine code.

export type ProblemCode =
  | 'required'
  | 'unknown_measure'
  | 'unknown_dimension'
  | 'unknown_filter_field'
  | 'bad_filter_value'
  | 'bad_time'
  | 'bad_range'
  | 'range_too_long'
  | 'bad_sort'
  | 'bad_limit'
  | 'bad_type'

export interface Problem {
  field: string
  code: ProblemCode
  reason: string
}

class ProblemList {
  readonly list: Problem[] = []
  add(field: string, code: ProblemCode, reason: string): void {
    this.list.push({ field, code, reason })
  }
  throwIfAny(what: string): void {
    if (this.list.length === 0) return
    const fields: Record<string, string> = {}
    for (const p of this.list) fields[p.field] ??= p.reason
    const first = this.list[0]!
    throw new ValidationFailed(`The ${what} is not valid: ${first.field} ${first.reason}`)
      .withFields(fields)
      .withDetails({ problems: this.list })
  }
}

export interface TimeRange {
  fromMs: number
  toMs: number
}

export interface Filter {
  field: Dimension
  values: DimensionValue[]
}

export interface SortKey {
  by: Measure | Dimension
  desc: boolean
}

export interface ResolvedQuery extends TimeRange {
  measures: Measure[]
  dimensions: Dimension[]
  filters: Filter[]
  /** The requested order, then every dimension ascending, so that ties are broken the same way everywhere. */
  sort: SortKey[]
  limit: number
}

const STRICT_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/

function instant(value: unknown, field: string, problems: ProblemList): number | undefined {
  if (value === undefined || value === null || value === '') {
    problems.add(field, 'required', 'is required')
    return undefined
  }
  const ms = typeof value === 'string' && STRICT_INSTANT.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(ms)) {
    problems.add(field, 'bad_time', 'must be an ISO-8601 instant with a zone, e.g. 2026-03-01T00:00:00Z')
    return undefined
  }
  return ms
}

function range(input: { from?: unknown; to?: unknown }, problems: ProblemList, maxDays: number) {
  const fromMs = instant(input.from, 'from', problems)
  const toMs = instant(input.to, 'to', problems)
  if (fromMs !== undefined && toMs !== undefined) {
    if (toMs <= fromMs) problems.add('to', 'bad_range', 'must be after from (the range is [from, to))')
    else if (toMs - fromMs > maxDays * 86_400_000)
      problems.add('to', 'range_too_long', `the range may span at most ${maxDays} days`)
  }
  return { fromMs: fromMs ?? 0, toMs: toMs ?? 0 }
}

function isMonday(day: string): boolean {
  const ms = parseDay(day)
  return ms !== undefined && new Date(ms).getUTCDay() === 1
}

const FILTER_FORMATS: Partial<Record<Dimension, { test: (v: string) => boolean; reason: string }>> = {
  day: { test: (v) => parseDay(v) !== undefined, reason: 'a day as YYYY-MM-DD' },
  week: { test: isMonday, reason: 'the Monday that starts the week, as YYYY-MM-DD' },
  month: {
    test: (v) => /^\d{4}-\d{2}$/.test(v) && parseDay(`${v}-01`) !== undefined,
    reason: 'a month as YYYY-MM',
  },
}

function filters(raw: unknown, allowed: readonly Dimension[], problems: ProblemList): Filter[] {
  if (raw === undefined || raw === null) return []
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.add('filters', 'bad_type', 'must be an object of dimension: value or [values]')
    return []
  }
  const out: Filter[] = []
  for (const [field, value] of Object.entries(raw)) {
    const at = `filters.${field}`
    if (!allowed.includes(field as Dimension)) {
      problems.add(at, 'unknown_filter_field', `is not a filter field; use one of ${allowed.join(', ')}`)
      continue
    }
    const values = Array.isArray(value) ? value : [value]
    if (values.length === 0 || values.length > QUERY_LIMITS.maxFilterValues) {
      problems.add(at, 'bad_filter_value', `takes 1 to ${QUERY_LIMITS.maxFilterValues} values`)
      continue
    }
    const format = FILTER_FORMATS[field as Dimension]
    const bad = values.find(
      (v) => !(v === null || (typeof v === 'string' && v.length <= 200 && (!format || format.test(v)))),
    )
    if (bad !== undefined) {
      problems.add(
        at,
        'bad_filter_value',
        format
          ? `values must be ${format.reason} (or null)`
          : 'values must be strings of at most 200 characters, or null',
      )
      continue
    }
    out.push({ field: field as Dimension, values: [...new Set(values as DimensionValue[])] })
  }
  return out
}

function wholeInRange(
  value: unknown,
  field: string,
  min: number,
  max: number,
  fallback: number,
  problems: ProblemList,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.add(field, 'bad_limit', `must be a whole number from ${min} to ${max}`)
    return fallback
  }
  return value
}

/** Checks a structured query (from JSON, so anything may come in) and resolves it; throws EMP_VALIDATION. */
export function resolveQuery(input: AnalyticsQuery): ResolvedQuery {
  const problems = new ProblemList()
  if (typeof input !== 'object' || input === null) {
    problems.add('query', 'bad_type', 'must be an object')
    problems.throwIfAny('analytics query')
  }
  const raw = input as unknown as Record<string, unknown>
  for (const key of Object.keys(raw))
    if (!['measures', 'dimensions', 'filters', 'from', 'to', 'sort', 'limit'].includes(key))
      problems.add(key, 'bad_type', 'is not a query field')

  const measures: Measure[] = []
  if (!Array.isArray(raw.measures) || raw.measures.length === 0)
    problems.add('measures', 'required', `name at least one of ${MEASURES.join(', ')}`)
  else
    raw.measures.forEach((m, i) => {
      if (!MEASURES.includes(m as Measure))
        problems.add(`measures[${i}]`, 'unknown_measure', `${String(m)} is not a measure; use ${MEASURES.join(', ')}`)
      else if (!measures.includes(m as Measure)) measures.push(m as Measure)
    })

  const dimensions: Dimension[] = []
  if (raw.dimensions !== undefined) {
    if (!Array.isArray(raw.dimensions)) problems.add('dimensions', 'bad_type', 'must be a list')
    else
      raw.dimensions.forEach((d, i) => {
        if (!DIMENSIONS.includes(d as Dimension))
          problems.add(
            `dimensions[${i}]`,
            'unknown_dimension',
            `${String(d)} is not a dimension; use ${DIMENSIONS.join(', ')}`,
          )
        else if (!dimensions.includes(d as Dimension)) dimensions.push(d as Dimension)
      })
  }

  const resolvedFilters = filters(raw.filters, DIMENSIONS, problems)
  const { fromMs, toMs } = range(raw, problems, QUERY_LIMITS.maxRangeDays)

  const sort: SortKey[] = []
  if (raw.sort !== undefined) {
    if (!Array.isArray(raw.sort)) problems.add('sort', 'bad_type', 'must be a list of {by, direction}')
    else
      raw.sort.forEach((s: unknown, i) => {
        const key = s as { by?: unknown; direction?: unknown } | null
        const by = key?.by as Measure | Dimension
        if (!measures.includes(by as Measure) && !dimensions.includes(by as Dimension))
          problems.add(`sort[${i}].by`, 'bad_sort', 'must name a requested measure or dimension')
        else if (key?.direction !== undefined && key.direction !== 'asc' && key.direction !== 'desc')
          problems.add(`sort[${i}].direction`, 'bad_sort', 'must be asc or desc')
        else if (!sort.some((k) => k.by === by)) sort.push({ by, desc: key?.direction === 'desc' })
      })
  }
  for (const d of dimensions) if (!sort.some((k) => k.by === d)) sort.push({ by: d, desc: false })

  const limit = wholeInRange(raw.limit, 'limit', 1, QUERY_LIMITS.maxLimit, QUERY_LIMITS.defaultLimit, problems)
  problems.throwIfAny('analytics query')
  return { measures, dimensions, filters: resolvedFilters, fromMs, toMs, sort, limit }
}

export interface ResolvedFunnel extends TimeRange {
  filters: Filter[]
}

export function resolveFunnel(input: FunnelQuery): ResolvedFunnel {
  const problems = new ProblemList()
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>
  const { fromMs, toMs } = range(raw, problems, QUERY_LIMITS.maxRangeDays)
  const resolved = filters(raw.filters, ['country', 'channel'], problems)
  problems.throwIfAny('funnel query')
  return { fromMs, toMs, filters: resolved }
}

const monthStart = (ms: number): boolean => {
  const d = new Date(ms)
  return d.getUTCDate() === 1 && ms % 86_400_000 === 0
}

/** Whole months between two month starts. */
export const monthsBetween = (fromMs: number, toMs: number): number => {
  const a = new Date(fromMs)
  const b = new Date(toMs)
  return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth()
}

export function resolveCohorts(input: CohortQuery): TimeRange {
  const problems = new ProblemList()
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>
  const fromMs = instant(raw.from, 'from', problems)
  const toMs = instant(raw.to, 'to', problems)
  if (fromMs !== undefined && !monthStart(fromMs))
    problems.add('from', 'bad_range', 'must be the first day of a month, 00:00 UTC')
  if (toMs !== undefined && !monthStart(toMs))
    problems.add('to', 'bad_range', 'must be the first day of a month, 00:00 UTC')
  if (fromMs !== undefined && toMs !== undefined && monthStart(fromMs) && monthStart(toMs)) {
    const months = monthsBetween(fromMs, toMs)
    if (months < 1) problems.add('to', 'bad_range', 'must be after from (the range is [from, to))')
    else if (months > QUERY_LIMITS.maxCohortMonths)
      problems.add('to', 'range_too_long', `the range may span at most ${QUERY_LIMITS.maxCohortMonths} months`)
  }
  problems.throwIfAny('cohort query')
  return { fromMs: fromMs ?? 0, toMs: toMs ?? 0 }
}

export interface ResolvedRaw {
  statement: string
  timeoutMs: number
  maxRows: number
}

export function resolveRaw(input: RawQuery): ResolvedRaw {
  const problems = new ProblemList()
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>
  const statement = raw.statement
  if (typeof statement !== 'string' || statement.trim() === '')
    problems.add('statement', 'required', 'is required: one read-only statement')
  else if (statement.length > QUERY_LIMITS.maxStatementLength)
    problems.add('statement', 'bad_limit', `at most ${QUERY_LIMITS.maxStatementLength} characters`)
  const timeoutMs = wholeInRange(
    raw.timeoutMs,
    'timeoutMs',
    1,
    QUERY_LIMITS.maxRawTimeoutMs,
    QUERY_LIMITS.defaultRawTimeoutMs,
    problems,
  )
  const maxRows = wholeInRange(
    raw.maxRows,
    'maxRows',
    1,
    QUERY_LIMITS.maxRawRows,
    QUERY_LIMITS.defaultRawRows,
    problems,
  )
  problems.throwIfAny('raw query')
  return { statement: statement as string, timeoutMs, maxRows }
}

// Shared arithmetic.

/** What an adapter sums per group; the measures are computed from these alone. */
export interface GroupTotals {
  /** Order lines in the group (presence of the order source). */
  lines: number
  gross: number
  units: number
  orders: number
  /** Refund lines in the group (presence of the refund source). */
  refundLines: number
  refunds: number
  /** product_view events in the group (presence of the view source). */
  views: number
  sessions: number
}

export const emptyTotals = (): GroupTotals => ({
  lines: 0,
  gross: 0,
  units: 0,
  orders: 0,
  refundLines: 0,
  refunds: 0,
  views: 0,
  sessions: 0,
})

type Source = 'orders' | 'refunds' | 'views'

export const MEASURE_SOURCES: Record<Measure, readonly Source[]> = {
  revenue: ['orders', 'refunds'],
  gross_revenue: ['orders'],
  refunds: ['refunds'],
  orders: ['orders'],
  units: ['orders'],
  average_order_value: ['orders'],
  sessions: ['views'],
  conversion_rate: ['orders', 'views'],
  refund_rate: ['orders', 'refunds'],
}

/** The sources the measures read. */
export function sourcesOf(measures: readonly Measure[]): Set<Source> {
  return new Set(measures.flatMap((m) => MEASURE_SOURCES[m]))
}

/** Whether a group is a row of the answer (it has data in a source a requested measure reads). */
export function groupIsPresent(t: GroupTotals, sources: Set<Source>): boolean {
  return (
    (sources.has('orders') && t.lines > 0) ||
    (sources.has('refunds') && t.refundLines > 0) ||
    (sources.has('views') && t.views > 0)
  )
}

/** Rounds gross/orders half up, in integers (exact for any safe amounts). */
export function averageOrderValue(gross: number, orders: number): number | null {
  if (orders === 0) return null
  return Number((2n * BigInt(gross) + BigInt(orders)) / (2n * BigInt(orders)))
}

export function measureValue(m: Measure, t: GroupTotals): number | null {
  switch (m) {
    case 'revenue':
      return t.gross - t.refunds
    case 'gross_revenue':
      return t.gross
    case 'refunds':
      return t.refunds
    case 'orders':
      return t.orders
    case 'units':
      return t.units
    case 'average_order_value':
      return averageOrderValue(t.gross, t.orders)
    case 'sessions':
      return t.sessions
    case 'conversion_rate':
      return t.sessions === 0 ? null : t.orders / t.sessions
    case 'refund_rate':
      return t.gross === 0 ? null : t.refunds / t.gross
  }
}

export function toRow(q: ResolvedQuery, keys: readonly DimensionValue[], t: GroupTotals): AnalyticsRow {
  const row: AnalyticsRow = {}
  q.dimensions.forEach((d, i) => {
    row[d] = keys[i] ?? null
  })
  for (const m of q.measures) row[m] = measureValue(m, t)
  return row
}

/** Strings by code point (as DuckDB and Cassandra order text), so every adapter sorts alike. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0
  const ia = a[Symbol.iterator]()
  const ib = b[Symbol.iterator]()
  for (;;) {
    const x = ia.next()
    const y = ib.next()
    if (x.done) return y.done ? 0 : -1
    if (y.done) return 1
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!
    if (d !== 0) return d
  }
}

/** Orders rows by the resolved sort keys; nulls last in either direction. */
export function compareRows(sort: readonly SortKey[]): (a: AnalyticsRow, b: AnalyticsRow) => number {
  return (a, b) => {
    for (const key of sort) {
      const x = a[key.by] ?? null
      const y = b[key.by] ?? null
      if (x === y) continue
      if (x === null) return 1
      if (y === null) return -1
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : compareText(String(x), String(y))
      if (c !== 0) return key.desc ? -c : c
    }
    return 0
  }
}

/** Tests a record's dimension values against the filters. */
export function matchesFilters(filters: readonly Filter[], dimensionOf: (d: Dimension) => DimensionValue): boolean {
  return filters.every((f) => f.values.includes(dimensionOf(f.field)))
}

/** Sequential funnel per session, fed one event at a time in any order. */
export class FunnelCounter {
  private readonly sessions = new Map<string, number[][]>()

  add(sessionId: string, type: string, atMs: number): void {
    const step = FUNNEL_STEPS.indexOf(type as FunnelStep)
    if (step < 0) return
    let times = this.sessions.get(sessionId)
    if (!times) {
      times = FUNNEL_STEPS.map(() => [])
      this.sessions.set(sessionId, times)
    }
    times[step]!.push(atMs)
  }

  result(): FunnelResult {
    const counts = FUNNEL_STEPS.map(() => 0)
    for (const times of this.sessions.values()) {
      let after = Number.NEGATIVE_INFINITY
      for (let step = 0; step < FUNNEL_STEPS.length; step++) {
        let first = Number.POSITIVE_INFINITY
        for (const t of times[step]!) if (t >= after && t < first) first = t
        if (first === Number.POSITIVE_INFINITY) break
        counts[step]!++
        after = first
      }
    }
    return funnelResult(counts)
  }
}

export function funnelResult(counts: readonly number[]): FunnelResult {
  const start = counts[0] ?? 0
  return {
    steps: FUNNEL_STEPS.map((step, i) => {
      const sessions = counts[i] ?? 0
      const previous = i === 0 ? sessions : (counts[i - 1] ?? 0)
      return {
        step,
        sessions,
        fromStart: start === 0 ? null : sessions / start,
        fromPrevious: previous === 0 ? null : sessions / previous,
      }
    }),
  }
}

/** Cohort retention, fed one paid order (or order line) at a time in any order. */
export class CohortCounter {
  private readonly months = new Map<string, Set<string>>()

  add(customerId: string, paidAtMs: number): void {
    const month = monthOf(paidAtMs)
    let set = this.months.get(customerId)
    if (!set) {
      set = new Set()
      this.months.set(customerId, set)
    }
    set.add(month)
  }

  result(range: TimeRange): CohortResult {
    const months: string[] = []
    for (let i = 0; i < monthsBetween(range.fromMs, range.toMs); i++) {
      const d = new Date(range.fromMs)
      d.setUTCMonth(d.getUTCMonth() + i)
      months.push(monthOf(d.getTime()))
    }
    const cohorts = new Map<string, { customers: number; active: number[] }>()
    for (const active of this.months.values()) {
      const first = [...active].sort()[0]!
      const start = months.indexOf(first)
      if (start < 0) continue
      let cohort = cohorts.get(first)
      if (!cohort) {
        cohort = { customers: 0, active: months.slice(start).map(() => 0) }
        cohorts.set(first, cohort)
      }
      cohort.customers++
      cohort.active.forEach((_, k) => {
        if (active.has(months[start + k]!)) cohort.active[k]!++
      })
    }
    return {
      cohorts: [...cohorts.entries()]
        .sort(([a], [b]) => compareText(a, b))
        .map(([cohort, c]) => ({
          cohort,
          customers: c.customers,
          active: c.active,
          retention: c.active.map((n) => n / c.customers),
        })),
    }
  }
}
