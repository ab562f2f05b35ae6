// The shop's domain hooks (cart, checkout, fulfilment) as analytics events: add_to_cart, remove_from_cart,
// checkout_started, order_paid, payment_failed and refund. Hooks run inside the saga, so nothing here waits or throws:
// what needs a catalog read (a removed SKU's product and price, a category's slug) is looked up in the background.
import type { CartEvents } from '../commerce/carts.ts'
import type { CheckoutEvents } from '../commerce/checkout.ts'
import type { FulfilmentEvents } from '../commerce/fulfilment.ts'
import type { Category, VariantInfo } from '../commerce/model.ts'
import { newEventId } from '../core/ids.ts'
import type { AnalyticsEvent, EventType } from './events.ts'
import {
  CategorySlugs,
  moneyBackOf,
  orderPaidEvent,
  paymentFailedEvent,
  refundEvent,
  type TrackingContext,
} from './facts.ts'

export interface ShopEventsOptions {
  emit: (event: AnalyticsEvent) => void
  /** The visitor's session and channel when a hook runs inside their request; undefined in background jobs. */
  context: () => TrackingContext | undefined
  currency: string
  variants: (skus: readonly string[]) => Promise<VariantInfo[]>
  categories: () => Promise<Category[]>
  /** A background lookup failed: the event is lost (counted by the caller). */
  onError?: (error: unknown) => void
}

export type ShopEvents = CheckoutEvents & FulfilmentEvents & CartEvents

/** Sessions of hooks that run outside any visitor request. */
const SYSTEM_SESSION = 'system'

export function shopAnalyticsEvents(o: ShopEventsOptions): ShopEvents {
  const categories = new CategorySlugs(o.categories)
  const now = () => new Date().toISOString()

  const cartEvent = (type: EventType, sku: string, quantity: number, known: VariantInfo | undefined) => {
    const at = now()
    const context = o.context()
    void (async () => {
      const variant = known ?? (await o.variants([sku])).find((v) => v.sku === sku)
      const slug = variant ? (await categories.resolver([variant.categoryId]))(variant.categoryId) : null
      o.emit({
        id: newEventId(),
        type,
        at,
        sessionId: context?.sessionId ?? SYSTEM_SESSION,
        customerId: context?.customerId ?? null,
        productId: variant?.productId ?? null,
        category: slug,
        quantity,
        value: variant ? variant.price * quantity : 0,
        currency: o.currency,
        channel: context?.channel ?? null,
      })
    })().catch((e) => o.onError?.(e))
  }

  return {
    cartItemAdded: (sku, quantity, variant) => cartEvent('add_to_cart', sku, quantity, variant),
    cartItemRemoved: (sku, quantity) => cartEvent('remove_from_cart', sku, quantity, undefined),

    checkoutStarted(userId, _idempotencyKey, cart) {
      const context = o.context()
      o.emit({
        id: newEventId(),
        type: 'checkout_started',
        at: now(),
        sessionId: context?.sessionId ?? SYSTEM_SESSION,
        customerId: userId,
        quantity: cart.items.reduce((n, i) => n + i.quantity, 0),
        currency: o.currency,
        coupon: cart.couponCode,
        channel: context?.channel ?? null,
      })
    },

    orderPaid(order) {
      const event = orderPaidEvent(order, o.context())
      if (event) o.emit(event)
    },

    paymentFailed(order) {
      const event = paymentFailedEvent(order, o.context())
      if (event) o.emit(event)
    },

    refunded(order, refund) {
      const back = moneyBackOf(order, refund)
      if (back) o.emit(refundEvent(order, back, o.context()))
    },

    orderTransitioned(order) {
      // A paid order cancelled by staff is refunded in full (Fulfilment.cancel): money back, like a refund.
      if (order.status !== 'cancelled') return
      const back = moneyBackOf(order, null)
      if (back) o.emit(refundEvent(order, back, o.context()))
    },
  }
}
