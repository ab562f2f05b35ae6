// The HTML the shop sends is valid (html-validate, recommended rules) on every main page, and every form control
// a person fills in has a label (checked over the DOM a real browser built; skipped when Chromium is missing).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { HtmlValidate } from 'html-validate'
import type { Browser } from 'playwright-core'
import { browserSkipReason, launchBrowser, newPage, WebClient } from '../support/browser.ts'
import { ADMIN, startTestShop, type TestShop } from '../support/test-shop.ts'

const ADDRESS = { name: 'Vera Valid', line1: '3 Markup Street', city: 'Leeds', postalCode: 'LS1 4AP', country: 'GB' }

const validator = new HtmlValidate({
  extends: ['html-validate:recommended'],
  rules: {
    // Purely stylistic, and how preact-render-to-string writes HTML: `<!doctype html>` in lower case and
    // void elements closed as `<meta/>`, `<input/>`; both are valid HTML.
    'doctype-style': 'off',
    'void-style': 'off',
    // A group of checkboxes sharing one name (the analytics page's measures) is how HTML sends a list; the rule
    // only allows it for radios and buttons by default.
    'form-dup-name': ['error', { shared: ['radio', 'button', 'reset', 'submit', 'checkbox'] }],
  },
})

interface PageToCheck {
  name: string
  path: string
  who: 'visitor' | 'customer' | 'admin'
  status?: number
}

