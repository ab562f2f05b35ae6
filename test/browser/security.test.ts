// Web security of the storefront: markup in names, descriptions, searches and addresses is shown as text (raw HTML
// escaped, and in a real browser no script runs), form posts without their CSRF token are refused with a helpful
// page, one customer cannot reach another's order, and pages send a strict CSP and a safe session cookie.
// The HTTP checks run everywhere; the ones in a real browser skip when Chromium is not installed (never on CI).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Dialog, Page } from 'playwright-core'
import { browserSkipReason, launchBrowser, newPage, screenshot, text, WebClient } from '../support/browser.ts'
import { ADMIN, startTestShop, type TestShop } from '../support/test-shop.ts'

const XSS_NAME = '<script>alert(1)</script>'
const XSS_ATTR = '"><img src=x onerror=alert(1)>'
const PASSWORD = 'correct horse battery staple'
const ADDRESS = { name: 'Mallory Tester', line1: '5 Quiet Lane', city: 'Portland', postalCode: '97205', country: 'US' }

/**
 * The escaped forms: preact escapes `<`, `&` and `"` (and leaves `>`, which cannot open a tag), so the name comes out
 * as `&lt;script>alert(1)&lt;/script>`; `&gt;` is accepted too in case the renderer changes.
 */
const ESCAPED_NAME = /&lt;script(&gt;|>)alert\(1\)&lt;\/script(&gt;|>)/
const ESCAPED_ATTR = /&quot;(&gt;|>)&lt;img src=x onerror=alert\(1\)(&gt;|>)/

/** Markup that must never reach a page unescaped. */
function assertEscaped(html: string, where: string): void {
  assert.ok(!html.includes('<script>alert(1)'), `${where}: an unescaped <script>alert(1)`)
  assert.ok(!html.includes('<img src=x'), `${where}: an unescaped <img src=x`)
  assert.ok(!/<img[^>]*onerror/i.test(html), `${where}: an <img> with onerror`)
}

const cookieAttributes = (setCookie: string[], name: string) => {
  const c = setCookie.find((s) => s.startsWith(`${name}=`))
  assert.ok(c, `a ${name} cookie is set: ${JSON.stringify(setCookie)}`)
  const [pair = '', ...attrs] = c.split(';').map((s) => s.trim())
  return { value: pair.slice(name.length + 1), attrs: attrs.map((a) => a.toLowerCase()) }
}

/** Registers a customer through the JSON API; the client keeps the session cookie. */
async function registerCustomer(shop: TestShop, email: string): Promise<{ web: WebClient; csrf: string }> {
  const web = new WebClient(shop.url)
  const r = await web.request('POST', '/api/v1/auth/register', { json: { email, password: PASSWORD, name: 'Test' } })
  assert.equal(r.status, 201, r.text)
  return { web, csrf: r.json.csrfToken }
}

