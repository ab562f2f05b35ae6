// The analytics page's query builder as data: the form's fields ⇄ its query string ⇄ an AnalyticsQuery, with a
// reason per field for bad input. Pure, so the page, the CSV export and saved queries read a query the same way.
import { DAY_MS, dayOf, parseDay } from '../../analytics/events.ts'
import {
  type AnalyticsQuery,
  DIMENSIONS,
  type Dimension,
  type DimensionValue,
  MEASURES,
  type Measure,
  QUERY_LIMITS,
} from '../../analytics/query.ts'

export const MEASURE_LABEL: Record<Measure, string> = {
  revenue: 'Revenue',
  gross_revenue: 'Gross revenue',
  refunds: 'Refunds',
  orders: 'Orders',
  units: 'Units',
  average_order_value: 'Average order value',
  sessions: 'Sessions',
  conversion_rate: 'Conversion rate',
  refund_rate: 'Refund rate',
}

export const DIMENSION_LABEL: Record<Dimension, string> = {
  day: 'Day',
  week: 'Week',
  month: 'Month',
  product: 'Product',
  category: 'Category',
  country: 'Country',
  coupon: 'Coupon',
  channel: 'Channel',
}

export const TIME_BUCKETS = ['day', 'week', 'month'] as const
export type TimeBucket = (typeof TIME_BUCKETS)[number]
/** The dimensions a query may group and filter by besides time. */
export const GROUPS = ['product', 'category', 'country', 'coupon', 'channel'] as const
export type Group = (typeof GROUPS)[number]

export const RANGE_PRESETS = { '7d': 7, '30d': 30, '90d': 90 } as const
export type RangeChoice = keyof typeof RANGE_PRESETS | 'custom'
export const RANGE_LABEL: Record<RangeChoice, string> = {
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  '90d': 'Last 90 days',
  custom: 'Custom dates',
}

/** Written in a filter for "no value" (an order without a coupon). */
export const NONE = '(none)'

/** What the form shows: the fields as typed (so a bad value is shown back to be fixed), resolved where possible. */
export interface AnalyticsForm {
  measures: Measure[]
  time: TimeBucket | ''
  by: Group[]
  filters: Partial<Record<Group, string>>
  range: RangeChoice
  /** YYYY-MM-DD, first day. */
  from: string
  /** YYYY-MM-DD, last day (inclusive; the query's `to` is the next midnight). */
  to: string
  sort: Measure | Dimension | ''
  dir: 'asc' | 'desc'
  limit: string
}

export interface ReadForm {
  form: AnalyticsForm
  /** Null when a field is bad. */
  query: AnalyticsQuery | null
  /** Form field → reason. */
  errors: Record<string, string>
}

/** A parsed query string or form body: a name gives a value or, repeated, a list. */
export type Params = Record<string, string | string[] | undefined>

const list = (p: Params, name: string): string[] => {
  const v = p[name]
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}
const one = (p: Params, name: string): string => (list(p, name)[0] ?? '').trim().slice(0, 2000)

export const DEFAULT_LIMIT = String(QUERY_LIMITS.defaultLimit)

/** The page as first opened: revenue and orders by day over the last 30 days. */
export function defaultForm(today: string): AnalyticsForm {
  return {
    measures: ['revenue', 'orders'],
    time: 'day',
    by: [],
    filters: {},
    range: '30d',
    ...presetDays('30d', today),
    sort: '',
    dir: 'asc',
    limit: DEFAULT_LIMIT,
  }
}

/** The last n days ending today (UTC), today included. */
export function presetDays(range: keyof typeof RANGE_PRESETS, today: string): { from: string; to: string } {
  const end = parseDay(today) ?? 0
  return { from: dayOf(end - (RANGE_PRESETS[range] - 1) * DAY_MS), to: today }
}

const FILTER_FIELD = (g: Group) => `f_${g}`

/** Splits a filter as typed: comma-separated values, `(none)` for no value; countries in upper case. */
export function filterValues(group: Group, text: string): DimensionValue[] {
  return text
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v) => (v.toLowerCase() === NONE ? null : group === 'country' ? v.toUpperCase() : v))
}

