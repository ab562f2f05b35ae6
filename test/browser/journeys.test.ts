// What people do in a real browser (Debian's headless Chromium): a new customer's whole purchase, a declined card,
// staff shipping the order, a customer refused the back office, the shop without JavaScript, at phone width, from
// the keyboard, and without console errors or CSP violations. Screenshots go to test-results/screenshots/.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import {
  browserSkipReason,
  cents,
  launchBrowser,
  newPage,
  screenshot,
  text,
  watchProblems,
} from '../support/browser.ts'
import { ADMIN, startTestShop, type TestShop } from '../support/test-shop.ts'

const PASSWORD = 'a ship in port is safe 1906'
const ADDRESS = { line1: '1 Navy Yard Road', city: 'Arlington', postalCode: '22202', country: 'US' }
const SEARCH = 'wool'
const MIN = 20
const MAX = 80

interface CatalogProduct {
  slug: string
  variants: { sku: string; price: { amount: number }; available: number }[]
}

describe('storefront journeys in a real browser', { skip: browserSkipReason() }, () => {
  let shop: TestShop
  let browser: Browser
  let customer: BrowserContext
  let page: Page
  const email = `grace.${Date.now()}@example.com`
  /** Shared by the tests below, which run in order: what the journey bought and the order it placed. */
  const state: { productUrls: string[]; productNames: string[]; orderId: string | null } = {
    productUrls: [],
    productNames: [],
    orderId: null,
  }

  before(async () => {
    shop = await startTestShop()
    browser = await launchBrowser()
    customer = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    page = await newPage(customer)
  })

  after(async () => {
    await browser?.close()
    await shop?.stop()
  })

  const summaryAmount = async (p: Page, label: string) =>
    cents(await text(p.locator(`.summary dt:text-is("${label}") + dd`)))

  const needOrder = (): string => {
    assert.ok(state.orderId, 'needs the order placed by the journey test')
    return state.orderId
  }

  it('a new visitor registers, searches, filters, buys two products with WELCOME10 and tok_visa, and sees it Paid', {
    timeout: 180_000,
  }, async () => {
    await page.goto(`${shop.url}/`)
    await screenshot(page, 'home')

    // A look at a department on the way.
    await page.locator('nav.categories-nav').getByRole('link', { name: 'Books' }).click()
    await page.waitForURL('**/c/books')
    assert.equal(await text(page.locator('h1')), 'Books')
    assert.ok((await page.locator('.product-card').count()) > 0, 'the Books department lists products')
    await screenshot(page, 'category')

    // Register.
    await page.getByRole('link', { name: 'Register' }).click()
    await page.waitForURL('**/register')
    await page.getByLabel('Your name').fill('Grace Hopper')
    await page.getByLabel('E-mail').fill(email)
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.waitForURL('**/account')
    await page.getByText('Welcome to Emporium, Grace Hopper.').waitFor()
    assert.equal(await text(page.locator('h1')), 'Hello, Grace Hopper')

    // Search from the header.
    await page.locator('#site-search').fill(SEARCH)
    await page.locator('#site-search').press('Enter')
    await page.waitForURL((u) => u.pathname === '/search' && u.searchParams.get('q') === SEARCH)
    const countOf = async () => Number((await text(page.locator('p.meta[aria-live]'))).match(/\d+/)?.[0])
    const unfiltered = await countOf()
    assert.ok(unfiltered >= 4, `"${SEARCH}" finds products (${unfiltered})`)

    // Filter the results: a price range and in-stock only.
    const filters = page.getByRole('complementary', { name: 'Filters' })
    await filters.getByLabel('Min', { exact: true }).fill(String(MIN))
    await filters.getByLabel('Max', { exact: true }).fill(String(MAX))
    await filters.getByLabel('In stock only').check()
    await filters.getByRole('button', { name: 'Apply filters' }).click()
    await page.waitForURL((u) => u.searchParams.get('inStock') === '1')
    const url = new URL(page.url())
    assert.equal(url.searchParams.get('q'), SEARCH, 'the search words are kept')
    assert.equal(url.searchParams.get('min'), String(MIN))
    assert.equal(url.searchParams.get('max'), String(MAX))
    assert.equal(await filters.getByLabel('Min', { exact: true }).inputValue(), String(MIN), 'the form keeps Min')
    assert.ok(await filters.getByLabel('In stock only').isChecked(), 'the form keeps In stock only')
    const filtered = await countOf()
    assert.ok(filtered >= 2 && filtered < unfiltered, `filters narrow ${unfiltered} to ${filtered}`)
    const hrefs = await page
      .locator('.product-card a.title')
      .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href))
    assert.equal(hrefs.length, filtered)
    assert.equal(await page.locator('.product-card .badge', { hasText: 'Out of stock' }).count(), 0)
    for (const href of hrefs) {
      const slug = new URL(href).pathname.split('/').pop()
      const p = (await (await fetch(`${shop.api}/products/${slug}`)).json()) as CatalogProduct
      const inRange = p.variants.some((v) => v.price.amount >= MIN * 100 && v.price.amount <= MAX * 100)
      assert.ok(inRange, `${slug} has an option between $${MIN} and $${MAX}`)
      assert.ok(
        p.variants.some((v) => v.available > 0),
        `${slug} is in stock`,
      )
    }

    // Two different products, each through its product page; the second with another option picked.
    for (const [i, href] of hrefs.slice(0, 2).entries()) {
      await page.goto(href)
      const name = await text(page.locator('h1'))
      if (i === 0) await screenshot(page, 'product')
      const select = page.getByLabel('Option')
      const enabled = await select
        .locator('option:not([disabled])')
        .evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, price: o.dataset.price })))
      const pick = i === 0 ? enabled[0] : enabled[enabled.length - 1]
      assert.ok(pick, `${name} has an option in stock`)
      await select.selectOption(pick.value)
      assert.equal(await text(page.locator('[data-variant-price]')), pick.price, 'the price follows the option')
      await page.getByRole('button', { name: 'Add to cart' }).click()
      await page.waitForURL('**/cart')
      await page.getByText('Added to your cart.').waitFor()
      state.productUrls.push(href)
      state.productNames.push(name)
    }
    assert.notEqual(state.productNames[0], state.productNames[1], 'two different products')
    const lines = page.locator('table tbody tr')
    assert.equal(await lines.count(), 2)
    for (const name of state.productNames) assert.equal(await lines.filter({ hasText: name }).count(), 1, name)
    assert.equal(await text(page.locator('.cart-count')), '2')

    // The coupon.
    await page.getByLabel('Coupon code').fill('WELCOME10')
    await page.getByRole('button', { name: 'Apply coupon' }).click()
    await page.getByText('The coupon was applied.').waitFor()
    const subtotal = await summaryAmount(page, 'Subtotal')
    assert.equal(await summaryAmount(page, 'Discount'), Math.round(subtotal / 10), '10 % off the subtotal')
    const total = await summaryAmount(page, 'Total')
    await screenshot(page, 'cart')

    // Checkout with the address form and tok_visa.
    await page.getByRole('link', { name: 'Check out' }).click()
    await page.waitForURL('**/checkout')
    assert.equal(await page.getByLabel('Full name').inputValue(), 'Grace Hopper', 'the name is filled in')
    await page.getByLabel('Address', { exact: true }).fill(ADDRESS.line1)
    await page.getByLabel('City').fill(ADDRESS.city)
    await page.getByLabel('Postal code').fill(ADDRESS.postalCode)
    await page.getByLabel('Country code').fill(ADDRESS.country)
    await page.locator('input[name=paymentToken][value=tok_visa]').check()
    const pay = page.getByRole('button', { name: /^Pay / })
    assert.equal(cents(await text(pay)), total, 'the Pay button shows the cart total')
    await screenshot(page, 'checkout')
    await pay.click()
    await page.waitForURL(/\/account\/orders\/[^/?]+\?placed=1$/)
    state.orderId = new URL(page.url()).pathname.split('/').pop() ?? null
    await page.getByText('Thank you! Your order is confirmed and paid.').waitFor()
    assert.match(await text(page.locator('h1')), /Paid/)
    assert.equal(cents(await text(page.locator('.summary dd.total'))), total, 'the order total is the cart total')
    for (const name of state.productNames) await page.locator('table tbody tr', { hasText: name }).waitFor()
    assert.match(await text(page.locator('address')), new RegExp(ADDRESS.line1))
    await screenshot(page, 'confirmation')
    assert.equal(await text(page.locator('.cart-count')), '0', 'the cart is empty after paying')

    // The account lists the order as Paid.
    await page.goto(`${shop.url}/account`)
    const row = page.locator('table tbody tr', { has: page.locator(`a[href="/account/orders/${state.orderId}"]`) })
    assert.equal(await row.count(), 1, 'the order is listed in the account')
    assert.match(await text(row), /Paid/)
    await screenshot(page, 'account')
  })

  it('a declined card (tok_chargeDeclined) shows a clear error on the checkout page and keeps the cart', {
    timeout: 120_000,
  }, async () => {
    const [href] = state.productUrls
    assert.ok(href, 'needs a product from the journey test')
    await page.goto(href)
    await page.getByRole('button', { name: 'Add to cart' }).click()
    await page.waitForURL('**/cart')
    await page.getByRole('link', { name: 'Check out' }).click()
    await page.waitForURL('**/checkout')
    await page.getByLabel('Address', { exact: true }).fill(ADDRESS.line1)
    await page.getByLabel('City').fill(ADDRESS.city)
    await page.getByLabel('Postal code').fill(ADDRESS.postalCode)
    await page.locator('input[name=paymentToken][value=tok_chargeDeclined]').check()
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/checkout' && r.request().method() === 'POST'),
      page.getByRole('button', { name: /^Pay / }).click(),
    ])
    assert.equal(response.status(), 402)
    const alert = page.getByRole('alert')
    await alert.waitFor()
    const message = await text(alert)
    assert.match(message, /declined/i, message)
    assert.match(message, /cart is kept/i, message)
    assert.equal(new URL(page.url()).pathname, '/checkout', 'still on the checkout page')
    assert.equal(await page.getByLabel('Address', { exact: true }).inputValue(), ADDRESS.line1, 'the address is kept')
    assert.ok(
      await page.locator('input[name=paymentToken][value=tok_chargeDeclined]').isChecked(),
      'the chosen card is kept',
    )
    await screenshot(page, 'checkout-declined')

    await page.goto(`${shop.url}/cart`)
    const name = state.productNames[0] ?? ''
    assert.equal(await page.locator('table tbody tr', { hasText: name }).count(), 1, 'the cart still has the item')
    assert.equal(await text(page.locator('.cart-count')), '1')
  })

  it('staff ships the order from /admin/orders/:id and the customer then sees Shipped', {
    timeout: 120_000,
  }, async () => {
    const orderId = needOrder()
    const staff = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    try {
      const admin = await newPage(staff)
      admin.on('dialog', (d) => void d.accept())
      await admin.goto(`${shop.url}/login`)
      await admin.getByLabel('E-mail').fill(ADMIN.email)
      await admin.getByLabel('Password').fill(ADMIN.password)
      await admin.getByRole('button', { name: 'Sign in' }).click()
      await admin.waitForURL((u) => u.pathname !== '/login')

      const list = await admin.goto(`${shop.url}/admin/orders?status=paid`)
      assert.equal(list?.status(), 200)
      await admin.locator(`a[href="/admin/orders/${orderId}"]`).first().waitFor()
      await screenshot(admin, 'admin-orders')

      const detail = await admin.goto(`${shop.url}/admin/orders/${orderId}`)
      assert.equal(detail?.status(), 200)
      const ship = admin.getByRole('button', { name: 'Ship', exact: true })
      // Fill whatever the ship form requires (a carrier, a tracking number) that is still empty.
      const form = admin.locator('form', { has: ship })
      for (const input of await form.locator('input[required], textarea[required]').all()) {
        if ((await input.getAttribute('type')) === 'hidden') continue
        if (!(await input.inputValue())) await input.fill('1Z999AA10123456784')
      }
      const [shipped] = await Promise.all([
        admin.waitForResponse((r) => new URL(r.url()).pathname === `/admin/orders/${orderId}/ship`),
        ship.click(),
      ])
      assert.ok(shipped.status() < 400, `POST /admin/orders/:id/ship answered ${shipped.status()}`)
      await admin.waitForLoadState()
      await screenshot(admin, 'admin-order-shipped')
    } finally {
      await staff.close()
    }

    await page.goto(`${shop.url}/account/orders/${orderId}`)
    assert.match(await text(page.locator('h1')), /Shipped/, 'the status badge says Shipped')
    await page.locator('ol.timeline li', { hasText: 'Shipped' }).waitFor()
    await screenshot(page, 'order-shipped')
  })

  it('a customer is refused the back office: a 403 page without admin content', async () => {
    const orderId = needOrder()
    for (const path of ['/admin', '/admin/orders', `/admin/orders/${orderId}`, '/admin/refunds', '/admin/users']) {
      const res = await page.goto(`${shop.url}${path}`)
      assert.equal(res?.status(), 403, `${path} is refused`)
      assert.equal(await text(page.locator('h1')), 'Not allowed', path)
      assert.equal(
        await page
          .getByRole('button', { name: /^(Ship|Mark delivered|Cancel order|Approve|Reject|Save role)$/ })
          .count(),
        0,
        path,
      )
      assert.equal(await page.getByRole('link', { name: 'Back office' }).count(), 0, path)
      assert.equal(await page.locator('main table, main select').count(), 0, `${path} shows no admin data`)
    }
  })

  it('works with JavaScript disabled: add to cart, change the quantity, reach the cart', async () => {
    const [href] = state.productUrls
    assert.ok(href, 'needs a product from the journey test')
    const ctx = await browser.newContext({ javaScriptEnabled: false })
    try {
      const p = await newPage(ctx)
      await p.goto(href)
      const name = await text(p.locator('h1'))
      // A new visitor: no session yet, so the form's token is empty and the browser's Origin header is all there is.
      const [added] = await Promise.all([
        p.waitForResponse((r) => new URL(r.url()).pathname === '/cart/add'),
        p.getByRole('button', { name: 'Add to cart' }).click(),
      ])
      if (added.status() !== 303) {
        await p.waitForLoadState()
        assert.fail(`a new visitor's Add to cart answered ${added.status()}: "${await text(p.locator('h1'))}"`)
      }
      await p.waitForURL('**/cart')
      await p.getByText('Added to your cart.').waitFor()
      const line = p.locator('table tbody tr', { hasText: name })
      assert.equal(await line.count(), 1)
      await line.getByRole('spinbutton').fill('2')
      await line.getByRole('button', { name: 'Update' }).click()
      await p.getByText('Your cart was updated.').waitFor()
      assert.equal(await p.locator('table tbody tr', { hasText: name }).getByRole('spinbutton').inputValue(), '2')
      assert.equal(await text(p.locator('.cart-count')), '2')
      await p.getByRole('link', { name: 'Check out' }).click()
      await p.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('next') === '/checkout')
    } finally {
      await ctx.close()
    }
  })

  it('at phone width (390×844) home and product pages do not scroll sideways and the header search works', async () => {
    const [href] = state.productUrls
    assert.ok(href, 'needs a product from the journey test')
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
    try {
      const p = await newPage(ctx)
      for (const [url, shot] of [
        [`${shop.url}/`, 'phone-home'],
        [href, 'phone-product'],
      ] as const) {
        await p.goto(url)
        const { scrollWidth, innerWidth } = await p.evaluate(() => ({
          scrollWidth: document.scrollingElement?.scrollWidth ?? Number.POSITIVE_INFINITY,
          innerWidth: window.innerWidth,
        }))
        assert.ok(scrollWidth <= innerWidth, `${url}: scrollWidth ${scrollWidth} > innerWidth ${innerWidth}`)
        assert.ok(scrollWidth <= 390, `${url}: scrollWidth ${scrollWidth} wider than the phone`)
        await screenshot(p, shot)
      }
      await p.goto(`${shop.url}/`)
      const search = p.locator('#site-search')
      const button = p.locator('form[role=search] button[type=submit]')
      for (const [what, box] of [
        ['search field', await search.boundingBox()],
        ['search button', await button.boundingBox()],
      ] as const) {
        assert.ok(box, `the ${what} is shown`)
        assert.ok(box.x >= 0 && box.x + box.width <= 390, `the ${what} fits the screen: ${JSON.stringify(box)}`)
        assert.ok(box.height >= 24, `the ${what} is tall enough to tap: ${JSON.stringify(box)}`)
      }
      assert.ok(((await search.boundingBox())?.width ?? 0) >= 120, 'the search field is wide enough to type in')
      await search.tap()
      await search.fill('linen')
      await button.tap()
      await p.waitForURL((u) => u.pathname === '/search' && u.searchParams.get('q') === 'linen')
      assert.equal(await text(p.locator('h1')), 'Search: linen')
    } finally {
      await ctx.close()
    }
  })

  it('keyboard: the first Tab reaches the skip link, which is visible when focused', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    try {
      const p = await newPage(ctx)
      await p.goto(`${shop.url}/`)
      await p.keyboard.press('Tab')
      const focused = await p.evaluate(() => {
        const el = document.activeElement as HTMLElement | null
        if (!el) return null
        const r = el.getBoundingClientRect()
        const s = getComputedStyle(el)
        return {
          tag: el.tagName,
          text: el.textContent?.trim(),
          href: el.getAttribute('href'),
          rect: { x: r.x, y: r.y, width: r.width, height: r.height },
          visibility: s.visibility,
          opacity: Number(s.opacity),
          clip: s.clip,
          viewport: { width: window.innerWidth, height: window.innerHeight },
        }
      })
      assert.ok(focused, 'something has focus')
      assert.deepEqual([focused.tag, focused.text, focused.href], ['A', 'Skip to content', '#main'])
      const { rect, viewport } = focused
      assert.ok(rect.width > 20 && rect.height > 10, `the focused skip link has a size: ${JSON.stringify(rect)}`)
      assert.ok(
        rect.x >= 0 && rect.y >= 0 && rect.x + rect.width <= viewport.width && rect.y + rect.height <= viewport.height,
        `the focused skip link is on screen: ${JSON.stringify(rect)}`,
      )
      assert.equal(focused.visibility, 'visible')
      assert.ok(focused.opacity > 0.5, `opacity ${focused.opacity}`)
      assert.ok(focused.clip === 'auto' || focused.clip === '', `clip ${focused.clip}`)
      await p.keyboard.press('Enter')
      assert.equal(await p.evaluate(() => location.hash), '#main')
    } finally {
      await ctx.close()
    }
  })

  it('no console errors, uncaught errors or CSP violations on the main pages', { timeout: 120_000 }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    try {
      const problems = await watchProblems(ctx)
      const p = await newPage(ctx)
      const visit = async (path: string) => {
        const res = await p.goto(path.startsWith('http') ? path : `${shop.url}${path}`)
        assert.equal(res?.status(), 200, `${path} answers 200`)
        await p.waitForLoadState('load')
      }
      for (const path of [
        '/',
        '/c/books',
        `/search?q=${SEARCH}&min=${MIN}&max=${MAX}&inStock=1`,
        '/login',
        '/register',
      ])
        await visit(path)
      for (const href of state.productUrls) await visit(href)
      // The variant picker and sort select run their scripts without errors.
      if (state.productUrls[0]) {
        await visit(state.productUrls[0])
        const values = await p
          .locator('#variant option:not([disabled])')
          .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))
        await p.locator('#variant').selectOption(values[values.length - 1] ?? '')
      }
      await visit(`/search?q=${SEARCH}`)
      await Promise.all([p.waitForURL(/sort=price_asc/), p.locator('#sort').selectOption('price_asc')])

      // Signed in: the cart (kept from the declined payment), checkout, account and the order.
      await visit('/login')
      await p.getByLabel('E-mail').fill(email)
      await p.getByLabel('Password').fill(PASSWORD)
      await p.getByRole('button', { name: 'Sign in' }).click()
      await p.waitForURL('**/account')
      for (const path of ['/cart', '/checkout', '/account', '/account/password', '/account/tokens']) await visit(path)
      if (state.orderId) await visit(`/account/orders/${state.orderId}`)
      assert.deepEqual(problems, [])
    } finally {
      await ctx.close()
    }
  })
})