describe('HTML validity and labels of the main pages', () => {
  let shop: TestShop
  const clients: Record<PageToCheck['who'], WebClient> = {} as Record<PageToCheck['who'], WebClient>
  const pages: PageToCheck[] = []

  before(async () => {
    shop = await startTestShop()
    const visitor = new WebClient(shop.url)
    const customer = new WebClient(shop.url)
    const admin = new WebClient(shop.url)
    Object.assign(clients, { visitor, customer, admin })

    const reg = await customer.request('POST', '/api/v1/auth/register', {
      json: { email: `valid.${Date.now()}@example.com`, password: 'well formed markup 42', name: 'Vera Valid' },
    })
    assert.equal(reg.status, 201, reg.text)
    const headers = { 'x-csrf-token': reg.json.csrfToken as string }
    const found = await customer.request('GET', '/api/v1/products?q=merino&inStock=true&limit=10')
    const skus: string[] = found.json.items.flatMap((p: any) =>
      p.variants.filter((v: any) => v.available >= 5).map((v: any) => v.sku),
    )
    assert.ok(skus.length >= 2, 'two in-stock variants to buy')
    const slug: string = found.json.items[0].slug
    // An order (for the order page) and then items left in the cart (for the cart and checkout pages).
    assert.equal(
      (await customer.request('POST', '/api/v1/cart/items', { headers, json: { sku: skus[0], quantity: 1 } })).status,
      200,
    )
    const placed = await customer.request('POST', '/api/v1/checkout', {
      headers: { ...headers, 'idempotency-key': `validity-${Date.now()}` },
      json: { shippingAddress: ADDRESS, paymentToken: 'tok_visa' },
    })
    assert.equal(placed.status, 201, placed.text)
    const orderId: string = placed.json.order.id
    assert.equal(
      (await customer.request('POST', '/api/v1/cart/items', { headers, json: { sku: skus[1], quantity: 2 } })).status,
      200,
    )
    assert.equal(
      (await customer.request('POST', '/api/v1/cart/coupon', { headers, json: { code: 'WELCOME10' } })).status,
      200,
    )
    assert.equal((await admin.request('POST', '/api/v1/auth/login', { json: ADMIN })).status, 200)

    pages.push(
      { name: 'home', path: '/', who: 'visitor' },
      { name: 'category', path: '/c/apparel', who: 'visitor' },
      { name: 'search', path: '/search?q=wool&min=20&max=80&inStock=1&sort=price_asc', who: 'visitor' },
      { name: 'search (bad price)', path: '/search?q=wool&min=abc', who: 'visitor' },
      { name: 'product', path: `/products/${slug}`, who: 'visitor' },
      { name: 'product (signed in)', path: `/products/${slug}`, who: 'customer' },
      { name: 'empty cart', path: '/cart', who: 'visitor' },
      { name: 'cart', path: '/cart', who: 'customer' },
      { name: 'login', path: '/login', who: 'visitor' },
      { name: 'register', path: '/register', who: 'visitor' },
      { name: 'checkout', path: '/checkout', who: 'customer' },
      { name: 'account', path: '/account', who: 'customer' },
      { name: 'order detail', path: `/account/orders/${orderId}`, who: 'customer' },
      { name: 'password', path: '/account/password', who: 'customer' },
      { name: 'API tokens', path: '/account/tokens', who: 'customer' },
      { name: '404', path: '/no-such-page', who: 'visitor', status: 404 },
      { name: '403 (customer in the back office)', path: '/admin', who: 'customer', status: 403 },
      { name: 'admin dashboard', path: '/admin', who: 'admin' },
      { name: 'admin orders', path: '/admin/orders', who: 'admin' },
      { name: 'admin order', path: `/admin/orders/${orderId}`, who: 'admin' },
      { name: 'admin refunds', path: '/admin/refunds', who: 'admin' },
      { name: 'admin users', path: '/admin/users', who: 'admin' },
      { name: 'admin analytics', path: '/admin/analytics', who: 'admin' },
      {
        name: 'admin analytics (bars per product)',
        path: '/admin/analytics?m=revenue&m=orders&by=product&range=90d&sort=revenue&dir=desc&limit=20',
        who: 'admin',
      },
      {
        name: 'admin analytics (two dimensions, filtered)',
        path: '/admin/analytics?m=orders&by=country&by=coupon&f_coupon=WELCOME10,(none)&range=30d',
        who: 'admin',
      },
      {
        name: 'admin analytics (bad input)',
        path: '/admin/analytics?m=revenue&range=custom&from=2026-13-01&to=x&limit=0',
        who: 'admin',
        status: 400,
      },
      { name: '403 (customer in analytics)', path: '/admin/analytics', who: 'customer', status: 403 },
      { name: 'log explorer', path: '/admin/observability', who: 'admin' },
      {
        name: 'log explorer (query, categories, columns, page 1, refresh)',
        path: '/admin/observability?q=status%3A%3E%3D200&category=access&category=error&cols=%40timestamp,route,status,message&sort=asc&limit=25&refresh=10s&range=24h',
        who: 'admin',
      },
      {
        name: 'log explorer (bad query and dates)',
        path: '/admin/observability?q=status%3A%3E%3D&range=custom&from=x',
        who: 'admin',
        status: 400,
      },
      { name: 'operations', path: '/admin/observability/operations?range=6h&refresh=30s', who: 'admin' },
      { name: '403 (customer in the log explorer)', path: '/admin/observability', who: 'customer', status: 403 },
    )
  })

  after(async () => {
    await shop?.stop()
  })

  const validate = async (list: PageToCheck[]) => {
    const failures: string[] = []
    for (const p of list) {
      const res = await clients[p.who].get(p.path)
      assert.equal(res.status, p.status ?? 200, `${p.name} (${p.path}) answers ${p.status ?? 200}`)
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/, p.name)
      const report = await validator.validateString(res.text, `${p.name}.html`)
      for (const result of report.results)
        for (const m of result.messages)
          if (m.severity === 2) {
            const around = res.text.slice(Math.max(0, m.offset - 60), m.offset + 80)
            failures.push(`${p.name} (${p.path}) ${m.line}:${m.column} ${m.ruleId}: ${m.message}\n    …${around}…`)
          }
    }
    assert.deepEqual(failures, [], `HTML errors:\n${failures.join('\n')}`)
  }

  it('html-validate finds no errors on the storefront and account pages', async () => {
    await validate(pages.filter((p) => p.who !== 'admin'))
  })

  it('html-validate finds no errors on the back-office pages', async () => {
    await validate(pages.filter((p) => p.who === 'admin'))
  })

  it('html-validate finds no errors on what the analytics forms answer (console rows, a refusal, a bad save)', async () => {
    const admin = clients.admin
    const csrf = WebClient.csrfOf((await admin.get('/admin/analytics')).text)
    const post = (path: string, form: Record<string, string>) =>
      admin.request('POST', path, { form: { _csrf: csrf, ...form } })
    const answers = [
      [
        'console rows',
        await post('/admin/analytics/raw?m=revenue&range=7d', { statement: 'SELECT 1 AS a, NULL AS b, [1, 2] AS c' }),
        200,
      ],
      ['console refusal', await post('/admin/analytics/raw', { statement: 'DROP TABLE x' }), 422],
      ['save without a name', await post('/admin/analytics/saved', { name: '', query: 'm=revenue&range=7d' }), 422],
    ] as const
    const failures: string[] = []
    for (const [name, res, status] of answers) {
      assert.equal(res.status, status, name)
      const report = await validator.validateString(res.text, `${name}.html`)
      for (const m of report.results.flatMap((r) => r.messages))
        if (m.severity === 2) failures.push(`${name} ${m.line}:${m.column} ${m.ruleId}: ${m.message}`)
    }
    assert.deepEqual(failures, [], `HTML errors:\n${failures.join('\n')}`)
  })

  describe('in a real browser', { skip: browserSkipReason() }, () => {
    let browser: Browser
    before(async () => {
      browser = await launchBrowser()
    })
    after(async () => {
      await browser?.close()
    })

    it('every input, select and textarea a person fills in has a label or an aria-label', {
      timeout: 120_000,
    }, async () => {
      const unlabelled: string[] = []
      for (const who of ['visitor', 'customer', 'admin'] as const) {
        const context = await browser.newContext({ javaScriptEnabled: true })
        try {
          const session = clients[who].cookies.get('emp_sid')
          if (session) await context.addCookies([{ name: 'emp_sid', value: session, url: shop.url }])
          const page = await newPage(context)
          for (const p of pages.filter((x) => x.who === who)) {
            const res = await page.goto(`${shop.url}${p.path}`)
            assert.equal(res?.status(), p.status ?? 200, `${p.name} in the browser`)
            // No named helpers inside: tsx would wrap them in its `__name()`, which the page does not have.
            const missing = await page.evaluate(() => {
              const skipped = new Set(['hidden', 'submit', 'button', 'reset', 'image'])
              const out: string[] = []
              for (const el of document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(
                'input, select, textarea',
              )) {
                if (el instanceof HTMLInputElement && skipped.has(el.type)) continue
                if ([...(el.labels ?? [])].some((l) => (l.textContent ?? '').trim())) continue
                if (el.getAttribute('aria-label')?.trim()) continue
                const by = (el.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean)
                if (by.some((id) => (document.getElementById(id)?.textContent ?? '').trim())) continue
                out.push(el.outerHTML.slice(0, 160))
              }
              return out
            })
            for (const m of missing) unlabelled.push(`${p.name} (${p.path}): ${m}`)
          }
        } finally {
          await context.close()
        }
      }
      assert.deepEqual(unlabelled, [], `controls without a label:\n${unlabelled.join('\n')}`)
    })
  })
})
