// The analytics projector: the worker side of the `analytics` queue. It writes batches of events to the
// AnalyticsStore, and for each order_paid and refund event reads the order (and its refund) from the CommerceStore to
// write the order-line and refund-line facts (facts.ts); it backfills the facts of every order already in the store,
// and rolls up recent days. Every record is keyed by an id derived from what it describes, so a replayed job, a
// retried batch or a second backfill changes nothing.
import type { Order, Refund } from '../commerce/model.ts'
import type { CommerceStore } from '../commerce/store/commerce-store.ts'
import { isEmporiumError } from '../core/errors.ts'
import { type JobHandlers, PermanentJobError } from '../jobs/job-queue.ts'
import type { AnalyticsStore } from './analytics-store.ts'
import { type AnalyticsEvent, checkBatch, DAY_MS, dayOf, type OrderLineFact, type RefundLineFact } from './events.ts'
import {
  type CategorySlugOf,
  CategorySlugs,
  moneyBackOf,
  orderLineFacts,
  orderPaidEvent,
  paymentFailedEvent,
  refundEvent,
  refundLineFacts,
} from './facts.ts'

export const ANALYTICS_QUEUE = 'analytics'
export const PROJECT_EVENTS_JOB = 'project-events'
export const BACKFILL_JOB = 'backfill'
export const ROLLUP_JOB = 'rollup'

export interface ProjectorOptions {
  commerce: CommerceStore
  analytics: () => Promise<AnalyticsStore>
  /** Where the projector reports events it had to skip; never their contents. */
  log?: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void
}

export interface ProjectReport {
  events: number
  orderLines: number
  refundLines: number
  /** Events that failed the store's checks (written without them). */
  invalid: number
  /** order_paid / refund events whose order is not in the CommerceStore (or not in the store's currency). */
  missingOrders: number
}

export interface BackfillReport {
  orders: number
  events: number
  orderLines: number
  refundLines: number
  /** The UTC days that got records (rolled up afterwards). */
  days: number
}

/** Orders read at once from the CommerceStore while projecting. */
const READ_CONCURRENCY = 8

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

export class AnalyticsProjector {
  private readonly categories: CategorySlugs

  constructor(private readonly o: ProjectorOptions) {
    this.categories = new CategorySlugs(() => o.commerce.listCategories())
  }

  /** Writes a batch of events with the facts of the orders and refunds they name. */
  async project(batch: unknown): Promise<ProjectReport> {
    if (!Array.isArray(batch)) throw new PermanentJobError('project-events: the job data must be a list of events')
    const store = await this.o.analytics()
    const events: AnalyticsEvent[] = []
    let invalid = 0
    for (const candidate of batch) {
      try {
        checkBatch({ events: [candidate as AnalyticsEvent] }, store.currency)
        events.push(candidate as AnalyticsEvent)
      } catch (e) {
        if (!isEmporiumError(e) || e.code !== 'EMP_VALIDATION') throw e
        invalid++
      }
    }
    if (invalid > 0) this.o.log?.('warn', 'analytics events failed their checks and were skipped', { invalid })

    const paid = new Map<string, AnalyticsEvent>()
    const refunded = new Set<string>()
    for (const e of events) {
      if (e.type === 'order_paid' && e.orderId) paid.set(e.orderId, e)
      else if (e.type === 'refund' && e.orderId) refunded.add(e.orderId)
    }
    const orderIds = [...new Set([...paid.keys(), ...refunded])]
    const orders = new Map<string, Order>()
    let missingOrders = 0
    await mapLimit(orderIds, READ_CONCURRENCY, async (id) => {
      const order = await this.o.commerce.getOrder(id)
      if (order && order.currency === store.currency) orders.set(id, order)
      else missingOrders++
    })
    const refunds = new Map<string, Refund | null>()
    await mapLimit(
      [...refunded].filter((id) => orders.has(id)),
      READ_CONCURRENCY,
      async (id) => {
        refunds.set(id, await this.o.commerce.getRefundByOrderId(id))
      },
    )
    if (missingOrders > 0)
      this.o.log?.('warn', 'analytics events name orders the commerce store does not have', { missingOrders })

    const slug = await this.categories.resolver([...orders.values()].flatMap((o) => o.lines.map((l) => l.categoryId)))
    const orderLines: OrderLineFact[] = []
    const refundLines: RefundLineFact[] = []
    for (const [id, event] of paid) {
      const order = orders.get(id)
      if (order) orderLines.push(...orderLineFacts(order, slug, event.sessionId))
    }
    for (const id of refunded) {
      const order = orders.get(id)
      const back = order ? moneyBackOf(order, refunds.get(id) ?? null) : null
      if (order && back) refundLines.push(...refundLineFacts(order, back, slug))
    }
    await store.write({ events, orderLines, refundLines })
    return {
      events: events.length,
      orderLines: orderLines.length,
      refundLines: refundLines.length,
      invalid,
      missingOrders,
    }
  }

