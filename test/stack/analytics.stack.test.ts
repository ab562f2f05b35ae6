// Analytics on the real stack with the real CLI: `emporium seed` (projects the 90 seeded days into Cassandra), two
// `emporium web` and one `emporium worker` on MongoDB (FerretDB) + Redis (BullMQ) + Cassandra. A burst of checkouts
// through both web processes, a staff-approved refund and a staff cancellation; then revenue, gross revenue, refunds,
// orders and units by day — from POST /analytics/query and from `emporium analytics query --format csv` — equal
// MongoDB's paid orders and refunds to the cent; replaying every event twice through the queue changes nothing.
// Its own Mongo database, Redis prefix and Cassandra keyspace, all dropped afterwards.
// Run: npm run stack:up && eval "$(bash scripts/stack/stack.sh env)" && node --import tsx --test <this file>
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import cassandra from 'cassandra-driver'
import type { AnalyticsEvent } from '../../src/analytics/events.ts'
import { ANALYTICS_QUEUE, PROJECT_EVENTS_JOB } from '../../src/analytics/projector.ts'
import {
  type MongoCommerceStore,
  openMongoCommerceStore,
} from '../../src/commerce/store/mongodb/mongodb-commerce-store.ts'
import { type BullmqJobQueue, openBullmqJobQueue } from '../../src/jobs/bullmq/bullmq-job-queue.ts'
import { dropRedisKeys } from '../../src/testing/redis.ts'
import { expectedRows, storeFigures } from '../support/analytics-figures.ts'
import {
  type CliProcess,
  dropMongoDatabase,
  freePort,
  mongoUrlWithDatabase,
  runCli,
  spawnCli,
  spawnScript,
  stopCli,
  waitForOutput,
} from '../support/cli-process.ts'
import { ApiClient } from '../support/http-client.ts'

const NEEDED = ['MONGODB_URL', 'REDIS_URL', 'CASSANDRA_CONTACT_POINTS', 'CASSANDRA_LOCAL_DC']
const missing = NEEDED.filter((n) => !process.env[n])
const skip = missing.length
  ? `${missing.join(', ')} unset: run npm run stack:up and eval "$(bash scripts/stack/stack.sh env)"`
  : false

const RUN = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
const REDIS_PREFIX = `emp_test_an_${RUN}`
const KEYSPACE = `emp_an_${RUN}`
const DB = `emp_an_${RUN}`
const ADMIN = { email: `boss.${RUN}@stack.example`, password: 'analytics back office 42' }
const DAY = 86_400_000
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

const log = (t: TestContext, line: string) => {
  t.diagnostic(line)
  console.log(line)
}

