// The back office through its HTML forms, as a browser would use it: cookies, scraped CSRF tokens, 303 redirects.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { ApiClient } from '../../../test/support/http-client.ts'
import { ADMIN, startTestShop, type TestShop } from '../../../test/support/test-shop.ts'

interface Page {
  status: number
  location: string | null
  html: string
}

/** A tiny browser: keeps cookies, remembers the last form token and posts url-encoded forms. */
class Browser {
  private readonly cookies = new Map<string, string>()
  csrf = ''

  constructor(private readonly base: string) {}

  setCookie(name: string, value: string) {
    this.cookies.set(name, value)
  }

  private async send(method: string, path: string, body?: URLSearchParams): Promise<Page> {
    const headers: Record<string, string> = {}
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded'
    const res = await fetch(this.base + path, { method, headers, body, redirect: 'manual' })
    for (const c of res.headers.getSetCookie()) {
      const [pair = ''] = c.split(';')
      const eq = pair.indexOf('=')
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1))
    }
    const html = await res.text()
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1]
    if (token) this.csrf = token
    return { status: res.status, location: res.headers.get('location'), html }
  }

  get(path: string) {
    return this.send('GET', path)
  }

  /** Posts a form with the token of the last page shown, unless told not to. */
  post(path: string, fields: Record<string, string>, opts: { csrf?: boolean } = {}) {
    const body = new URLSearchParams(fields)
    if (opts.csrf !== false) body.set('_csrf', this.csrf)
    return this.send('POST', path, body)
  }

  /** Follows a 303 like a browser and returns the page it lands on. */
  async follow(page: Page): Promise<Page> {
    assert.equal(page.status, 303, `expected a redirect, got ${page.status}: ${page.html.slice(0, 300)}`)
    return this.get(page.location as string)
  }
}

const flashes = (html: string) =>
  [...html.matchAll(/class="notice (info|error)" role="\w+">([^<]*)</g)].map((m) => `${m[1]}: ${m[2]}`)

