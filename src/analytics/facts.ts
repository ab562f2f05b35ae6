// Orders as analytics records: the order_paid / payment_failed / refund events of an order and its order-line and
// refund-line facts, with money split over the lines so that every split adds up exactly.
//
// An order line's revenue is its share of the order total (what the customer paid: goods after the coupon, plus tax
// and shipping), in proportion to its catalog line total; the cents that proportion leaves over go to the lines with
// the largest remainders (the earlier line on a tie). So an order's lines add up to its total to the cent. A refund is
// split over the lines the same way, in proportion to their revenue; a full refund gives each line back exactly its
// revenue. Ids are derived from the order and refund ids, so projecting an order again writes the same records.
import type { Category, Order, OrderStatus, Refund } from '../commerce/model.ts'
import type { AnalyticsEvent, OrderLineFact, RefundLineFact } from './events.ts'

/**
 * Splits `total` (a whole number, 0 or more) over `weights` in proportion, in whole units that add up to `total`
 * exactly: largest remainder, ties to the earlier weight. All-zero weights split evenly.
 */
export function allocate(total: number, weights: readonly number[]): number[] {
  if (!Number.isSafeInteger(total) || total < 0) throw new RangeError(`total must be a whole number ≥ 0 (got ${total})`)
  if (weights.length === 0) {
    if (total !== 0) throw new RangeError('cannot split a non-zero total over no weights')
    return []
  }
  if (weights.some((w) => !Number.isSafeInteger(w) || w < 0)) throw new RangeError('weights must be whole numbers ≥ 0')
  const ws = weights.every((w) => w === 0) ? weights.map(() => 1n) : weights.map((w) => BigInt(w))
  const sum = ws.reduce((a, b) => a + b, 0n)
  const t = BigInt(total)
  const shares = ws.map((w) => (t * w) / sum)
  const remainders = ws.map((w, i) => ({ i, r: (t * w) % sum }))
  let left = Number(t - shares.reduce((a, b) => a + b, 0n))
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1))
  for (const { i } of remainders) {
    if (left === 0) break
    shares[i]! += 1n
    left--
  }
  return shares.map(Number)
}

/** When the order entered `status` (its first history entry to it), or null. */
export function enteredAt(order: Order, status: OrderStatus): string | null {
  return order.history.find((h) => h.to === status)?.at ?? null
}

/** Money that went back to the customer for an order: an approved refund, or the full refund of a paid order cancelled. */
export interface MoneyBack {
  refundId: string
  amount: number
  at: string
}

export function moneyBackOf(order: Order, refund: Refund | null): MoneyBack | null {
  if (refund && refund.orderId === order.id && refund.status === 'approved' && refund.decidedAt)
    return { refundId: refund.id, amount: refund.amount, at: refund.decidedAt }
  const cancelled = order.history.find((h) => h.to === 'cancelled' && h.from !== 'pending' && h.from !== null)
  if (cancelled && enteredAt(order, 'paid') && order.payment?.status === 'refunded')
    // Fulfilment.cancel refunds the whole charge under the gateway key cancel_<order id>.
    return { refundId: `cancel_${order.id}`, amount: order.payment.amount, at: cancelled.at }
  return null
}

/** Category id → slug (what analysts group and filter by); an unknown id stands for itself. */
export type CategorySlugOf = (categoryId: string) => string

export const units = (order: Order): number => order.lines.reduce((n, l) => n + l.quantity, 0)

/** The revenue of each line of a paid order: the order total split by line totals. */
export function lineRevenues(order: Order): number[] {
  return allocate(
    order.total,
    order.lines.map((l) => l.lineTotal),
  )
}

export function orderLineFacts(
  order: Order,
  categorySlug: CategorySlugOf,
  sessionId: string | null = null,
): OrderLineFact[] {
  const paidAt = enteredAt(order, 'paid')
  if (!paidAt) return []
  const revenues = lineRevenues(order)
  return order.lines.map((line, i) => ({
    id: `${order.id}:${i + 1}`,
    orderId: order.id,
    customerId: order.userId,
    sessionId,
    productId: line.productId,
    category: categorySlug(line.categoryId),
    quantity: line.quantity,
    revenue: revenues[i]!,
    currency: order.currency,
    country: order.shippingAddress.country || null,
    coupon: order.couponCode,
    channel: order.channel ?? null,
    paidAt,
  }))
}