describe('storefront security', () => {
  let shop: TestShop
  let product: { slug: string; sku: string }

  before(async () => {
    shop = await startTestShop()
    // The hostile product, created like a back-office script would: sign in, then the CSRF token as a header.
    const admin = new WebClient(shop.url)
    const login = await admin.request('POST', '/api/v1/auth/login', { json: ADMIN })
    assert.equal(login.status, 200, login.text)
    const created = await admin.request('POST', '/api/v1/admin/products', {
      headers: { 'x-csrf-token': login.json.csrfToken },
      json: {
        name: XSS_NAME,
        description: XSS_ATTR,
        category: 'books',
        variants: [{ sku: 'XSS-0001-01', name: XSS_ATTR, price: 1299, stock: 500 }],
      },
    })
    assert.equal(created.status, 201, created.text)
    product = { slug: created.json.slug, sku: 'XSS-0001-01' }
    assert.ok(product.slug, 'the product has a slug')
  })

  after(async () => {
    await shop?.stop()
  })

  describe('over HTTP', () => {
    it('XSS: the product name, description and a search are escaped in the raw HTML', async () => {
      const web = new WebClient(shop.url)
      const page = await web.get(`/products/${product.slug}`)
      assert.equal(page.status, 200)
      assert.match(page.text, ESCAPED_NAME, 'the name is shown escaped')
      assert.match(page.text, ESCAPED_ATTR, 'the description is shown escaped')
      assertEscaped(page.text, 'product page')
      // The JSON-LD block carries the name too: `<` is escaped so it cannot close the script element.
      const ld = page.text.match(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/)?.[1]
      assert.ok(ld, 'the product page has JSON-LD')
      assert.equal(JSON.parse(ld).name, XSS_NAME)

      const search = await web.get(`/search?q=${encodeURIComponent(XSS_NAME)}`)
      assert.equal(search.status, 200)
      assert.match(search.text, ESCAPED_NAME, 'the search words are shown escaped')
      assertEscaped(search.text, 'search page')

      for (const path of ['/c/books', '/search?sort=newest', '/']) {
        const listing = await web.get(path)
        assertEscaped(listing.text, path)
      }
    })

    it('a form POST with a session but without _csrf is refused with 403 "Your form expired"', async () => {
      // A visitor with a session (the sign-in page starts one).
      const guest = new WebClient(shop.url)
      const form = await guest.get('/login')
      assert.ok(guest.cookies.has('emp_sid'), 'the sign-in page starts a session')
      const add = { sku: product.sku, quantity: '1' }
      const refused = await guest.request('POST', '/cart/add', { form: add })
      assert.equal(refused.status, 403)
      assert.match(refused.headers.get('content-type') ?? '', /text\/html/)
      assert.match(refused.text, /Your form expired/)
      assert.match(refused.text, /reload the page and send the form again/)
      const wrong = await guest.request('POST', '/cart/add', { form: { ...add, _csrf: 'not-the-token' } })
      assert.equal(wrong.status, 403)
      assert.equal((await guest.request('GET', '/api/v1/cart')).json.items.length, 0, 'nothing was added')
      // The same form with its token works: the refusal was about the token only.
      const ok = await guest.request('POST', '/cart/add', { form: { ...add, _csrf: WebClient.csrfOf(form.text) } })
      assert.equal(ok.status, 303)

      // A signed-in customer changing the password.
      const { web } = await registerCustomer(shop, `csrf.${Date.now()}@example.com`)
      const change = { currentPassword: PASSWORD, newPassword: 'a brand new passphrase 9' }
      const blocked = await web.request('POST', '/account/password', { form: change })
      assert.equal(blocked.status, 403)
      assert.match(blocked.text, /Your form expired/)
      const fresh = new WebClient(shop.url)
      const email = (await web.request('GET', '/api/v1/me')).json.email
      const still = await fresh.request('POST', '/api/v1/auth/login', { json: { email, password: PASSWORD } })
      assert.equal(still.status, 200, 'the password was not changed')
    })

    it('a cross-site sign-in form without a session is refused (login CSRF)', async () => {
      const email = `planted.${Date.now()}@example.com`
      await registerCustomer(shop, email)
      const victim = new WebClient(shop.url)
      const r = await victim.request('POST', '/login', {
        form: { email, password: PASSWORD },
        headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      })
      assert.equal(r.status, 403, `a cross-site POST /login without a session answered ${r.status}`)
    })

    it("a customer can neither see nor request a refund for another customer's order (404)", async () => {
      const alice = await registerCustomer(shop, `alice.${Date.now()}@example.com`)
      const bob = await registerCustomer(shop, `bob.${Date.now()}@example.com`)
      const api = (c: { web: WebClient; csrf: string }, method: string, path: string, json?: unknown) =>
        c.web.request(method, `/api/v1${path}`, {
          json,
          headers: { 'x-csrf-token': c.csrf, 'idempotency-key': `security-${Date.now()}-${Math.random()}` },
        })
      assert.equal((await api(alice, 'POST', '/cart/items', { sku: product.sku, quantity: 1 })).status, 200)
      const placed = await api(alice, 'POST', '/checkout', { shippingAddress: ADDRESS, paymentToken: 'tok_visa' })
      assert.equal(placed.status, 201, placed.text)
      const orderId: string = placed.json.order.id
      assert.equal((await alice.web.get(`/account/orders/${orderId}`)).status, 200, 'the owner sees it')

      const seen = await bob.web.get(`/account/orders/${orderId}`)
      assert.equal(seen.status, 404)
      assert.ok(!seen.text.includes(ADDRESS.line1), "the 404 page shows nothing of Alice's order")
      assert.match(seen.text, /Page not found/)
      const refund = await bob.web.request('POST', `/account/orders/${orderId}/refund`, {
        form: { _csrf: bob.csrf, reason: 'I would like her money' },
      })
      assert.equal(refund.status, 404)
      assert.equal((await api(bob, 'GET', `/orders/${orderId}`)).status, 404, 'the API agrees')
      assert.equal((await api(bob, 'POST', `/orders/${orderId}/refund-requests`, { reason: 'mine now' })).status, 404)

      const mine = await api(alice, 'GET', `/orders/${orderId}`)
      assert.equal(mine.json.status, 'paid', 'no refund was requested on her order')
      assert.match((await alice.web.get(`/account/orders/${orderId}`)).text, /Request refund/)
    })

    it("pages send a Content-Security-Policy without 'unsafe-inline' in script-src", async () => {
      const web = new WebClient(shop.url)
      for (const path of ['/', '/c/books', `/products/${product.slug}`, '/search?q=wool', '/cart', '/login', '/nope']) {
        const r = await web.get(path)
        const csp = r.headers.get('content-security-policy')
        assert.ok(csp, `${path} has a CSP`)
        const directives = new Map(
          csp
            .split(';')
            .map((d) => d.trim().split(/\s+/))
            .filter((d) => d[0])
            .map(([name = '', ...values]) => [name.toLowerCase(), values] as const),
        )
        const scriptSrc = directives.get('script-src') ?? directives.get('default-src')
        assert.ok(scriptSrc, `${path}: script-src or default-src is set: ${csp}`)
        assert.ok(!scriptSrc.includes("'unsafe-inline'"), `${path}: script-src allows inline scripts: ${csp}`)
        assert.ok(!scriptSrc.includes("'unsafe-eval'"), `${path}: script-src allows eval: ${csp}`)
        assert.ok(!scriptSrc.includes('*'), `${path}: script-src allows any host: ${csp}`)
        assert.deepEqual(directives.get('object-src'), ["'none'"], path)
        assert.deepEqual(directives.get('frame-ancestors'), ["'none'"], path)
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path)
      }
    })

    it('the session cookie is HttpOnly and SameSite=Lax, and its value changes at sign-in', async () => {
      const email = `rotate.${Date.now()}@example.com`
      await registerCustomer(shop, email)
      const web = new WebClient(shop.url)
      const form = await web.get('/login')
      const before = cookieAttributes(form.headers.getSetCookie(), 'emp_sid')
      assert.ok(before.attrs.includes('httponly'), `HttpOnly: ${before.attrs}`)
      assert.ok(before.attrs.includes('samesite=lax'), `SameSite=Lax: ${before.attrs}`)
      assert.ok(before.attrs.includes('path=/'), `Path=/: ${before.attrs}`)
      assert.ok(before.value.length >= 32, 'the session id is long')

      const signedIn = await web.request('POST', '/login', {
        form: { _csrf: WebClient.csrfOf(form.text), email, password: PASSWORD, next: '/account' },
      })
      assert.equal(signedIn.status, 303, signedIn.text)
      const afterSignIn = cookieAttributes(signedIn.headers.getSetCookie(), 'emp_sid')
      assert.notEqual(afterSignIn.value, before.value, 'a new session id at sign-in')
      assert.ok(afterSignIn.attrs.includes('httponly') && afterSignIn.attrs.includes('samesite=lax'))
      assert.equal((await web.get('/account')).status, 200, 'the new id is signed in')

      const planted = new WebClient(shop.url)
      planted.cookies.set('emp_sid', before.value)
      const old = await planted.get('/account')
      assert.equal(old.status, 303, 'the id from before sign-in is not signed in')
      assert.match(old.headers.get('location') ?? '', /^\/login/)
    })
  })

  describe('in a real browser', { skip: browserSkipReason() }, () => {
    let browser: Browser
    const dialogs: string[] = []
    const watch = (page: Page) =>
      page.on('dialog', (d: Dialog) => {
        dialogs.push(`${d.type()}: ${d.message()} on ${page.url()}`)
        void d.dismiss()
      })

    before(async () => {
      browser = await launchBrowser()
    })
    after(async () => {
      await browser?.close()
    })

    let orderId: string | null = null

    it('no script runs from a hostile product name, description, search or address, and all show as text', {
      timeout: 120_000,
    }, async () => {
      const ctx = await browser.newContext()
      try {
        const page = await newPage(ctx)
        watch(page)
        const imagesFromMarkup = () => page.locator('img[src="x"], main script:not([src]):not([type])').count()

        await page.goto(`${shop.url}/products/${product.slug}`)
        assert.equal(await page.locator('h1').textContent(), XSS_NAME, 'the name is shown literally')
        assert.equal(await page.locator('main p', { hasText: 'onerror' }).first().textContent(), XSS_ATTR)
        assert.equal(await imagesFromMarkup(), 0)

        // The header search.
        await page.locator('#site-search').fill(XSS_NAME)
        await page.locator('#site-search').press('Enter')
        await page.waitForURL((u) => u.pathname === '/search' && u.searchParams.get('q') === XSS_NAME)
        assert.equal(await page.locator('h1').textContent(), `Search: ${XSS_NAME}`)
        assert.equal(await page.locator('#filter-q').inputValue(), XSS_NAME)
        assert.equal(
          await page.locator('.product-card a.title', { hasText: 'alert(1)' }).first().textContent(),
          XSS_NAME,
        )
        assert.equal(await imagesFromMarkup(), 0)

        // Checkout with the markup as address lines and a failing field, so the form is shown again.
        await page.goto(`${shop.url}/register`)
        await page.getByLabel('Your name').fill(XSS_NAME)
        await page.getByLabel('E-mail').fill(`xss.${Date.now()}@example.com`)
        await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
        await page.getByRole('button', { name: 'Create account' }).click()
        await page.waitForURL('**/account')
        assert.equal(await page.locator('h1').textContent(), `Hello, ${XSS_NAME}`)
        await page.goto(`${shop.url}/products/${product.slug}`)
        await page.getByRole('button', { name: 'Add to cart' }).click()
        await page.waitForURL('**/cart')
        await page.goto(`${shop.url}/checkout`)
        await page.getByLabel('Address', { exact: true }).fill(XSS_ATTR)
        await page.getByLabel('Apartment, suite (optional)').fill(XSS_NAME)
        await page.getByLabel('City').fill(ADDRESS.city)
        await page.getByLabel('Postal code').fill(ADDRESS.postalCode)
        await page.getByLabel('Country code').fill('X')
        const [rerendered] = await Promise.all([
          page.waitForResponse((r) => new URL(r.url()).pathname === '/checkout' && r.request().method() === 'POST'),
          page.getByRole('button', { name: /^Pay / }).click(),
        ])
        assert.ok(rerendered.status() >= 400 && rerendered.status() < 500, `refused: ${rerendered.status()}`)
        const raw = await rerendered.text()
        assert.match(raw, ESCAPED_NAME, 'the second address line comes back escaped')
        assert.match(raw, ESCAPED_ATTR, 'the first address line comes back escaped')
        assertEscaped(raw, 'checkout form shown again')
        await page.getByRole('alert').waitFor()
        assert.equal(await page.getByLabel('Address', { exact: true }).inputValue(), XSS_ATTR, 'kept literally')
        assert.equal(await page.getByLabel('Apartment, suite (optional)').inputValue(), XSS_NAME)
        assert.equal(await page.getByLabel('Country code').getAttribute('aria-invalid'), 'true')
        assert.equal(await imagesFromMarkup(), 0)
        await screenshot(page, 'xss-checkout')

        // Fixed, the order is placed; its page shows the address as text.
        await page.getByLabel('Country code').fill('US')
        await page.getByRole('button', { name: /^Pay / }).click()
        await page.waitForURL(/\/account\/orders\/[^/?]+\?placed=1$/)
        orderId = new URL(page.url()).pathname.split('/').pop() ?? null
        assert.match(await text(page.locator('address')), /"><img src=x onerror=alert\(1\)>/)
        assert.equal(await page.locator('table tbody a', { hasText: 'alert(1)' }).textContent(), XSS_NAME)
        assert.equal(await imagesFromMarkup(), 0)
        assert.deepEqual(dialogs, [], 'no dialog opened')
      } finally {
        await ctx.close()
      }
    })

    it('the back office shows the hostile order as text too', { timeout: 60_000 }, async () => {
      assert.ok(orderId, 'needs the order of the test before')
      const ctx = await browser.newContext()
      try {
        const page = await newPage(ctx)
        watch(page)
        await page.goto(`${shop.url}/login`)
        await page.getByLabel('E-mail').fill(ADMIN.email)
        await page.getByLabel('Password').fill(ADMIN.password)
        await page.getByRole('button', { name: 'Sign in' }).click()
        await page.waitForURL((u) => u.pathname !== '/login')
        for (const path of ['/admin/orders', `/admin/orders/${orderId}`]) {
          const res = await page.goto(`${shop.url}${path}`)
          assert.equal(res?.status(), 200, path)
          assertEscaped(await res.text(), path)
          assert.equal(await page.locator('img[src="x"]').count(), 0, path)
        }
        assert.ok((await text(page.locator('main'))).includes(XSS_ATTR), 'the address line is shown literally')
        assert.deepEqual(dialogs, [], 'no dialog opened')
      } finally {
        await ctx.close()
      }
    })
  })
})
