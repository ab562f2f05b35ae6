// Who may do what over the real HTTP API: roles on /admin, anonymous access, staff and analysts, API tokens,
// session rotation, logout, sign-out of other sessions after a password change, and no secrets in any response.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ApiClient, type ApiResponse } from '../support/http-client.ts'
import { ADMIN, startTestShop, type TestShop } from '../support/test-shop.ts'

const PASSWORD = 'correct horse battery'
const ADDRESS = { name: 'Grace Hopper', line1: '1 Compiler Way', city: 'Arlington', postalCode: '22201', country: 'US' }

function expectError(r: ApiResponse, status: number, code: string, context = ''): void {
  const seen = `${context} → ${r.status} ${JSON.stringify(r.body)}`
  assert.equal(r.status, status, `expected ${status} ${code}: ${seen}`)
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/, seen)
  assert.equal(r.body?.error?.code, code, seen)
}

/** The session cookie a response sets, with its attributes. */
const sessionCookie = (r: ApiResponse): string | undefined =>
  r.headers.getSetCookie().find((c) => c.startsWith('emp_sid='))

/** Records the raw body of every response, to scan for secrets. */
class RecordingClient extends ApiClient {
  constructor(
    baseUrl: string,
    private readonly log: string[],
  ) {
    super(baseUrl)
  }
  override async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    opts?: Parameters<ApiClient['request']>[3],
  ): Promise<ApiResponse<T>> {
    const r = await super.request<T>(method, path, body, opts)
    this.log.push(`${method} ${path} ${r.status} ${typeof r.body === 'string' ? r.body : JSON.stringify(r.body)}`)
    return r
  }
}

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  path: string
  body?: unknown
}

