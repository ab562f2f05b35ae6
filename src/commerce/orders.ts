// The order state machine of ARCHITECTURE.md: which status may follow which, and who may move it.
import type { OrderStatus } from './model.ts'

export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['paid', 'payment_failed', 'cancelled'],
  paid: ['shipped', 'cancelled', 'refund_requested'],
  payment_failed: [],
  shipped: ['delivered', 'refund_requested'],
  delivered: ['refund_requested'],
  cancelled: [],
  refund_requested: ['refunded', 'refund_rejected'],
  refunded: [],
  // A rejected refund does not stop fulfilment of an order that was not yet shipped or delivered.
  refund_rejected: ['shipped', 'delivered'],
}

export const canTransition = (from: OrderStatus, to: OrderStatus): boolean => ORDER_TRANSITIONS[from].includes(to)

/** The statuses from which `to` can be reached. */
export const sourcesOf = (to: OrderStatus): OrderStatus[] =>
  (Object.keys(ORDER_TRANSITIONS) as OrderStatus[]).filter((from) => canTransition(from, to))

export const isRefundable = (status: OrderStatus): boolean => canTransition(status, 'refund_requested')
