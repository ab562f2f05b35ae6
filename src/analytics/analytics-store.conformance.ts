// The AnalyticsStore conformance suite: one battery every analytics adapter must pass, with shared deterministic
// fixtures and answers worked out by hand (to the cent), opt-outs recorded as data.
import assert from 'node:assert/strict'
import { after, afterEach, beforeEach, describe } from 'node:test'
import { EmporiumError } from '../core/errors.ts'
import { type Capabilities, conformanceAreas } from '../testing/conformance.ts'
import type { AnalyticsStore } from './analytics-store.ts'
import type { AnalyticsBatch, AnalyticsEvent, EventType, OrderLineFact, RefundLineFact } from './events.ts'
import type { AnalyticsQuery, AnalyticsRow } from './query.ts'

export interface AnalyticsStoreHarness {
  name: string
  /** A fresh, empty, migrated store in USD per call. */
  create: () => Promise<AnalyticsStore>
  /** Idempotent; drops what create made. */
  cleanup: (store: AnalyticsStore) => Promise<void>
  raw: {
    /** A statement in the adapter's dialect that returns the `id` of every order line. */
    orderLineIds: string
    /** The order-line table as the raw console names it (refused statements target it). */
    orderLineTable: string
    /**
     * A statement that runs well past `timeoutMs` on a fresh store after `setup` (the time-limit case); absent: that
     * case is skipped with a reason.
     */
    slow?: { statement: string; timeoutMs: number; setup?: (store: AnalyticsStore) => Promise<void> }
  }
  capabilities?: Capabilities
}

// Fixtures: four products, six paid orders over 2026-02-28 … 2026-04-01, three refunds (two on a later day than the
// payment, one across a month end), eleven sessions. Times sit on the day and range edges on purpose.

const PRODUCTS = {
  mug: { productId: 'mug', category: 'kitchen', price: 1200 },
  pan: { productId: 'pan', category: 'kitchen', price: 5400 },
  tee: { productId: 'tee', category: 'apparel', price: 1999 },
  cap: { productId: 'cap', category: 'apparel', price: 1500 },
} as const
type Product = keyof typeof PRODUCTS

interface SessionContext {
  customer: string | null
  country: string
  channel: string
  coupon?: string
}
const SESSIONS: Record<string, SessionContext> = {
  s1: { customer: 'c1', country: 'US', channel: 'web' },
  s2: { customer: 'c2', country: 'DE', channel: 'app', coupon: 'SPRING10' },
  s3: { customer: 'c1', country: 'US', channel: 'web' },
  s4: { customer: 'c3', country: 'FR', channel: 'web', coupon: 'SPRING10' },
  s5: { customer: 'c2', country: 'DE', channel: 'app' },
  s6: { customer: 'c3', country: 'FR', channel: 'web' },
  s7: { customer: null, country: 'US', channel: 'web' },
  s8: { customer: null, country: 'FR', channel: 'web' },
  s9: { customer: 'c5', country: 'DE', channel: 'app' },
  s10: { customer: null, country: 'US', channel: 'web' },
  s11: { customer: null, country: 'US', channel: 'web' },
}

let eventNo = 0
function event(
  type: EventType,
  at: string,
  session: string,
  extra: { product?: Product; quantity?: number; value?: number; order?: string } = {},
): AnalyticsEvent {
  const s = SESSIONS[session]!
  const p = extra.product ? PRODUCTS[extra.product] : undefined
  const paying = type === 'checkout_started' || type === 'order_paid'
  return {
    id: `evt-${String(++eventNo).padStart(2, '0')}`,
    type,
    at,
    sessionId: session,
    customerId: s.customer,
    productId: p?.productId ?? null,
    category: p?.category ?? null,
    quantity: extra.quantity ?? (p && type !== 'product_view' ? 1 : 0),
    value: extra.value ?? (p ? p.price * (extra.quantity ?? 1) : 0),
    currency: 'USD',
    orderId: extra.order ?? null,
    country: s.country,
    coupon: paying ? (s.coupon ?? null) : null,
    channel: s.channel,
  }
}

