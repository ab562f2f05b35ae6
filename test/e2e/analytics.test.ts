// Analytics end to end on the embedded shop (SQLite + in-process queue + DuckDB): a burst of real checkouts through
// the API (several customers, coupons, two countries, a declined card), a refund approved by staff and a paid order
// cancelled by staff; then revenue, gross revenue, refunds, orders and units by day from POST /analytics/query equal
// the CommerceStore's paid orders and refunds to the cent (the 90 seeded days included), replaying every event twice
// changes nothing, only analysts and admins get in, and the raw console refuses anything but one read.
import assert from 'node:assert/strict'
import { after, before, describe, it, type TestContext } from 'node:test'
import type { AnalyticsEvent } from '../../src/analytics/events.ts'
import { ANALYTICS_QUEUE, BACKFILL_JOB, PROJECT_EVENTS_JOB } from '../../src/analytics/projector.ts'
import { drainQueue, type Runtime } from '../../src/runtime.ts'
import { allOrders, expectedRows, storeFigures } from '../support/analytics-figures.ts'
import type { ApiClient, ApiResponse } from '../support/http-client.ts'
import { startTestShop, type TestShop } from '../support/test-shop.ts'

const DAY = 86_400_000

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

const sumOf = (rows: any[], key: string) =>
  rows.reduce((s, r) => s + (typeof r[key] === 'object' ? r[key].amount : r[key]), 0)

function expectError(r: ApiResponse, status: number, code: string, context = ''): void {
  const seen = `${context} → ${r.status} ${JSON.stringify(r.body)}`
  assert.equal(r.status, status, seen)
  assert.equal(r.body?.error?.code, code, seen)
  assert.equal(typeof r.body?.error?.message, 'string', seen)
}

