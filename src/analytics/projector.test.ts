// The projector on real embedded stores (SQLite commerce, in-memory DuckDB): events with their order and refund facts,
// replays that change nothing, events naming unknown orders, bad events, and the backfill of existing orders.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Order, Refund } from '../commerce/model.ts'
import type { CommerceStore } from '../commerce/store/commerce-store.ts'
import { openSqliteCommerceStore } from '../commerce/store/sqlite/sqlite-commerce-store.ts'
import { isPermanentJobError, type JobContext } from '../jobs/job-queue.ts'
import type { AnalyticsStore } from './analytics-store.ts'
import { openDuckDbAnalyticsStore } from './duckdb/duckdb-analytics-store.ts'
import type { AnalyticsEvent } from './events.ts'
import { moneyBackOf, orderPaidEvent, refundEvent } from './facts.ts'
import { AnalyticsProjector, PROJECT_EVENTS_JOB } from './projector.ts'

const at = (day: string, time = '12:00:00') => `${day}T${time}.000Z`

function order(id: string, day: string, lines: [number, number][], extra: Partial<Order> = {}): Order {
  const subtotal = lines.reduce((s, [price, qty]) => s + price * qty, 0)
  return {
    id,
    userId: `usr_${id}`,
    status: 'paid',
    idempotencyKey: `key-${id}`,
    lines: lines.map(([price, quantity], i) => ({
      sku: `${id}-sku${i}`,
      productId: `prd_${i}`,
      productSlug: `p${i}`,
      categoryId: i % 2 ? 'cat_b' : 'cat_a',
      name: 'P',
      variantName: 'V',
      quantity,
      unitPrice: price,
      lineTotal: price * quantity,
    })),
    currency: 'USD',
    subtotal,
    discount: 0,
    shipping: 599,
    tax: Math.round(subtotal * 0.08),
    total: subtotal + 599 + Math.round(subtotal * 0.08),
    couponCode: null,
    shippingAddress: { name: 'N', line1: 'L', city: 'C', postalCode: '12345', country: 'US' },
    payment: { chargeId: `ch_${id}`, status: 'succeeded', last4: '4242', brand: 'visa', amount: 0 },
    failureReason: null,
    history: [
      { from: null, to: 'pending', at: at(day, '11:59:59'), actor: 'u', reason: '' },
      { from: 'pending', to: 'paid', at: at(day), actor: 'u', reason: '' },
    ],
    channel: 'web',
    createdAt: at(day, '11:59:59'),
    updatedAt: at(day),
    ...extra,
  }
}

const view = (id: string): AnalyticsEvent => ({
  id,
  type: 'product_view',
  at: at('2026-03-01', '10:00:00'),
  sessionId: 's1',
  productId: 'prd_0',
  category: 'alpha',
  value: 1000,
  currency: 'USD',
  channel: 'web',
})

