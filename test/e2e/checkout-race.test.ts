// Many customers race for the last units of one SKU: the saga's conditional decrement sells exactly the stock,
// refuses the rest with EMP_OUT_OF_STOCK, cancels their orders and leaves no hold behind.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import type { ApiClient, ApiResponse } from '../support/http-client.ts'
import { startTestShop, type TestShop } from '../support/test-shop.ts'

const address = { name: 'Grace Hopper', line1: '1 Compiler Way', city: 'Arlington', postalCode: '22201', country: 'US' }

interface RaceProduct {
  sku: string
  slug: string
}

/** A product of our own, so that no seeded order or cart ever touches its SKU. */
async function createRaceProduct(admin: ApiClient, stock: number): Promise<RaceProduct> {
  const categories = await admin.get('/categories')
  assert.equal(categories.status, 200)
  const category = categories.body.items[0]?.slug
  assert.ok(category, 'the demo shop has a category')
  const tag = randomUUID().slice(0, 8)
  const sku = `RACE-${tag}`
  const slug = `race-widget-${tag}`
  const created = await admin.post('/admin/products', {
    name: `Race widget ${tag}`,
    slug,
    category,
    variants: [{ sku, name: 'Default', price: 1500 }],
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const set = await admin.put(`/admin/inventory/${sku}`, { available: stock })
  assert.equal(set.status, 200, JSON.stringify(set.body))
  assert.deepEqual(set.body, { sku, available: stock, reserved: 0 })
  return { sku, slug }
}

/** Registers customers a few at a time (argon2 is cheap in tests, but 2 cores are 2 cores). */
async function customers(shop: TestShop, n: number): Promise<ApiClient[]> {
  const out: ApiClient[] = []
  while (out.length < n) {
    const batch = Math.min(10, n - out.length)
    out.push(...(await Promise.all(Array.from({ length: batch }, () => shop.customer()))))
  }
  return out
}

/** Every order of the admin listing with this status that has a line for `sku` (all pages). */
async function adminOrdersFor(admin: ApiClient, status: string, sku: string): Promise<any[]> {
  const found: any[] = []
  for (let page = 1; ; page++) {
    const r = await admin.get(`/admin/orders?status=${status}&limit=100&page=${page}`)
    assert.equal(r.status, 200, JSON.stringify(r.body))
    found.push(...r.body.items.filter((o: any) => o.lines.some((l: any) => l.sku === sku)))
    if (page * 100 >= r.body.total || r.body.items.length === 0) return found
  }
}

function readStore(dataDir: string, sku: string) {
  const db = new Database(join(dataDir, 'commerce.sqlite'), { readonly: true, fileMustExist: true })
  try {
    const inventory = db.prepare('SELECT available, reserved FROM inventory WHERE sku = ?').get(sku) as
      | { available: number; reserved: number }
      | undefined
    const holds = db.prepare('SELECT order_id, sku, qty FROM stock_holds').all()
    const skuHolds = db.prepare('SELECT count(*) AS n FROM stock_holds WHERE sku = ?').get(sku) as { n: number }
    return { inventory, holds, skuHolds: skuHolds.n }
  } finally {
    db.close()
  }
}

/**
 * The race: `buyers` customers each hold 1 unit of a SKU with `stock` units in their cart and check out at once.
 * While they race, a watcher reads the public product page and records every `available` it sees.
 */
async function race(shop: TestShop, stock: number, buyers: number) {
  const admin = await shop.admin()
  const product = await createRaceProduct(admin, stock)
  const clients = await customers(shop, buyers)
  for (const c of clients) {
    const r = await c.post('/cart/items', { sku: product.sku, quantity: 1 })
    assert.equal(r.status, 200, JSON.stringify(r.body))
  }

  const seen: number[] = []
  let racing = true
  const watcher = (async () => {
    while (racing) {
      const p = await shop.client().get(`/products/${product.slug}`)
      if (p.status === 200) seen.push(p.body.variants[0].available)
    }
  })()

  const keys = clients.map((_, i) => `race-${i}-${randomUUID()}`)
  let responses: ApiResponse[]
  try {
    responses = await Promise.all(
      clients.map((c, i) =>
        c.post(
          '/checkout',
          { shippingAddress: address, paymentToken: 'tok_visa' },
          { headers: { 'idempotency-key': keys[i] as string } },
        ),
      ),
    )
  } finally {
    racing = false
    await watcher
  }
  return { admin, product, clients, keys, responses, seen }
}

async function assertRaceOutcome(shop: TestShop, stock: number, buyers: number) {
  const { admin, product, responses, seen } = await race(shop, stock, buyers)
  const { sku, slug } = product

  // Exactly `stock` buyers got their order, every other one was told the SKU ran out.
  const won = responses.filter((r) => r.status === 201)
  const lost = responses.filter((r) => r.status === 409)
  const other = responses.filter((r) => r.status !== 201 && r.status !== 409)
  assert.deepEqual(
    other.map((r) => [r.status, r.body]),
    [],
    'every checkout is either placed or refused for stock',
  )
  assert.equal(won.length, stock, `exactly ${stock} checkouts succeed`)
  assert.equal(lost.length, buyers - stock)
  for (const r of won) {
    assert.equal(r.body.order.status, 'paid')
    assert.equal(r.body.order.payment.status, 'succeeded')
    assert.deepEqual(
      r.body.order.lines.map((l: any) => [l.sku, l.quantity]),
      [[sku, 1]],
    )
  }
  for (const r of lost) {
    assert.equal(r.body.error.code, 'EMP_OUT_OF_STOCK', JSON.stringify(r.body))
    assert.match(r.body.error.details.orderId, /^ord_/, 'the refusal names the order it cancelled')
  }
  const wonIds = new Set(won.map((r) => r.body.order.id as string))
  const lostIds = new Set(lost.map((r) => r.body.error.details.orderId as string))
  assert.equal(wonIds.size, stock, 'distinct orders')
  assert.equal(lostIds.size, buyers - stock, 'distinct orders')

  // Stock: sold out, never below zero while the race ran, and nothing left reserved.
  assert.ok(seen.length > 0, 'the watcher read the product page during the race')
  for (const a of seen) assert.ok(a >= 0 && a <= stock, `available stayed within 0..${stock} (saw ${a})`)
  const page = await shop.client().get(`/products/${slug}`)
  assert.equal(page.status, 200)
  assert.equal(page.body.variants[0].sku, sku)
  assert.equal(page.body.variants[0].available, 0)
  assert.equal(page.body.inStock, false)
  const asAdmin = await admin.get(`/products/${slug}`)
  assert.equal(asAdmin.body.variants[0].available, 0)
  const db = readStore(shop.dataDir, sku)
  assert.deepEqual(db.inventory, { available: 0, reserved: 0 }, 'the store: sold out, nothing reserved')
  assert.deepEqual(db.holds, [], 'no stock hold is left anywhere')
  assert.equal(db.skuHolds, 0)
  // The admin has no inventory read, but setting the (already verified) 0 again echoes the reserved count.
  const inv = await admin.put(`/admin/inventory/${sku}`, { available: 0 })
  assert.deepEqual(inv.body, { sku, available: 0, reserved: 0 })

  // Orders as the back office sees them.
  const paid = await adminOrdersFor(admin, 'paid', sku)
  assert.equal(paid.length, stock, `exactly ${stock} paid orders hold ${sku}`)
  assert.deepEqual(new Set(paid.map((o) => o.id)), wonIds)
  assert.equal(
    paid.reduce((n, o) => n + o.lines.find((l: any) => l.sku === sku).quantity, 0),
    stock,
  )
  const cancelled = await adminOrdersFor(admin, 'cancelled', sku)
  assert.deepEqual(new Set(cancelled.map((o) => o.id)), lostIds, 'every refused checkout left a cancelled order')
  for (const id of lostIds) {
    const o = await admin.get(`/admin/orders/${id}`)
    assert.equal(o.status, 200)
    assert.equal(o.body.status, 'cancelled')
    assert.equal(o.body.payment, null, 'a cancelled order was never charged')
    assert.match(o.body.failureReason, /^EMP_OUT_OF_STOCK: /)
    assert.deepEqual(
      o.body.history.map((h: any) => [h.from, h.to]),
      [
        [null, 'pending'],
        ['pending', 'cancelled'],
      ],
    )
  }
  for (const status of ['pending', 'payment_failed']) {
    assert.deepEqual(await adminOrdersFor(admin, status, sku), [], `no ${status} order for ${sku}`)
  }
}

describe('checkout race for the last units (embedded shop)', () => {
  let shop: TestShop
  before(async () => {
    shop = await startTestShop()
  })
  after(async () => {
    await shop?.stop()
  })

  it('50 customers, 10 units: 10 paid, 40 refused EMP_OUT_OF_STOCK and cancelled, stock 0, no hold left', async () => {
    await assertRaceOutcome(shop, 10, 50)
  })
})

describe('checkout race with a slow payment gateway (TEST_GATEWAY_LATENCY_MS=30)', () => {
  let shop: TestShop
  before(async () => {
    shop = await startTestShop({ TEST_GATEWAY_LATENCY_MS: '30' })
  })
  after(async () => {
    await shop?.stop()
  })

  it('20 customers, 5 units: holds taken before the slow charge still sell exactly 5', async () => {
    await assertRaceOutcome(shop, 5, 20)
  })
})