export const EVENTS: readonly AnalyticsEvent[] = [
  event('product_view', '2026-02-28T20:00:00.000Z', 's1', { product: 'mug' }),
  event('add_to_cart', '2026-02-28T20:05:00.000Z', 's1', { product: 'mug', quantity: 2 }),
  event('product_view', '2026-02-28T20:10:00.000Z', 's1', { product: 'tee' }),
  event('add_to_cart', '2026-02-28T20:11:00.000Z', 's1', { product: 'tee' }),
  event('checkout_started', '2026-02-28T23:50:00.000Z', 's1', { value: 4399 }),
  event('order_paid', '2026-02-28T23:59:59.999Z', 's1', { value: 4399, order: 'o1' }),
  event('product_view', '2026-02-28T23:40:00.000Z', 's2', { product: 'pan' }),
  event('add_to_cart', '2026-02-28T23:45:00.000Z', 's2', { product: 'pan' }),
  event('checkout_started', '2026-02-28T23:58:00.000Z', 's2', { value: 5400 }),
  event('order_paid', '2026-03-01T00:00:00.000Z', 's2', { value: 5400, order: 'o2' }),
  event('product_view', '2026-03-01T12:00:00.000Z', 's3', { product: 'tee' }),
  event('product_view', '2026-03-01T12:05:00.000Z', 's3', { product: 'cap' }),
  event('add_to_cart', '2026-03-01T12:10:00.000Z', 's3', { product: 'tee', quantity: 3 }),
  event('add_to_cart', '2026-03-01T12:12:00.000Z', 's3', { product: 'cap' }),
  event('checkout_started', '2026-03-01T12:20:00.000Z', 's3', { value: 7497 }),
  event('order_paid', '2026-03-01T12:30:00.000Z', 's3', { value: 7497, order: 'o3' }),
  event('search', '2026-03-01T14:59:00.000Z', 's7'),
  event('product_view', '2026-03-01T15:00:00.000Z', 's7', { product: 'mug' }),
  event('product_view', '2026-03-01T16:00:00.000Z', 's8', { product: 'pan' }),
  event('add_to_cart', '2026-03-01T16:01:00.000Z', 's8', { product: 'pan' }),
  event('remove_from_cart', '2026-03-01T16:03:00.000Z', 's8', { product: 'pan' }),
  event('product_view', '2026-03-01T18:00:00.000Z', 's9', { product: 'cap' }),
  event('add_to_cart', '2026-03-01T18:02:00.000Z', 's9', { product: 'cap' }),
  event('checkout_started', '2026-03-01T18:05:00.000Z', 's9', { value: 1500 }),
  event('payment_failed', '2026-03-01T18:06:00.000Z', 's9', { value: 1500, order: 'o9' }),
  event('product_view', '2026-03-02T09:00:00.000Z', 's4', { product: 'mug' }),
  event('add_to_cart', '2026-03-02T09:01:00.000Z', 's4', { product: 'mug' }),
  event('checkout_started', '2026-03-02T09:10:00.000Z', 's4', { value: 1200 }),
  event('order_paid', '2026-03-02T09:15:00.000Z', 's4', { value: 1200, order: 'o4' }),
  event('product_view', '2026-03-02T22:30:00.000Z', 's5', { product: 'cap' }),
  event('product_view', '2026-03-02T22:31:00.000Z', 's5', { product: 'pan' }),
  event('product_view', '2026-03-02T22:32:00.000Z', 's5', { product: 'mug' }),
  event('add_to_cart', '2026-03-02T22:40:00.000Z', 's5', { product: 'cap', quantity: 2 }),
  event('add_to_cart', '2026-03-02T22:41:00.000Z', 's5', { product: 'pan' }),
  event('add_to_cart', '2026-03-02T22:42:00.000Z', 's5', { product: 'mug' }),
  event('checkout_started', '2026-03-02T22:50:00.000Z', 's5', { value: 9600 }),
  event('order_paid', '2026-03-02T23:00:00.000Z', 's5', { value: 9600, order: 'o5' }),
  // s10 carts without a view; s11 checks out before it carts: neither completes the funnel in order
  event('add_to_cart', '2026-03-02T11:00:00.000Z', 's10', { product: 'tee' }),
  event('checkout_started', '2026-03-02T11:05:00.000Z', 's10', { value: 1999 }),
  event('checkout_started', '2026-03-02T12:00:00.000Z', 's11', { value: 1999 }),
  event('product_view', '2026-03-02T12:01:00.000Z', 's11', { product: 'tee' }),
  event('add_to_cart', '2026-03-02T12:02:00.000Z', 's11', { product: 'tee' }),
  event('product_view', '2026-04-01T09:50:00.000Z', 's6', { product: 'tee' }),
  event('add_to_cart', '2026-04-01T09:55:00.000Z', 's6', { product: 'tee' }),
  event('checkout_started', '2026-04-01T09:58:00.000Z', 's6', { value: 1999 }),
  event('order_paid', '2026-04-01T10:00:00.000Z', 's6', { value: 1999, order: 'o6' }),
  event('refund', '2026-03-02T10:00:00.000Z', 's3', { product: 'cap', value: 1500, order: 'o3' }),
  event('refund', '2026-03-03T08:00:00.000Z', 's5', { product: 'pan', value: 2700, order: 'o5' }),
  event('refund', '2026-03-01T00:00:00.000Z', 's1', { product: 'mug', value: 1200, order: 'o1' }),
]

interface OrderSpec {
  order: string
  session: string
  paidAt: string
  lines: [Product, number, number][]
}
const ORDERS: OrderSpec[] = [
  {
    order: 'o1',
    session: 's1',
    paidAt: '2026-02-28T23:59:59.999Z',
    lines: [
      ['mug', 2, 2400],
      ['tee', 1, 1999],
    ],
  },
  { order: 'o2', session: 's2', paidAt: '2026-03-01T00:00:00.000Z', lines: [['pan', 1, 5400]] },
  {
    order: 'o3',
    session: 's3',
    paidAt: '2026-03-01T12:30:00.000Z',
    lines: [
      ['tee', 3, 5997],
      ['cap', 1, 1500],
    ],
  },
  { order: 'o4', session: 's4', paidAt: '2026-03-02T09:15:00.000Z', lines: [['mug', 1, 1200]] },
  {
    order: 'o5',
    session: 's5',
    paidAt: '2026-03-02T23:00:00.000Z',
    lines: [
      ['cap', 2, 3000],
      ['pan', 1, 5400],
      ['mug', 1, 1200],
    ],
  },
  { order: 'o6', session: 's6', paidAt: '2026-04-01T10:00:00.000Z', lines: [['tee', 1, 1999]] },
]

function orderLines(spec: OrderSpec): OrderLineFact[] {
  const s = SESSIONS[spec.session]!
  return spec.lines.map(([product, quantity, revenue], i) => ({
    id: `${spec.order}:${i + 1}`,
    orderId: spec.order,
    customerId: s.customer!,
    sessionId: spec.session,
    productId: PRODUCTS[product].productId,
    category: PRODUCTS[product].category,
    quantity,
    revenue,
    currency: 'USD',
    country: s.country,
    coupon: s.coupon ?? null,
    channel: s.channel,
    paidAt: spec.paidAt,
  }))
}

