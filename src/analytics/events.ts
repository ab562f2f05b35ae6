// Analytics records: behaviour events and the order-line and refund-line facts, their checks, and UTC calendar buckets.
//
// An id names one immutable record: writing it again (a replay, a retry) changes nothing. Money is an integer count of
// minor units in the store's currency. Times are epoch milliseconds once checked; the calendar is UTC.
import { ValidationFailed } from '../core/errors.ts'
import { isCurrencyCode } from '../core/money.ts'
import { parseTimestamp } from '../log-index/time.ts'

export const EVENT_TYPES = [
  'product_view',
  'search',
  'add_to_cart',
  'remove_from_cart',
  'checkout_started',
  'order_paid',
  'payment_failed',
  'refund',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** What a visitor or the shop did. `value` is in minor units (a view: the unit price; order_paid: the order total). */
export interface AnalyticsEvent {
  id: string
  type: EventType
  /** ISO-8601 instant. */
  at: string
  sessionId: string
  customerId?: string | null
  productId?: string | null
  category?: string | null
  quantity?: number
  value?: number
  currency: string
  orderId?: string | null
  /** ISO 3166-1 alpha-2 */
  country?: string | null
  coupon?: string | null
  /** Where it happened: web, app, api, … */
  channel?: string | null
}

/**
 * One line of a paid order. `revenue` is the line's share of what the customer paid for the order (discounts, tax and
 * shipping spread over the lines by the projector), so an order's lines add up to its total. Every line of an order
 * carries the order's paid time, country, coupon and channel.
 */
export interface OrderLineFact {
  /** e.g. `ord_…:1` */
  id: string
  orderId: string
  customerId: string
  sessionId?: string | null
  productId: string
  category: string
  quantity: number
  revenue: number
  currency: string
  country?: string | null
  coupon?: string | null
  channel?: string | null
  /** ISO-8601 instant. */
  paidAt: string
}

/**
 * The part of a refund that falls on one order line (the projector splits an order-level refund over its lines).
 * It carries the dimensions of the line it refunds and counts on the day of the refund.
 */
export interface RefundLineFact {
  /** e.g. `ref_…:1` */
  id: string
  refundId: string
  orderId: string
  productId: string
  category: string
  quantity: number
  amount: number
  currency: string
  country?: string | null
  coupon?: string | null
  channel?: string | null
  /** ISO-8601 instant. */
  refundedAt: string
}

export interface AnalyticsBatch {
  events?: readonly AnalyticsEvent[]
  orderLines?: readonly OrderLineFact[]
  refundLines?: readonly RefundLineFact[]
}

/** Records as the adapters store them: times in epoch ms, absent optionals as null. */
export interface EventRow {
  id: string
  type: EventType
  atMs: number
  sessionId: string
  customerId: string | null
  productId: string | null
  category: string | null
  quantity: number
  value: number
  orderId: string | null
  country: string | null
  coupon: string | null
  channel: string | null
}

export interface OrderLineRow {
  id: string
  orderId: string
  customerId: string
  sessionId: string | null
  productId: string
  category: string
  quantity: number
  revenue: number
  country: string | null
  coupon: string | null
  channel: string | null
  paidAtMs: number
}

export interface RefundLineRow {
  id: string
  refundId: string
  orderId: string
  productId: string
  category: string
  quantity: number
  amount: number
  country: string | null
  coupon: string | null
  channel: string | null
  refundedAtMs: number
}

export interface CheckedBatch {
  events: EventRow[]
  orderLines: OrderLineRow[]
  refundLines: RefundLineRow[]
}

export const MAX_BATCH_RECORDS = 50_000
const MAX_ID = 200
const MAX_TEXT = 200
/** Times the stores accept: 2000-01-01 to 2199-12-31 (keeps day buckets and engine timestamps in range). */
const MIN_MS = Date.UTC(2000, 0, 1)
const MAX_MS = Date.UTC(2200, 0, 1)

class Problems {
  readonly fields: Record<string, string> = {}
  add(field: string, reason: string): void {
    this.fields[field] ??= reason
  }
  get count(): number {
    return Object.keys(this.fields).length
  }
}

/**
 * Checks a whole batch before anything is written; the first problems come back as EMP_VALIDATION with
 * `fields['events[3].at']`-style keys. Currency must be the store's: analytics sums money of one currency only.
 */
export function checkBatch(batch: AnalyticsBatch, currency: string): CheckedBatch {
  const problems = new Problems()
  if (typeof batch !== 'object' || batch === null) throw invalidBatch({ batch: 'must be an object' })
  const list = <T>(name: string, value: readonly T[] | undefined): readonly T[] => {
    if (value === undefined) return []
    if (!Array.isArray(value)) {
      problems.add(name, 'must be a list')
      return []
    }
    return value
  }
  const events = list('events', batch.events)
  const orderLines = list('orderLines', batch.orderLines)
  const refundLines = list('refundLines', batch.refundLines)
  const total = events.length + orderLines.length + refundLines.length
  if (total > MAX_BATCH_RECORDS) problems.add('batch', `at most ${MAX_BATCH_RECORDS} records per write`)
  if (problems.count > 0) throw invalidBatch(problems.fields)

  const checked: CheckedBatch = { events: [], orderLines: [], refundLines: [] }
  const cap = 20
  events.forEach((e, i) => {
    if (problems.count < cap) {
      const row = checkEvent(e, `events[${i}]`, currency, problems)
      if (row) checked.events.push(row)
    }
  })
  orderLines.forEach((l, i) => {
    if (problems.count < cap) {
      const row = checkOrderLine(l, `orderLines[${i}]`, currency, problems)
      if (row) checked.orderLines.push(row)
    }
  })
  refundLines.forEach((l, i) => {
    if (problems.count < cap) {
      const row = checkRefundLine(l, `refundLines[${i}]`, currency, problems)
      if (row) checked.refundLines.push(row)
    }
  })
  if (problems.count > 0) throw invalidBatch(problems.fields)
  return checked
}

function invalidBatch(fields: Record<string, string>) {
  const [first] = Object.entries(fields)
  return new ValidationFailed(`The analytics batch is not valid: ${first?.[0]} ${first?.[1]}`).withFields(fields)
}

type Source = Record<string, unknown>

function text(src: Source, key: string, at: string, p: Problems, required: boolean, max = MAX_TEXT): string | null {
  const v = src[key]
  if (v === undefined || v === null || v === '') {
    if (required) p.add(`${at}.${key}`, 'is required')
    return null
  }
  if (typeof v !== 'string') {
    p.add(`${at}.${key}`, 'must be a string')
    return null
  }
  if (v.length > max) p.add(`${at}.${key}`, `at most ${max} characters`)
  return v
}

function whole(src: Source, key: string, at: string, p: Problems, fallback?: number): number {
  const v = src[key] ?? fallback
  if (v === undefined) {
    p.add(`${at}.${key}`, 'is required')
    return 0
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    p.add(`${at}.${key}`, 'must be a whole number, 0 or more')
    return 0
  }
  return v
}

function instant(src: Source, key: string, at: string, p: Problems): number {
  const v = src[key]
  const ms = typeof v === 'string' ? parseTimestamp(v) : undefined
  if (ms === undefined || ms < MIN_MS || ms >= MAX_MS) {
    p.add(`${at}.${key}`, 'must be an ISO-8601 date-time between 2000 and 2199')
    return 0
  }
  return ms
}

function sameCurrency(src: Source, at: string, currency: string, p: Problems): void {
  const v = src.currency
  if (typeof v !== 'string' || !isCurrencyCode(v)) p.add(`${at}.currency`, 'must be an ISO 4217 code such as USD')
  else if (v !== currency) p.add(`${at}.currency`, `must be ${currency}, the currency this store sums`)
}

function country(src: Source, at: string, p: Problems): string | null {
  const v = text(src, 'country', at, p, false)
  if (v !== null && !/^[A-Z]{2}$/.test(v)) p.add(`${at}.country`, 'must be a two-letter code such as US')
  return v
}

function checkEvent(e: AnalyticsEvent, at: string, currency: string, p: Problems): EventRow | undefined {
  if (typeof e !== 'object' || e === null) {
    p.add(at, 'must be an object')
    return undefined
  }
  const src = e as unknown as Source
  const type = src.type as EventType
  if (!EVENT_TYPES.includes(type)) p.add(`${at}.type`, `must be one of ${EVENT_TYPES.join(', ')}`)
  sameCurrency(src, at, currency, p)
  return {
    id: text(src, 'id', at, p, true, MAX_ID) ?? '',
    type,
    atMs: instant(src, 'at', at, p),
    sessionId: text(src, 'sessionId', at, p, true, MAX_ID) ?? '',
    customerId: text(src, 'customerId', at, p, false, MAX_ID),
    productId: text(src, 'productId', at, p, false, MAX_ID),
    category: text(src, 'category', at, p, false),
    quantity: whole(src, 'quantity', at, p, 0),
    value: whole(src, 'value', at, p, 0),
    orderId: text(src, 'orderId', at, p, false, MAX_ID),
    country: country(src, at, p),
    coupon: text(src, 'coupon', at, p, false),
    channel: text(src, 'channel', at, p, false),
  }
}

function checkOrderLine(l: OrderLineFact, at: string, currency: string, p: Problems): OrderLineRow | undefined {
  if (typeof l !== 'object' || l === null) {
    p.add(at, 'must be an object')
    return undefined
  }
  const src = l as unknown as Source
  sameCurrency(src, at, currency, p)
  return {
    id: text(src, 'id', at, p, true, MAX_ID) ?? '',
    orderId: text(src, 'orderId', at, p, true, MAX_ID) ?? '',
    customerId: text(src, 'customerId', at, p, true, MAX_ID) ?? '',
    sessionId: text(src, 'sessionId', at, p, false, MAX_ID),
    productId: text(src, 'productId', at, p, true, MAX_ID) ?? '',
    category: text(src, 'category', at, p, true) ?? '',
    quantity: whole(src, 'quantity', at, p),
    revenue: whole(src, 'revenue', at, p),
    country: country(src, at, p),
    coupon: text(src, 'coupon', at, p, false),
    channel: text(src, 'channel', at, p, false),
    paidAtMs: instant(src, 'paidAt', at, p),
  }
}

function checkRefundLine(l: RefundLineFact, at: string, currency: string, p: Problems): RefundLineRow | undefined {
  if (typeof l !== 'object' || l === null) {
    p.add(at, 'must be an object')
    return undefined
  }
  const src = l as unknown as Source
  sameCurrency(src, at, currency, p)
  return {
    id: text(src, 'id', at, p, true, MAX_ID) ?? '',
    refundId: text(src, 'refundId', at, p, true, MAX_ID) ?? '',
    orderId: text(src, 'orderId', at, p, true, MAX_ID) ?? '',
    productId: text(src, 'productId', at, p, true, MAX_ID) ?? '',
    category: text(src, 'category', at, p, true) ?? '',
    quantity: whole(src, 'quantity', at, p),
    amount: whole(src, 'amount', at, p),
    country: country(src, at, p),
    coupon: text(src, 'coupon', at, p, false),
    channel: text(src, 'channel', at, p, false),
    refundedAtMs: instant(src, 'refundedAt', at, p),
  }
}

// UTC calendar buckets, as the query's day/week/month dimensions name them.

export const DAY_MS = 86_400_000

/** `2026-03-02` */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

/** The Monday that starts the ISO week, as `2026-03-02`. */
export const weekOf = (ms: number): string => {
  const dayStart = Math.floor(ms / DAY_MS) * DAY_MS
  const weekday = (new Date(dayStart).getUTCDay() + 6) % 7 // Monday 0 … Sunday 6
  return dayOf(dayStart - weekday * DAY_MS)
}

/** `2026-03` */
export const monthOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7)

/** Epoch ms of 00:00 UTC of a `YYYY-MM-DD` day, or undefined when it is not one. */
export function parseDay(day: unknown): number | undefined {
  if (typeof day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined
  const ms = Date.parse(`${day}T00:00:00.000Z`)
  return Number.isNaN(ms) || dayOf(ms) !== day ? undefined : ms
}

/** Every `YYYY-MM-DD` that [fromMs, toMs) touches, in order. */
export function daysBetween(fromMs: number, toMs: number): string[] {
  const days: string[] = []
  for (let d = Math.floor(fromMs / DAY_MS) * DAY_MS; d < toMs; d += DAY_MS) days.push(dayOf(d))
  return days
}