/** Reads the builder's fields (a query string, a form body, or a saved query); an empty source is the default page. */
export function readForm(p: Params, today: string): ReadForm {
  const errors: Record<string, string> = {}
  const keys = Object.keys(p).filter((k) => !['saved', '_csrf', 'statement', 'name', 'query'].includes(k))
  if (keys.length === 0) {
    const form = defaultForm(today)
    return { form, query: toQuery(form), errors }
  }

  const measures = MEASURES.filter((m) => list(p, 'm').includes(m))
  const unknownMeasure = list(p, 'm').find((m) => !MEASURES.includes(m as Measure))
  if (unknownMeasure !== undefined) errors.measures = `${unknownMeasure.slice(0, 40)} is not a measure`
  else if (measures.length === 0) errors.measures = 'Choose at least one measure'

  const rawTime = one(p, 'time')
  const time = TIME_BUCKETS.includes(rawTime as TimeBucket) ? (rawTime as TimeBucket) : ''
  if (rawTime && !time) errors.time = 'Choose day, week, month or none'

  const by = GROUPS.filter((g) => list(p, 'by').includes(g))
  const unknownGroup = list(p, 'by').find((g) => !GROUPS.includes(g as Group))
  if (unknownGroup !== undefined) errors.by = `${unknownGroup.slice(0, 40)} is not a dimension`

  const filters: Partial<Record<Group, string>> = {}
  for (const g of GROUPS) {
    const text = one(p, FILTER_FIELD(g)).slice(0, 1000)
    if (!text) continue
    filters[g] = text
    const values = filterValues(g, text)
    if (values.length === 0) errors[FILTER_FIELD(g)] = 'Give one or more values separated by commas'
    else if (values.length > QUERY_LIMITS.maxFilterValues)
      errors[FILTER_FIELD(g)] = `At most ${QUERY_LIMITS.maxFilterValues} values`
    else if (values.some((v) => v !== null && v.length > 200))
      errors[FILTER_FIELD(g)] = 'Values are at most 200 characters'
  }

  const rawRange = one(p, 'range') || 'custom'
  const range: RangeChoice = rawRange in RANGE_PRESETS || rawRange === 'custom' ? (rawRange as RangeChoice) : 'custom'
  if (rawRange !== range) errors.range = 'Choose a range from the list'
  let from = one(p, 'from').slice(0, 40)
  let to = one(p, 'to').slice(0, 40)
  if (range !== 'custom') ({ from, to } = presetDays(range, today))
  else {
    const fromMs = parseDay(from)
    const toMs = parseDay(to)
    if (!from) errors.from = 'Give the first day'
    else if (fromMs === undefined) errors.from = 'Give a date as YYYY-MM-DD'
    if (!to) errors.to = 'Give the last day'
    else if (toMs === undefined) errors.to = 'Give a date as YYYY-MM-DD'
    if (fromMs !== undefined && toMs !== undefined) {
      if (toMs < fromMs) errors.to = 'The last day cannot be before the first'
      else if (toMs - fromMs >= QUERY_LIMITS.maxRangeDays * DAY_MS)
        errors.to = `A range may span at most ${QUERY_LIMITS.maxRangeDays} days`
    }
  }

  const rawSort = one(p, 'sort')
  const sortable: readonly string[] = [...MEASURES, ...DIMENSIONS]
  const sort = sortable.includes(rawSort) ? (rawSort as Measure | Dimension) : ''
  if (rawSort && !sort) errors.sort = 'Choose a measure or dimension from the list'
  else if (sort && !measures.includes(sort as Measure) && sort !== time && !by.includes(sort as Group))
    errors.sort = 'Sort by a measure or dimension the query asks for'
  const dir = one(p, 'dir') === 'desc' ? 'desc' : 'asc'

  const limit = one(p, 'limit').slice(0, 20) || DEFAULT_LIMIT
  const n = /^\d{1,6}$/.test(limit) ? Number(limit) : Number.NaN
  if (!(n >= 1 && n <= QUERY_LIMITS.maxLimit)) errors.limit = `A whole number from 1 to ${QUERY_LIMITS.maxLimit}`

  const form: AnalyticsForm = { measures, time, by, filters, range, from, to, sort, dir, limit }
  return { form, query: Object.keys(errors).length ? null : toQuery(form), errors }
}

/** The query a valid form asks for: `to` becomes the midnight after the last day. */
export function toQuery(form: AnalyticsForm): AnalyticsQuery {
  const filters: Partial<Record<Dimension, DimensionValue[]>> = {}
  for (const g of GROUPS) {
    const text = form.filters[g]
    if (text) filters[g] = filterValues(g, text)
  }
  return {
    measures: form.measures,
    dimensions: [...(form.time ? [form.time] : []), ...form.by],
    ...(Object.keys(filters).length ? { filters } : {}),
    from: `${form.from}T00:00:00Z`,
    to: `${dayOf((parseDay(form.to) ?? 0) + DAY_MS)}T00:00:00Z`,
    ...(form.sort ? { sort: [{ by: form.sort, direction: form.dir }] } : {}),
    limit: Number(form.limit),
  }
}

/** The form as a query string, canonical: what links, the CSV export and saved queries carry. Presets stay relative. */
export function formParams(form: AnalyticsForm): URLSearchParams {
  const s = new URLSearchParams()
  for (const m of form.measures) s.append('m', m)
  if (form.time) s.set('time', form.time)
  for (const g of form.by) s.append('by', g)
  for (const g of GROUPS) if (form.filters[g]) s.set(FILTER_FIELD(g), form.filters[g]!)
  s.set('range', form.range)
  if (form.range === 'custom') {
    s.set('from', form.from)
    s.set('to', form.to)
  }
  if (form.sort) {
    s.set('sort', form.sort)
    s.set('dir', form.dir)
  }
  if (form.limit !== DEFAULT_LIMIT) s.set('limit', form.limit)
  return s
}

/** A query string back into Params (repeated names become lists). */
export function paramsOf(search: string): Params {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of new URLSearchParams(search)) {
    const prev = out[k]
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  return out
}

/** Where a problem the query model reports (`measures[0]`, `filters.country`, `sort[0].by`…) shows on the form. */
export function formFieldOf(field: string, form: AnalyticsForm): string {
  const head = field.split(/[.[]/)[0]
  if (head === 'filters') {
    const g = field.slice('filters.'.length) as Group
    return GROUPS.includes(g) ? FILTER_FIELD(g) : 'by'
  }
  if (head === 'dimensions') return form.time && field === 'dimensions[0]' ? 'time' : 'by'
  if (head === 'from' || head === 'to') return form.range === 'custom' ? head : 'range'
  if (head === 'measures' || head === 'sort' || head === 'limit') return head
  return 'query'
}

/** A short description of the query, e.g. "Revenue and orders by day". */
export function describeQuery(form: AnalyticsForm): string {
  const names = form.measures.map((m, i) => (i === 0 ? MEASURE_LABEL[m] : MEASURE_LABEL[m].toLowerCase()))
  const what = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : (names[0] ?? 'Nothing')
  const dims = [...(form.time ? [form.time] : []), ...form.by].map((d) => DIMENSION_LABEL[d].toLowerCase())
  return dims.length ? `${what} by ${dims.join(' and ')}` : what
}
