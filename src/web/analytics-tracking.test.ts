// Analytics never blocks or fails a request: the real server and shop wiring over a JobQueue double that fails (or
// never answers) every enqueue; the events are held, counted and sent once the queue is back, and no event carries
// the session secret or the key the session store files it under.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { AnalyticsEmitter } from '../analytics/emitter.ts'
import type { AnalyticsEvent } from '../analytics/events.ts'
import { ANALYTICS_QUEUE, PROJECT_EVENTS_JOB } from '../analytics/projector.ts'
import { shopAnalyticsEvents } from '../analytics/shop-events.ts'
import { TestPaymentGateway } from '../commerce/payments/test-gateway.ts'
import { defaultShopSettings } from '../commerce/settings.ts'
import { createShop } from '../commerce/shop.ts'
import { openSqliteCommerceStore } from '../commerce/store/sqlite/sqlite-commerce-store.ts'
import { loadConfig } from '../config.ts'
import { systemClock } from '../core/clock.ts'
import type { JobQueue } from '../jobs/job-queue.ts'
import { AnalyticsTracking } from './analytics-tracking.ts'
import { buildServer } from './server.ts'
import { openSqliteSessionStore } from './session/sqlite/sqlite-session-store.ts'

type Mode = 'fail' | 'hang' | 'ok'

/** The part of the JobQueue port the emitter uses, scripted: throw, never answer, or take the job. */
class QueueDouble {
  mode: Mode = 'fail'
  attempts = 0
  readonly accepted: { queue: string; name: string; data: AnalyticsEvent[] }[] = []
  readonly enqueue: JobQueue['enqueue'] = async <T>(queue: string, name: string, data: T) => {
    this.attempts++
    if (this.mode === 'fail') throw new Error('connect ECONNREFUSED 127.0.0.1:6379')
    if (this.mode === 'hang') return new Promise<string>(() => {})
    this.accepted.push({ queue, name, data: JSON.parse(JSON.stringify(data)) })
    return `job-${this.accepted.length}`
  }
}

const address = { name: 'A', line1: '1 Road', city: 'Town', postalCode: '12345', country: 'US' }

