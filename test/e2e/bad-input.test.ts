// Bad input over the real HTTP API: every refusal has a clear status, error code and (where one field is to blame)
// error.fields naming it, and a refused request leaves nothing half-written: cart, orders, stock and users unchanged.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { ApiClient, ApiResponse } from '../support/http-client.ts'
import { ADMIN, startTestShop, type TestShop } from '../support/test-shop.ts'

interface CatalogVariant {
  sku: string
  slug: string
  price: number
  available: number
}

const PASSWORD = 'correct horse battery'
const ADDRESS = {
  name: 'Ada Lovelace',
  line1: '12 Analytical Row',
  city: 'London',
  postalCode: 'N1 9GU',
  country: 'GB',
}

/** Asserts the one error shape: status, JSON, `error.code`, a message, and `error.fields[field]` when given. */
function expectError(r: ApiResponse, status: number, code: string, field?: string): void {
  const seen = `${r.status} ${JSON.stringify(r.body)}`
  assert.equal(r.status, status, `expected ${status} ${code}, got ${seen}`)
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `JSON error body: ${seen}`)
  assert.equal(r.body?.error?.code, code, `error code: ${seen}`)
  assert.equal(typeof r.body.error.message, 'string')
  assert.ok(r.body.error.message.length > 0, 'the error has a message')
  if (field !== undefined) {
    assert.equal(typeof r.body.error.fields?.[field], 'string', `error.fields names "${field}": ${seen}`)
    assert.ok(r.body.error.fields[field].length > 0)
  }
}

/** What a customer's cart holds, in a form that compares exactly. */
async function cartState(c: ApiClient) {
  const r = await c.get('/cart')
  assert.equal(r.status, 200)
  return {
    items: r.body.items.map((i: any) => ({ sku: i.sku, quantity: i.quantity, unitPrice: i.unitPrice.amount })),
    coupon: r.body.coupon ? r.body.coupon.code : null,
    total: r.body.total.amount,
  }
}

async function stockOf(c: ApiClient, v: CatalogVariant): Promise<number> {
  const r = await c.get(`/products/${v.slug}`)
  assert.equal(r.status, 200)
  const found = r.body.variants.find((x: any) => x.sku === v.sku)
  assert.ok(found, `variant ${v.sku} is on /products/${v.slug}`)
  return found.available
}

async function userCount(admin: ApiClient, q?: string): Promise<number> {
  const r = await admin.get(`/admin/users?limit=1${q ? `&q=${encodeURIComponent(q)}` : ''}`)
  assert.equal(r.status, 200)
  return r.body.total
}

async function orderCount(c: ApiClient): Promise<number> {
  const r = await c.get('/orders?limit=1')
  assert.equal(r.status, 200)
  return r.body.total
}

