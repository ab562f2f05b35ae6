// What the CommerceStore says was paid and refunded, by UTC day: the figures the analytics answers must match in the
// end-to-end tests, computed from orders and refunds alone (never from the projector's code).
import type { Order, Refund } from '../../src/commerce/model.ts'
import type { CommerceStore } from '../../src/commerce/store/commerce-store.ts'

/** What the CommerceStore says was paid and refunded, by UTC day: the figures analytics must match. */
export interface DayFigures {
  gross: number
  refunds: number
  orders: number
  units: number
}

export async function allOrders(store: CommerceStore): Promise<Order[]> {
  const out: Order[] = []
  for (let page = 1; ; page++) {
    const { items } = await store.listOrders({ page, limit: 100 })
    out.push(...items)
    if (items.length < 100) return out
  }
}

export async function approvedRefunds(store: CommerceStore): Promise<Refund[]> {
  const out: Refund[] = []
  for (let page = 1; ; page++) {
    const { items } = await store.listRefunds({ status: 'approved', page, limit: 100 })
    out.push(...items)
    if (items.length < 100) return out
  }
}

/**
 * Gross: an order counts on the day it was paid, for its total. Refunds: an approved refund on the day it was decided,
 * for its amount; a paid order cancelled by staff (refunded in full by the cancel) on the day it was cancelled.
 */
export async function storeFigures(store: CommerceStore, filter: (o: Order) => boolean = () => true) {
  const days = new Map<string, DayFigures>()
  const at = (day: string) => {
    let d = days.get(day)
    if (!d) {
      d = { gross: 0, refunds: 0, orders: 0, units: 0 }
      days.set(day, d)
    }
    return d
  }
  const orders = (await allOrders(store)).filter(filter)
  const byId = new Map(orders.map((o) => [o.id, o]))
  for (const o of orders) {
    const paid = o.history.find((h) => h.to === 'paid')
    if (!paid) continue
    const d = at(paid.at.slice(0, 10))
    d.gross += o.total
    d.orders++
    d.units += o.lines.reduce((n, l) => n + l.quantity, 0)
    const cancelled = o.history.find((h) => h.from === 'paid' && h.to === 'cancelled')
    if (cancelled && o.payment?.status === 'refunded') at(cancelled.at.slice(0, 10)).refunds += o.payment.amount
  }
  for (const r of await approvedRefunds(store))
    if (byId.has(r.orderId)) at(r.decidedAt!.slice(0, 10)).refunds += r.amount
  return days
}

/** The rows POST /analytics/query must answer for those figures, by day ascending. */
export function expectedRows(days: Map<string, DayFigures>, currency: string) {
  const m = (amount: number) => ({ amount, currency })
  return [...days.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, d]) => ({
      day,
      revenue: m(d.gross - d.refunds),
      gross_revenue: m(d.gross),
      refunds: m(d.refunds),
      orders: d.orders,
      units: d.units,
    }))
}