describe('analytics tracking › the queue is failing', () => {
  const queue = new QueueDouble()
  const warnings: string[] = []
  let emitter: AnalyticsEmitter
  let app: FastifyInstance
  let dataDir: string
  let close: () => Promise<void>

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'emporium-tracking-'))
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' })
    const store = openSqliteCommerceStore(':memory:')
    await store.migrate()
    const sessions = openSqliteSessionStore(':memory:')
    await sessions.migrate()
    const gateway = new TestPaymentGateway({ path: join(dataDir, 'payments.sqlite'), latencyMs: 0 })
    emitter = new AnalyticsEmitter({
      send: (batch) => queue.enqueue(ANALYTICS_QUEUE, PROJECT_EVENTS_JOB, batch, { jobId: batch[0]?.id }),
      flushIntervalMs: 5,
      sendTimeoutMs: 100,
      retryMinMs: 10,
      retryMaxMs: 20,
      warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`),
    })
    const tracking = new AnalyticsTracking((e) => emitter.emit(e), 'USD')
    const shop = createShop({
      store,
      gateway,
      hasher: { hash: async (p) => `plain:${p}`, verify: async (h, p) => h === `plain:${p}` },
      clock: systemClock,
      settings: defaultShopSettings(),
      accountPolicy: { maxFailedLogins: 5, failedLoginWindowMs: 900_000 },
      events: shopAnalyticsEvents({
        emit: (e) => emitter.emit(e),
        context: () => tracking.context(),
        currency: 'USD',
        variants: (skus) => store.getVariants(skus),
        categories: () => store.listCategories(),
      }),
    })
    await shop.catalog.upsertCategory({ slug: 'tools', name: 'Tools' })
    await shop.catalog.createProduct({
      name: 'Hammer',
      slug: 'hammer',
      description: 'Drives nails',
      category: 'tools',
      variants: [{ sku: 'HAM-1', name: 'Small', price: 1500, stock: 50 }],
    })
    app = await buildServer({ config, shop, sessionStore: sessions, readiness: [], tracking })
    close = async () => {
      await app.close()
      await emitter.close(100)
      await Promise.all([store.close(), sessions.close(), gateway.close()])
    }
  })
  after(async () => {
    await close?.()
    rmSync(dataDir, { recursive: true, force: true })
  })

  let cookie = ''
  let csrf = ''
  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const started = performance.now()
    const res = await app.inject({
      method,
      url,
      ...(payload === undefined ? {} : { payload: payload as object }),
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(csrf && method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
        ...headers,
      },
    })
    const set = res.headers['set-cookie']
    const first = Array.isArray(set) ? set[0] : set
    if (first?.startsWith('emp_sid=')) cookie = first.split(';')[0]!
    const body = res.headers['content-type']?.toString().includes('json') ? res.json() : res.body
    if (typeof body === 'object' && body && 'csrfToken' in body) csrf = String(body.csrfToken)
    return { status: res.statusCode, body, ms: performance.now() - started }
  }

  it('views, cart and checkout succeed while every enqueue fails; the events are held and counted', async () => {
    assert.equal((await call('GET', '/api/v1/products/hammer')).status, 200)
    assert.equal((await call('GET', '/products/hammer')).status, 200)
    const reg = await call('POST', '/api/v1/auth/register', {
      email: 'buyer@example.com',
      password: 'correct horse battery',
      name: 'Buyer',
    })
    assert.equal(reg.status, 201, JSON.stringify(reg.body))
    assert.equal((await call('POST', '/api/v1/cart/items', { sku: 'HAM-1', quantity: 2 })).status, 200)
    const placed = await call(
      'POST',
      '/api/v1/checkout',
      { shippingAddress: address, paymentToken: 'tok_visa' },
      { 'idempotency-key': 'tracking-test-1' },
    )
    assert.equal(placed.status, 201, JSON.stringify(placed.body))
    assert.equal((placed.body as { order: { status: string } }).order.status, 'paid')
    await new Promise((r) => setTimeout(r, 60))
    const s = emitter.stats()
    assert.ok(queue.attempts >= 2, `the emitter kept trying (${queue.attempts} attempts)`)
    assert.equal(s.healthy, false)
    assert.equal(s.sent, 0)
    assert.equal(s.dropped, 0)
    assert.equal(s.buffered, s.emitted, 'every event is held for the retry')
    assert.ok(s.emitted >= 5, `view ×2, add_to_cart, checkout_started, order_paid (${s.emitted})`)
    assert.equal(warnings.length, 1, 'one warning for the episode, not one per event')
    assert.match(warnings[0]!, /could not be queued/)
    assert.doesNotMatch(warnings[0]!, /buyer@example\.com|HAM-1|hammer/, 'no event contents in the warning')
  })

  it('a queue that never answers does not slow a request down', async () => {
    queue.mode = 'hang'
    const view = await call('GET', '/api/v1/products/hammer')
    assert.equal(view.status, 200)
    assert.ok(view.ms < 100, `answered in ${view.ms.toFixed(1)} ms`)
    const add = await call('POST', '/api/v1/cart/items', { sku: 'HAM-1', quantity: 1 })
    assert.equal(add.status, 200)
    assert.ok(add.ms < 100, `answered in ${add.ms.toFixed(1)} ms`)
  })

  it('once the queue is back every held event goes out, with the visitor session but never its secret', async () => {
    queue.mode = 'ok'
    for (let i = 0; i < 50 && emitter.stats().buffered > 0; i++) {
      await new Promise((r) => setTimeout(r, 20))
      await emitter.flush()
    }
    const s = emitter.stats()
    assert.equal(s.buffered, 0)
    assert.equal(s.sent, s.emitted)
    const events = queue.accepted.flatMap((j) => j.data)
    assert.ok(queue.accepted.every((j) => j.queue === 'analytics' && j.name === 'project-events'))
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'each event once')
    const types = events.map((e) => e.type)
    for (const t of ['product_view', 'add_to_cart', 'checkout_started', 'order_paid'])
      assert.ok(types.includes(t as AnalyticsEvent['type']), `${t} in ${types.join(',')}`)
    const paid = events.find((e) => e.type === 'order_paid')!
    const checkout = events.find((e) => e.type === 'checkout_started')!
    assert.equal(paid.sessionId, checkout.sessionId, 'one visit, one session')
    assert.equal(paid.channel, 'api')
    assert.equal(paid.value, 2 * 1500 + Math.round(3000 * 0.08) + 599)
    const secret = cookie.slice('emp_sid='.length)
    const storeKey = createHash('sha256').update(secret).digest('base64url')
    const text = JSON.stringify(events)
    assert.ok(secret.length > 20 && !text.includes(secret), 'no session secret in any event')
    assert.ok(!text.includes(storeKey), 'no session store key in any event')
  })
})
