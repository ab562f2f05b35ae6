// The kill -9 drill: the real CLI dies with checkouts mid-flight; the next start settles every pending order from what
// the gateway knows, so nothing is oversold, charged twice, or lost.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { ApiClient } from '../support/http-client.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const ADMIN = { email: 'boss@drill.example', password: 'correct horse battery staple' }
const GATEWAY_LATENCY_MS = 50
/** Checkout i of the burst leaves i × STAGGER_MS after the first. */
const STAGGER_MS = 4
const CUSTOMERS = 30
const address = {
  name: 'Edsger Dijkstra',
  line1: '7 Semaphore Lane',
  city: 'Austin',
  postalCode: '78712',
  country: 'US',
}
/** The drill's catalog: A and B are contended (more demand than stock), C is not. */
const STOCK: Record<string, number> = { 'DRILL-A': 7, 'DRILL-B': 5, 'DRILL-C': 40 }
const SKUS = Object.keys(STOCK)

/** Customer i buys 1 of SKUS[i % 3], and every fourth one also 2 of DRILL-C. */
const cartOf = (i: number): { sku: string; quantity: number }[] => {
  const first = { sku: SKUS[i % SKUS.length] as string, quantity: 1 }
  if (i % 4 !== 0) return [first]
  return first.sku === 'DRILL-C' ? [{ sku: 'DRILL-C', quantity: 3 }] : [first, { sku: 'DRILL-C', quantity: 2 }]
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const children = new Set<ChildProcess>()
const dataDirs: string[] = []

interface Shop {
  proc: ChildProcess
  output: () => string
  exited: Promise<void>
}

/** `node --import tsx src/cli.ts start`, resolved once it prints that it serves; rejects on exit or timeout. */
async function startShop(dataDir: string, port: number, timeoutMs = 30_000): Promise<Shop> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      EMPORIUM_SEED: 'never',
      EMPORIUM_ADMIN_EMAIL: ADMIN.email,
      EMPORIUM_ADMIN_PASSWORD: ADMIN.password,
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1',
      AUTH_RATE_LIMIT: '100000',
      TEST_GATEWAY_LATENCY_MS: String(GATEWAY_LATENCY_MS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(proc)
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000)
  }
  proc.stderr?.on('data', keep)
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  void exited.then(() => children.delete(proc))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not serve within ${timeoutMs} ms`), timeoutMs)
    const fail = (why: string) => {
      clearTimeout(timer)
      proc.kill('SIGKILL')
      reject(new Error(`emporium start ${why}; output:\n${output}`))
    }
    proc.stdout?.on('data', (chunk: Buffer) => {
      keep(chunk)
      if (output.includes('Emporium is serving')) {
        clearTimeout(timer)
        resolve()
      }
    })
    proc.once('exit', (code, signal) => fail(`exited (${code ?? signal})`))
  })
  return { proc, output: () => output, exited }
}

async function kill9(shop: Shop): Promise<void> {
  shop.proc.kill('SIGKILL')
  await Promise.race([
    shop.exited,
    sleep(10_000, undefined, { ref: false }).then(() => {
      throw new Error('the child did not die within 10 s of SIGKILL')
    }),
  ])
}

interface Customer {
  index: number
  client: ApiClient
  key: string
}

interface Outcome {
  customer: Customer
  status: number | 'network-error'
  body?: any
}

interface Attempt {
  dataDir: string
  port: number
  api: string
  customers: Customer[]
  outcomes: Outcome[]
  pendingAtKill: string[]
  holdsAtKill: number
  paidAtKill: number
  killDelayMs: number
}

const readOnly = (dataDir: string, file: string) =>
  new Database(join(dataDir, file), { readonly: true, fileMustExist: true })

/** One drill: a fresh shop, customers with carts, a burst of checkouts and a SIGKILL `killDelayMs` into it. */
async function drill(attemptNo: number, killDelayMs: number): Promise<Attempt> {
  const dataDir = mkdtempSync(join(tmpdir(), 'emporium-crash-'))
  dataDirs.push(dataDir)
  const port = await freePort()
  const api = `http://127.0.0.1:${port}/api/v1`
  const shop = await startShop(dataDir, port)

  const admin = new ApiClient(api)
  const login = await admin.post('/auth/login', ADMIN)
  assert.equal(login.status, 200, JSON.stringify(login.body))
  const category = await admin.post('/admin/categories', { slug: 'drill', name: 'Drill' })
  assert.equal(category.status, 201, JSON.stringify(category.body))
  for (const sku of SKUS) {
    const p = await admin.post('/admin/products', {
      name: `Drill item ${sku}`,
      category: 'drill',
      variants: [{ sku, name: 'Default', price: 1250 }],
    })
    assert.equal(p.status, 201, JSON.stringify(p.body))
    const inv = await admin.put(`/admin/inventory/${sku}`, { available: STOCK[sku] })
    assert.deepEqual(inv.body, { sku, available: STOCK[sku], reserved: 0 })
  }

  // Customers sign up, mint a Bearer token and fill their carts with it (no cookie, no CSRF).
  const customers: Customer[] = []
  for (let start = 0; start < CUSTOMERS; start += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, CUSTOMERS - start) }, async (_, j) => {
        const index = start + j
        const web = new ApiClient(api)
        const reg = await web.post('/auth/register', {
          email: `drill${attemptNo}.${index}@example.com`,
          password: 'correct horse battery',
          name: `Driller ${index}`,
        })
        assert.equal(reg.status, 201, JSON.stringify(reg.body))
        const token = await web.post('/me/tokens', { name: 'drill' })
        assert.equal(token.status, 201, JSON.stringify(token.body))
        const client = new ApiClient(api)
        client.bearer = token.body.secret
        for (const item of cartOf(index)) {
          const r = await client.post('/cart/items', item)
          assert.equal(r.status, 200, JSON.stringify(r.body))
        }
        return { index, client, key: `drill-${attemptNo}-${index}-${randomUUID()}` }
      }),
    )
    customers.push(...batch)
  }

  // The burst, and the kill in the middle of it. The checkouts leave STAGGER_MS apart: fired all at once they would
  // all sleep in the gateway together and finish together, leaving no moment with some paid and some pending.
  const killed = sleep(killDelayMs).then(() => kill9(shop))
  const outcomes = await Promise.all(
    customers.map(async (customer, i): Promise<Outcome> => {
      await sleep(i * STAGGER_MS)
      try {
        const r = await customer.client.post(
          '/checkout',
          { shippingAddress: address, paymentToken: 'tok_visa' },
          { headers: { 'idempotency-key': customer.key } },
        )
        return { customer, status: r.status, body: r.body }
      } catch {
        return { customer, status: 'network-error' }
      }
    }),
  )
  await killed

  const db = readOnly(dataDir, 'commerce.sqlite')
  try {
    const pending = db.prepare(`SELECT id FROM orders WHERE status = 'pending'`).all() as { id: string }[]
    const holds = (db.prepare('SELECT count(*) AS n FROM stock_holds').get() as { n: number }).n
    const paid = (db.prepare(`SELECT count(*) AS n FROM orders WHERE status = 'paid'`).get() as { n: number }).n
    return {
      dataDir,
      port,
      api,
      customers,
      outcomes,
      pendingAtKill: pending.map((r) => r.id),
      holdsAtKill: holds,
      paidAtKill: paid,
      killDelayMs,
    }
  } finally {
    db.close()
  }
}