describe('analytics (embedded shop)', () => {
  let shop: TestShop
  let rt: Runtime
  let admin: ApiClient
  const now = Date.now()
  const range = { from: `${isoDay(now - 100 * DAY)}T00:00:00Z`, to: `${isoDay(now + DAY)}T00:00:00Z` }
  const today = { from: `${isoDay(now)}T00:00:00Z`, to: `${isoDay(now + DAY)}T00:00:00Z` }
  const placed: { order: any; client: ApiClient; country: string; coupon: string | null }[] = []
  let declinedOrderId = ''

  /** Until every event emitted so far is projected: emitter empty, analytics queue idle, nothing new meanwhile. */
  const settle = async () => {
    for (let stable = 0, seen = -1; stable < 2; ) {
      await rt.emitter.flush()
      assert.ok(await drainQueue(rt.jobs, ANALYTICS_QUEUE, 20_000), 'the analytics queue drains')
      const { emitted, buffered } = rt.emitter.stats()
      stable = emitted === seen && buffered === 0 ? stable + 1 : 0
      seen = emitted
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  const query = (client: ApiClient, body: Record<string, unknown>) => client.post('/analytics/query', body)
  const byDay = async (extra: Record<string, unknown> = {}) => {
    const r = await query(admin, {
      measures: ['revenue', 'gross_revenue', 'refunds', 'orders', 'units'],
      dimensions: ['day'],
      ...range,
      ...extra,
    })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    return r.body.rows as any[]
  }
  const raw = async (statement: string) => {
    const r = await admin.post('/analytics/raw', { query: statement, maxRows: 10_000 })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    return r.body as { columns: string[]; rows: any[][]; truncated: boolean }
  }
  const tableCounts = async () =>
    (
      await raw(
        'SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM order_lines) AS order_lines, (SELECT count(*) FROM refund_lines) AS refund_lines',
      )
    ).rows[0]!

  const setRole = async (client: ApiClient, role: string) => {
    const me = (await client.get('/me')).body
    const r = await admin.put(`/admin/users/${me.id}/role`, { role })
    assert.equal(r.status, 200, JSON.stringify(r.body))
  }

  before(async () => {
    shop = await startTestShop()
    rt = shop.started.rt
    admin = await shop.admin()
  })
  after(async () => {
    await shop?.stop()
  })

  it('a burst of checkouts, a refund and a cancellation: by day, analytics equals the paid orders to the cent', async (t: TestContext) => {
    // Twelve in-stock variants of $20 or more, two per shopper: never out of stock, always above coupon minimums.
    const found = await admin.get('/products?inStock=true&minPrice=2000&limit=40&sort=price_asc')
    const variants = (found.body.items as any[])
      .flatMap((p) => p.variants.filter((v: any) => v.available >= 20).map((v: any) => ({ ...v, slug: p.slug })))
      .slice(0, 12)
    assert.equal(variants.length, 12, 'the demo catalog has in-stock variants')
    const shoppers = [
      { country: 'US', coupon: 'WELCOME10' },
      { country: 'DE', coupon: 'SAVE5' },
      { country: 'US', coupon: null },
      { country: 'DE', coupon: 'WELCOME10' },
      { country: 'US', coupon: null },
      { country: 'DE', coupon: null, declinedFirst: true },
    ]
    await Promise.all(
      shoppers.map(async (s, i) => {
        const c = await shop.customer()
        assert.equal((await c.get('/products?q=wool&limit=5')).status, 200)
        const mine = variants.slice(i * 2, i * 2 + 2)
        for (const [k, v] of mine.entries()) {
          assert.equal((await c.get(`/products/${v.slug}`)).status, 200)
          const add = await c.post('/cart/items', { sku: v.sku, quantity: k + 1 })
          assert.equal(add.status, 200, JSON.stringify(add.body))
        }
        // Raise then lower a quantity: one add_to_cart and one remove_from_cart more, the order as before.
        assert.equal((await c.patch(`/cart/items/${mine[0]!.sku}`, { quantity: 3 })).status, 200)
        assert.equal((await c.patch(`/cart/items/${mine[0]!.sku}`, { quantity: 1 })).status, 200)
        if (s.coupon) {
          const applied = await c.post('/cart/coupon', { code: s.coupon })
          assert.equal(applied.status, 200, JSON.stringify(applied.body))
        }
        const address = {
          name: `Shopper ${i}`,
          line1: `${i} Main St`,
          city: 'Town',
          postalCode: '12345',
          country: s.country,
        }
        if (s.declinedFirst) {
          const declined = await c.post(
            '/checkout',
            { shippingAddress: address, paymentToken: 'tok_chargeDeclined' },
            { headers: { 'idempotency-key': `burst-declined-${i}-${now}` } },
          )
          expectError(declined, 402, 'EMP_PAYMENT_DECLINED')
          declinedOrderId = declined.body.error.details.orderId
        }
        const r = await c.post(
          '/checkout',
          { shippingAddress: address, paymentToken: 'tok_visa' },
          { headers: { 'idempotency-key': `burst-${i}-${now}` } },
        )
        assert.equal(r.status, 201, JSON.stringify(r.body))
        assert.equal(r.body.order.status, 'paid')
        placed.push({ order: r.body.order, client: c, country: s.country, coupon: s.coupon })
      }),
    )
    assert.equal(placed.length, 6)
    assert.ok(declinedOrderId.startsWith('ord_'))

    // A refund asked by the customer and approved by staff; another paid order cancelled by staff (refunded in full).
    const refunded = placed[0]!
    const asked = await refunded.client.post(`/orders/${refunded.order.id}/refund-requests`, { reason: 'Too small' })
    assert.equal(asked.status, 201, JSON.stringify(asked.body))
    const approved = await admin.post(`/admin/refunds/${asked.body.id}/approve`, { note: 'ok' })
    assert.equal(approved.status, 200, JSON.stringify(approved.body))
    assert.equal(approved.body.order.status, 'refunded')
    const cancelled = placed[1]!
    const cancel = await admin.post(`/admin/orders/${cancelled.order.id}/cancel`, { note: 'out of stock' })
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body))
    assert.equal(cancel.body.status, 'cancelled')

    await settle()
    const figures = await storeFigures(rt.store)
    const expected = expectedRows(figures, 'USD')
    const rows = await byDay()
    assert.deepEqual(rows, expected)
    const seededDays = expected.filter((r) => r.day !== isoDay(now)).length
    assert.ok(seededDays >= 60, `the seeded 90 days are there (${seededDays} days with sales)`)
    const burstGross = placed.reduce((s, p) => s + p.order.total.amount, 0)
    const todayRow = rows.find((r) => r.day === isoDay(now))!
    assert.ok(todayRow.gross_revenue.amount >= burstGross, 'today holds the burst')
    const line = `cross-check: ${rows.length} days, ${sumOf(rows, 'orders')} orders, ${sumOf(rows, 'units')} units, gross ${sumOf(rows, 'gross_revenue')}, refunds ${sumOf(rows, 'refunds')}, revenue ${sumOf(rows, 'revenue')} (minor units, USD); burst: 6 orders, gross ${burstGross}`
    t.diagnostic(line)
    console.log(line)

    // The burst alone (channel api, today), by country and by coupon, against what the customers were charged.
    const burst = await query(admin, {
      measures: ['gross_revenue', 'refunds', 'orders'],
      dimensions: ['country', 'coupon'],
      filters: { channel: 'api' },
      ...today,
    })
    assert.equal(burst.status, 200, JSON.stringify(burst.body))
    const want = new Map<string, { gross: number; refunds: number; orders: number }>()
    for (const p of placed) {
      const key = `${p.country}|${p.coupon}`
      const w = want.get(key) ?? { gross: 0, refunds: 0, orders: 0 }
      w.gross += p.order.total.amount
      w.orders++
      if (p === refunded || p === cancelled) w.refunds += p.order.total.amount
      want.set(key, w)
    }
    assert.deepEqual(
      burst.body.rows,
      [...want.entries()]
        .map(([key, w]) => {
          const [country, coupon] = key.split('|')
          return {
            country,
            coupon: coupon === 'null' ? null : coupon,
            gross_revenue: { amount: w.gross, currency: 'USD' },
            refunds: { amount: w.refunds, currency: 'USD' },
            orders: w.orders,
          }
        })
        .sort((a, b) => {
          if (a.country !== b.country) return String(a.country).localeCompare(String(b.country))
          if (a.coupon === null || b.coupon === null) return a.coupon === b.coupon ? 0 : a.coupon === null ? 1 : -1
          return String(a.coupon).localeCompare(String(b.coupon))
        }),
    )

    // Every order line of the burst sums to its order's total; the declined order left a payment_failed and no lines.
    const lines = await raw(
      `SELECT order_id, sum(revenue) FROM order_lines WHERE channel = 'api' GROUP BY order_id ORDER BY order_id`,
    )
    assert.deepEqual(
      lines.rows,
      placed.map((p) => [p.order.id, p.order.total.amount]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    )
    const failed = await raw(`SELECT type, value FROM events WHERE order_id = '${declinedOrderId}'`)
    assert.equal(failed.rows.length, 1)
    assert.equal(failed.rows[0]![0], 'payment_failed')
  })

  it('the funnel follows each shopper session; cohorts match first orders in the store', async () => {
    const funnel = await admin.post('/analytics/funnel', { ...today, filters: { channel: 'api' } })
    assert.equal(funnel.status, 200, JSON.stringify(funnel.body))
    assert.deepEqual(
      funnel.body.steps.map((s: any) => [s.step, s.sessions]),
      [
        ['product_view', 6],
        ['add_to_cart', 6],
        ['checkout_started', 6],
        ['order_paid', 6],
      ],
    )
    const views = await query(admin, {
      measures: ['sessions', 'conversion_rate'],
      filters: { channel: 'api' },
      ...today,
    })
    assert.deepEqual(views.body.rows, [{ sessions: 6, conversion_rate: 1 }])

    const monthStart = (ms: number, back: number) => {
      const d = new Date(ms)
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - back, 1)).toISOString()
    }
    const from = monthStart(now, 3)
    const to = monthStart(now, -1)
    const cohorts = await admin.post('/analytics/cohorts', { from, to })
    assert.equal(cohorts.status, 200, JSON.stringify(cohorts.body))
    // The same from the store: customers by the month of their first paid order, active in each month after.
    const months = new Map<string, Set<string>>()
    for (const o of await allOrders(rt.store)) {
      const paid = o.history.find((h) => h.to === 'paid')
      if (!paid) continue
      const set = months.get(o.userId) ?? new Set()
      set.add(paid.at.slice(0, 7))
      months.set(o.userId, set)
    }
    const cohortMonths = [0, 1, 2, 3].map((k) => monthStart(Date.parse(from), -k).slice(0, 7))
    const expected = cohortMonths
      .map((cohort, start) => {
        const members = [...months.values()].filter((m) => [...m].sort()[0] === cohort)
        const active = cohortMonths.slice(start).map((month) => members.filter((m) => m.has(month)).length)
        return { cohort, customers: members.length, active, retention: active.map((n) => n / members.length) }
      })
      .filter((c) => c.customers > 0)
    assert.deepEqual(cohorts.body.cohorts, expected)
    assert.ok(
      expected.some((c) => c.cohort === isoDay(now).slice(0, 7) && c.customers >= 6),
      'the new shoppers',
    )
  })

  it('replaying every event twice (and a second backfill) changes no answer and no table', async () => {
    const before = { days: await byDay(), counts: await tableCounts() }
    const all = await raw(
      'SELECT id, type, occurred_at, session_id, customer_id, product_id, category, quantity, value, order_id, country, coupon, channel FROM events ORDER BY id',
    )
    assert.equal(all.truncated, false)
    const events: AnalyticsEvent[] = all.rows.map((r) => ({
      id: r[0],
      type: r[1],
      at: r[2],
      sessionId: r[3],
      customerId: r[4],
      productId: r[5],
      category: r[6],
      quantity: r[7],
      value: r[8],
      currency: 'USD',
      orderId: r[9],
      country: r[10],
      coupon: r[11],
      channel: r[12],
    }))
    assert.equal(events.length, before.counts[0])
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < events.length; i += 500)
        await rt.jobs.enqueue(ANALYTICS_QUEUE, PROJECT_EVENTS_JOB, events.slice(i, i + 500))
    await rt.jobs.enqueue(ANALYTICS_QUEUE, BACKFILL_JOB, {})
    await settle()
    assert.deepEqual(await rt.jobs.deadLetters(ANALYTICS_QUEUE), [], 'no replay failed')
    assert.deepEqual(await tableCounts(), before.counts)
    assert.deepEqual(await byDay(), before.days)
  })

  it('storefront pages record views and searches on the web channel', async () => {
    const c = await shop.customer()
    const product = (await c.get('/products?limit=1')).body.items[0]
    const page = await fetch(`${shop.url}/products/${product.slug}`)
    assert.equal(page.status, 200)
    const search = await fetch(`${shop.url}/search?q=wool`)
    assert.equal(search.status, 200)
    await settle()
    const web = await raw(
      `SELECT type, product_id FROM events WHERE channel = 'web' AND type IN ('product_view', 'search') ORDER BY type`,
    )
    assert.deepEqual(web.rows, [
      ['product_view', product.id],
      ['search', null],
    ])
  })

  it('only analysts and admins get in; a session without its CSRF token is refused', async () => {
    const body = { measures: ['revenue'], ...today }
    const anonymous = shop.client()
    expectError(await anonymous.post('/analytics/query', body), 401, 'EMP_AUTH_REQUIRED')
    const customer = await shop.customer()
    const staff = await shop.customer()
    const analyst = await shop.customer()
    await setRole(staff, 'staff')
    await setRole(analyst, 'analyst')
    for (const [who, client] of [
      ['customer', customer],
      ['staff', staff],
    ] as const) {
      expectError(await client.post('/analytics/query', body), 403, 'EMP_FORBIDDEN', who)
      expectError(await client.post('/analytics/raw', { query: 'SELECT 1' }), 403, 'EMP_FORBIDDEN', who)
      expectError(await client.post('/analytics/funnel', today), 403, 'EMP_FORBIDDEN', who)
      expectError(
        await client.post('/analytics/cohorts', { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }),
        403,
        'EMP_FORBIDDEN',
        who,
      )
    }
    const mine = await analyst.post('/analytics/query', body)
    assert.equal(mine.status, 200, JSON.stringify(mine.body))
    assert.deepEqual(mine.body.rows, (await admin.post('/analytics/query', body)).body.rows)
    assert.equal((await analyst.post('/analytics/raw', { query: 'SELECT 42 AS answer' })).body.rows[0][0], 42)
    expectError(await analyst.post('/analytics/query', body, { csrf: false }), 403, 'EMP_CSRF')
  })

  it('the raw console refuses writes, several statements and file access with 4xx, and changes nothing', async () => {
    const before = await tableCounts()
    const refused = [
      "INSERT INTO events (id) VALUES ('x')",
      'DROP TABLE order_lines',
      'SELECT count(*) FROM events; DROP TABLE events',
      "SELECT * FROM read_csv('/etc/passwd')",
      "SELECT * FROM '/etc/passwd'",
      "COPY events TO '/tmp/events.csv'",
    ]
    for (const statement of refused) {
      const r = await admin.post('/analytics/raw', { query: statement })
      assert.ok(r.status >= 400 && r.status < 500, `${statement} → ${r.status}`)
      expectError(r, 422, 'EMP_QUERY_REFUSED', statement)
      assert.equal(typeof r.body.error.fields.statement, 'string', statement)
      assert.equal(typeof r.body.error.details.refusal, 'string', statement)
    }
    assert.deepEqual(await tableCounts(), before)
  })

  it('bad input is a 400 naming the field and the problem', async () => {
    const bad = await query(admin, { measures: ['revenue', 'profit'], dimensions: ['hour'], ...today })
    expectError(bad, 400, 'EMP_VALIDATION')
    assert.ok(bad.body.error.fields['measures[1]'])
    assert.deepEqual(
      bad.body.error.details.problems.map((p: any) => [p.field, p.code]),
      [
        ['measures[1]', 'unknown_measure'],
        ['dimensions[0]', 'unknown_dimension'],
      ],
    )
    const backwards = await query(admin, { measures: ['orders'], from: today.to, to: today.from })
    expectError(backwards, 400, 'EMP_VALIDATION')
    assert.deepEqual(backwards.body.error.details.problems[0], {
      field: 'to',
      code: 'bad_range',
      reason: 'must be after from (the range is [from, to))',
    })
    const extra = await query(admin, { measures: ['orders'], ...today, price: 1 })
    expectError(extra, 400, 'EMP_VALIDATION')
    assert.equal(extra.body.error.fields.price, 'This field is not allowed')
    const noMeasures = await admin.post('/analytics/query', { ...today })
    expectError(noMeasures, 400, 'EMP_VALIDATION')
    assert.equal(noMeasures.body.error.fields.measures, 'Required')
    const rows = await admin.post('/analytics/raw', { query: 'SELECT 1', maxRows: 0 })
    expectError(rows, 400, 'EMP_VALIDATION')
    assert.deepEqual(rows.body.error.details.problems[0].code, 'bad_limit')
    const cohort = await admin.post('/analytics/cohorts', { from: '2026-01-15T00:00:00Z', to: '2026-03-01T00:00:00Z' })
    expectError(cohort, 400, 'EMP_VALIDATION')
    assert.ok(cohort.body.error.fields.from)
  })

  it('the analytics routes are in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${shop.url}/docs/json`)).json()) as any
    for (const path of ['/analytics/query', '/analytics/raw', '/analytics/funnel', '/analytics/cohorts'])
      assert.ok(doc.paths[path]?.post, `${path} documented`)
    assert.deepEqual(doc.paths['/analytics/query'].post.requestBody.content['application/json'].schema.required, [
      'measures',
      'from',
      'to',
    ])
  })
})