export function refundLineFacts(order: Order, back: MoneyBack, categorySlug: CategorySlugOf): RefundLineFact[] {
  if (order.lines.length === 0) return []
  const revenues = lineRevenues(order)
  const amounts = allocate(back.amount, revenues)
  const full = back.amount >= order.total
  const quantities = full
    ? order.lines.map((l) => l.quantity)
    : allocate(
        order.total === 0 ? 0 : Math.round((units(order) * back.amount) / order.total),
        order.lines.map((l) => l.quantity),
      )
  return order.lines.map((line, i) => ({
    id: `${back.refundId}:${i + 1}`,
    refundId: back.refundId,
    orderId: order.id,
    productId: line.productId,
    category: categorySlug(line.categoryId),
    quantity: quantities[i]!,
    amount: amounts[i]!,
    currency: order.currency,
    country: order.shippingAddress.country || null,
    coupon: order.couponCode,
    channel: order.channel ?? null,
    refundedAt: back.at,
  }))
}

/** Who did it, as analytics names them: the session's public id and where (web, api). */
export interface TrackingContext {
  sessionId: string
  channel: string
  /** The signed-in user of the request, if any. */
  customerId: string | null
}

/** Orders settled outside a visitor's request (recovery job, seed) stand in a session of their own. */
export const orderSessionId = (orderId: string): string => `order:${orderId}`

function orderEvent(
  type: 'order_paid' | 'payment_failed',
  order: Order,
  at: string,
  context: TrackingContext | undefined,
): AnalyticsEvent {
  return {
    id: `${type}:${order.id}`,
    type,
    at,
    sessionId: context?.sessionId ?? orderSessionId(order.id),
    customerId: order.userId,
    quantity: units(order),
    value: order.total,
    currency: order.currency,
    orderId: order.id,
    country: order.shippingAddress.country || null,
    coupon: order.couponCode,
    channel: order.channel ?? context?.channel ?? null,
  }
}

/** The order_paid event of a paid order (at the time it was paid), or null when it never was. */
export function orderPaidEvent(order: Order, context?: TrackingContext): AnalyticsEvent | null {
  const at = enteredAt(order, 'paid')
  return at ? orderEvent('order_paid', order, at, context) : null
}

export function paymentFailedEvent(order: Order, context?: TrackingContext): AnalyticsEvent | null {
  const at = enteredAt(order, 'payment_failed')
  return at ? orderEvent('payment_failed', order, at, context) : null
}

export function refundEvent(order: Order, back: MoneyBack, context?: TrackingContext): AnalyticsEvent {
  return {
    id: `refund:${back.refundId}`,
    type: 'refund',
    at: back.at,
    sessionId: orderSessionId(order.id),
    customerId: order.userId,
    quantity: back.amount >= order.total ? units(order) : 0,
    value: back.amount,
    currency: order.currency,
    orderId: order.id,
    country: order.shippingAddress.country || null,
    coupon: order.couponCode,
    channel: order.channel ?? context?.channel ?? null,
  }
}

/** Category slugs by id, read from the catalog at most every `ttlMs` (and again, at most every 5 s, for a new id). */
export class CategorySlugs {
  private slugs = new Map<string, string>()
  private loadedAt = Number.NEGATIVE_INFINITY
  private loading: Promise<void> | null = null

  constructor(
    private readonly list: () => Promise<Category[]>,
    private readonly ttlMs = 60_000,
  ) {}

  /** A lookup over the slugs known after making sure `ids` are loaded (when the catalog has them). */
  async resolver(ids: Iterable<string> = []): Promise<CategorySlugOf> {
    const age = performance.now() - this.loadedAt
    const unknown = [...ids].some((id) => !this.slugs.has(id))
    if (age > this.ttlMs || (unknown && age > 5000)) await this.refresh()
    return (id) => this.slugs.get(id) ?? id
  }

  private refresh(): Promise<void> {
    this.loading ??= this.list()
      .then((categories) => {
        this.slugs = new Map(categories.map((c) => [c.id, c.slug]))
        this.loadedAt = performance.now()
      })
      .finally(() => {
        this.loading = null
      })
    return this.loading
  }
}