export const ORDER_LINES: readonly OrderLineFact[] = ORDERS.flatMap(orderLines)

function refundLine(refund: string, order: string, product: Product, amount: number, at: string): RefundLineFact {
  const line = ORDER_LINES.find((l) => l.orderId === order && l.productId === product)!
  return {
    id: `${refund}:1`,
    refundId: refund,
    orderId: order,
    productId: line.productId,
    category: line.category,
    quantity: 1,
    amount,
    currency: 'USD',
    country: line.country ?? null,
    coupon: line.coupon ?? null,
    channel: line.channel ?? null,
    refundedAt: at,
  }
}

export const REFUND_LINES: readonly RefundLineFact[] = [
  refundLine('r1', 'o3', 'cap', 1500, '2026-03-02T10:00:00.000Z'),
  refundLine('r2', 'o5', 'pan', 2700, '2026-03-03T08:00:00.000Z'),
  refundLine('r3', 'o1', 'mug', 1200, '2026-03-01T00:00:00.000Z'),
]

export const FIXTURE: AnalyticsBatch = { events: EVENTS, orderLines: ORDER_LINES, refundLines: REFUND_LINES }

const ALL = { from: '2026-02-28T00:00:00.000Z', to: '2026-04-02T00:00:00.000Z' }
const MONEY = ['revenue', 'gross_revenue', 'refunds', 'orders', 'units'] as const
const EVERY_MEASURE = [
  'revenue',
  'gross_revenue',
  'refunds',
  'orders',
  'units',
  'average_order_value',
  'sessions',
  'conversion_rate',
  'refund_rate',
] as const

/** By day, every measure, over the whole fixture. */
const BY_DAY: AnalyticsRow[] = [
  {
    day: '2026-02-28',
    revenue: 4399,
    gross_revenue: 4399,
    refunds: 0,
    orders: 1,
    units: 3,
    average_order_value: 4399,
    sessions: 2,
    conversion_rate: 0.5,
    refund_rate: 0,
  },
  {
    day: '2026-03-01',
    revenue: 11697,
    gross_revenue: 12897,
    refunds: 1200,
    orders: 2,
    units: 5,
    average_order_value: 6449,
    sessions: 4,
    conversion_rate: 0.5,
    refund_rate: 1200 / 12897,
  },
  {
    day: '2026-03-02',
    revenue: 9300,
    gross_revenue: 10800,
    refunds: 1500,
    orders: 2,
    units: 5,
    average_order_value: 5400,
    sessions: 3,
    conversion_rate: 2 / 3,
    refund_rate: 1500 / 10800,
  },
  {
    day: '2026-03-03',
    revenue: -2700,
    gross_revenue: 0,
    refunds: 2700,
    orders: 0,
    units: 0,
    average_order_value: null,
    sessions: 0,
    conversion_rate: null,
    refund_rate: null,
  },
  {
    day: '2026-04-01',
    revenue: 1999,
    gross_revenue: 1999,
    refunds: 0,
    orders: 1,
    units: 1,
    average_order_value: 1999,
    sessions: 1,
    conversion_rate: 1,
    refund_rate: 0,
  },
]

const TOTALS: AnalyticsRow = {
  revenue: 24695,
  gross_revenue: 30095,
  refunds: 5400,
  orders: 6,
  units: 14,
  average_order_value: 5016,
  sessions: 10,
  conversion_rate: 0.6,
  refund_rate: 5400 / 30095,
}

const money = (key: string, value: string | null, r: number, g: number, f: number, o: number, u: number) => ({
  [key]: value,
  revenue: r,
  gross_revenue: g,
  refunds: f,
  orders: o,
  units: u,
})

const BY_CATEGORY = [
  money('category', 'apparel', 12995, 14495, 1500, 4, 8),
  money('category', 'kitchen', 11700, 15600, 3900, 4, 6),
]

const FUNNEL_MARCH_1_2 = [
  { step: 'product_view', sessions: 7, fromStart: 1, fromPrevious: 1 },
  { step: 'add_to_cart', sessions: 6, fromStart: 6 / 7, fromPrevious: 6 / 7 },
  { step: 'checkout_started', sessions: 4, fromStart: 4 / 7, fromPrevious: 4 / 6 },
  { step: 'order_paid', sessions: 3, fromStart: 3 / 7, fromPrevious: 3 / 4 },
]

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  check?: (e: EmporiumError) => void,
): Promise<EmporiumError> {
  let caught: EmporiumError | undefined
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof EmporiumError, `not an EmporiumError: ${String(error)}`)
    assert.equal(error.code, code, error.message)
    check?.(error)
    caught = error
    return true
  })
  return caught!
}

/** EMP_VALIDATION naming `field` with a reason, and (for queries) the machine code of the problem. */
async function rejectsValidation(promise: Promise<unknown>, field: string, problemCode?: string): Promise<void> {
  await rejectsWith(promise, 'EMP_VALIDATION', (e) => {
    assert.ok(e.fields?.[field], `no fields.${field} in ${JSON.stringify(e.fields)}`)
    if (problemCode) {
      const problems = e.details?.problems as { field: string; code: string }[] | undefined
      assert.ok(
        problems?.some((p) => p.field === field && p.code === problemCode),
        `no problem ${problemCode} on ${field}: ${JSON.stringify(problems)}`,
      )
    }
  })
}