describe('access control (embedded shop)', () => {
  let shop: TestShop
  let admin: ApiClient
  let alice: ApiClient
  let aliceId: string
  let product: { id: string; slug: string; name: string; category: string; sku: string; price: number }
  /** Alice's paid order (shipped by staff later) and a second one with a refund requested. */
  let order1: string
  let order2: string
  let refundId: string
  let adminRoutes: Route[]

  const userByEmail = async (email: string) => {
    const r = await admin.get(`/admin/users?q=${encodeURIComponent(email)}`)
    assert.equal(r.status, 200)
    const u = r.body.items.find((x: any) => x.email === email)
    assert.ok(u, `user ${email} exists`)
    return u as { id: string; role: string; email: string }
  }
  const setRole = async (email: string, role: string) => {
    const u = await userByEmail(email)
    const r = await admin.put(`/admin/users/${u.id}/role`, { role })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.equal(r.body.role, role)
    return u.id
  }
  const buy = async (c: ApiClient, key: string): Promise<string> => {
    assert.equal((await c.post('/cart/items', { sku: product.sku, quantity: 1 })).status, 200)
    const r = await c.post(
      '/checkout',
      { shippingAddress: ADDRESS, paymentToken: 'tok_visa' },
      { headers: { 'idempotency-key': key } },
    )
    assert.equal(r.status, 201, JSON.stringify(r.body))
    assert.equal(r.body.order.status, 'paid')
    return r.body.order.id
  }
  const orderStatus = async (id: string): Promise<string> => {
    const r = await admin.get(`/admin/orders/${id}`)
    assert.equal(r.status, 200)
    return r.body.status
  }
  /** Everything an /admin route could have changed, read as the admin. */
  const backOffice = async () => {
    const p = await admin.get(`/products/${product.slug}`)
    const variant = p.body.variants.find((v: any) => v.sku === product.sku)
    const categories = (await admin.get('/categories')).body.items
    const refunds = (await admin.get('/admin/refunds?limit=100')).body.items
    return {
      product: { name: p.body.name, price: variant.price.amount, available: variant.available },
      categories: categories.map((c: any) => `${c.slug}:${c.name}`).sort(),
      order1: await orderStatus(order1),
      order2: await orderStatus(order2),
      refund: refunds.find((r: any) => r.id === refundId)?.status,
      aliceRole: (await userByEmail('alice@example.com')).role,
      users: (await admin.get('/admin/users?limit=1')).body.total,
      hackedProduct: (await admin.get('/products/hacked-product')).status,
    }
  }

  before(async () => {
    shop = await startTestShop()
    admin = await shop.admin()
    const list = await admin.get('/products?inStock=true&sort=price_asc&limit=50')
    for (const p of list.body.items) {
      const v = p.variants.find((x: any) => x.available >= 20)
      if (v) {
        product = { id: p.id, slug: p.slug, name: p.name, category: p.category.slug, sku: v.sku, price: v.price.amount }
        break
      }
    }
    assert.ok(product, 'an in-stock product')
    alice = await shop.customer('alice@example.com')
    aliceId = (await alice.get('/me')).body.id
    order1 = await buy(alice, 'alice-order-0001')
    order2 = await buy(alice, 'alice-order-0002')
    const refund = await alice.post(`/orders/${order2}/refund-requests`, { reason: 'Changed my mind' })
    assert.equal(refund.status, 201)
    refundId = refund.body.id

    const variantBody = [{ sku: product.sku, name: 'Hacked', price: 1 }]
    adminRoutes = [
      { method: 'GET', path: '/admin/orders' },
      { method: 'GET', path: `/admin/orders/${order1}` },
      { method: 'POST', path: `/admin/orders/${order1}/ship`, body: {} },
      { method: 'POST', path: `/admin/orders/${order1}/deliver`, body: {} },
      { method: 'POST', path: `/admin/orders/${order1}/cancel`, body: { note: 'bye' } },
      { method: 'GET', path: '/admin/refunds' },
      { method: 'POST', path: `/admin/refunds/${refundId}/approve`, body: {} },
      { method: 'POST', path: `/admin/refunds/${refundId}/reject`, body: { note: 'no' } },
      { method: 'GET', path: '/admin/users' },
      { method: 'PUT', path: `/admin/users/${aliceId}/role`, body: { role: 'admin' } },
      { method: 'POST', path: '/admin/categories', body: { slug: 'hacked', name: 'Hacked' } },
      {
        method: 'PUT',
        path: `/admin/categories/${product.category}`,
        body: { slug: product.category, name: 'Hacked' },
      },
      { method: 'DELETE', path: `/admin/categories/${product.category}` },
      {
        method: 'POST',
        path: '/admin/products',
        body: {
          name: 'Hacked product',
          category: product.category,
          variants: [{ sku: 'HACK-1', name: 'x', price: 1 }],
        },
      },
      {
        method: 'PUT',
        path: `/admin/products/${product.id}`,
        body: { name: 'Hacked', category: product.category, variants: variantBody },
      },
      { method: 'DELETE', path: `/admin/products/${product.id}` },
      { method: 'PUT', path: `/admin/inventory/${product.sku}`, body: { available: 0 } },
    ]
  })
  after(async () => {
    await shop?.stop()
  })

  it('a customer gets 403 EMP_FORBIDDEN on every /admin route (products, categories, inventory, orders, refunds, users, roles); nothing changes', async () => {
    const mallory = await shop.customer('mallory@example.com')
    const before = await backOffice()
    for (const r of adminRoutes) {
      const res = await mallory.request(r.method, r.path, r.body)
      expectError(res, 403, 'EMP_FORBIDDEN', `${r.method} ${r.path}`)
    }
    assert.deepEqual(await backOffice(), before)
    assert.equal(before.order1, 'paid')
    assert.equal(before.refund, 'requested')
    assert.equal(before.aliceRole, 'customer')
    assert.equal((await userByEmail('mallory@example.com')).role, 'customer')
  })

  it('anonymous gets 401 EMP_AUTH_REQUIRED on /orders, /checkout, /me, /me/tokens and every admin route', async () => {
    const anon = shop.client()
    const before = await backOffice()
    const routes: Route[] = [
      { method: 'GET', path: '/orders' },
      { method: 'GET', path: `/orders/${order1}` },
      { method: 'POST', path: `/orders/${order1}/refund-requests`, body: { reason: 'x' } },
      { method: 'GET', path: '/me' },
      { method: 'PUT', path: '/me/password', body: { currentPassword: PASSWORD, newPassword: 'new phrase here 1' } },
      { method: 'GET', path: '/me/tokens' },
      { method: 'POST', path: '/me/tokens', body: { name: 'x' } },
      { method: 'DELETE', path: '/me/tokens/tok_x' },
      ...adminRoutes,
    ]
    for (const r of routes) {
      expectError(await anon.request(r.method, r.path, r.body), 401, 'EMP_AUTH_REQUIRED', `${r.method} ${r.path}`)
    }
    const checkout = await anon.post(
      '/checkout',
      { shippingAddress: ADDRESS, paymentToken: 'tok_visa' },
      { headers: { 'idempotency-key': 'anonymous-0001' } },
    )
    expectError(checkout, 401, 'EMP_AUTH_REQUIRED', 'POST /checkout')
    assert.deepEqual(await backOffice(), before)
  })

  it('staff (made so by an admin) can ship orders but cannot change roles or list users', async () => {
    const bob = await shop.customer('bob@example.com')
    expectError(await bob.post(`/admin/orders/${order1}/ship`, {}), 403, 'EMP_FORBIDDEN', 'ship as a customer')
    const bobId = await setRole('bob@example.com', 'staff')
    assert.equal((await bob.get('/me')).body.role, 'staff', 'the new role applies to the live session')

    const list = await bob.get('/admin/orders?status=paid')
    assert.equal(list.status, 200)
    const shipped = await bob.post(`/admin/orders/${order1}/ship`, { note: 'DHL 123' })
    assert.equal(shipped.status, 200, JSON.stringify(shipped.body))
    assert.equal(shipped.body.status, 'shipped')
    const last = shipped.body.history.at(-1)
    assert.deepEqual([last.from, last.to, last.actor, last.reason], ['paid', 'shipped', bobId, 'DHL 123'])
    assert.equal((await alice.get(`/orders/${order1}`)).body.status, 'shipped', 'the customer sees it shipped')

    expectError(await bob.put(`/admin/users/${aliceId}/role`, { role: 'admin' }), 403, 'EMP_FORBIDDEN')
    expectError(await bob.put(`/admin/users/${bobId}/role`, { role: 'admin' }), 403, 'EMP_FORBIDDEN')
    expectError(await bob.get('/admin/users'), 403, 'EMP_FORBIDDEN')
    assert.equal((await userByEmail('alice@example.com')).role, 'customer')
    assert.equal((await userByEmail('bob@example.com')).role, 'staff')
  })

  it('an analyst cannot manage orders or refunds', async () => {
    const carol = await shop.customer('carol@example.com')
    await setRole('carol@example.com', 'analyst')
    const before = await orderStatus(order1)
    for (const r of adminRoutes.filter(
      (x) => x.path.startsWith('/admin/orders') || x.path.startsWith('/admin/refunds'),
    )) {
      expectError(await carol.request(r.method, r.path, r.body), 403, 'EMP_FORBIDDEN', `${r.method} ${r.path}`)
    }
    assert.equal(await orderStatus(order1), before)
    assert.equal(await orderStatus(order2), 'refund_requested')
  })

  it('an admin cannot remove their own admin role', async () => {
    const me = (await admin.get('/me')).body
    assert.equal(me.role, 'admin')
    for (const role of ['customer', 'staff', 'analyst']) {
      const r = await admin.put(`/admin/users/${me.id}/role`, { role })
      expectError(r, 400, 'EMP_VALIDATION', `self → ${role}`)
      assert.equal(typeof r.body.error.fields?.role, 'string', 'error.fields names role')
    }
    assert.equal((await admin.get('/me')).body.role, 'admin')
    assert.equal((await admin.get('/admin/users?limit=1')).status, 200, 'still an admin')
    const ok = await admin.put(`/admin/users/${me.id}/role`, { role: 'admin' })
    assert.equal(ok.status, 200, 'keeping admin is allowed')
  })

  it('API tokens: the secret is shown once, never listed; Bearer works without CSRF; revoked tokens are refused', async () => {
    const dave = await shop.customer('dave@example.com')
    const created = await dave.post('/me/tokens', { name: 'CI deploy' })
    assert.equal(created.status, 201)
    const secret: string = created.body.secret
    assert.match(secret, /^emp_[A-Za-z0-9_-]{40,}$/)
    assert.equal(created.body.name, 'CI deploy')
    assert.equal(created.body.prefix, secret.slice(0, created.body.prefix.length))
    assert.ok(created.body.prefix.length < 16, 'the prefix is a short hint, not the secret')
    assert.equal(created.body.revokedAt, null)
    assert.equal(created.body.tokenHash, undefined)
    assert.equal(created.body.userId, undefined)

    const listed = await dave.get('/me/tokens')
    assert.equal(listed.status, 200)
    assert.equal(listed.body.items.length, 1)
    const [item] = listed.body.items
    assert.deepEqual(Object.keys(item).sort(), ['createdAt', 'id', 'name', 'prefix', 'revokedAt'])
    assert.ok(!JSON.stringify(listed.body).includes(secret.slice(10)), 'the list never shows the secret')

    const bearer = shop.client()
    bearer.bearer = secret
    const me = await bearer.get('/me')
    assert.equal(me.status, 200)
    assert.equal(me.body.email, 'dave@example.com')
    assert.equal(bearer.csrfToken, null)
    const add = await bearer.post('/cart/items', { sku: product.sku, quantity: 2 })
    assert.equal(add.status, 200, `a Bearer state change needs no CSRF token: ${JSON.stringify(add.body)}`)
    assert.equal(add.headers.getSetCookie().length, 0, 'a token request gets no session cookie')
    const daveCart = await dave.get('/cart')
    assert.equal(daveCart.body.items.find((i: any) => i.sku === product.sku)?.quantity, 2, "it is dave's cart")

    // Another user cannot revoke it.
    expectError(await alice.delete(`/me/tokens/${item.id}`), 404, 'EMP_NOT_FOUND')
    assert.equal((await bearer.get('/me')).status, 200)

    assert.equal((await dave.delete(`/me/tokens/${item.id}`)).status, 204)
    const after = (await dave.get('/me/tokens')).body.items[0]
    assert.equal(after.id, item.id)
    assert.equal(typeof after.revokedAt, 'string')
    expectError(await bearer.get('/me'), 401, 'EMP_INVALID_TOKEN')
    expectError(await bearer.post('/cart/items', { sku: product.sku, quantity: 1 }), 401, 'EMP_INVALID_TOKEN')
    assert.equal((await dave.get('/cart')).body.items.find((i: any) => i.sku === product.sku)?.quantity, 2)
    expectError(await dave.delete(`/me/tokens/${item.id}`), 404, 'EMP_NOT_FOUND')
  })

  it("a token of user A cannot read or act on user B's order (404, like a missing one)", async () => {
    const erin = await shop.customer('erin@example.com')
    const erinToken = (await erin.post('/me/tokens', { name: 'script' })).body.secret
    const aliceToken = (await alice.post('/me/tokens', { name: 'script' })).body.secret
    const asErin = shop.client()
    asErin.bearer = erinToken
    const asAlice = shop.client()
    asAlice.bearer = aliceToken

    assert.equal((await asAlice.get(`/orders/${order1}`)).status, 200, 'the owner can read it')
    const foreign = await asErin.get(`/orders/${order1}`)
    expectError(foreign, 404, 'EMP_NOT_FOUND')
    assert.deepEqual(foreign.body, (await asErin.get('/orders/ord_missing00000000000000000000')).body)
    expectError(await asErin.post(`/orders/${order1}/refund-requests`, { reason: 'mine' }), 404, 'EMP_NOT_FOUND')
    const list = await asErin.get('/orders')
    assert.equal(list.status, 200)
    assert.deepEqual(list.body.items, [])
    expectError(await asErin.get(`/admin/orders/${order1}`), 403, 'EMP_FORBIDDEN')
  })

  it('the session cookie changes at login and the guest cart is merged into the account cart', async () => {
    const frank = await shop.customer('frank@example.com')
    assert.equal((await frank.post('/cart/items', { sku: product.sku, quantity: 1 })).status, 200)

    const guest = shop.client()
    const added = await guest.post('/cart/items', { sku: product.sku, quantity: 2 })
    assert.equal(added.status, 200)
    const guestSid = guest.cookie('emp_sid')
    assert.ok(guestSid, 'a guest cart starts a session')
    const guestCsrf = (await guest.get('/auth/session')).body.csrfToken
    assert.equal(guest.cookie('emp_sid'), guestSid)

    const login = await guest.post('/auth/login', { email: 'frank@example.com', password: PASSWORD })
    assert.equal(login.status, 200)
    const newSid = guest.cookie('emp_sid')
    assert.ok(newSid)
    assert.notEqual(newSid, guestSid, 'a new session id at sign-in')
    assert.notEqual(login.body.csrfToken, guestCsrf, 'a new CSRF token at sign-in')

    const cart = await guest.get('/cart')
    const line = cart.body.items.find((i: any) => i.sku === product.sku)
    assert.equal(line?.quantity, 3, 'guest 2 + account 1')
    assert.equal(cart.body.items.length, 1)
    assert.deepEqual((await frank.get('/cart')).body.items, cart.body.items, 'the same account cart everywhere')

    const oldCookie = { headers: { cookie: `emp_sid=${guestSid}` } }
    expectError(await shop.client().get('/me', oldCookie), 401, 'EMP_AUTH_REQUIRED')
    const oldCart = await shop.client().get('/cart', oldCookie)
    assert.deepEqual(oldCart.body.items, [], 'the guest session (and its cart) is gone')
    const stale = await guest.post(
      '/cart/items',
      { sku: product.sku, quantity: 1 },
      { headers: { 'x-csrf-token': guestCsrf } },
    )
    expectError(stale, 403, 'EMP_CSRF')

    // A planted session id is never adopted.
    const planted = shop.client()
    const fixed = await planted.get('/auth/session', { headers: { cookie: 'emp_sid=attacker-chosen-session-id' } })
    assert.equal(fixed.body.user, null)
    assert.notEqual(planted.cookie('emp_sid'), 'attacker-chosen-session-id')
  })

  it('logout ends the session: the old cookie no longer authenticates', async () => {
    const gina = await shop.customer('gina@example.com')
    const sid = gina.cookie('emp_sid')
    assert.ok(sid)
    expectError(await gina.post('/auth/logout', undefined, { csrf: false }), 403, 'EMP_CSRF')
    assert.equal((await gina.get('/me')).status, 200, 'a logout without CSRF is refused')

    const out = await gina.post('/auth/logout')
    assert.equal(out.status, 204)
    assert.match(sessionCookie(out) ?? '', /^emp_sid=;.*(Max-Age=0|Expires=Thu, 01 Jan 1970)/i, 'the cookie is cleared')
    assert.equal(gina.cookie('emp_sid'), undefined)
    expectError(await gina.get('/me'), 401, 'EMP_AUTH_REQUIRED')

    const replay = { headers: { cookie: `emp_sid=${sid}` } }
    expectError(await shop.client().get('/me', replay), 401, 'EMP_AUTH_REQUIRED')
    expectError(await shop.client().get('/orders', replay), 401, 'EMP_AUTH_REQUIRED')
    expectError(await shop.client().get('/me/tokens', replay), 401, 'EMP_AUTH_REQUIRED')
  })

  it('after a password change, the other sessions of that user are signed out', async () => {
    const email = 'hana@example.com'
    const first = await shop.customer(email)
    const second = shop.client()
    assert.equal((await second.post('/auth/login', { email, password: PASSWORD })).status, 200)
    const bystander = await shop.customer('ivan@example.com')
    assert.equal((await second.get('/me')).status, 200)

    const newPassword = 'a brand new passphrase'
    const change = await first.put('/me/password', { currentPassword: PASSWORD, newPassword })
    assert.equal(change.status, 204, JSON.stringify(change.body))

    expectError(await second.get('/me'), 401, 'EMP_AUTH_REQUIRED')
    assert.equal((await first.get('/me')).body.email, email, 'the session that changed it stays signed in')
    assert.equal((await bystander.get('/me')).status, 200, "other users' sessions are untouched")
    expectError(await shop.client().post('/auth/login', { email, password: PASSWORD }), 401, 'EMP_INVALID_CREDENTIALS')
    assert.equal((await shop.client().post('/auth/login', { email, password: newPassword })).status, 200)
  })

  it('no response carries passwordHash, tokenHash or the password itself', async () => {
    const log: string[] = []
    const password = 'Quartz-Lantern-Zebra-4711'
    const email = 'scan@example.com'
    const c = new RecordingClient(shop.api, log)
    const reg = await c.post('/auth/register', { email, password, name: 'Scan Me' })
    assert.equal(reg.status, 201)
    await c.get('/auth/session')
    await c.get('/me')
    const token = await c.post('/me/tokens', { name: 'scan' })
    await c.get('/me/tokens')
    await c.post('/cart/items', { sku: product.sku, quantity: 1 })
    await c.post('/cart/coupon', { code: 'WELCOME10' })
    await c.get('/cart')
    const order = await c.post(
      '/checkout',
      { shippingAddress: ADDRESS, paymentToken: 'tok_visa' },
      { headers: { 'idempotency-key': 'scan-order-0001' } },
    )
    await c.get('/orders')
    await c.get(`/orders/${order.body.order.id}`)
    await c.post(`/orders/${order.body.order.id}/refund-requests`, { reason: 'scan' })
    await c.put('/me/password', { currentPassword: `${password}x`, newPassword: `${password}!` })
    await c.put('/me/password', { currentPassword: password, newPassword: 'scan' })
    await c.post('/auth/register', { email, password, name: 'Again' })
    await c.post('/auth/register', { email: 'scan2@example.com', password: 'scan2scan2scan2', name: 'Weak' })
    const t = new RecordingClient(shop.api, log)
    t.bearer = token.body.secret
    await t.get('/me')
    await t.get('/me/tokens')
    const a = new RecordingClient(shop.api, log)
    await a.post('/auth/login', { email, password: `${password}-wrong` })
    await a.post('/auth/login', ADMIN)
    await a.get(`/admin/users?q=${encodeURIComponent(email)}`)
    await a.get('/admin/users?limit=100')
    await a.get(`/admin/orders/${order.body.order.id}`)
    await a.get('/admin/refunds')
    const uid = (await a.get('/me')).body.id
    await a.put(`/admin/users/${uid}/role`, { role: 'admin' })
    assert.ok(log.length >= 25)

    for (const entry of log) {
      for (const secret of [
        'passwordHash',
        'password_hash',
        'tokenHash',
        'token_hash',
        '$argon2',
        password,
        'scan2scan2scan2',
        ADMIN.password,
      ]) {
        assert.ok(!entry.includes(secret), `a response contains ${JSON.stringify(secret)}: ${entry.slice(0, 300)}`)
      }
    }
    const withSecret = log.filter((e) => e.includes(token.body.secret))
    assert.equal(withSecret.length, 1, 'the token secret appears once, in the creation response')
    assert.match(withSecret[0] ?? '', /^POST \/me\/tokens 201 /)
  })

  it('the session cookie is HttpOnly, SameSite=Lax and Path=/', async () => {
    const guest = shop.client()
    const fromCart = sessionCookie(await guest.post('/cart/items', { sku: product.sku, quantity: 1 }))
    const fromRegister = sessionCookie(
      await shop.client().post('/auth/register', { email: 'jun@example.com', password: PASSWORD, name: 'Jun' }),
    )
    const fromLogin = sessionCookie(
      await shop.client().post('/auth/login', { email: 'jun@example.com', password: PASSWORD }),
    )
    for (const [label, cookie] of [
      ['guest cart', fromCart],
      ['register', fromRegister],
      ['login', fromLogin],
    ] as const) {
      assert.ok(cookie, `${label} sets emp_sid`)
      const attrs = cookie.split(';').map((s) => s.trim().toLowerCase())
      assert.ok(attrs.includes('httponly'), `${label}: HttpOnly in ${cookie}`)
      assert.ok(attrs.includes('samesite=lax'), `${label}: SameSite=Lax in ${cookie}`)
      assert.ok(attrs.includes('path=/'), `${label}: Path=/ in ${cookie}`)
      assert.match(cookie, /^emp_sid=[A-Za-z0-9_-]{40,};/, `${label}: an unguessable id`)
    }
  })
})