describe('bad input (embedded shop, default limits)', () => {
  let shop: TestShop
  let admin: ApiClient
  let catalogTotal: number
  const pool: CatalogVariant[] = []
  /** A variant no other test touches, so stock comparisons are exact. */
  const take = (): CatalogVariant => {
    const v = pool.shift()
    assert.ok(v, 'the demo catalog has enough cheap in-stock variants')
    return v
  }
  let n = 0
  const customer = (label: string) => shop.customer(`${label}.${++n}@example.com`)

  before(async () => {
    shop = await startTestShop()
    admin = await shop.admin()
    const list = await admin.get('/products?inStock=true&sort=price_asc&limit=100')
    assert.equal(list.status, 200)
    for (const p of list.body.items)
      for (const v of p.variants)
        if (v.available >= 20) pool.push({ sku: v.sku, slug: p.slug, price: v.price.amount, available: v.available })
    catalogTotal = (await admin.get('/products?limit=1')).body.total
    assert.ok(catalogTotal > 100, 'the demo catalog is seeded')
  })
  after(async () => {
    await shop?.stop()
  })

  it('malformed JSON → 400 EMP_MALFORMED_JSON and the cart is unchanged', async () => {
    const c = await customer('malformed')
    const v = take()
    assert.equal((await c.post('/cart/items', { sku: v.sku, quantity: 1 })).status, 200)
    const before = await cartState(c)
    for (const raw of [
      '{"sku": ',
      `{'sku': '${v.sku}', 'quantity': 1}`,
      `{"sku": "${v.sku}", "quantity": 1,}`,
      `{"sku": "${v.sku}" "quantity": 1}`,
      'undefined',
    ]) {
      expectError(await c.request('POST', '/cart/items', undefined, { raw }), 400, 'EMP_MALFORMED_JSON')
    }
    expectError(
      await c.request('POST', '/auth/login', undefined, { raw: '{"email": "a@b.co", "password": ' }),
      400,
      'EMP_MALFORMED_JSON',
    )
    assert.deepEqual(await cartState(c), before)
  })

  it('empty body where one is required → 400 (empty JSON: EMP_MALFORMED_JSON; none, null or []: EMP_VALIDATION)', async () => {
    const c = await customer('empty')
    const v = take()
    assert.equal((await c.post('/cart/items', { sku: v.sku, quantity: 2 })).status, 200)
    const before = await cartState(c)
    expectError(await c.request('POST', '/cart/items', undefined, { raw: '' }), 400, 'EMP_MALFORMED_JSON')
    // No body at all is checked as {}: each missing field is named.
    expectError(await c.request('POST', '/cart/items'), 400, 'EMP_VALIDATION', 'sku')
    expectError(await c.request('POST', '/cart/items', undefined, { raw: 'null' }), 400, 'EMP_VALIDATION', 'sku')
    expectError(await c.request('POST', '/cart/items', undefined, { raw: '[]' }), 400, 'EMP_VALIDATION', '(body)')
    expectError(await c.request('POST', '/cart/coupon'), 400, 'EMP_VALIDATION', 'code')
    expectError(
      await c.request('PATCH', `/cart/items/${v.sku}`, undefined, { raw: '{}' }),
      400,
      'EMP_VALIDATION',
      'quantity',
    )
    assert.deepEqual(await cartState(c), before)
    const users = await userCount(admin)
    expectError(await shop.client().request('POST', '/auth/register'), 400, 'EMP_VALIDATION', 'email')
    expectError(await shop.client().request('POST', '/auth/register', undefined, { raw: '{}' }), 400, 'EMP_VALIDATION')
    assert.equal(await userCount(admin), users, 'no user created')
  })

  it('a content type other than JSON (XML, multipart, octet-stream) → 415 EMP_UNSUPPORTED_MEDIA_TYPE; nothing written', async () => {
    const c = await customer('ctype')
    const v = take()
    const before = await cartState(c)
    const users = await userCount(admin)
    for (const [type, raw] of [
      ['application/xml', `<item><sku>${v.sku}</sku><quantity>1</quantity></item>`],
      ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="sku"\r\n\r\n${v.sku}\r\n--x--`],
      ['application/octet-stream', JSON.stringify({ sku: v.sku, quantity: 1 })],
    ] as const) {
      const r = await c.request('POST', '/cart/items', undefined, { raw, headers: { 'content-type': type } })
      expectError(r, 415, 'EMP_UNSUPPORTED_MEDIA_TYPE')
      const reg = await shop.client().request('POST', '/auth/register', undefined, {
        raw: JSON.stringify({ email: 'ct@example.com', password: PASSWORD, name: 'X' }),
        headers: { 'content-type': type },
      })
      expectError(reg, 415, 'EMP_UNSUPPORTED_MEDIA_TYPE')
    }
    assert.deepEqual(await cartState(c), before)
    assert.equal(await userCount(admin), users, 'no user created')
  })

  it('the 415 message names the content type that was sent (not "Unsupported Media Type")', async () => {
    const c = await customer('ctype-msg')
    const r = await c.request('POST', '/cart/items', undefined, {
      raw: '<item/>',
      headers: { 'content-type': 'application/xml' },
    })
    expectError(r, 415, 'EMP_UNSUPPORTED_MEDIA_TYPE')
    assert.match(r.body.error.message, /application\/xml/, `message: ${r.body.error.message}`)
  })

  it('the JSON API refuses form-encoded and text/plain bodies (415): a cross-site HTML form cannot sign in or register', async () => {
    // A cross-site <form> may POST these types without a CORS preflight, and with SameSite=Lax the victim's cookie
    // is not sent, so no CSRF check applies: accepting them lets another site sign a browser into an account.
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    const c = shop.client()
    const login = await c.request('POST', '/auth/login', undefined, {
      raw: `email=${encodeURIComponent(ADMIN.email)}&password=${encodeURIComponent(ADMIN.password)}`,
      headers: form,
    })
    assert.equal(login.headers.getSetCookie().length, 0, `no session from a form-encoded login: ${login.status}`)
    expectError(login, 415, 'EMP_UNSUPPORTED_MEDIA_TYPE')
    const users = await userCount(admin)
    const reg = await shop.client().request('POST', '/auth/register', undefined, {
      raw: `email=formy%40example.com&password=${encodeURIComponent(PASSWORD)}&name=Formy`,
      headers: form,
    })
    expectError(reg, 415, 'EMP_UNSUPPORTED_MEDIA_TYPE')
    assert.equal(await userCount(admin), users, 'no user created')
    const cust = await customer('textplain')
    const v = take()
    const before = await cartState(cust)
    const r = await cust.request('POST', '/cart/items', undefined, {
      raw: JSON.stringify({ sku: v.sku, quantity: 1 }),
      headers: { 'content-type': 'text/plain' },
    })
    expectError(r, 415, 'EMP_UNSUPPORTED_MEDIA_TYPE')
    assert.deepEqual(await cartState(cust), before)
  })

  it('missing fields → 400 EMP_VALIDATION naming each missing field; nothing written', async () => {
    const c = await customer('missing')
    const v = take()
    const before = await cartState(c)
    expectError(await c.post('/cart/items', { sku: v.sku }), 400, 'EMP_VALIDATION', 'quantity')
    expectError(await c.post('/cart/items', { quantity: 1 }), 400, 'EMP_VALIDATION', 'sku')
    const both = await c.post('/cart/items', {})
    expectError(both, 400, 'EMP_VALIDATION', 'sku')
    assert.equal(both.body.error.fields.quantity, 'Required', 'every missing field is listed, not just the first')
    expectError(await c.post('/cart/coupon', {}), 400, 'EMP_VALIDATION', 'code')
    expectError(
      await c.post('/checkout', { shippingAddress: ADDRESS }, { headers: { 'idempotency-key': 'missing-fields-1' } }),
      400,
      'EMP_VALIDATION',
      'paymentToken',
    )
    assert.deepEqual(await cartState(c), before)
    const users = await userCount(admin)
    expectError(
      await shop.client().post('/auth/register', { email: 'noname@example.com', password: PASSWORD }),
      400,
      'EMP_VALIDATION',
      'name',
    )
    expectError(await shop.client().post('/auth/login', { email: ADMIN.email }), 400, 'EMP_VALIDATION', 'password')
    assert.equal(await userCount(admin), users)
  })

  it('a client-sent price is refused (400, fields.price) and the cart stays priced from the catalog', async () => {
    const c = await customer('price')
    const v = take()
    const before = await cartState(c)
    expectError(await c.post('/cart/items', { sku: v.sku, quantity: 1, price: 1 }), 400, 'EMP_VALIDATION', 'price')
    expectError(
      await c.post('/cart/items', { sku: v.sku, quantity: 1, unitPrice: { amount: 1, currency: 'USD' } }),
      400,
      'EMP_VALIDATION',
      'unitPrice',
    )
    assert.deepEqual(await cartState(c), before, 'the refused request added nothing')
    const ok = await c.post('/cart/items', { sku: v.sku, quantity: 2 })
    assert.equal(ok.status, 200)
    const line = ok.body.items.find((i: any) => i.sku === v.sku)
    const catalog = (await c.get(`/products/${v.slug}`)).body.variants.find((x: any) => x.sku === v.sku)
    assert.equal(line.unitPrice.amount, catalog.price.amount, 'unit price equals the catalog price')
    assert.equal(line.unitPrice.amount, v.price)
    assert.notEqual(line.unitPrice.amount, 1)
    assert.equal(line.lineTotal.amount, v.price * 2)
    assert.equal(ok.body.subtotal.amount, v.price * 2)
  })

  it('quantities 0, -1, 1.5, 1e9, "2", null, true → 400 EMP_VALIDATION on quantity; the cart is unchanged', async () => {
    const c = await customer('qty')
    const v = take()
    assert.equal((await c.post('/cart/items', { sku: v.sku, quantity: 1 })).status, 200)
    const before = await cartState(c)
    for (const q of ['0', '-1', '1.5', '1e9', '"2"', 'null', 'true', '[1]', '{"$gt": 0}']) {
      const raw = `{"sku": "${v.sku}", "quantity": ${q}}`
      expectError(await c.request('POST', '/cart/items', undefined, { raw }), 400, 'EMP_VALIDATION', 'quantity')
    }
    for (const q of ['-1', '1.5', '1e9', '"2"', 'null', 'true']) {
      const raw = `{"quantity": ${q}}`
      const r = await c.request('PATCH', `/cart/items/${v.sku}`, undefined, { raw })
      expectError(r, 400, 'EMP_VALIDATION', 'quantity')
    }
    assert.deepEqual(await cartState(c), before)
    assert.equal(await stockOf(c, v), v.available, 'stock untouched')
  })

  it('more than the stock → 409 EMP_INSUFFICIENT_STOCK; more than 99 of a line in total → 422 EMP_CART_LIMIT', async () => {
    const c = await customer('limits')
    const v = take()
    assert.equal((await admin.put(`/admin/inventory/${v.sku}`, { available: 500 })).status, 200)
    const scarce = take()
    assert.equal((await admin.put(`/admin/inventory/${scarce.sku}`, { available: 3 })).status, 200)
    assert.equal((await c.post('/cart/items', { sku: v.sku, quantity: 60 })).status, 200)
    const before = await cartState(c)
    expectError(await c.post('/cart/items', { sku: v.sku, quantity: 40 }), 422, 'EMP_CART_LIMIT', 'quantity')
    const tooMany = await c.post('/cart/items', { sku: scarce.sku, quantity: 4 })
    expectError(tooMany, 409, 'EMP_INSUFFICIENT_STOCK')
    assert.deepEqual(tooMany.body.error.details, { sku: scarce.sku, available: 3 })
    assert.deepEqual(await cartState(c), before)
  })

  it('unknown SKU and SKUs with odd characters → 422 EMP_UNKNOWN_SKU (or 400 when malformed); nothing written', async () => {
    const c = await customer('sku')
    const v = take()
    assert.equal((await c.post('/cart/items', { sku: v.sku, quantity: 1 })).status, 200)
    const before = await cartState(c)
    for (const sku of [
      'NOPE-0000-00',
      "X'; DROP TABLE carts; --",
      '" OR ""="',
      '<script>alert(1)</script>',
      '../../etc/passwd',
      'Ä😀\u0000\u202e',
      `${v.sku}%`,
      `${v.sku.toLowerCase()}`,
    ]) {
      const r = await c.post('/cart/items', { sku, quantity: 1 })
      expectError(r, 422, 'EMP_UNKNOWN_SKU', 'sku')
    }
    expectError(await c.post('/cart/items', { sku: 'A'.repeat(65), quantity: 1 }), 400, 'EMP_VALIDATION', 'sku')
    expectError(await c.post('/cart/items', { sku: '', quantity: 1 }), 400, 'EMP_VALIDATION', 'sku')
    for (const path of ['../etc', "X'--", '<b>', ' space']) {
      const r = await c.patch(`/cart/items/${encodeURIComponent(path)}`, { quantity: 1 })
      expectError(r, 400, 'EMP_VALIDATION', 'sku')
    }
    expectError(await c.patch('/cart/items/NOPE-0000-00', { quantity: 1 }), 404, 'EMP_NOT_FOUND')
    assert.deepEqual(await cartState(c), before)
    const still = await c.get('/products?limit=1')
    assert.equal(still.status, 200)
    assert.equal(still.body.total, catalogTotal, 'the catalog is intact')
  })

  it('coupons: unknown 422, malformed 400, expired 422 EXPIRED, below minimum 422 MIN_SUBTOTAL; lower case works', async () => {
    const c = await customer('coupon')
    const v = take()
    assert.ok(v.price < 3000, 'a variant under $30')
    assert.equal((await c.post('/cart/items', { sku: v.sku, quantity: 1 })).status, 200)
    const before = await cartState(c)
    assert.equal(before.coupon, null)
    expectError(await c.post('/cart/coupon', { code: 'NOPE' }), 422, 'EMP_COUPON_INVALID')
    expectError(await c.post('/cart/coupon', { code: 'WELCOME10; DROP' }), 400, 'EMP_VALIDATION', 'code')
    expectError(await c.post('/cart/coupon', { code: '$gt' }), 400, 'EMP_VALIDATION', 'code')
    expectError(await c.post('/cart/coupon', { code: 'X'.repeat(33) }), 400, 'EMP_VALIDATION', 'code')
    expectError(await c.post('/cart/coupon', { code: { $ne: null } }), 400, 'EMP_VALIDATION', 'code')
    expectError(await c.post('/cart/coupon', { code: 'EXPIRED15' }), 422, 'EMP_COUPON_EXPIRED')
    expectError(await c.post('/cart/coupon', { code: 'expired15' }), 422, 'EMP_COUPON_EXPIRED')
    const save5 = await c.post('/cart/coupon', { code: 'SAVE5' })
    expectError(save5, 422, 'EMP_COUPON_MIN_SUBTOTAL')
    assert.match(save5.body.error.message, /\$30\.00/)
    const spring = await c.post('/cart/coupon', { code: 'SPRING25' })
    expectError(spring, 422, 'EMP_COUPON_MIN_SUBTOTAL')
    assert.match(spring.body.error.message, /\$100\.00/)
    assert.deepEqual(await cartState(c), before, 'no refused coupon was stored')

    const ok = await c.post('/cart/coupon', { code: ' welcome10 ' })
    assert.equal(ok.status, 200)
    assert.deepEqual(ok.body.coupon, { code: 'WELCOME10', applied: true, message: '10 % off your order' })
    assert.equal(ok.body.discount.amount, Math.round(v.price * 0.1))
    assert.equal(ok.body.subtotal.amount, v.price)
  })

  it('refusals tied to one input name it in error.fields (coupon → code, taken e-mail → email)', async () => {
    const c = await customer('coupon-fields')
    const v = take()
    assert.equal((await c.post('/cart/items', { sku: v.sku, quantity: 1 })).status, 200)
    expectError(await c.post('/cart/coupon', { code: 'NOPE' }), 422, 'EMP_COUPON_INVALID', 'code')
    expectError(await c.post('/cart/coupon', { code: 'EXPIRED15' }), 422, 'EMP_COUPON_EXPIRED', 'code')
    expectError(await c.post('/cart/coupon', { code: 'SAVE5' }), 422, 'EMP_COUPON_MIN_SUBTOTAL', 'code')
    const dup = await shop.client().post('/auth/register', { email: ADMIN.email, password: PASSWORD, name: 'X' })
    expectError(dup, 409, 'EMP_EMAIL_TAKEN', 'email')
  })

  it("another customer's order answers 404 like a missing one, for GET and for a refund request; nothing changes", async () => {
    const owner = await customer('owner')
    const other = await customer('other')
    const v = take()
    assert.equal((await owner.post('/cart/items', { sku: v.sku, quantity: 1 })).status, 200)
    const placed = await owner.post(
      '/checkout',
      { shippingAddress: ADDRESS, paymentToken: 'tok_visa' },
      { headers: { 'idempotency-key': 'owner-order-0001' } },
    )
    assert.equal(placed.status, 201)
    const id = placed.body.order.id
    const refundsBefore = (await admin.get('/admin/refunds?limit=1')).body.total

    const foreign = await other.get(`/orders/${id}`)
    expectError(foreign, 404, 'EMP_NOT_FOUND')
    const missing = await other.get('/orders/ord_doesnotexist0000000000000000')
    expectError(missing, 404, 'EMP_NOT_FOUND')
    assert.deepEqual(foreign.body, missing.body, 'a foreign id and an unknown id are indistinguishable')

    const refund = await other.post(`/orders/${id}/refund-requests`, { reason: 'I want it' })
    expectError(refund, 404, 'EMP_NOT_FOUND')
    const refundMissing = await other.post('/orders/ord_doesnotexist0000000000000000/refund-requests', {
      reason: 'I want it',
    })
    assert.deepEqual(refund.body, refundMissing.body)
    assert.equal((await other.get('/orders')).body.total, 0)

    const mine = await owner.get(`/orders/${id}`)
    assert.equal(mine.status, 200)
    assert.equal(mine.body.status, 'paid', 'the order did not move to refund_requested')
    assert.equal((await admin.get('/admin/refunds?limit=1')).body.total, refundsBefore, 'no refund was created')
  })

  it('objects where strings belong ({"$gt": ""}) at login and register → 400 EMP_VALIDATION; no bypass, no user', async () => {
    const users = await userCount(admin)
    for (const body of [
      { email: { $gt: '' }, password: ADMIN.password },
      { email: ADMIN.email, password: { $gt: '' } },
      { email: ADMIN.email, password: { $ne: null } },
      { email: [ADMIN.email], password: [ADMIN.password] },
      { email: ADMIN.email, password: true },
    ]) {
      const c = shop.client()
      const r = await c.post('/auth/login', body)
      const field = typeof body.email === 'string' ? 'password' : 'email'
      expectError(r, 400, 'EMP_VALIDATION', field)
      assert.equal(r.headers.getSetCookie().length, 0, 'no session cookie')
      const session = await c.get('/auth/session')
      assert.equal(session.body.user, null, 'not signed in')
      expectError(await c.get('/me'), 401, 'EMP_AUTH_REQUIRED')
    }
    for (const body of [
      { email: { $gt: '' }, password: PASSWORD, name: 'Mallory' },
      { email: 'mallory@example.com', password: { $gt: '' }, name: 'Mallory' },
      { email: 'mallory@example.com', password: PASSWORD, name: { $gt: '' } },
    ]) {
      const r = await shop.client().post('/auth/register', body)
      expectError(r, 400, 'EMP_VALIDATION')
      assert.ok(Object.keys(r.body.error.fields ?? {}).length === 1, `one field is named: ${JSON.stringify(r.body)}`)
    }
    assert.equal(await userCount(admin), users, 'no user created')
    assert.equal(await userCount(admin, 'mallory'), 0)
  })

  it('SQL-like and FTS-syntax search strings answer 200 with sane results; q over 200 characters → 400', async () => {
    const c = shop.client()
    for (const q of [
      "' OR 1=1 --",
      '"',
      '*',
      'NEAR(',
      '%',
      'a" OR "b',
      'merino)) UNION SELECT',
      '-',
      'AND OR NOT',
      '\\',
    ]) {
      const r = await c.get(`/products?q=${encodeURIComponent(q)}&limit=10`)
      assert.equal(r.status, 200, `q=${q}: ${JSON.stringify(r.body).slice(0, 200)}`)
      assert.ok(Array.isArray(r.body.items))
      assert.ok(Number.isInteger(r.body.total) && r.body.total >= 0 && r.body.total <= catalogTotal, `q=${q}`)
      assert.ok(r.body.items.length <= 10)
      assert.equal(r.body.page, 1)
      for (const p of r.body.items) assert.equal(typeof p.slug, 'string')
    }
    const injection = await c.get(`/products?q=${encodeURIComponent("' OR 1=1 --")}`)
    assert.ok(injection.body.total < catalogTotal, "' OR 1=1 -- does not widen the search to every product")
    const merino = await c.get('/products?q=merino')
    const quoted = await c.get(`/products?q=${encodeURIComponent('"merino"')}`)
    assert.equal(quoted.body.total, merino.body.total, 'quotes are not FTS syntax')
    assert.equal((await c.get(`/products?q=${'a'.repeat(200)}`)).status, 200)
    expectError(await c.get(`/products?q=${'a'.repeat(201)}`), 400, 'EMP_VALIDATION', 'q')
  })

  it('a body over BODY_LIMIT (256 KiB) → 413 EMP_BODY_TOO_LARGE; nothing written', async () => {
    const c = await customer('big')
    const v = take()
    const before = await cartState(c)
    const users = await userCount(admin)
    const big = JSON.stringify({ sku: v.sku, quantity: 1, pad: 'x'.repeat(300 * 1024) })
    expectError(await c.request('POST', '/cart/items', undefined, { raw: big }), 413, 'EMP_BODY_TOO_LARGE')
    const reg = JSON.stringify({ email: 'big@example.com', password: PASSWORD, name: 'n'.repeat(300 * 1024) })
    expectError(
      await shop.client().request('POST', '/auth/register', undefined, { raw: reg }),
      413,
      'EMP_BODY_TOO_LARGE',
    )
    assert.deepEqual(await cartState(c), before)
    assert.equal(await userCount(admin), users)
    // Just under the limit is parsed (and then refused by the schema for the extra field), not cut off.
    const under = JSON.stringify({ sku: v.sku, quantity: 1, pad: 'x'.repeat(200 * 1024) })
    expectError(await c.request('POST', '/cart/items', undefined, { raw: under }), 400, 'EMP_VALIDATION', 'pad')
  })

  it('the 413 message states the real limit (262144 bytes), not 0', async () => {
    const c = shop.client()
    const r = await c.request('POST', '/cart/items', undefined, {
      raw: JSON.stringify({ pad: 'x'.repeat(300 * 1024) }),
    })
    expectError(r, 413, 'EMP_BODY_TOO_LARGE')
    assert.match(r.body.error.message, /262144/, `message: ${r.body.error.message}`)
  })

  it('with a session cookie, a missing or wrong x-csrf-token → 403 EMP_CSRF and nothing changes', async () => {
    const c = await customer('csrf')
    const other = await customer('csrf-other')
    const v = take()
    const w = take()
    assert.equal((await c.post('/cart/items', { sku: v.sku, quantity: 1 })).status, 200)
    const before = await cartState(c)
    const noCsrf = { csrf: false }
    expectError(await c.post('/cart/items', { sku: w.sku, quantity: 1 }, noCsrf), 403, 'EMP_CSRF')
    expectError(await c.request('PATCH', `/cart/items/${v.sku}`, { quantity: 5 }, noCsrf), 403, 'EMP_CSRF')
    expectError(await c.request('DELETE', `/cart/items/${v.sku}`, undefined, noCsrf), 403, 'EMP_CSRF')
    expectError(await c.post('/cart/coupon', { code: 'WELCOME10' }, noCsrf), 403, 'EMP_CSRF')
    for (const token of ['', 'wrong', `${c.csrfToken}x`, other.csrfToken ?? 'missing', (c.csrfToken ?? '').slice(1)]) {
      const r = await c.post('/cart/items', { sku: w.sku, quantity: 1 }, { headers: { 'x-csrf-token': token } })
      expectError(r, 403, 'EMP_CSRF')
    }
    // A wrong `_csrf` field in the body (the form fallback) is refused as well.
    expectError(await c.post('/cart/items', { sku: w.sku, quantity: 1, _csrf: 'wrong' }, noCsrf), 403, 'EMP_CSRF')
    assert.deepEqual(await cartState(c), before)

    expectError(await c.post('/me/tokens', { name: 'sneaky' }, noCsrf), 403, 'EMP_CSRF')
    assert.deepEqual((await c.get('/me/tokens')).body.items, [], 'no token created')
    const pw = await c.request(
      'PUT',
      '/me/password',
      { currentPassword: PASSWORD, newPassword: 'an entirely new phrase' },
      noCsrf,
    )
    expectError(pw, 403, 'EMP_CSRF')
    expectError(await c.post('/auth/logout', undefined, noCsrf), 403, 'EMP_CSRF')
    assert.equal((await c.get('/me')).status, 200, 'still signed in: logout was refused')
    const me = (await c.get('/me')).body.email
    assert.equal(
      (await shop.client().post('/auth/login', { email: me, password: PASSWORD })).status,
      200,
      'old password',
    )
  })

  it('a revoked or unknown API token → 401 EMP_INVALID_TOKEN, even on public routes; nothing changes', async () => {
    const c = await customer('revoked')
    const v = take()
    const created = await c.post('/me/tokens', { name: 'ci' })
    assert.equal(created.status, 201)
    assert.equal((await c.delete(`/me/tokens/${created.body.id}`)).status, 204)
    const before = await cartState(c)
    const t = shop.client()
    t.bearer = created.body.secret
    expectError(await t.get('/me'), 401, 'EMP_INVALID_TOKEN')
    expectError(await t.post('/cart/items', { sku: v.sku, quantity: 1 }), 401, 'EMP_INVALID_TOKEN')
    expectError(await t.get('/products?limit=1'), 401, 'EMP_INVALID_TOKEN')
    for (const bearer of [
      'emp_not-a-real-token',
      'not-even-prefixed',
      `${created.body.secret}x`,
      `emp_${'a'.repeat(300)}`,
    ]) {
      const u = shop.client()
      u.bearer = bearer
      expectError(await u.get('/me'), 401, 'EMP_INVALID_TOKEN')
    }
    assert.deepEqual(await cartState(c), before)
  })

  describe('checkout', () => {
    let c: ApiClient
    let v: CatalogVariant
    let stock: number
    const checkout = (body: unknown, key?: string) =>
      c.post('/checkout', body, key === undefined ? {} : { headers: { 'idempotency-key': key } })

    before(async () => {
      c = await customer('checkout')
      v = take()
      stock = await stockOf(c, v)
    })

    const nothingWritten = async (cart: unknown, adminOrders: number) => {
      assert.deepEqual(await cartState(c), cart, 'cart unchanged')
      assert.equal(await orderCount(c), 0, 'no order created')
      assert.equal((await admin.get('/admin/orders?limit=1')).body.total, adminOrders, 'no order anywhere')
      assert.equal(await stockOf(c, v), stock, 'stock unchanged')
    }

    it('with an empty cart → 422 EMP_CART_EMPTY and no order', async () => {
      const orders = (await admin.get('/admin/orders?limit=1')).body.total
      expectError(
        await checkout({ shippingAddress: ADDRESS, paymentToken: 'tok_visa' }, 'empty-cart-01'),
        422,
        'EMP_CART_EMPTY',
      )
      await nothingWritten(await cartState(c), orders)
    })

    it('without an Idempotency-Key → 400 EMP_IDEMPOTENCY_KEY_REQUIRED; a malformed key → 400 naming the header', async () => {
      assert.equal((await c.post('/cart/items', { sku: v.sku, quantity: 2 })).status, 200)
      const cart = await cartState(c)
      const orders = (await admin.get('/admin/orders?limit=1')).body.total
      const body = { shippingAddress: ADDRESS, paymentToken: 'tok_visa' }
      expectError(await checkout(body), 400, 'EMP_IDEMPOTENCY_KEY_REQUIRED')
      for (const key of ['', 'short', 'has spaces in it', 'semi;colon;key', 'k'.repeat(201)]) {
        expectError(await checkout(body, key), 400, 'EMP_VALIDATION', 'idempotency-key')
      }
      await nothingWritten(cart, orders)
    })

    it('bad address fields and payment tokens → 400 EMP_VALIDATION naming the field; then the same key still works', async () => {
      const cart = await cartState(c)
      assert.ok(cart.items.length > 0)
      const orders = (await admin.get('/admin/orders?limit=1')).body.total
      const key = 'bad-address-0001'
      const cases: [unknown, string][] = [
        [{ shippingAddress: { ...ADDRESS, country: 'USA' }, paymentToken: 'tok_visa' }, 'shippingAddress.country'],
        [{ shippingAddress: { ...ADDRESS, country: 'u1' }, paymentToken: 'tok_visa' }, 'shippingAddress.country'],
        [{ shippingAddress: { ...ADDRESS, city: undefined }, paymentToken: 'tok_visa' }, 'shippingAddress.city'],
        [{ shippingAddress: { ...ADDRESS, city: '   ' }, paymentToken: 'tok_visa' }, 'shippingAddress.city'],
        [
          { shippingAddress: { ...ADDRESS, postalCode: '<script>' }, paymentToken: 'tok_visa' },
          'shippingAddress.postalCode',
        ],
        [
          { shippingAddress: { ...ADDRESS, postalCode: { $gt: '' } }, paymentToken: 'tok_visa' },
          'shippingAddress.postalCode',
        ],
        [{ shippingAddress: { ...ADDRESS, $where: '1' }, paymentToken: 'tok_visa' }, 'shippingAddress.$where'],
        [{ shippingAddress: ADDRESS, paymentToken: 'tok_visa', total: 1 }, 'total'],
        [{ shippingAddress: 'London', paymentToken: 'tok_visa' }, 'shippingAddress'],
        [{ shippingAddress: ADDRESS, paymentToken: 'card_visa' }, 'paymentToken'],
        [{ shippingAddress: ADDRESS, paymentToken: 'tok_' }, 'paymentToken'],
        [{ shippingAddress: ADDRESS, paymentToken: 'tok_<script>' }, 'paymentToken'],
        [{ shippingAddress: ADDRESS, paymentToken: 'TOK_visa' }, 'paymentToken'],
      ]
      for (const [body, field] of cases) expectError(await checkout(body, key), 400, 'EMP_VALIDATION', field)
      await nothingWritten(cart, orders)

      const ok = await checkout({ shippingAddress: ADDRESS, paymentToken: 'tok_visa' }, key)
      assert.equal(ok.status, 201, `the refused attempts did not claim the key: ${JSON.stringify(ok.body)}`)
      assert.equal(ok.body.order.status, 'paid')
      assert.equal(ok.headers.get('idempotent-replayed'), null)
    })

    it('a line that went out of stock → 409 EMP_OUT_OF_STOCK; every hold released, the cart kept, nothing paid', async () => {
      const d = await customer('oos')
      const plenty = take()
      const scarce = take()
      assert.equal((await d.post('/cart/items', { sku: plenty.sku, quantity: 2 })).status, 200)
      assert.equal((await d.post('/cart/items', { sku: scarce.sku, quantity: 3 })).status, 200)
      assert.equal((await admin.put(`/admin/inventory/${scarce.sku}`, { available: 1 })).status, 200)
      const cart = await cartState(d)
      const plentyStock = await stockOf(d, plenty)
      const r = await d.post(
        '/checkout',
        { shippingAddress: ADDRESS, paymentToken: 'tok_visa' },
        { headers: { 'idempotency-key': 'oos-order-0001' } },
      )
      expectError(r, 409, 'EMP_OUT_OF_STOCK')
      assert.equal(r.body.error.details.sku, scarce.sku)
      assert.equal(await stockOf(d, plenty), plentyStock, 'the reserved line was released')
      assert.equal(await stockOf(d, scarce), 1)
      assert.deepEqual(await cartState(d), cart)
      const orders = (await d.get('/orders')).body.items
      assert.ok(
        orders.every((o: any) => o.status === 'cancelled'),
        `no paid order: ${orders.map((o: any) => o.status)}`,
      )
    })
  })

  describe('registration', () => {
    it('a weak password → 422 EMP_WEAK_PASSWORD naming password; no user', async () => {
      for (const [email, password] of [
        ['weak1@example.com', 'short'],
        ['weak2@example.com', 'aaaaaaaaaaaa'],
        ['horsebattery@example.com', 'my horsebattery 1'],
        ['weak4@example.com', 'x'.repeat(257)],
      ] as const) {
        const r = await shop.client().post('/auth/register', { email, password, name: 'Weak' })
        if (password.length > 256) expectError(r, 400, 'EMP_VALIDATION', 'password')
        else expectError(r, 422, 'EMP_WEAK_PASSWORD', 'password')
        assert.equal(await userCount(admin, email), 0, `${email} not created`)
      }
    })

    it('a duplicate e-mail in another case → 409 EMP_EMAIL_TAKEN; the first account keeps its password', async () => {
      const email = 'Twice@Example.com'
      assert.equal((await shop.client().post('/auth/register', { email, password: PASSWORD, name: 'One' })).status, 201)
      const users = await userCount(admin)
      for (const again of ['twice@example.com', 'TWICE@EXAMPLE.COM', '  twice@example.com  ']) {
        const r = await shop
          .client()
          .post('/auth/register', { email: again, password: 'another good phrase', name: 'Two' })
        expectError(r, 409, 'EMP_EMAIL_TAKEN')
        assert.equal(r.headers.getSetCookie().length, 0, 'no session for a refused registration')
      }
      assert.equal(await userCount(admin), users)
      assert.equal((await shop.client().post('/auth/login', { email, password: PASSWORD })).status, 200)
      const hijack = await shop.client().post('/auth/login', { email, password: 'another good phrase' })
      expectError(hijack, 401, 'EMP_INVALID_CREDENTIALS')
    })

    it('an invalid e-mail → 400 EMP_VALIDATION naming email; no user', async () => {
      const users = await userCount(admin)
      for (const email of ['not-an-email', 'a@b', 'two words@example.com', '<script>@x.com', 'a@@b.co', 'ab']) {
        const r = await shop.client().post('/auth/register', { email, password: PASSWORD, name: 'Bad' })
        expectError(r, 400, 'EMP_VALIDATION', 'email')
      }
      assert.equal(await userCount(admin), users)
    })

    it('a role sent at registration is refused (400 naming role), not granted', async () => {
      const r = await shop.client().post('/auth/register', {
        email: 'wannabe@example.com',
        password: PASSWORD,
        name: 'Wannabe',
        role: 'admin',
      })
      expectError(r, 400, 'EMP_VALIDATION', 'role')
      assert.equal(await userCount(admin, 'wannabe@example.com'), 0)
    })
  })

  it('dotted, $-prefixed and prototype keys in bodies → 400; nothing written, nothing polluted', async () => {
    const c = await customer('keys')
    const v = take()
    const before = await cartState(c)
    for (const key of ['$where', 'a.b', '$set', 'items.0.price', '$gt']) {
      const r = await c.post('/cart/items', { sku: v.sku, quantity: 1, [key]: '1' })
      expectError(r, 400, 'EMP_VALIDATION', key)
    }
    expectError(await c.post('/cart/coupon', { code: 'WELCOME10', $where: '1' }), 400, 'EMP_VALIDATION', '$where')
    for (const raw of [
      `{"sku": "${v.sku}", "quantity": 1, "__proto__": {"polluted": "yes"}}`,
      `{"sku": "${v.sku}", "quantity": 1, "constructor": {"prototype": {"polluted": "yes"}}}`,
    ]) {
      const r = await c.request('POST', '/cart/items', undefined, { raw })
      assert.equal(r.status, 400, JSON.stringify(r.body))
      assert.ok(['EMP_MALFORMED_JSON', 'EMP_VALIDATION'].includes(r.body.error.code), r.body.error.code)
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched')
    assert.deepEqual(await cartState(c), before)
    const users = await userCount(admin)
    const reg = await shop.client().post('/auth/register', {
      email: 'dollar@example.com',
      password: PASSWORD,
      name: 'D',
      'email.$ne': 'x',
    })
    expectError(reg, 400, 'EMP_VALIDATION', 'email.$ne')
    expectError(
      await shop.client().post('/auth/login', { email: ADMIN.email, password: ADMIN.password, $where: '1' }),
      400,
      'EMP_VALIDATION',
      '$where',
    )
    assert.equal(await userCount(admin), users)
  })

  it('an unknown route → 404 EMP_ROUTE_NOT_FOUND as JSON', async () => {
    const c = shop.client()
    for (const [method, path] of [
      ['GET', '/nothing/here'],
      ['GET', '/products/a/b/c'],
      ['DELETE', '/products'],
      ['POST', '/orders/ord_x/cancel'],
      ['PUT', '/cart'],
    ] as const) {
      const r = await c.request(method, `${path}?x=1`, method === 'GET' || method === 'DELETE' ? undefined : {})
      expectError(r, 404, 'EMP_ROUTE_NOT_FOUND')
      assert.equal(r.body.error.message, `No route ${method} /api/v1${path}`)
    }
  })

  it('query parameters of the wrong type or range → 400 EMP_VALIDATION naming the parameter', async () => {
    const c = await customer('query')
    for (const [query, field] of [
      ['page=abc', 'page'],
      ['page=0', 'page'],
      ['page=1.5', 'page'],
      ['page=1&page=2', 'page'],
      ['limit=1000', 'limit'],
      ['limit=0', 'limit'],
      ['minPrice=-1', 'minPrice'],
      ['maxPrice=abc', 'maxPrice'],
      ['sort=bogus', 'sort'],
      ['sort=price_asc;DROP', 'sort'],
      ['inStock=maybe', 'inStock'],
      ['category=Bad_Slug!', 'category'],
      ['q[$gt]=', 'q[$gt]'],
      ['unknown=1', 'unknown'],
    ] as const) {
      expectError(await c.get(`/products?${query}`), 400, 'EMP_VALIDATION', field)
    }
    expectError(await c.get('/orders?page=abc'), 400, 'EMP_VALIDATION', 'page')
    expectError(await c.get('/orders?limit=1000'), 400, 'EMP_VALIDATION', 'limit')
    expectError(await admin.get('/admin/orders?status=bogus'), 400, 'EMP_VALIDATION', 'status')
    expectError(await admin.get('/admin/users?role=superuser'), 400, 'EMP_VALIDATION', 'role')
    assert.equal((await c.get('/products?page=2&limit=5&sort=price_desc&minPrice=0&inStock=true')).status, 200)
  })
})

describe('per-account lock (AUTH_ACCOUNT_RATE_LIMIT=3)', () => {
  let shop: TestShop
  const victim = 'victim@example.com'
  const bystander = 'bystander@example.com'
  before(async () => {
    shop = await startTestShop({ AUTH_ACCOUNT_RATE_LIMIT: '3' })
    await shop.customer(victim)
    await shop.customer(bystander)
  })
  after(async () => {
    await shop?.stop()
  })

  it('after 3 failures the account is locked (429 EMP_ACCOUNT_LOCKED) even with the right password; others unaffected', async () => {
    const c = shop.client()
    for (let i = 1; i <= 2; i++) {
      expectError(
        await c.post('/auth/login', { email: victim, password: `wrong password ${i}` }),
        401,
        'EMP_INVALID_CREDENTIALS',
      )
    }
    const third = await c.post('/auth/login', { email: victim, password: 'wrong password 3' })
    expectError(third, 429, 'EMP_ACCOUNT_LOCKED')
    const right = await c.post('/auth/login', { email: victim, password: PASSWORD })
    expectError(right, 429, 'EMP_ACCOUNT_LOCKED')
    assert.ok(right.headers.get('retry-after'), 'a Retry-After header')
    assert.equal(right.headers.getSetCookie().length, 0, 'no session for a locked account')
    expectError(
      await shop.client().post('/auth/login', { email: victim.toUpperCase(), password: PASSWORD }),
      429,
      'EMP_ACCOUNT_LOCKED',
    )
    assert.equal((await c.get('/auth/session')).body.user, null)

    const other = shop.client()
    const ok = await other.post('/auth/login', { email: bystander, password: PASSWORD })
    assert.equal(ok.status, 200)
    assert.equal(ok.body.user.email, bystander)
  })

  it('the Retry-After of a locked account matches the lock it announces (minutes, not 60 s)', async () => {
    const r = await shop.client().post('/auth/login', { email: victim, password: PASSWORD })
    expectError(r, 429, 'EMP_ACCOUNT_LOCKED')
    const minutes = Number(/(\d+) minutes/.exec(r.body.error.message)?.[1])
    assert.ok(minutes > 1, r.body.error.message)
    const retryAfter = Number(r.headers.get('retry-after'))
    assert.ok(
      retryAfter >= (minutes - 1) * 60,
      `Retry-After ${retryAfter} s, but the message says ${minutes} minutes: a client honouring the header is refused again`,
    )
  })
})

describe('per-client sign-in rate limit (AUTH_RATE_LIMIT=5)', () => {
  let shop: TestShop
  before(async () => {
    shop = await startTestShop({ AUTH_RATE_LIMIT: '5' })
  })
  after(async () => {
    await shop?.stop()
  })

  it('the 6th login attempt within a minute → 429 EMP_RATE_LIMITED, even with the right password', async () => {
    const c = shop.client()
    for (let i = 1; i <= 5; i++) {
      const r = await c.post('/auth/login', { email: `nobody${i}@example.com`, password: 'wrong password' })
      expectError(r, 401, 'EMP_INVALID_CREDENTIALS')
    }
    const sixth = await c.post('/auth/login', ADMIN)
    expectError(sixth, 429, 'EMP_RATE_LIMITED')
    const retryAfter = Number(sixth.headers.get('retry-after'))
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`)
    assert.equal(sixth.headers.getSetCookie().length, 0)
    assert.equal((await c.get('/auth/session')).body.user, null, 'not signed in')
    expectError(await shop.client().post('/auth/login', ADMIN), 429, 'EMP_RATE_LIMITED')
  })
})