interface OrderRow {
  id: string
  user_id: string
  status: string
  idempotency_key: string
  doc: string
}

interface ChargeRow {
  idempotency_key: string
  charge_id: string
  status: string
  amount: number
  refunded: number
}

describe('crash recovery: kill -9 during a checkout burst (real CLI process)', () => {
  after(async () => {
    for (const proc of children) proc.kill('SIGKILL')
    await sleep(50)
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true })
  })

  it('after a restart no order is pending, stock adds up, every paid order has one charge and nothing else is charged', {
    timeout: 240_000,
  }, async (t) => {
    // Find the window: some checkouts done, some mid-flight. Too early: nothing paid yet; too late: nothing pending.
    let found: Attempt | undefined
    let delay = 90
    for (let n = 1; n <= 6 && !found; n++) {
      const a = await drill(n, delay)
      const network = a.outcomes.filter((o) => o.status === 'network-error').length
      t.diagnostic(
        `attempt ${n}: kill at ${delay} ms → ${a.paidAtKill} paid, ${a.pendingAtKill.length} pending, ` +
          `${a.holdsAtKill} holds, ${network} requests cut off`,
      )
      if (a.pendingAtKill.length > 0 && a.holdsAtKill > 0 && a.paidAtKill > 0) found = a
      else {
        rmSync(a.dataDir, { recursive: true, force: true })
        delay = a.pendingAtKill.length === 0 ? Math.max(30, Math.round(delay * 0.6)) : Math.min(300, delay + 40)
      }
    }
    assert.ok(found, 'the drill killed the shop with some checkouts paid and some pending')
    const attempt = found
    assert.ok(attempt.pendingAtKill.length >= 1, 'the kill left pending orders behind')
    assert.ok(attempt.holdsAtKill >= 1, 'the kill left stock holds behind')

    // Restart on the same data and port: startAll settles what the dead process left pending before it serves.
    const shop = await startShop(attempt.dataDir, attempt.port)
    const admin = new ApiClient(attempt.api)
    const login = await admin.post('/auth/login', ADMIN)
    assert.equal(login.status, 200, JSON.stringify(login.body))
    const pendingViaApi = await admin.get('/admin/orders?status=pending')
    assert.equal(pendingViaApi.status, 200)
    assert.equal(pendingViaApi.body.total, 0, 'the admin sees no pending order')

    const commerce = readOnly(attempt.dataDir, 'commerce.sqlite')
    const payments = readOnly(attempt.dataDir, 'payments.sqlite')
    let chargesBeforeReplay: number
    let replayKey: Customer
    let replayOrderId: string
    let settledAfterCrash: { customer: Customer; orderId: string; status: string }[]
    try {
      const rows = commerce.prepare('SELECT id, user_id, status, idempotency_key, doc FROM orders').all() as OrderRow[]
      const orders = new Map(rows.map((r) => [r.id, { ...r, order: JSON.parse(r.doc) }]))
      assert.ok(orders.size >= attempt.pendingAtKill.length && orders.size <= CUSTOMERS)

      // 1. Every order is settled.
      for (const o of orders.values()) {
        assert.ok(['paid', 'cancelled', 'payment_failed'].includes(o.status), `order ${o.id} is ${o.status}`)
        assert.equal(o.order.status, o.status, 'the document agrees with the status column')
      }
      for (const id of attempt.pendingAtKill) {
        const o = orders.get(id)
        assert.ok(o, `pending order ${id} still exists`)
        const last = o.order.history.at(-1)
        assert.equal(last.from, 'pending')
        assert.equal(last.actor, 'system:checkout-recovery', `order ${id} was settled by the recovery job`)
      }

      // 2. Stock adds up per SKU, and nothing is held or reserved.
      assert.deepEqual(commerce.prepare('SELECT * FROM stock_holds').all(), [], 'no stock hold is left')
      for (const sku of SKUS) {
        const inv = commerce.prepare('SELECT available, reserved FROM inventory WHERE sku = ?').get(sku) as {
          available: number
          reserved: number
        }
        let sold = 0
        for (const o of orders.values()) {
          if (o.status !== 'paid') continue
          for (const line of o.order.lines) if (line.sku === sku) sold += line.quantity
        }
        assert.equal(inv.reserved, 0, `${sku}: nothing reserved`)
        assert.ok(inv.available >= 0)
        assert.equal(inv.available + inv.reserved + sold, STOCK[sku], `${sku}: stock = available + reserved + sold`)
      }

      // 3. Money: one charge per paid order; a charge of any other order was refunded in full; no stray charge.
      const charges = payments.prepare('SELECT * FROM charges').all() as ChargeRow[]
      const chargeByKey = new Map(charges.map((c) => [c.idempotency_key, c]))
      const refunded = (chargeId: string) =>
        (
          payments.prepare('SELECT coalesce(sum(amount), 0) AS n FROM refunds WHERE charge_id = ?').get(chargeId) as {
            n: number
          }
        ).n
      for (const o of orders.values()) {
        const charge = chargeByKey.get(o.id)
        const count = (
          payments.prepare('SELECT count(*) AS n FROM charges WHERE idempotency_key = ?').get(o.id) as { n: number }
        ).n
        if (o.status === 'paid') {
          assert.equal(count, 1, `paid order ${o.id} has exactly one charge`)
          assert.ok(charge)
          assert.equal(charge.status, 'succeeded')
          assert.equal(charge.amount, o.order.total, 'the charge is for the order total')
          assert.equal(charge.refunded, 0)
          assert.equal(refunded(charge.charge_id), 0)
          assert.equal(o.order.payment.chargeId, charge.charge_id, 'the order names its charge')
        } else if (charge?.status === 'succeeded') {
          assert.equal(refunded(charge.charge_id), charge.amount, `the charge of ${o.status} order ${o.id} is refunded`)
          assert.equal(charge.refunded, charge.amount)
        }
        if (o.status === 'cancelled') assert.match(o.order.failureReason, /^EMP_[A-Z_]+: /)
      }
      for (const c of charges) assert.ok(orders.has(c.idempotency_key), `charge ${c.charge_id} belongs to an order`)

      // 4. Nothing a customer was told is lost: a 201 is a paid order, a 409 a cancelled one.
      for (const out of attempt.outcomes) {
        if (out.status === 201) {
          assert.equal(orders.get(out.body.order.id)?.status, 'paid', 'a confirmed order stays paid')
        } else if (out.status === 409) {
          assert.equal(out.body.error.code, 'EMP_OUT_OF_STOCK', JSON.stringify(out.body))
          assert.equal(orders.get(out.body.error.details.orderId)?.status, 'cancelled')
        } else {
          assert.equal(out.status, 'network-error', `unexpected answer ${JSON.stringify(out.body)}`)
        }
      }

      // Replay target: preferably an order the recovery job confirmed as paid, else any paid one.
      const paidIds = [...orders.values()].filter((o) => o.status === 'paid')
      const target = paidIds.find((o) => attempt.pendingAtKill.includes(o.id)) ?? paidIds[0]
      assert.ok(target, 'some order is paid')
      const customer = attempt.customers.find((c) => c.key === target.idempotency_key)
      assert.ok(customer)
      replayKey = customer
      replayOrderId = target.id
      chargesBeforeReplay = charges.length
      settledAfterCrash = attempt.pendingAtKill.map((id) => {
        const o = orders.get(id)
        const owner = attempt.customers.find((c) => c.key === o?.idempotency_key)
        assert.ok(o && owner)
        return { customer: owner, orderId: id, status: o.status }
      })
      const byStatus = new Map<string, number>()
      for (const s of settledAfterCrash) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1)
      t.diagnostic(
        `recovery settled the ${settledAfterCrash.length} pending orders as ${JSON.stringify([...byStatus])}`,
      )
    } finally {
      commerce.close()
      payments.close()
    }

    // 5. The same Idempotency-Key after the restart: the same order, no new charge.
    const replay = await replayKey.client.post(
      '/checkout',
      { shippingAddress: address, paymentToken: 'tok_visa' },
      { headers: { 'idempotency-key': replayKey.key } },
    )
    assert.equal(replay.status, 201, JSON.stringify(replay.body))
    assert.equal(replay.headers.get('idempotent-replayed'), 'true')
    assert.equal(replay.body.order.id, replayOrderId)
    assert.equal(replay.body.order.status, 'paid')
    const ledger = readOnly(attempt.dataDir, 'payments.sqlite')
    try {
      assert.equal((ledger.prepare('SELECT count(*) AS n FROM charges').get() as { n: number }).n, chargesBeforeReplay)
      assert.equal(
        (
          ledger.prepare('SELECT count(*) AS n FROM charges WHERE idempotency_key = ?').get(replayOrderId) as {
            n: number
          }
        ).n,
        1,
      )
    } finally {
      ledger.close()
    }

    // 6. Every customer whose checkout died mid-flight retries with its key and is told how it ended: paid (the same
    // order) or cancelled (its failure, naming the order); no retry charges anything.
    for (const { customer, orderId, status } of settledAfterCrash) {
      const r = await customer.client.post(
        '/checkout',
        { shippingAddress: address, paymentToken: 'tok_visa' },
        { headers: { 'idempotency-key': customer.key } },
      )
      if (status === 'paid') {
        assert.equal(r.status, 201, JSON.stringify(r.body))
        assert.equal(r.body.order.id, orderId)
      } else {
        assert.equal(r.status, 409, JSON.stringify(r.body))
        assert.equal(r.body.error.code, 'EMP_CHECKOUT_ABORTED')
        assert.equal(r.body.error.details.orderId, orderId)
      }
    }
    const ledger2 = readOnly(attempt.dataDir, 'payments.sqlite')
    try {
      const n = (ledger2.prepare('SELECT count(*) AS n FROM charges').get() as { n: number }).n
      assert.equal(n, chargesBeforeReplay, 'retries after the crash made no charge')
    } finally {
      ledger2.close()
    }

    await kill9(shop)
  })
})