describe('AnalyticsProjector', () => {
  let commerce: CommerceStore
  let analytics: AnalyticsStore
  let projector: AnalyticsProjector
  const o1 = order('ord_1', '2026-03-01', [
    [1999, 2],
    [1001, 1],
  ])
  const o2 = order('ord_2', '2026-03-01', [[5000, 1]], { status: 'refunded' })
  const refund: Refund = {
    id: 'ref_2',
    orderId: 'ord_2',
    userId: 'usr_ord_2',
    amount: o2.total,
    currency: 'USD',
    reason: 'no',
    status: 'approved',
    createdAt: at('2026-03-02'),
    decidedAt: at('2026-03-03'),
    decidedBy: 'usr_staff',
    decisionNote: null,
  }
  const o3 = order('ord_3', '2026-03-02', [[700, 3]], {
    status: 'cancelled',
    payment: { chargeId: 'ch_3', status: 'refunded', last4: null, brand: null, amount: 0 },
  })
  o3.payment!.amount = o3.total
  o3.history.push({ from: 'paid', to: 'cancelled', at: at('2026-03-02', '13:00:00'), actor: 'staff', reason: '' })
  const failed = order('ord_4', '2026-03-02', [[900, 1]], {
    status: 'payment_failed',
    history: [
      { from: null, to: 'pending', at: at('2026-03-02', '09:00:00'), actor: 'u', reason: '' },
      { from: 'pending', to: 'payment_failed', at: at('2026-03-02', '09:00:01'), actor: 'u', reason: 'declined' },
    ],
  })
  const ALL = { from: '2026-03-01T00:00:00Z', to: '2026-03-05T00:00:00Z' }

  before(async () => {
    commerce = openSqliteCommerceStore(':memory:')
    await commerce.migrate()
    await commerce.upsertCategory({ id: 'cat_a', slug: 'alpha', name: 'A', description: '', position: 1 })
    await commerce.upsertCategory({ id: 'cat_b', slug: 'beta', name: 'B', description: '', position: 2 })
    for (const o of [o1, o2, o3, failed]) await commerce.createOrderIfAbsent(o)
    await commerce.createRefund(refund)
  })
  after(async () => {
    await commerce?.close()
  })

  const fresh = async () => {
    await analytics?.close()
    analytics = await openDuckDbAnalyticsStore({ path: ':memory:', currency: 'USD', threads: 1 })
    await analytics.migrate()
    projector = new AnalyticsProjector({ commerce, analytics: async () => analytics })
  }
  after(async () => {
    await analytics?.close()
  })

  const byDay = async () =>
    (
      await analytics.query({
        measures: ['revenue', 'gross_revenue', 'refunds', 'orders', 'units'],
        dimensions: ['day', 'category'],
        ...ALL,
      })
    ).rows

  it('writes the events, the order lines of paid orders and the refund lines of refunds', async () => {
    await fresh()
    const batch = [
      view('v1'),
      orderPaidEvent(o1, { sessionId: 's1', channel: 'web', customerId: 'usr_ord_1' })!,
      orderPaidEvent(o2)!,
      refundEvent(o2, moneyBackOf(o2, refund)!),
    ]
    const report = await projector.project(JSON.parse(JSON.stringify(batch)))
    assert.deepEqual(report, { events: 4, orderLines: 3, refundLines: 1, invalid: 0, missingOrders: 0 })
    const lines = await analytics.raw({
      statement: 'SELECT id, revenue, session_id, category FROM order_lines ORDER BY id',
    })
    const o1Revenue = lines.rows.filter((r) => String(r[0]).startsWith('ord_1:')).reduce((s, r) => s + Number(r[1]), 0)
    assert.equal(o1Revenue, o1.total, 'the lines add up to the order total')
    assert.deepEqual(
      lines.rows.map((r) => [r[0], r[2], r[3]]),
      [
        ['ord_1:1', 's1', 'alpha'],
        ['ord_1:2', 's1', 'beta'],
        ['ord_2:1', 'order:ord_2', 'alpha'],
      ],
    )
    const before = await byDay()
    // ord_1: subtotal 4,999 + tax 400 + shipping 599 = 5,998, split 3,998 : 1,001 → 4,797 + 1,201 (the cent left over
    // goes to the larger remainder, .960 against .040); ord_2: 5,000 + 400 + 599 = 5,999, refunded on 03-03.
    assert.equal(o1.total, 5998)
    assert.equal(o2.total, 5999)
    assert.deepEqual(before, [
      { day: '2026-03-01', category: 'alpha', revenue: 10796, gross_revenue: 10796, refunds: 0, orders: 2, units: 3 },
      { day: '2026-03-01', category: 'beta', revenue: 1201, gross_revenue: 1201, refunds: 0, orders: 1, units: 1 },
      { day: '2026-03-03', category: 'alpha', revenue: -5999, gross_revenue: 0, refunds: 5999, orders: 0, units: 0 },
    ])
    // Replaying the batch (twice) changes no answer and no table.
    await projector.project(JSON.parse(JSON.stringify(batch)))
    await projector.project(JSON.parse(JSON.stringify(batch)))
    assert.deepEqual(await byDay(), before)
    const counts = await analytics.raw({
      statement:
        'SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM order_lines), (SELECT count(*) FROM refund_lines)',
    })
    assert.deepEqual(counts.rows, [[4, 3, 1]])
  })

  it('skips events that fail the checks and facts of orders it cannot find, and says so', async () => {
    await fresh()
    const logged: [string, Record<string, unknown>][] = []
    projector = new AnalyticsProjector({
      commerce,
      analytics: async () => analytics,
      log: (_level, message, fields) => logged.push([message, fields]),
    })
    const ghost = { ...orderPaidEvent(o1)!, id: 'order_paid:ord_ghost', orderId: 'ord_ghost' }
    const report = await projector.project([view('v2'), { ...view('v3'), at: 'yesterday' }, { nonsense: true }, ghost])
    assert.deepEqual(report, { events: 2, orderLines: 0, refundLines: 0, invalid: 2, missingOrders: 1 })
    assert.deepEqual(
      logged.map(([m, f]) => [m, f]),
      [
        ['analytics events failed their checks and were skipped', { invalid: 2 }],
        ['analytics events name orders the commerce store does not have', { missingOrders: 1 }],
      ],
    )
  })

  it('a job whose data is not a list is dead-lettered at once', async () => {
    await fresh()
    const handler = projector.handlers()[PROJECT_EVENTS_JOB]!
    const job = { id: 'j', queue: 'analytics', name: PROJECT_EVENTS_JOB, data: { not: 'a list' }, attempt: 1 }
    await assert.rejects(
      handler({ ...job, signal: new AbortController().signal } as JobContext<unknown>),
      (e: unknown) => isPermanentJobError(e),
    )
  })

  it('backfills every order of the commerce store, and a second backfill changes nothing', async () => {
    await fresh()
    const report = await projector.backfill({ pageSize: 2 })
    assert.deepEqual(report, { orders: 4, events: 6, orderLines: 4, refundLines: 2, days: 3 })
    const totals = async () =>
      (await analytics.query({ measures: ['revenue', 'gross_revenue', 'refunds', 'orders', 'units'], ...ALL })).rows
    const expected = [
      {
        revenue: o1.total + o2.total + o3.total - o2.total - o3.total,
        gross_revenue: o1.total + o2.total + o3.total,
        refunds: o2.total + o3.total,
        orders: 3,
        units: 3 + 1 + 3,
      },
    ]
    assert.deepEqual(await totals(), expected)
    const types = await analytics.raw({ statement: 'SELECT type, count(*) FROM events GROUP BY type ORDER BY type' })
    assert.deepEqual(types.rows, [
      ['order_paid', 3],
      ['payment_failed', 1],
      ['refund', 2],
    ])
    await projector.backfill()
    assert.deepEqual(await totals(), expected)
    const refundDays = await analytics.query({ measures: ['refunds'], dimensions: ['day'], ...ALL })
    assert.deepEqual(refundDays.rows, [
      { day: '2026-03-02', refunds: o3.total },
      { day: '2026-03-03', refunds: o2.total },
    ])
  })
})