  /**
   * Projects every order in the CommerceStore (the seeded past orders, or orders from before analytics was on): the
   * order_paid, payment_failed and refund events and the facts, page by page; then rolls up the days it touched.
   */
  async backfill(options: { pageSize?: number; onPage?: (done: number, total: number) => void } = {}) {
    const store = await this.o.analytics()
    const pageSize = options.pageSize ?? 200
    const refunds = new Map<string, Refund>()
    for (let page = 1; ; page++) {
      const { items } = await this.o.commerce.listRefunds({ status: 'approved', page, limit: 500 })
      for (const r of items) refunds.set(r.orderId, r)
      if (items.length < 500) break
    }
    const report: BackfillReport = { orders: 0, events: 0, orderLines: 0, refundLines: 0, days: 0 }
    const days = new Set<string>()
    // Newest first: orders placed meanwhile push the pages down, so a page may come twice (harmless), never be skipped.
    for (let page = 1; ; page++) {
      const { items, total } = await this.o.commerce.listOrders({ page, limit: pageSize })
      const orders = items.filter((o) => o.currency === store.currency)
      const slug: CategorySlugOf = await this.categories.resolver(
        orders.flatMap((o) => o.lines.map((l) => l.categoryId)),
      )
      const events: AnalyticsEvent[] = []
      const orderLines: OrderLineFact[] = []
      const refundLines: RefundLineFact[] = []
      for (const order of orders) {
        const paid = orderPaidEvent(order)
        if (paid) {
          events.push(paid)
          orderLines.push(...orderLineFacts(order, slug))
          days.add(dayOf(Date.parse(paid.at)))
        }
        const failed = paymentFailedEvent(order)
        if (failed) events.push(failed)
        const back = moneyBackOf(order, refunds.get(order.id) ?? null)
        if (back && paid) {
          events.push(refundEvent(order, back))
          refundLines.push(...refundLineFacts(order, back, slug))
          days.add(dayOf(Date.parse(back.at)))
        }
      }
      if (events.length > 0) await store.write({ events, orderLines, refundLines })
      report.orders += orders.length
      report.events += events.length
      report.orderLines += orderLines.length
      report.refundLines += refundLines.length
      options.onPage?.(Math.min(page * pageSize, total), total)
      if (items.length < pageSize) break
    }
    for (const day of [...days].sort()) await store.rollup(day)
    report.days = days.size
    return report
  }

  /** Recomputes the rollups of today and yesterday (UTC), where late writes land. */
  async rollupRecent(now = Date.now()): Promise<string[]> {
    const store = await this.o.analytics()
    const days = [dayOf(now - DAY_MS), dayOf(now)]
    for (const day of days) await store.rollup(day)
    return days
  }

  /** The JobQueue handlers of the `analytics` queue. */
  handlers(): JobHandlers {
    return {
      [PROJECT_EVENTS_JOB]: async (job) => {
        await this.project(job.data)
      },
      [BACKFILL_JOB]: async () => {
        const r = await this.backfill()
        this.o.log?.('info', 'analytics backfill done', { ...r })
      },
      [ROLLUP_JOB]: async () => {
        await this.rollupRecent()
      },
    }
  }
}
