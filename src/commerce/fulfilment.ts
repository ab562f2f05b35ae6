// After payment: customers' order views and refund requests; staff ship, deliver, cancel and decide refunds.
import type { Clock } from '../core/clock.ts'
import { InvalidTransition, NotFound, ValidationFailed } from '../core/errors.ts'
import { newId } from '../core/ids.ts'
import { ORDER_STATUSES, type Order, type OrderStatus, type Refund, type RefundStatus, type User } from './model.ts'
import { canTransition } from './orders.ts'
import type { PaymentGateway } from './payments/payment-gateway.ts'
import type { CommerceStore } from './store/commerce-store.ts'
import { cleanText } from './validation.ts'

export interface FulfilmentEvents {
  orderTransitioned?(order: Order, actor: string): void
  refunded?(order: Order, refund: Refund): void
}

export class Fulfilment {
  constructor(
    private readonly store: CommerceStore,
    private readonly gateway: PaymentGateway,
    private readonly clock: Clock,
    private readonly events: FulfilmentEvents = {},
  ) {}

  /** A customer's own order; someone else's answers as not found, so ids reveal nothing. */
  async getOwnOrder(userId: string, orderId: string): Promise<Order> {
    const order = await this.store.getOrder(orderId)
    if (!order || order.userId !== userId) throw new NotFound('Order')
    return order
  }

  listOwnOrders(userId: string, page: number, limit: number) {
    return this.store.listOrders({ userId, page, limit })
  }

  listOrders(status: OrderStatus | undefined, page: number, limit: number) {
    return this.store.listOrders({ ...(status ? { status } : {}), page, limit })
  }

  async getOrder(orderId: string): Promise<Order> {
    const order = await this.store.getOrder(orderId)
    if (!order) throw new NotFound('Order')
    return order
  }

  private async move(order: Order, to: OrderStatus, actor: string, reason: string, patch: Partial<Order> = {}) {
    if (!canTransition(order.status, to)) throw new InvalidTransition(order.status, to)
    const moved = await this.store.transitionOrder(order.id, {
      from: [order.status],
      to,
      entry: { from: order.status, to, at: this.clock.now().toISOString(), actor, reason },
      ...(patch.payment ? { payment: patch.payment } : {}),
    })
    if (!moved) {
      const now = await this.getOrder(order.id)
      throw new InvalidTransition(now.status, to)
    }
    this.events.orderTransitioned?.(moved, actor)
    return moved
  }

  async ship(actor: User, orderId: string, note = ''): Promise<Order> {
    return this.move(await this.getOrder(orderId), 'shipped', actor.id, note || 'shipped')
  }

  async deliver(actor: User, orderId: string, note = ''): Promise<Order> {
    return this.move(await this.getOrder(orderId), 'delivered', actor.id, note || 'delivered')
  }

  /** Cancels a pending or paid order; a paid one is refunded in full and its units go back on sale. */
  async cancel(actor: User, orderId: string, rawReason = ''): Promise<Order> {
    const reason = rawReason ? cleanText(rawReason, 'reason', 500) : 'cancelled by staff'
    const order = await this.getOrder(orderId)
    if (!canTransition(order.status, 'cancelled')) throw new InvalidTransition(order.status, 'cancelled')
    if (order.status === 'pending') {
      for (const line of order.lines) await this.store.releaseStock(order.id, line.sku)
      if (order.couponCode) await this.store.releaseCoupon(order.couponCode, order.id)
      return this.move(order, 'cancelled', actor.id, reason)
    }
    let payment = order.payment
    if (payment && payment.status === 'succeeded') {
      const refund = await this.gateway.refund({
        idempotencyKey: `cancel_${order.id}`,
        chargeId: payment.chargeId,
        amount: payment.amount,
      })
      payment = { ...payment, status: 'refunded', refundId: refund.refundId }
    }
    for (const line of order.lines) await this.store.restock(`cancel_${order.id}`, line.sku, line.quantity)
    return this.move(order, 'cancelled', actor.id, reason, payment ? { payment } : {})
  }

