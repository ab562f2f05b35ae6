// The API journey a new customer makes: register → search → two items → coupon → checkout, then a decline and a replay.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { startTestShop, type TestShop } from '../support/test-shop.ts'

describe('API journey (embedded shop)', () => {
  let shop: TestShop
  before(async () => {
    shop = await startTestShop()
  })
  after(async () => {
    await shop?.stop()
  })

  const address = {
    name: 'Ada Lovelace',
    line1: '12 Analytical Row',
    city: 'London',
    postalCode: 'N1 9GU',
    country: 'GB',
  }

  it('register → search → add two items → coupon → checkout with tok_visa: paid, stock down, amounts exact', async () => {
    const c = shop.client()
    const session = await c.get('/auth/session')
    assert.equal(session.status, 200)
    assert.equal(session.body.user, null)

    const reg = await c.post('/auth/register', {
      email: 'Ada@Example.com',
      password: 'analytical engine 1843',
      name: 'Ada',
    })
    assert.equal(reg.status, 201)
    assert.equal(reg.body.user.email, 'ada@example.com')
    assert.equal(reg.body.user.role, 'customer')
    assert.ok(reg.body.csrfToken)

    const search = await c.get('/products?q=merino&inStock=true&sort=price_asc&limit=10')
    assert.equal(search.status, 200)
    assert.ok(search.body.total >= 2, 'the demo catalog has merino products')
    const prices = search.body.items.map((p: any) => p.price.amount)
    assert.deepEqual(
      prices,
      [...prices].sort((a: number, b: number) => a - b),
      'sorted by price ascending',
    )
    for (const p of search.body.items) assert.match(`${p.name} ${p.description}`.toLowerCase(), /merino/)

    const [first, second] = search.body.items as any[]
    const v1 = first.variants.find((v: any) => v.available >= 5)
    const v2 = second.variants.find((v: any) => v.available >= 5)
    assert.ok(v1 && v2, 'two in-stock variants')

    let cart = await c.post('/cart/items', { sku: v1.sku, quantity: 2 })
    assert.equal(cart.status, 200)
    cart = await c.post('/cart/items', { sku: v2.sku, quantity: 1 })
    assert.equal(cart.status, 200)
    assert.equal(cart.body.items.length, 2)

    cart = await c.post('/cart/coupon', { code: 'welcome10' })
    assert.equal(cart.status, 200)
    assert.equal(cart.body.coupon.code, 'WELCOME10')
    assert.equal(cart.body.coupon.applied, true)

    // Every amount, recomputed here from catalog prices: 10 % off, 8 % tax on goods after discount, shipping
    // $5.99 below $75 of goods.
    const subtotal = v1.price.amount * 2 + v2.price.amount
    const discount = Math.round(subtotal * 0.1)
    const goods = subtotal - discount
    const shipping = goods >= 7500 ? 0 : 599
    const tax = Math.round(goods * 0.08)
    assert.deepEqual(cart.body.subtotal, { amount: subtotal, currency: 'USD' })
    assert.deepEqual(cart.body.discount, { amount: discount, currency: 'USD' })
    assert.deepEqual(cart.body.shipping, { amount: shipping, currency: 'USD' })
    assert.deepEqual(cart.body.tax, { amount: tax, currency: 'USD' })
    assert.deepEqual(cart.body.total, { amount: goods + shipping + tax, currency: 'USD' })

    const key = `journey-${Date.now()}`
    const placed = await c.post(
      '/checkout',
      { shippingAddress: address, paymentToken: 'tok_visa' },
      { headers: { 'idempotency-key': key } },
    )
    assert.equal(placed.status, 201, JSON.stringify(placed.body))
    const order = placed.body.order
    assert.equal(order.status, 'paid')
    assert.match(order.id, /^ord_/)
    assert.equal(order.total.amount, goods + shipping + tax)
    assert.equal(order.discount.amount, discount)
    assert.equal(order.tax.amount, tax)
    assert.equal(order.payment.last4, '4242')
    assert.deepEqual(
      order.history.map((h: any) => h.to),
      ['pending', 'paid'],
    )
    assert.ok(!Number.isNaN(Date.parse(order.createdAt)))

    const after1 = await c.get(`/products/${first.slug}`)
    const after2 = await c.get(`/products/${second.slug}`)
    assert.equal(after1.body.variants.find((v: any) => v.sku === v1.sku).available, v1.available - 2)
    assert.equal(after2.body.variants.find((v: any) => v.sku === v2.sku).available, v2.available - 1)

    const emptied = await c.get('/cart')
    assert.equal(emptied.body.items.length, 0, 'the cart is emptied by a paid order')

    // The same Idempotency-Key again: the same order, charged once, stock untouched.
    const replay = await c.post(
      '/checkout',
      { shippingAddress: address, paymentToken: 'tok_visa' },
      { headers: { 'idempotency-key': key } },
    )
    assert.equal(replay.status, 201)
    assert.equal(replay.body.order.id, order.id)
    assert.equal(replay.headers.get('idempotent-replayed'), 'true')
    const again = await c.get(`/products/${first.slug}`)
    assert.equal(again.body.variants.find((v: any) => v.sku === v1.sku).available, v1.available - 2)
    const payments = new Database(join(shop.dataDir, 'payments.sqlite'), { readonly: true })
    try {
      const charges = payments.prepare('SELECT count(*) AS n FROM charges WHERE idempotency_key = ?').get(order.id) as {
        n: number
      }
      assert.equal(charges.n, 1, 'one charge for the order')
    } finally {
      payments.close()
    }

    const mine = await c.get('/orders')
    assert.equal(mine.status, 200)
    assert.equal(mine.body.total, 1)
    assert.equal(mine.body.items[0].id, order.id)
    const detail = await c.get(`/orders/${order.id}`)
    assert.equal(detail.body.status, 'paid')
  })

  it('a declined card answers 402, records payment_failed, gives the stock back and keeps the cart', async () => {
    const c = await shop.customer()
    const list = await c.get('/products?category=books&inStock=true&limit=5')
    const variant = list.body.items[0].variants.find((v: any) => v.available >= 3)
    assert.ok(variant)
    await c.post('/cart/items', { sku: variant.sku, quantity: 3 })
    const declined = await c.post(
      '/checkout',
      { shippingAddress: address, paymentToken: 'tok_chargeDeclined' },
      { headers: { 'idempotency-key': `decline-${Date.now()}` } },
    )
    assert.equal(declined.status, 402)
    assert.equal(declined.body.error.code, 'EMP_PAYMENT_DECLINED')
    const orderId = declined.body.error.details.orderId
    const order = await c.get(`/orders/${orderId}`)
    assert.equal(order.body.status, 'payment_failed')
    assert.deepEqual(
      order.body.history.map((h: any) => h.to),
      ['pending', 'payment_failed'],
    )
    const product = await c.get(`/products/${list.body.items[0].slug}`)
    assert.equal(product.body.variants.find((v: any) => v.sku === variant.sku).available, variant.available)
    const cart = await c.get('/cart')
    assert.equal(cart.body.items[0].quantity, 3, 'the cart is kept for another try')

    const insufficient = await c.post(
      '/checkout',
      { shippingAddress: address, paymentToken: 'tok_insufficientFunds' },
      { headers: { 'idempotency-key': `funds-${Date.now()}` } },
    )
    assert.equal(insufficient.status, 402)
    assert.equal(insufficient.body.error.details.declineCode, 'insufficient_funds')

    const retry = await c.post(
      '/checkout',
      { shippingAddress: address, paymentToken: 'tok_visa' },
      { headers: { 'idempotency-key': `retry-${Date.now()}` } },
    )
    assert.equal(retry.status, 201)
    assert.equal(retry.body.order.status, 'paid')
  })

  it('staff ship and deliver; the customer asks for a refund; approval refunds and restocks', async () => {
    const c = await shop.customer()
    const list = await c.get('/products?category=garden&inStock=true&limit=3')
    const p = list.body.items[0]
    const variant = p.variants.find((v: any) => v.available >= 1)
    await c.post('/cart/items', { sku: variant.sku, quantity: 1 })
    const placed = await c.post(
      '/checkout',
      { shippingAddress: address, paymentToken: 'tok_mastercard' },
      { headers: { 'idempotency-key': `refund-${Date.now()}` } },
    )
    assert.equal(placed.status, 201)
    const id = placed.body.order.id
    const admin = await shop.admin()
    assert.equal((await admin.post(`/admin/orders/${id}/ship`, {})).body.status, 'shipped')
    assert.equal((await admin.post(`/admin/orders/${id}/deliver`, {})).body.status, 'delivered')
    const bad = await admin.post(`/admin/orders/${id}/ship`, {})
    assert.equal(bad.status, 409)
    assert.equal(bad.body.error.code, 'EMP_INVALID_TRANSITION')

    const requested = await c.post(`/orders/${id}/refund-requests`, { reason: 'The colour is not what I expected' })
    assert.equal(requested.status, 201)
    const twice = await c.post(`/orders/${id}/refund-requests`, { reason: 'again' })
    assert.equal(twice.status, 409)
    const before = (await c.get(`/products/${p.slug}`)).body.variants.find((v: any) => v.sku === variant.sku).available
    const queue = await admin.get('/admin/refunds?status=requested')
    assert.ok(queue.body.items.some((r: any) => r.id === requested.body.id))
    const approved = await admin.post(`/admin/refunds/${requested.body.id}/approve`, { note: 'ok' })
    assert.equal(approved.status, 200)
    assert.equal(approved.body.order.status, 'refunded')
    assert.equal(approved.body.order.payment.status, 'refunded')
    const afterStock = (await c.get(`/products/${p.slug}`)).body.variants.find(
      (v: any) => v.sku === variant.sku,
    ).available
    assert.equal(afterStock, before + 1, 'the refunded unit is back on sale')
    const history = (await c.get(`/orders/${id}`)).body.history.map((h: any) => h.to)
    assert.deepEqual(history, ['pending', 'paid', 'shipped', 'delivered', 'refund_requested', 'refunded'])
    const again = await admin.post(`/admin/refunds/${requested.body.id}/approve`, {})
    assert.equal(again.status, 409)
  })

  it('serves OpenAPI 3 at /docs/json with the API paths', async () => {
    const res = await fetch(`${shop.url}/docs/json`)
    assert.equal(res.status, 200)
    const doc = (await res.json()) as any
    assert.equal(doc.openapi, '3.0.3')
    for (const path of [
      '/products',
      '/cart/items',
      '/checkout',
      '/orders/{id}',
      '/admin/inventory/{sku}',
      '/auth/login',
    ])
      assert.ok(doc.paths[path], `OpenAPI documents ${path}`)
  })

  it('answers /healthz and /readyz, and serves generated product images', async () => {
    assert.equal((await fetch(`${shop.url}/healthz`)).status, 200)
    const ready = await fetch(`${shop.url}/readyz`)
    assert.equal(ready.status, 200)
    const body = (await ready.json()) as any
    assert.deepEqual(
      body.checks.map((c: any) => [c.name, c.ok]),
      [
        ['commerce-store', true],
        ['session-store', true],
        ['job-queue', true],
        ['payment-gateway', true],
        ['analytics-store', true],
      ],
    )
    const list = await shop.client().get('/products?limit=1')
    const img = await fetch(`${shop.url}${list.body.items[0].images[0]}`)
    assert.equal(img.status, 200)
    assert.equal(img.headers.get('content-type'), 'image/svg+xml')
    assert.match(await img.text(), /^<svg /)
  })
})