describe('analytics on the stack (web ×2 + worker, MongoDB + Redis + Cassandra)', { skip }, () => {
  const now = Date.now()
  const range = { from: `${isoDay(now - 100 * DAY)}T00:00:00Z`, to: `${isoDay(now + DAY)}T00:00:00Z` }
  const mongoUrl = skip ? '' : mongoUrlWithDatabase(process.env.MONGODB_URL!, DB)
  const dataDir = mkdtempSync(join(tmpdir(), 'emporium-analytics-stack-'))
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    MONGODB_URL: mongoUrl,
    REDIS_URL: process.env.REDIS_URL ?? '',
    REDIS_KEY_PREFIX: REDIS_PREFIX,
    CASSANDRA_CONTACT_POINTS: process.env.CASSANDRA_CONTACT_POINTS ?? '',
    CASSANDRA_LOCAL_DC: process.env.CASSANDRA_LOCAL_DC ?? '',
    CASSANDRA_KEYSPACE: KEYSPACE,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    LOG_SHIP: 'false',
    EMPORIUM_ADMIN_EMAIL: ADMIN.email,
    EMPORIUM_ADMIN_PASSWORD: ADMIN.password,
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    AUTH_RATE_LIMIT: '100000',
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
  }
  const procs: CliProcess[] = []
  const webs: string[] = []
  let store: MongoCommerceStore
  let jobs: BullmqJobQueue
  let admin: ApiClient
  let seedOutput = ''

  before(async () => {
    const seeded = await runCli('seed', 'seed', env, 300_000)
    seedOutput = seeded.output
    assert.equal(seeded.code, 0, `emporium seed failed:\n${seeded.output.slice(-4000)}`)
    const starting: Promise<void>[] = []
    for (const name of ['A', 'B']) {
      const port = await freePort()
      const p = spawnCli(`web ${name}`, 'web', { ...env, PORT: String(port) })
      procs.push(p)
      webs.push(`http://127.0.0.1:${port}/api/v1`)
      starting.push(waitForOutput(p, 'Emporium is serving', 90_000))
    }
    const worker = spawnCli('worker', 'worker', env)
    procs.push(worker)
    starting.push(waitForOutput(worker, 'worker is consuming', 90_000))
    await Promise.all(starting)
    store = await openMongoCommerceStore(mongoUrl)
    jobs = openBullmqJobQueue(process.env.REDIS_URL!, { prefix: `${REDIS_PREFIX}:jobs` })
    admin = new ApiClient(webs[0]!)
    const login = await admin.post('/auth/login', ADMIN)
    assert.equal(login.status, 200, JSON.stringify(login.body))
  })

  after(async () => {
    for (const p of procs) {
      const exit = await stopCli(p, 5000)
      const errors = p
        .output()
        .split('\n')
        .filter((l) => /"level":(50|60)/.test(l))
      console.log(`${p.name}: exited ${exit?.code ?? exit?.signal ?? '?'}; ${errors.length} error lines`)
      for (const e of errors.slice(0, 3)) console.log(`  ${e.slice(0, 300)}`)
    }
    await jobs?.close(1000).catch(() => undefined)
    await store?.close().catch(() => undefined)
    if (skip) return
    const problems = [await dropMongoDatabase(process.env.MONGODB_URL!, DB)]
    await dropRedisKeys(process.env.REDIS_URL!, REDIS_PREFIX).catch((e) => problems.push(String(e)))
    const client = new cassandra.Client({
      contactPoints: process.env.CASSANDRA_CONTACT_POINTS!.split(','),
      localDataCenter: process.env.CASSANDRA_LOCAL_DC!,
    })
    try {
      await client.execute(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`)
    } catch (e) {
      problems.push(`could not drop keyspace ${KEYSPACE}: ${(e as Error).message}`)
    } finally {
      await client.shutdown()
    }
    for (const p of problems) if (p) console.error(p)
    rmSync(dataDir, { recursive: true, force: true })
  })

  const byDay = async () => {
    const r = await admin.post('/analytics/query', {
      measures: ['revenue', 'gross_revenue', 'refunds', 'orders', 'units'],
      dimensions: ['day'],
      ...range,
    })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    return r.body.rows as any[]
  }

  /** Polls until the answers equal what MongoDB says (the worker projects asynchronously), bounded. */
  const until = async (expected: () => Promise<unknown>, timeoutMs: number) => {
    const started = Date.now()
    let rows: any[] = []
    let want: unknown
    while (Date.now() - started < timeoutMs) {
      want = await expected()
      rows = await byDay()
      if (JSON.stringify(rows) === JSON.stringify(want)) return { rows, ms: Date.now() - started }
      await sleep(500)
    }
    assert.deepEqual(rows, want, `analytics did not match the store within ${timeoutMs} ms`)
    return { rows, ms: timeoutMs }
  }

  it('the seed projected the past orders into Cassandra, and they match MongoDB day by day', async (t) => {
    assert.match(seedOutput, /Projected 360 past orders into analytics \(cassandra\)/)
    const expected = expectedRows(await storeFigures(store), 'USD')
    assert.ok(expected.length >= 60, `${expected.length} seeded days with sales`)
    const { rows } = await until(async () => expected, 30_000)
    log(t, `seeded: ${rows.length} days, ${rows.reduce((s, r) => s + r.orders, 0)} orders match MongoDB`)
  })

  it('a burst through both web processes, a refund and a cancellation: analytics equals MongoDB to the cent', async (t) => {
    // Variants of $20 or more (coupon minimums), filtered here: minPrice finds nothing on FerretDB 1.24.
    const variants: any[] = []
    for (let page = 1; page <= 6 && variants.length < 16; page++) {
      const found = await admin.get(`/products?inStock=true&limit=100&sort=price_asc&page=${page}`)
      assert.equal(found.status, 200, JSON.stringify(found.body))
      for (const p of found.body.items as any[])
        for (const v of p.variants)
          if (v.available >= 20 && v.price.amount >= 2000 && variants.length < 16) variants.push({ ...v, slug: p.slug })
    }
    assert.equal(variants.length, 16)
    const shoppers = Array.from({ length: 8 }, (_, i) => ({
      country: i % 2 ? 'DE' : 'US',
      coupon: [null, 'WELCOME10', 'SAVE5', 'VIP20'][i % 4] ?? null,
    }))
    const placed: { id: string; total: number; client: ApiClient }[] = []
    let declined = 0
    await Promise.all(
      shoppers.map(async (s, i) => {
        const c = new ApiClient(webs[i % 2]!)
        const reg = await c.post('/auth/register', {
          email: `shopper${i}.${RUN}.${randomUUID().slice(0, 6)}@stack.example`,
          password: 'correct horse battery',
          name: `Shopper ${i}`,
        })
        assert.equal(reg.status, 201, JSON.stringify(reg.body))
        for (const [k, v] of variants.slice(i * 2, i * 2 + 2).entries()) {
          assert.equal((await c.get(`/products/${v.slug}`)).status, 200)
          const add = await c.post('/cart/items', { sku: v.sku, quantity: k + 1 })
          assert.equal(add.status, 200, JSON.stringify(add.body))
        }
        if (s.coupon) {
          const applied = await c.post('/cart/coupon', { code: s.coupon })
          assert.equal(applied.status, 200, JSON.stringify(applied.body))
        }
        const address = { name: `S ${i}`, line1: `${i} Main St`, city: 'Town', postalCode: '12345', country: s.country }
        if (i === 3) {
          const no = await c.post(
            '/checkout',
            { shippingAddress: address, paymentToken: 'tok_insufficientFunds' },
            { headers: { 'idempotency-key': `stack-declined-${RUN}-${i}` } },
          )
          assert.equal(no.status, 402, JSON.stringify(no.body))
          declined++
        }
        const r = await c.post(
          '/checkout',
          { shippingAddress: address, paymentToken: 'tok_visa' },
          { headers: { 'idempotency-key': `stack-${RUN}-${i}` } },
        )
        assert.equal(r.status, 201, JSON.stringify(r.body))
        placed.push({ id: r.body.order.id, total: r.body.order.total.amount, client: c })
      }),
    )
    const asked = await placed[0]!.client.post(`/orders/${placed[0]!.id}/refund-requests`, { reason: 'Too big' })
    assert.equal(asked.status, 201, JSON.stringify(asked.body))
    const staff = new ApiClient(webs[1]!)
    assert.equal((await staff.post('/auth/login', ADMIN)).status, 200)
    const approved = await staff.post(`/admin/refunds/${asked.body.id}/approve`, {})
    assert.equal(approved.status, 200, JSON.stringify(approved.body))
    const cancel = await staff.post(`/admin/orders/${placed[1]!.id}/cancel`, { note: 'duplicate' })
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body))

    const { rows, ms } = await until(async () => expectedRows(await storeFigures(store), 'USD'), 60_000)
    const sum = (k: string) => rows.reduce((s, r) => s + (typeof r[k] === 'object' ? r[k].amount : r[k]), 0)
    const burst = placed.reduce((s, p) => s + p.total, 0)
    log(
      t,
      `cross-check (cassandra, via 2 web + 1 worker): ${rows.length} days, ${sum('orders')} orders, ${sum('units')} units, gross ${sum('gross_revenue')}, refunds ${sum('refunds')}, revenue ${sum('revenue')} (minor units, USD) equal MongoDB; burst ${placed.length} orders (+${declined} declined), gross ${burst}, projected within ${ms} ms`,
    )
  })

  it('`emporium analytics query --format csv` and `raw` (reading Cassandra directly) print the same figures', async (t) => {
    const expected = expectedRows(await storeFigures(store), 'USD')
    const args = [
      'query',
      '--measure',
      'revenue',
      '--measure',
      'gross_revenue,refunds,orders,units',
      '--by',
      'day',
      '--from',
      range.from.slice(0, 10),
      '--to',
      range.to.slice(0, 10),
      '--format',
      'csv',
    ]
    const p = spawnAnalytics(env, args)
    const exit = await p.exited
    assert.equal(exit.code, 0, p.output())
    const lines = p.output().trim().split('\n')
    assert.equal(lines[0], 'day,revenue,gross_revenue,refunds,orders,units')
    const cents = (v: string) => Math.round(Number(v) * 100)
    const printed = lines.slice(1).map((l) => {
      const [day, revenue, gross, refunds, orders, units] = l.split(',')
      return [day, cents(revenue!), cents(gross!), cents(refunds!), Number(orders), Number(units)]
    })
    assert.deepEqual(
      printed,
      expected.map((r) => [r.day, r.revenue.amount, r.gross_revenue.amount, r.refunds.amount, r.orders, r.units]),
    )
    const gross = expected.reduce((s, r) => s + r.gross_revenue.amount, 0)
    const raw = spawnAnalytics(env, ['raw', 'SELECT sum(revenue) AS gross FROM order_lines_by_day', '--format', 'csv'])
    assert.equal((await raw.exited).code, 0, raw.output())
    assert.equal(raw.output().trim(), `gross\n${gross}`)
    log(t, `CLI: ${printed.length} days as CSV and sum(revenue) ${gross} over order_lines_by_day equal MongoDB`)
    const refused = spawnAnalytics(env, ['raw', `DROP KEYSPACE ${KEYSPACE}`])
    assert.equal((await refused.exited).code, 1)
    assert.match(refused.output(), /EMP_QUERY_REFUSED/)
  })

  it('replaying every event twice through the queue changes nothing', async () => {
    const before = await byDay()
    const r = await admin.post('/analytics/raw', {
      query:
        'SELECT id, type, occurred_at, session_id, customer_id, product_id, category, quantity, value, order_id, country, coupon, channel FROM events_by_day',
      maxRows: 10_000,
    })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.equal(r.body.truncated, false)
    const events: AnalyticsEvent[] = r.body.rows.map((x: any[]) => ({
      id: x[0],
      type: x[1],
      at: x[2],
      sessionId: x[3],
      customerId: x[4],
      productId: x[5],
      category: x[6],
      quantity: x[7],
      value: x[8],
      currency: 'USD',
      orderId: x[9],
      country: x[10],
      coupon: x[11],
      channel: x[12],
    }))
    assert.ok(events.length > 360, `${events.length} events`)
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < events.length; i += 500)
        await jobs.enqueue(ANALYTICS_QUEUE, PROJECT_EVENTS_JOB, events.slice(i, i + 500))
    // The rollup schedule's next run is always delayed: done when nothing waits or runs.
    const started = Date.now()
    for (;;) {
      const c = await jobs.counts(ANALYTICS_QUEUE)
      if (c.waiting + c.active === 0) break
      assert.ok(Date.now() - started < 120_000, `the worker drains the replay: ${JSON.stringify(c)}`)
      await sleep(250)
    }
    assert.deepEqual(await jobs.deadLetters(ANALYTICS_QUEUE), [])
    assert.deepEqual(await byDay(), before)
    const counted = await admin.post('/analytics/raw', { query: 'SELECT count(*) FROM events_by_day' })
    assert.equal(counted.body.rows[0][0], events.length, 'no event row was added')
  })
})

/** `emporium analytics …` with its arguments as given (runCli takes one command word). */
function spawnAnalytics(env: Record<string, string>, args: string[]): CliProcess {
  return spawnScript(`emporium analytics ${args[0]}`, 'src/cli.ts', ['analytics', ...args], env)
}