export function describeAnalyticsStoreConformance(h: AnalyticsStoreHarness): void {
  const { area, describeCapabilityCheck } = conformanceAreas(h.capabilities)

  describe(`AnalyticsStore › ${h.name}`, () => {
    // Read-only areas share one store holding the fixture.
    let shared: Promise<AnalyticsStore> | undefined
    const fixture = (): Promise<AnalyticsStore> => {
      shared ??= (async () => {
        const store = await h.create()
        await store.write(FIXTURE)
        return store
      })()
      return shared
    }
    after(async () => {
      if (shared) await h.cleanup(await shared)
    })

    const freshStore = () => {
      const state: { store: AnalyticsStore } = { store: undefined as unknown as AnalyticsStore }
      beforeEach(async () => {
        state.store = await h.create()
      })
      afterEach(async () => {
        if (state.store) await h.cleanup(state.store)
      })
      return state
    }

    const rows = async (q: Partial<AnalyticsQuery>, store?: AnalyticsStore): Promise<AnalyticsRow[]> => {
      const s = store ?? (await fixture())
      const result = await s.query({ measures: [...MONEY], ...ALL, ...q } as AnalyticsQuery)
      assert.equal(result.currency, 'USD')
      return result.rows
    }

    area('lifecycle', (test) => {
      const s = freshStore()
      test('kind names the adapter and currency is the store’s', async () => {
        assert.ok(s.store.kind.length > 0)
        assert.equal(s.store.currency, 'USD')
      })
      test('ping resolves', async () => {
        await s.store.ping()
      })
      test('migrate twice is safe and keeps data', async () => {
        await s.store.write({ orderLines: ORDER_LINES.slice(0, 2) })
        await s.store.migrate()
        await s.store.migrate()
        assert.deepEqual(await rows({ measures: ['gross_revenue', 'orders'] }, s.store), [
          { gross_revenue: 4399, orders: 1 },
        ])
      })
      test('an empty store answers with no rows', async () => {
        assert.deepEqual(await rows({ measures: [...EVERY_MEASURE], dimensions: ['day'] }, s.store), [])
        assert.deepEqual(await rows({ measures: [...EVERY_MEASURE] }, s.store), [])
        assert.deepEqual(
          (await s.store.funnel(ALL)).steps.map((x) => x.sessions),
          [0, 0, 0, 0],
        )
        assert.deepEqual(await s.store.cohorts({ from: '2026-02-01T00:00:00Z', to: '2026-05-01T00:00:00Z' }), {
          cohorts: [],
        })
      })
    })

    area('write', (test) => {
      const s = freshStore()
      test('write counts the records of the batch', async () => {
        assert.deepEqual(await s.store.write(FIXTURE), { events: 49, orderLines: 10, refundLines: 3 })
      })
      test('a bad record fails the whole batch with its field, and nothing is written', async () => {
        const bad = { ...EVENTS[1]!, type: 'teleport' as EventType }
        await rejectsValidation(
          s.store.write({ events: [EVENTS[0]!, bad], orderLines: ORDER_LINES, refundLines: REFUND_LINES }),
          'events[1].type',
        )
        await rejectsValidation(
          s.store.write({ orderLines: [{ ...ORDER_LINES[0]!, revenue: 12.5 }] }),
          'orderLines[0].revenue',
        )
        await rejectsValidation(
          s.store.write({ refundLines: [{ ...REFUND_LINES[0]!, refundedAt: 'yesterday' }] }),
          'refundLines[0].refundedAt',
        )
        assert.deepEqual(await rows({ measures: [...EVERY_MEASURE] }, s.store), [])
      })
      test('a record in another currency is refused', async () => {
        await rejectsValidation(
          s.store.write({ orderLines: [{ ...ORDER_LINES[0]!, currency: 'EUR' }] }),
          'orderLines[0].currency',
        )
        await rejectsValidation(s.store.write({ events: [{ ...EVENTS[0]!, currency: 'usd' }] }), 'events[0].currency')
      })
      test('replaying every record twice, in other batches and orders, changes nothing', async () => {
        await s.store.write(FIXTURE)
        await s.store.write({ events: [...EVENTS].reverse().slice(0, 20) })
        await s.store.write({ events: EVENTS.slice(0, 30), orderLines: [...ORDER_LINES, ...ORDER_LINES] })
        await s.store.write({ events: [...EVENTS, ...EVENTS], refundLines: [...REFUND_LINES].reverse() })
        assert.deepEqual(await rows({ measures: [...EVERY_MEASURE], dimensions: ['day'] }, s.store), BY_DAY)
        assert.deepEqual(await rows({ measures: [...EVERY_MEASURE] }, s.store), [TOTALS])
        assert.deepEqual(
          (await s.store.funnel(ALL)).steps.map((x) => x.sessions),
          [10, 9, 7, 6],
        )
      })
    })

    area('query › measures and dimensions', (test) => {
      test('by day: every measure, to the cent, refunds on their own day', async () => {
        assert.deepEqual(await rows({ measures: [...EVERY_MEASURE], dimensions: ['day'] }), BY_DAY)
      })
      test('totals without dimensions', async () => {
        assert.deepEqual(await rows({ measures: [...EVERY_MEASURE] }), [TOTALS])
      })
      test('by ISO week (Monday start)', async () => {
        assert.deepEqual(await rows({ dimensions: ['week'] }), [
          money('week', '2026-02-23', 16096, 17296, 1200, 3, 8),
          money('week', '2026-03-02', 6600, 10800, 4200, 2, 5),
          money('week', '2026-03-30', 1999, 1999, 0, 1, 1),
        ])
      })
      test('by month: a refund across the month end counts in the month it was made', async () => {
        assert.deepEqual(await rows({ dimensions: ['month'] }), [
          money('month', '2026-02', 4399, 4399, 0, 1, 3),
          money('month', '2026-03', 18297, 23697, 5400, 4, 10),
          money('month', '2026-04', 1999, 1999, 0, 1, 1),
        ])
      })
      test('by product, sorted by revenue descending', async () => {
        assert.deepEqual(await rows({ dimensions: ['product'], sort: [{ by: 'revenue', direction: 'desc' }] }), [
          money('product', 'tee', 9995, 9995, 0, 3, 5),
          money('product', 'pan', 8100, 10800, 2700, 2, 2),
          money('product', 'mug', 3600, 4800, 1200, 3, 4),
          money('product', 'cap', 3000, 4500, 1500, 2, 3),
        ])
      })
      test('by category: orders are distinct per group (an order in both counts in both)', async () => {
        assert.deepEqual(await rows({ dimensions: ['category'] }), BY_CATEGORY)
      })
      test('by country', async () => {
        assert.deepEqual(await rows({ dimensions: ['country'] }), [
          money('country', 'DE', 12300, 15000, 2700, 2, 5),
          money('country', 'FR', 3199, 3199, 0, 2, 2),
          money('country', 'US', 9196, 11896, 2700, 2, 7),
        ])
      })
      test('by coupon: orders without one are the null group, last', async () => {
        assert.deepEqual(await rows({ dimensions: ['coupon'] }), [
          money('coupon', 'SPRING10', 6600, 6600, 0, 2, 2),
          money('coupon', null, 18095, 23495, 5400, 4, 12),
        ])
      })
      test('by channel, with sessions and conversion', async () => {
        assert.deepEqual(
          await rows({ measures: ['gross_revenue', 'orders', 'sessions', 'conversion_rate'], dimensions: ['channel'] }),
          [
            { channel: 'app', gross_revenue: 15000, orders: 2, sessions: 3, conversion_rate: 2 / 3 },
            { channel: 'web', gross_revenue: 15095, orders: 4, sessions: 7, conversion_rate: 4 / 7 },
          ],
        )
      })
      test('two dimensions: channel × month', async () => {
        assert.deepEqual(await rows({ measures: ['revenue', 'orders'], dimensions: ['channel', 'month'] }), [
          { channel: 'app', month: '2026-03', revenue: 12300, orders: 2 },
          { channel: 'web', month: '2026-02', revenue: 4399, orders: 1 },
          { channel: 'web', month: '2026-03', revenue: 5997, orders: 2 },
          { channel: 'web', month: '2026-04', revenue: 1999, orders: 1 },
        ])
      })
      test('a group is a row only when a requested measure has data there', async () => {
        assert.deepEqual(
          (await rows({ measures: ['orders'], dimensions: ['day'] })).map((r) => r.day),
          ['2026-02-28', '2026-03-01', '2026-03-02', '2026-04-01'],
        )
        assert.deepEqual(await rows({ measures: ['refunds'], dimensions: ['day'] }), [
          { day: '2026-03-01', refunds: 1200 },
          { day: '2026-03-02', refunds: 1500 },
          { day: '2026-03-03', refunds: 2700 },
        ])
        assert.deepEqual(await rows({ measures: ['sessions'], dimensions: ['day'] }), [
          { day: '2026-02-28', sessions: 2 },
          { day: '2026-03-01', sessions: 4 },
          { day: '2026-03-02', sessions: 3 },
          { day: '2026-04-01', sessions: 1 },
        ])
      })
    })

    area('query › filters', (test) => {
      test('in-list on country, by day', async () => {
        assert.deepEqual(
          await rows({ measures: ['revenue'], dimensions: ['day'], filters: { country: ['US', 'DE'] } }),
          [
            { day: '2026-02-28', revenue: 4399 },
            { day: '2026-03-01', revenue: 11697 },
            { day: '2026-03-02', revenue: 8100 },
            { day: '2026-03-03', revenue: -2700 },
          ],
        )
      })
      test('equality on product, by country', async () => {
        assert.deepEqual(
          await rows({
            measures: ['gross_revenue', 'orders', 'refunds'],
            dimensions: ['country'],
            filters: { product: 'mug' },
          }),
          [
            { country: 'DE', gross_revenue: 1200, orders: 1, refunds: 0 },
            { country: 'FR', gross_revenue: 1200, orders: 1, refunds: 0 },
            { country: 'US', gross_revenue: 2400, orders: 1, refunds: 1200 },
          ],
        )
      })
      test('null matches the records without a value', async () => {
        assert.deepEqual(await rows({ measures: ['gross_revenue', 'orders'], filters: { coupon: [null] } }), [
          { gross_revenue: 23495, orders: 4 },
        ])
        assert.deepEqual(
          await rows({ measures: ['gross_revenue', 'orders'], filters: { coupon: ['SPRING10', null] } }),
          [{ gross_revenue: 30095, orders: 6 }],
        )
      })
      test('an in-list on a field that is not a dimension counts each order once', async () => {
        assert.deepEqual(
          await rows({ measures: ['gross_revenue', 'orders', 'units'], filters: { product: ['mug', 'tee'] } }),
          [{ gross_revenue: 14795, orders: 5, units: 9 }],
        )
        assert.deepEqual(await rows({ measures: ['orders'], filters: { category: ['kitchen', 'apparel'] } }), [
          { orders: 6 },
        ])
      })
      test('filters on day, week and month', async () => {
        assert.deepEqual(await rows({ measures: ['revenue'], filters: { day: '2026-03-02' } }), [{ revenue: 9300 }])
        assert.deepEqual(await rows({ measures: ['revenue'], filters: { week: '2026-03-02' } }), [{ revenue: 6600 }])
        assert.deepEqual(await rows({ measures: ['orders'], dimensions: ['day'], filters: { month: '2026-03' } }), [
          { day: '2026-03-01', orders: 2 },
          { day: '2026-03-02', orders: 2 },
        ])
      })
      test('filters that match nothing give no rows', async () => {
        assert.deepEqual(await rows({ dimensions: ['day'], filters: { country: 'JP' } }), [])
      })
    })

    area('query › time range', (test) => {
      test('from is inclusive and to exclusive, at UTC midnight', async () => {
        assert.deepEqual(
          await rows({
            measures: ['gross_revenue', 'refunds', 'orders'],
            dimensions: ['day'],
            from: '2026-03-01T00:00:00.000Z',
            to: '2026-03-02T00:00:00.000Z',
          }),
          [{ day: '2026-03-01', gross_revenue: 12897, refunds: 1200, orders: 2 }],
        )
        assert.deepEqual(
          await rows({
            measures: ['revenue', 'orders'],
            dimensions: ['day'],
            from: '2026-02-28T00:00:00.000Z',
            to: '2026-03-01T00:00:00.000Z',
          }),
          [{ day: '2026-02-28', revenue: 4399, orders: 1 }],
        )
      })
      test('a range inside one day cuts at the millisecond', async () => {
        assert.deepEqual(
          await rows({
            measures: ['revenue', 'gross_revenue', 'refunds', 'orders'],
            from: '2026-03-02T09:15:00.000Z',
            to: '2026-03-02T23:00:00.000Z',
          }),
          [{ revenue: -300, gross_revenue: 1200, refunds: 1500, orders: 1 }],
        )
      })
      test('an offset in from and to is honoured', async () => {
        assert.deepEqual(
          await rows({ measures: ['orders'], from: '2026-03-01T01:00:00+01:00', to: '2026-03-02T10:15:00.001+01:00' }),
          [{ orders: 3 }],
        )
      })
      test('refunds count on the day they were made, not the day of payment', async () => {
        assert.deepEqual(
          await rows({
            measures: ['gross_revenue', 'refunds', 'revenue'],
            dimensions: ['day'],
            filters: { country: 'US' },
          }),
          [
            { day: '2026-02-28', gross_revenue: 4399, refunds: 0, revenue: 4399 },
            { day: '2026-03-01', gross_revenue: 7497, refunds: 1200, revenue: 6297 },
            { day: '2026-03-02', gross_revenue: 0, refunds: 1500, revenue: -1500 },
          ],
        )
      })
      test('a range with no data gives no rows', async () => {
        assert.deepEqual(
          await rows({ dimensions: ['day'], from: '2025-01-01T00:00:00Z', to: '2025-02-01T00:00:00Z' }),
          [],
        )
      })
    })

    area('query › sort and limit', (test) => {
      test('by a measure ascending and descending, nulls last both ways', async () => {
        const q = { measures: ['average_order_value', 'revenue'] as const, dimensions: ['day'] as const }
        const asc = await rows({
          ...q,
          measures: [...q.measures],
          dimensions: [...q.dimensions],
          sort: [{ by: 'average_order_value' }],
        })
        assert.deepEqual(
          asc.map((r) => [r.day, r.average_order_value]),
          [
            ['2026-04-01', 1999],
            ['2026-02-28', 4399],
            ['2026-03-02', 5400],
            ['2026-03-01', 6449],
            ['2026-03-03', null],
          ],
        )
        const desc = await rows({
          measures: [...q.measures],
          dimensions: [...q.dimensions],
          sort: [{ by: 'average_order_value', direction: 'desc' }],
        })
        assert.deepEqual(
          desc.map((r) => r.day),
          ['2026-03-01', '2026-03-02', '2026-02-28', '2026-04-01', '2026-03-03'],
        )
      })
      test('ties are broken by the dimensions ascending', async () => {
        const sorted = await rows({
          measures: ['orders'],
          dimensions: ['day'],
          sort: [{ by: 'orders', direction: 'desc' }],
        })
        assert.deepEqual(
          sorted.map((r) => r.day),
          ['2026-03-01', '2026-03-02', '2026-02-28', '2026-04-01'],
        )
      })
      test('by a dimension descending', async () => {
        const sorted = await rows({
          measures: ['orders'],
          dimensions: ['day'],
          sort: [{ by: 'day', direction: 'desc' }],
        })
        assert.deepEqual(
          sorted.map((r) => r.day),
          ['2026-04-01', '2026-03-02', '2026-03-01', '2026-02-28'],
        )
      })
      test('limit keeps the first rows of the order', async () => {
        assert.deepEqual(
          await rows({
            measures: ['revenue'],
            dimensions: ['product'],
            sort: [{ by: 'revenue', direction: 'desc' }],
            limit: 2,
          }),
          [
            { product: 'tee', revenue: 9995 },
            { product: 'pan', revenue: 8100 },
          ],
        )
        assert.equal((await rows({ dimensions: ['day'], limit: 1 })).length, 1)
      })
    })

    area('query › validation', (test) => {
      const q = (extra: Record<string, unknown>) =>
        fixture().then((s) => s.query({ measures: ['revenue'], ...ALL, ...extra } as unknown as AnalyticsQuery))
      test('unknown measure, dimension and filter field', async () => {
        await rejectsValidation(q({ measures: ['revenue', 'profit'] }), 'measures[1]', 'unknown_measure')
        await rejectsValidation(q({ measures: [] }), 'measures', 'required')
        await rejectsValidation(q({ dimensions: ['hour'] }), 'dimensions[0]', 'unknown_dimension')
        await rejectsValidation(q({ filters: { colour: 'red' } }), 'filters.colour', 'unknown_filter_field')
        await rejectsValidation(q({ filters: { week: '2026-03-03' } }), 'filters.week', 'bad_filter_value')
        await rejectsValidation(q({ filters: { country: [] } }), 'filters.country', 'bad_filter_value')
        await rejectsValidation(q({ filters: { country: 5 } }), 'filters.country', 'bad_filter_value')
      })
      test('bad time range', async () => {
        await rejectsValidation(q({ from: '2026-03-02T00:00:00Z', to: '2026-03-02T00:00:00Z' }), 'to', 'bad_range')
        await rejectsValidation(q({ from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }), 'to', 'bad_range')
        await rejectsValidation(q({ from: '2026-03-02' }), 'from', 'bad_time')
        await rejectsValidation(q({ to: undefined }), 'to', 'required')
        await rejectsValidation(q({ from: '2024-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }), 'to', 'range_too_long')
      })
      test('limit bounds and sort fields', async () => {
        await rejectsValidation(q({ limit: 0 }), 'limit', 'bad_limit')
        await rejectsValidation(q({ limit: 10_001 }), 'limit', 'bad_limit')
        await rejectsValidation(q({ limit: 1.5 }), 'limit', 'bad_limit')
        await rejectsValidation(q({ sort: [{ by: 'orders' }] }), 'sort[0].by', 'bad_sort')
        await rejectsValidation(q({ sort: [{ by: 'revenue', direction: 'up' }] }), 'sort[0].direction', 'bad_sort')
      })
      test('every problem is reported at once', async () => {
        await rejectsWith(q({ measures: ['profit'], dimensions: ['hour'], limit: -1 }), 'EMP_VALIDATION', (e) => {
          assert.deepEqual(Object.keys(e.fields ?? {}).sort(), ['dimensions[0]', 'limit', 'measures[0]'])
        })
      })
    })

    area('rollups', (test) => {
      const s = freshStore()
      const days = ['2026-02-28', '2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-04-01']
      test('rolled-up days answer exactly as the facts', async () => {
        await s.store.write(FIXTURE)
        for (const day of days) await s.store.rollup(day)
        for (const day of days) await s.store.rollup(day)
        assert.deepEqual(await rows({ measures: [...EVERY_MEASURE], dimensions: ['day'] }, s.store), BY_DAY)
        assert.deepEqual(await rows({ measures: [...EVERY_MEASURE] }, s.store), [TOTALS])
        assert.deepEqual(await rows({ dimensions: ['category'] }, s.store), BY_CATEGORY)
        assert.deepEqual(await rows({ dimensions: ['week'], filters: { channel: 'web' } }, s.store), [
          money('week', '2026-02-23', 10696, 11896, 1200, 2, 7),
          money('week', '2026-03-02', -300, 1200, 1500, 1, 1),
          money('week', '2026-03-30', 1999, 1999, 0, 1, 1),
        ])
        assert.deepEqual(
          await rows({ measures: ['gross_revenue', 'orders', 'units'], filters: { product: ['mug', 'tee'] } }, s.store),
          [{ gross_revenue: 14795, orders: 5, units: 9 }],
        )
      })
      test('a write after a rollup is never hidden by it', async () => {
        await s.store.write(FIXTURE)
        for (const day of days) await s.store.rollup(day)
        const late: OrderLineFact = { ...ORDER_LINES[0]!, id: 'o7:1', orderId: 'o7', paidAt: '2026-03-02T12:00:00Z' }
        await s.store.write({ orderLines: [late] })
        const expectMarch2 = async () =>
          assert.deepEqual(
            await rows(
              { measures: ['gross_revenue', 'orders'], dimensions: ['day'], filters: { day: '2026-03-02' } },
              s.store,
            ),
            [{ day: '2026-03-02', gross_revenue: 13200, orders: 3 }],
          )
        await expectMarch2()
        await s.store.rollup('2026-03-02')
        await expectMarch2()
      })
      test('a day that is not YYYY-MM-DD is refused', async () => {
        await rejectsValidation(s.store.rollup('2026-13-01'), 'day')
      })
    })

    area('funnel', (test) => {
      test('distinct sessions that reach each step in order', async () => {
        const store = await fixture()
        assert.deepEqual(
          (await store.funnel({ from: '2026-03-01T00:00:00Z', to: '2026-03-03T00:00:00Z' })).steps,
          FUNNEL_MARCH_1_2,
        )
        assert.deepEqual(
          (await store.funnel(ALL)).steps.map((x) => x.sessions),
          [10, 9, 7, 6],
        )
      })
      test('filtered by country and channel', async () => {
        const store = await fixture()
        const range = { from: '2026-03-01T00:00:00Z', to: '2026-03-03T00:00:00Z' }
        assert.deepEqual(
          (await store.funnel({ ...range, filters: { country: 'DE' } })).steps.map((x) => x.sessions),
          [2, 2, 2, 1],
        )
        assert.deepEqual(
          (await store.funnel({ ...ALL, filters: { channel: ['web'] } })).steps.map((x) => x.sessions),
          [7, 6, 4, 4],
        )
      })
      test('a filter on a field the later steps lack, or a bad range, is refused', async () => {
        const store = await fixture()
        await rejectsValidation(
          store.funnel({ ...ALL, filters: { product: 'mug' } } as never),
          'filters.product',
          'unknown_filter_field',
        )
        await rejectsValidation(store.funnel({ from: ALL.to, to: ALL.from }), 'to', 'bad_range')
      })
    })

    area('cohorts', (test) => {
      test('retention by month of first order', async () => {
        const store = await fixture()
        assert.deepEqual(await store.cohorts({ from: '2026-02-01T00:00:00Z', to: '2026-05-01T00:00:00Z' }), {
          cohorts: [
            { cohort: '2026-02', customers: 1, active: [1, 1, 0], retention: [1, 1, 0] },
            { cohort: '2026-03', customers: 2, active: [2, 1], retention: [1, 0.5] },
          ],
        })
      })
      test('a customer whose first order is before the range is in no cohort of it', async () => {
        const store = await fixture()
        assert.deepEqual(await store.cohorts({ from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' }), {
          cohorts: [{ cohort: '2026-03', customers: 2, active: [2], retention: [1] }],
        })
      })
      test('bounds must be month starts', async () => {
        const store = await fixture()
        await rejectsValidation(store.cohorts({ from: '2026-02-02T00:00:00Z', to: '2026-05-01T00:00:00Z' }), 'from')
        await rejectsValidation(store.cohorts({ from: '2026-05-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }), 'to')
      })
    })

    area<{ skip?: string }>(
      'raw console',
      (test) => {
        const t = h.raw.orderLineTable
        test('a read returns columns and rows', async () => {
          const store = await fixture()
          const result = await store.raw({ statement: h.raw.orderLineIds })
          assert.deepEqual(result.columns, ['id'])
          assert.deepEqual(result.rows.map((r) => r[0]).sort(), ORDER_LINES.map((l) => l.id).sort())
          assert.equal(result.truncated, false)
        })
        test('the row limit truncates and says so', async () => {
          const store = await fixture()
          const result = await store.raw({ statement: h.raw.orderLineIds, maxRows: 3 })
          assert.equal(result.rows.length, 3)
          assert.equal(result.truncated, true)
        })
        test('anything but one read-only statement is refused, and nothing changes', async () => {
          const store = await fixture()
          const refused = [
            `INSERT INTO ${t} (id) VALUES ('x')`,
            `UPDATE ${t} SET revenue = 0 WHERE id = 'o1:1'`,
            `DELETE FROM ${t} WHERE id = 'o1:1'`,
            `DROP TABLE ${t}`,
            `TRUNCATE ${t}`,
            `ALTER TABLE ${t} ADD extra int`,
            `CREATE TABLE sneaky (id int PRIMARY KEY)`,
            `GRANT SELECT ON ${t} TO someone`,
            `${h.raw.orderLineIds}; DROP TABLE ${t}`,
            `${h.raw.orderLineIds} /* a comment */ ; DELETE FROM ${t} WHERE id = 'o1:1'`,
            `${h.raw.orderLineIds} -- a comment\n; DELETE FROM ${t} WHERE id = 'o1:1'`,
            `/* SELECT */ DELETE FROM ${t} WHERE id = 'o1:1'`,
            `${h.raw.orderLineIds} /* unterminated ; DROP TABLE ${t}`,
            `${h.raw.orderLineIds}; ${h.raw.orderLineIds}`,
          ]
          for (const statement of refused) {
            await rejectsWith(store.raw({ statement }), 'EMP_QUERY_REFUSED', (e) => {
              assert.ok(e.details?.refusal, `no details.refusal for ${statement}`)
              assert.ok(e.fields?.statement)
            })
          }
          assert.deepEqual(await rows({ measures: [...EVERY_MEASURE] }), [TOTALS])
          assert.equal((await store.raw({ statement: h.raw.orderLineIds })).rows.length, ORDER_LINES.length)
        })
        test('limits and statement are validated', async () => {
          const store = await fixture()
          await rejectsValidation(store.raw({ statement: '  ' }), 'statement', 'required')
          await rejectsValidation(store.raw({ statement: h.raw.orderLineIds, maxRows: 0 }), 'maxRows', 'bad_limit')
          await rejectsValidation(store.raw({ statement: h.raw.orderLineIds, maxRows: 10_001 }), 'maxRows', 'bad_limit')
          await rejectsValidation(store.raw({ statement: h.raw.orderLineIds, timeoutMs: 0 }), 'timeoutMs', 'bad_limit')
        })
        test(
          'a statement past the time limit is stopped, and the store still answers',
          async () => {
            const slow = h.raw.slow!
            const store = await h.create()
            try {
              await slow.setup?.(store)
              const started = Date.now()
              await rejectsWith(
                store.raw({ statement: slow.statement, timeoutMs: slow.timeoutMs }),
                'EMP_QUERY_TIMEOUT',
              )
              const elapsed = Date.now() - started
              assert.ok(elapsed < slow.timeoutMs + 5000, `stopped after ${elapsed} ms`)
              await store.write({ orderLines: ORDER_LINES.slice(0, 2) })
              assert.deepEqual(await rows({ measures: ['gross_revenue'] }, store), [{ gross_revenue: 4399 }])
            } finally {
              await h.cleanup(store)
            }
          },
          h.raw.slow ? undefined : { skip: 'the harness names no statement that runs long on this engine' },
        )
      },
      (opts) => opts?.skip,
    )

    describeCapabilityCheck()
  })
}