describe('back office pages', () => {
  let shop: TestShop
  let admin: Browser
  let customerApi: ApiClient
  let customer: Browser
  const stamp = Date.now().toString(36).toUpperCase()
  const skus = [`TL-${stamp}-S`, `TL-${stamp}-L`]
  let productId = ''
  let slug = ''

  const product = async () => (await shop.client().get(`/products/${slug}`)).body
  const orderStatus = async (id: string) => (await customerApi.get(`/orders/${id}`)).body.status

  const placeOrder = async (sku: string): Promise<string> => {
    assert.equal((await customerApi.post('/cart/items', { sku, quantity: 1 })).status, 200)
    const placed = await customerApi.post(
      '/checkout',
      {
        shippingAddress: {
          name: 'Ada Lovelace',
          line1: '12 Analytical Row',
          city: 'London',
          postalCode: 'N1 9GU',
          country: 'GB',
        },
        paymentToken: 'tok_visa',
      },
      { headers: { 'idempotency-key': `admin-pages-${Date.now()}-${Math.random().toString(36).slice(2)}` } },
    )
    assert.equal(placed.status, 201, JSON.stringify(placed.body))
    return placed.body.order.id
  }

  before(async () => {
    shop = await startTestShop()
    admin = new Browser(shop.url)
    await admin.get('/login')
    const login = await admin.post('/login', { email: ADMIN.email, password: ADMIN.password, next: '/admin' })
    assert.equal(login.status, 303)
    assert.equal(login.location, '/admin')
    customerApi = await shop.customer()
    customer = new Browser(shop.url)
    customer.setCookie('emp_sid', customerApi.cookie('emp_sid') as string)
    await customer.get('/account')
    assert.ok(customer.csrf, 'the customer has a form token')
  })
  after(async () => {
    await shop?.stop()
  })

  it('shows the dashboard with counts and the section navigation', async () => {
    const page = await admin.get('/admin')
    assert.equal(page.status, 200)
    assert.match(page.html, /<ul class="admin-nav">/)
    for (const label of ['Dashboard', 'Products', 'Orders', 'Refunds', 'Users'])
      assert.match(page.html, new RegExp(`>${label}<`))
    assert.match(page.html, /Paid, awaiting shipment/)
    assert.match(page.html, /href="\/admin\/orders\?status=paid"/)
    assert.match(page.html, /<meta name="robots" content="noindex"/)
  })

  it('creates a product with two variants through the form, refusing a bad price next to its input', async () => {
    const form = await admin.get('/admin/products/new')
    assert.equal(form.status, 200)
    const category = /<option value="([a-z0-9-]+)"/.exec(form.html)?.[1]
    assert.ok(category, 'the form offers categories')
    const fields = {
      name: `Test Lantern ${stamp}`,
      slug: '',
      description: 'A lantern for the tests.',
      category,
      featured: '1',
      'variants[0][sku]': skus[0] as string,
      'variants[0][name]': 'Small',
      'variants[0][price]': '19.99',
      'variants[0][options]': 'size=S, colour=Blue',
      'variants[0][stock]': '7',
      'variants[1][sku]': '',
      'variants[1][name]': '',
      'variants[1][price]': '',
      'variants[1][options]': '',
      'variants[1][stock]': '',
      'variants[2][sku]': skus[1] as string,
      'variants[2][name]': 'Large',
      'variants[2][price]': '24.5',
      'variants[2][options]': 'size=L',
      'variants[2][stock]': '3',
    }
    const bad = await admin.post('/admin/products', { ...fields, 'variants[2][price]': 'abc' })
    assert.equal(bad.status, 400)
    assert.match(bad.html, /id="f-variants-2--price--error">Enter a price like 19\.99</)
    assert.match(bad.html, /aria-invalid="true" aria-describedby="f-variants-2--price--error"/)

    const created = await admin.post('/admin/products', fields)
    assert.equal(created.status, 303, created.html.slice(0, 500))
    productId = /^\/admin\/products\/(prd_\w+)$/.exec(created.location ?? '')?.[1] ?? ''
    assert.ok(productId, `redirected to the edit page, got ${created.location}`)
    const edit = await admin.follow(created)
    assert.deepEqual(flashes(edit.html), [`info: Product “Test Lantern ${stamp}” was created.`])
    slug = /href="\/products\/([a-z0-9-]+)"/.exec(edit.html)?.[1] ?? ''
    const p = await product()
    assert.equal(p.featured, true)
    assert.deepEqual(
      p.variants.map((v: any) => [v.sku, v.price.amount, v.available, v.options]),
      [
        [skus[0], 1999, 7, { size: 'S', colour: 'Blue' }],
        [skus[1], 2450, 3, { size: 'L' }],
      ],
    )
  })

  it('edits a price and sets the stock of one SKU', async () => {
    const edit = await admin.get(`/admin/products/${productId}`)
    assert.equal(edit.status, 200)
    assert.match(edit.html, new RegExp(`<label for="stock-${skus[0]}">Stock for ${skus[0]}</label>`))
    assert.match(edit.html, /data-confirm="Delete/)
    const value = (name: string) =>
      new RegExp(`name="${name.replace(/[[\]]/g, '\\$&')}"[^>]*value="([^"]*)"`).exec(edit.html)?.[1] ?? ''
    const fields: Record<string, string> = {
      name: value('name'),
      slug: value('slug'),
      description: 'A brighter lantern.',
      category: (await product()).category.slug,
    }
    for (let i = 0; i < 5; i++)
      for (const f of ['sku', 'name', 'price', 'options', 'stock'])
        fields[`variants[${i}][${f}]`] = value(`variants[${i}][${f}]`)
    assert.equal(fields['variants[1][price]'], '24.50')
    fields['variants[0][price]'] = '17.50'
    const saved = await admin.post(`/admin/products/${productId}`, fields)
    assert.equal(saved.status, 303, saved.html.slice(0, 500))
    assert.deepEqual(flashes((await admin.follow(saved)).html), ['info: The product was saved.'])
    let p = await product()
    assert.equal(p.description, 'A brighter lantern.')
    assert.equal(p.featured, false, 'an unticked checkbox clears the flag')
    assert.deepEqual(
      p.variants.map((v: any) => [v.sku, v.price.amount, v.available]),
      [
        [skus[0], 1750, 7],
        [skus[1], 2450, 3],
      ],
      'the price changed; empty stock fields kept the units',
    )

    const stock = await admin.post('/admin/inventory', { sku: skus[1] as string, available: '12' })
    assert.equal(stock.status, 303)
    assert.equal(stock.location, `/admin/products/${productId}`)
    assert.deepEqual(flashes((await admin.follow(stock)).html), [`info: Stock for ${skus[1]} is now 12.`])
    const negative = await admin.post('/admin/inventory', { sku: skus[1] as string, available: '-4' })
    assert.match(flashes((await admin.follow(negative)).html)[0] ?? '', /^error: Stock for .* was not changed/)
    p = await product()
    assert.equal(p.variants[1].available, 12)
  })

  it('ships and delivers an order, and refuses a transition the order does not allow', async () => {
    const orderId = await placeOrder(skus[0] as string)
    const detail = await admin.get(`/admin/orders/${orderId}`)
    assert.equal(detail.status, 200)
    assert.match(detail.html, /action="\/admin\/orders\/[^"]+\/ship"/)
    assert.match(detail.html, />Cancel order</)
    assert.doesNotMatch(detail.html, />Mark delivered</, 'a paid order cannot be delivered before it ships')
    assert.match(detail.html, /Ada Lovelace/)

    const list = await admin.get('/admin/orders?status=paid')
    assert.ok(list.html.includes(`/admin/orders/${orderId}`), 'the paid filter lists the order')

    const shipped = await admin.post(`/admin/orders/${orderId}/ship`, {})
    assert.equal(shipped.status, 303)
    assert.equal(shipped.location, `/admin/orders/${orderId}`)
    const afterShip = await admin.follow(shipped)
    assert.deepEqual(flashes(afterShip.html), ['info: The order was marked shipped.'])
    assert.match(afterShip.html, />Mark delivered</)
    assert.equal(await orderStatus(orderId), 'shipped')

    const again = await admin.follow(await admin.post(`/admin/orders/${orderId}/ship`, {}))
    assert.deepEqual(flashes(again.html), ['error: An order that is shipped cannot become shipped'])

    const delivered = await admin.follow(await admin.post(`/admin/orders/${orderId}/deliver`, {}))
    assert.deepEqual(flashes(delivered.html), ['info: The order was marked delivered.'])
    assert.equal(await orderStatus(orderId), 'delivered')
  })

  it('approves a refund from the queue', async () => {
    const orderId = await placeOrder(skus[1] as string)
    const requested = await customerApi.post(`/orders/${orderId}/refund-requests`, { reason: 'Too dim <b>really</b>' })
    assert.equal(requested.status, 201)
    const queue = await admin.get('/admin/refunds')
    assert.equal(queue.status, 200)
    assert.ok(queue.html.includes(`action="/admin/refunds/${requested.body.id}/approve"`))
    assert.ok(queue.html.includes('Too dim &lt;b>really&lt;/b>'), 'the reason is escaped')
    const approved = await admin.post(`/admin/refunds/${requested.body.id}/approve`, { note: 'Sorry about that' })
    assert.equal(approved.status, 303)
    assert.match(flashes((await admin.follow(approved)).html)[0] ?? '', /^info: The refund of .* was approved/)
    assert.equal(await orderStatus(orderId), 'refunded')
    const decided = await admin.get('/admin/refunds?status=approved')
    assert.ok(decided.html.includes('Sorry about that'))
  })

  it('changes a role; staff see no Users section; an admin cannot demote themself', async () => {
    const users = await admin.get('/admin/users?role=admin')
    const self = /action="\/admin\/users\/([^"/]+)\/role"/.exec(users.html)?.[1]
    assert.ok(self)
    const demote = await admin.post(`/admin/users/${self}/role`, { role: 'customer' })
    assert.deepEqual(flashes((await admin.follow(demote)).html), [
      'error: You cannot remove your own admin role: Ask another admin',
    ])

    const staffApi = await shop.customer()
    const me = (await staffApi.get('/me')).body
    const promoted = await admin.post(`/admin/users/${me.id}/role`, { role: 'staff' })
    assert.match(flashes((await admin.follow(promoted)).html)[0] ?? '', /^info: .* is now staff\.$/)
    const staff = new Browser(shop.url)
    staff.setCookie('emp_sid', staffApi.cookie('emp_sid') as string)
    const dashboard = await staff.get('/admin')
    assert.equal(dashboard.status, 200)
    assert.doesNotMatch(dashboard.html, /href="\/admin\/users"/)
    assert.equal((await staff.get('/admin/users')).status, 403)
  })

  it('refuses customers (403) and sends anonymous visitors to sign in', async () => {
    const orderId = await placeOrder(skus[0] as string)
    for (const path of [
      '/admin',
      '/admin/products',
      `/admin/products/${productId}`,
      '/admin/orders',
      `/admin/orders/${orderId}`,
      '/admin/refunds',
      '/admin/users',
    ]) {
      const page = await customer.get(path)
      assert.equal(page.status, 403, path)
      assert.match(page.html, /Not allowed/)
    }
    await customer.get('/account')
    const ship = await customer.post(`/admin/orders/${orderId}/ship`, {})
    assert.equal(ship.status, 403)
    assert.match(ship.html, /Not allowed/)
    const stock = await customer.post('/admin/inventory', { sku: skus[0] as string, available: '0' })
    assert.equal(stock.status, 403)
    assert.equal(await orderStatus(orderId), 'paid', 'the order did not move')
    assert.equal((await product()).variants[0].available > 0, true, 'the stock did not change')

    const anonymous = await new Browser(shop.url).get('/admin/orders')
    assert.equal(anonymous.status, 303)
    assert.equal(anonymous.location, '/login?next=%2Fadmin%2Forders')
  })

  it('answers a form posted without its token with the “form expired” page', async () => {
    await admin.get(`/admin/products/${productId}`)
    const res = await admin.post('/admin/inventory', { sku: skus[0] as string, available: '1' }, { csrf: false })
    assert.equal(res.status, 403)
    assert.match(res.html, /Your form expired/)
    const forged = await admin.post(`/admin/products/${productId}/delete`, { _csrf: 'not-the-token' }, { csrf: false })
    assert.equal(forged.status, 403)
    assert.equal((await shop.client().get(`/products/${slug}`)).status, 200, 'the product is still there')
  })
})
