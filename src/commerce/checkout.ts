// Checkout as a saga with compensation (ARCHITECTURE.md): pending order → stock holds → payment →
// paid, or release and payment_failed. The recovery job settles orders a crash left pending.
import type { Clock } from '../core/clock.ts'
import {
  CartEmpty,
  CheckoutAborted,
  CheckoutInProgress,
  CouponExhausted,
  EmporiumError,
  IdempotencyKeyRequired,
  isEmporiumError,
  OutOfStock,
  PaymentDeclined,
  PaymentUnavailable,
  registry,
} from '../core/errors.ts'
import { newId } from '../core/ids.ts'
import type { Carts } from './carts.ts'
import type { Address, Cart, Order, OrderStatus, PaymentSummary } from './model.ts'
import type { ChargeResult, PaymentGateway } from './payments/payment-gateway.ts'
import { assertCouponApplies, computeTotals, discountFor, priceLines, subtotalOf } from './pricing.ts'
import type { ShopSettings } from './settings.ts'
import type { CommerceStore } from './store/commerce-store.ts'
import { cleanText } from './validation.ts'

export const IDEMPOTENCY_KEY_RE = /^[A-Za-z0-9_.:-]{8,200}$/

export interface CheckoutInput {
  userId: string
  idempotencyKey: string | undefined
  shippingAddress: Address
  paymentToken: string
  /** Where the order is placed ('web', 'api'); kept on the order for analytics. */
  channel?: string
}

export interface CheckoutResult {
  order: Order
  /** True when the Idempotency-Key named an order placed earlier: nothing new happened. */
  replayed: boolean
}

/** Events the rest of the platform may listen to (logs, analytics); never awaited by the saga. */
export interface CheckoutEvents {
  orderPaid?(order: Order): void
  paymentFailed?(order: Order, reason: string): void
  checkoutStarted?(userId: string, idempotencyKey: string, cart: Cart): void
}

export function checkAddress(raw: Address): Address {
  const country = String(raw.country ?? '')
    .trim()
    .toUpperCase()
  if (!/^[A-Z]{2}$/.test(country)) {
    throw new EmporiumError('EMP_VALIDATION', 400, 'The country is not valid').withFields({
      'shippingAddress.country': 'A two-letter country code such as US or DE',
    })
  }
  const field = (name: keyof Address, max: number, min = 1) =>
    cleanText(String(raw[name] ?? ''), `shippingAddress.${name}`, max, { min })
  const postalCode = field('postalCode', 16)
  if (!/^[A-Za-z0-9 -]{2,16}$/.test(postalCode))
    throw new EmporiumError('EMP_VALIDATION', 400, 'The postal code is not valid').withFields({
      'shippingAddress.postalCode': 'Letters, digits, spaces and dashes',
    })
  const line2 = raw.line2 ? field('line2', 200, 0) : ''
  return {
    name: field('name', 100),
    line1: field('line1', 200),
    ...(line2 ? { line2 } : {}),
    city: field('city', 100),
    postalCode,
    country,
  }
}

export class Checkout {
  constructor(
    private readonly store: CommerceStore,
    private readonly gateway: PaymentGateway,
    private readonly carts: Carts,
    private readonly settings: ShopSettings,
    private readonly clock: Clock,
    private readonly events: CheckoutEvents = {},
  ) {}

  private entry(from: OrderStatus | null, to: OrderStatus, actor: string, reason: string) {
    return { from, to, at: this.clock.now().toISOString(), actor, reason }
  }