  async requestRefund(userId: string, orderId: string, rawReason: string): Promise<Refund> {
    const reason = cleanText(rawReason ?? '', 'reason', 1000)
    const order = await this.getOwnOrder(userId, orderId)
    if (!canTransition(order.status, 'refund_requested')) throw new InvalidTransition(order.status, 'refund_requested')
    const refund: Refund = {
      id: newId('ref'),
      orderId: order.id,
      userId,
      amount: order.payment?.amount ?? order.total,
      currency: order.currency,
      reason,
      status: 'requested',
      createdAt: this.clock.now().toISOString(),
      decidedAt: null,
      decidedBy: null,
      decisionNote: null,
    }
    await this.store.createRefund(refund)
    try {
      await this.move(order, 'refund_requested', userId, reason)
    } catch (e) {
      await this.store.decideRefund(refund.id, {
        status: 'rejected',
        at: this.clock.now().toISOString(),
        by: 'system:refunds',
        note: 'The order changed before the request was recorded',
      })
      throw e
    }
    return refund
  }

  listRefunds(status: RefundStatus | undefined, page: number, limit: number) {
    return this.store.listRefunds({ ...(status ? { status } : {}), page, limit })
  }

  async getRefundForOrder(orderId: string): Promise<Refund | null> {
    return this.store.getRefundByOrderId(orderId)
  }

  private async getRefund(refundId: string): Promise<Refund> {
    const refund = await this.store.getRefund(refundId)
    if (!refund) throw new NotFound('Refund')
    return refund
  }

  /** Refunds through the gateway, restocks, marks the order refunded. Every step is idempotent, so a retry after a crash completes it. */
  async approveRefund(actor: User, refundId: string, rawNote = ''): Promise<{ refund: Refund; order: Order }> {
    const note = rawNote ? cleanText(rawNote, 'note', 1000) : null
    const refund = await this.getRefund(refundId)
    if (refund.status !== 'requested') throw new InvalidTransition(`refund ${refund.status}`, 'refund approved')
    const order = await this.getOrder(refund.orderId)
    if (order.status !== 'refund_requested' && order.status !== 'refunded')
      throw new InvalidTransition(order.status, 'refunded')
    let payment = order.payment
    if (payment && payment.status === 'succeeded') {
      const r = await this.gateway.refund({
        idempotencyKey: refund.id,
        chargeId: payment.chargeId,
        amount: refund.amount,
      })
      payment = { ...payment, status: 'refunded', refundId: r.refundId }
    }
    for (const line of order.lines) await this.store.restock(refund.id, line.sku, line.quantity)
    const refunded =
      order.status === 'refunded'
        ? order
        : await this.move(order, 'refunded', actor.id, note ?? 'refund approved', payment ? { payment } : {})
    const decided = await this.store.decideRefund(refund.id, {
      status: 'approved',
      at: this.clock.now().toISOString(),
      by: actor.id,
      note,
    })
    if (!decided) throw new InvalidTransition('refund decided', 'refund approved')
    this.events.refunded?.(refunded, decided)
    return { refund: decided, order: refunded }
  }

  async rejectRefund(actor: User, refundId: string, rawNote = ''): Promise<{ refund: Refund; order: Order }> {
    const note = rawNote ? cleanText(rawNote, 'note', 1000) : null
    const refund = await this.getRefund(refundId)
    if (refund.status !== 'requested') throw new InvalidTransition(`refund ${refund.status}`, 'refund rejected')
    const order = await this.getOrder(refund.orderId)
    const decided = await this.store.decideRefund(refund.id, {
      status: 'rejected',
      at: this.clock.now().toISOString(),
      by: actor.id,
      note,
    })
    if (!decided) throw new InvalidTransition('refund decided', 'refund rejected')
    const moved =
      order.status === 'refund_requested'
        ? await this.move(order, 'refund_rejected', actor.id, note ?? 'refund rejected')
        : order
    return { refund: decided, order: moved }
  }

  static checkStatus(raw: string | undefined): OrderStatus | undefined {
    if (raw === undefined || raw === '') return undefined
    if (!ORDER_STATUSES.includes(raw as OrderStatus))
      throw new ValidationFailed('Unknown order status').withFields({ status: `One of ${ORDER_STATUSES.join(', ')}` })
    return raw as OrderStatus
  }
}