  async checkout(input: CheckoutInput): Promise<CheckoutResult> {
    const key = input.idempotencyKey
    if (!key || !IDEMPOTENCY_KEY_RE.test(key)) throw new IdempotencyKeyRequired()
    const address = checkAddress(input.shippingAddress)
    if (!/^tok_[A-Za-z0-9_]{1,64}$/.test(input.paymentToken ?? ''))
      throw new EmporiumError('EMP_VALIDATION', 400, 'The payment token is not valid').withFields({
        paymentToken: 'A card token such as tok_visa',
      })

    const earlier = await this.store.getOrderByIdempotencyKey(input.userId, key)
    if (earlier) return this.replay(earlier)

    const cart = await this.carts.load({ userId: input.userId })
    if (!cart || cart.items.length === 0) throw new CartEmpty()
    this.events.checkoutStarted?.(input.userId, key, cart)
    const variants = await this.store.getVariants(cart.items.map((i) => i.sku))
    const lines = priceLines(cart.items, variants, { strict: true }).map(({ image: _image, ...line }) => line)
    const subtotal = subtotalOf(lines)
    const now = this.clock.now()
    let discount = 0
    if (cart.couponCode) {
      const coupon = await this.store.getCoupon(cart.couponCode)
      assertCouponApplies(cart.couponCode, coupon, subtotal, now, this.settings.currency)
      discount = discountFor(coupon, subtotal)
    }
    const totals = computeTotals(subtotal, discount, this.settings)
    const at = now.toISOString()
    const draft: Order = {
      id: newId('ord'),
      userId: input.userId,
      status: 'pending',
      idempotencyKey: key,
      lines,
      ...totals,
      couponCode: cart.couponCode,
      shippingAddress: address,
      payment: null,
      failureReason: null,
      history: [this.entry(null, 'pending', input.userId, 'checkout started')],
      ...(input.channel ? { channel: input.channel } : {}),
      createdAt: at,
      updatedAt: at,
    }
    const { order, created } = await this.store.createOrderIfAbsent(draft)
    if (!created) return this.replay(order)

    // Holds: coupon use, then stock line by line; any failure releases what was taken.
    if (order.couponCode && !(await this.store.redeemCoupon(order.couponCode, order.id))) {
      await this.abandon(order, 'cancelled', new CouponExhausted(order.couponCode))
    }
    for (const line of order.lines) {
      if (!(await this.store.reserveStock(order.id, line.sku, line.quantity))) {
        await this.abandon(order, 'cancelled', new OutOfStock(line.sku).withDetails({ sku: line.sku }))
      }
    }

    let charge: ChargeResult
    try {
      charge = await this.gateway.charge({
        idempotencyKey: order.id,
        amount: order.total,
        currency: order.currency,
        token: input.paymentToken,
        description: `Emporium order ${order.id}`,
      })
    } catch {
      // The charge may or may not have happened: the recovery job asks the gateway and settles the order.
      throw new PaymentUnavailable().withDetails({ orderId: order.id })
    }
    if (charge.status === 'declined') {
      return this.abandon(
        order,
        'payment_failed',
        new PaymentDeclined(charge.message).withDetails({ orderId: order.id, declineCode: charge.declineCode }),
      )
    }
    const paid = await this.settlePaid(order, charge, input.userId, 'payment captured')
    await this.carts.clear(input.userId).catch(() => undefined)
    return { order: paid, replayed: false }
  }

  /** Commits the holds, then marks the order paid; if the order was settled otherwise meanwhile, undoes the sale. */
  private async settlePaid(
    order: Order,
    charge: Extract<ChargeResult, { status: 'succeeded' }>,
    actor: string,
    reason: string,
  ): Promise<Order> {
    const committed: string[] = []
    for (const line of order.lines) {
      if (await this.store.commitStock(order.id, line.sku)) committed.push(line.sku)
    }
    const payment: PaymentSummary = {
      chargeId: charge.chargeId,
      status: 'succeeded',
      brand: charge.brand,
      last4: charge.last4,
      amount: charge.amount,
    }
    const paid = await this.store.transitionOrder(order.id, {
      from: ['pending'],
      to: 'paid',
      entry: this.entry('pending', 'paid', actor, reason),
      payment,
    })
    if (paid) {
      this.events.orderPaid?.(paid)
      return paid
    }
    const current = await this.store.getOrder(order.id)
    if (current?.status === 'paid') return current
    // Someone (the recovery job) cancelled it while we were charging: give the money and the units back.
    await this.gateway.refund({ idempotencyKey: `void_${order.id}`, chargeId: charge.chargeId, amount: charge.amount })
    for (const line of order.lines) {
      if (committed.includes(line.sku)) await this.store.restock(`void_${order.id}`, line.sku, line.quantity)
    }
    throw new CheckoutAborted().withDetails({ orderId: order.id })
  }

  private async releaseHolds(order: Order): Promise<void> {
    for (const line of order.lines) await this.store.releaseStock(order.id, line.sku)
    if (order.couponCode) await this.store.releaseCoupon(order.couponCode, order.id)
  }

  /** Compensation: gives back every hold, records why the order did not go through, and throws the reason. */
  private async abandon(order: Order, to: 'cancelled' | 'payment_failed', reason: EmporiumError): Promise<never> {
    await this.releaseHolds(order)
    const failure = `${reason.code}: ${reason.message}`
    const settled = await this.store.transitionOrder(order.id, {
      from: ['pending'],
      to,
      entry: this.entry('pending', to, order.userId, reason.message),
      failureReason: failure,
    })
    if (settled && to === 'payment_failed') this.events.paymentFailed?.(settled, reason.message)
    throw reason.withDetails({ orderId: order.id })
  }

  /** The same Idempotency-Key again: answer as the first time, never charge again. */
  private async replay(order: Order): Promise<CheckoutResult> {
    if (order.status === 'pending') {
      const age = this.clock.now().getTime() - Date.parse(order.createdAt)
      if (age < this.settings.recoverPendingAfterMs) throw new CheckoutInProgress().withDetails({ orderId: order.id })
      const settled = await this.recoverOrder(order)
      return settled.status === 'pending' ? Promise.reject(new CheckoutInProgress()) : this.replay(settled)
    }
    if (order.failureReason && (order.status === 'payment_failed' || order.status === 'cancelled')) {
      const [code = 'EMP_INTERNAL', ...rest] = order.failureReason.split(': ')
      const status = registry.get(code) ?? 409
      throw new EmporiumError(code, status, rest.join(': ') || order.failureReason).withDetails({ orderId: order.id })
    }
    return { order, replayed: true }
  }

  /** Settles one pending order from what the gateway knows about its key. */
  async recoverOrder(order: Order): Promise<Order> {
    const actor = 'system:checkout-recovery'
    const charge = await this.gateway.findCharge(order.id)
    if (charge?.status === 'succeeded') {
      try {
        return await this.settlePaid(order, charge, actor, 'payment confirmed by the gateway during recovery')
      } catch (e) {
        if (isEmporiumError(e)) return (await this.store.getOrder(order.id)) ?? order
        throw e
      }
    }
    const to = charge ? 'payment_failed' : 'cancelled'
    const reason = charge
      ? `EMP_PAYMENT_DECLINED: The payment was declined: ${charge.status === 'declined' ? charge.message : ''}`
      : 'EMP_CHECKOUT_ABORTED: The checkout was interrupted before payment; nothing was charged'
    // The status change decides the outcome: only the side that wins it gives the holds back. A checkout still
    // in flight that charges afterwards finds the order settled and voids its charge (see settlePaid).
    const settled = await this.store.transitionOrder(order.id, {
      from: ['pending'],
      to,
      entry: this.entry('pending', to, actor, reason.split(': ').slice(1).join(': ')),
      failureReason: reason,
    })
    if (settled) await this.releaseHolds(order)
    if (settled?.status === 'payment_failed') this.events.paymentFailed?.(settled, reason)
    return settled ?? (await this.store.getOrder(order.id)) ?? order
  }

  /** The recovery job: settles every order left pending before `createdBefore`. */
  async recoverPendingOrders(
    createdBefore: Date,
    limit = 500,
  ): Promise<{ examined: number; paid: number; failed: number; cancelled: number; errors: number }> {
    const result = { examined: 0, paid: 0, failed: 0, cancelled: 0, errors: 0 }
    const pending = await this.store.listPendingOrders(createdBefore.toISOString(), limit)
    for (const order of pending) {
      result.examined++
      try {
        const settled = await this.recoverOrder(order)
        if (settled.status === 'paid') result.paid++
        else if (settled.status === 'payment_failed') result.failed++
        else if (settled.status === 'cancelled') result.cancelled++
      } catch {
        result.errors++
      }
    }
    return result
  }
}
