// The operators' console in a real browser on the embedded shop (logs through the in-process pipeline into SQLite):
// explorer, status-500 search, live tail, operations charts, phone width, and a customer refused.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { browserSkipReason, launchBrowser } from '../support/browser.ts'
import { FAULT_MESSAGE, FAULT_SLUG, opsConsoleJourney } from '../support/ops-console.ts'
import { startTestShop, type TestShop } from '../support/test-shop.ts'

const PASSWORD = 'correct horse battery'

describe('the observability console in a real browser (embedded)', { skip: browserSkipReason() }, () => {
  let shop: TestShop
  let browser: Browser
  const people = { staff: `sam.ops.${Date.now()}@example.com`, customer: `cora.${Date.now()}@example.com` }

  before(async () => {
    shop = await startTestShop({ LOG_LEVEL: 'info', LOG_STDOUT: 'false' })
    // A storage fault on one product: the request fails with a 500 and its error is logged (fault injection in the
    // shop the routes call; nothing else is replaced).
    const catalog = shop.started.rt.shop.catalog
    const getBySlug = catalog.getBySlug.bind(catalog)
    catalog.getBySlug = async (slug: string) => {
      if (slug === FAULT_SLUG) throw new Error(FAULT_MESSAGE)
      return getBySlug(slug)
    }
    const admin = await shop.admin()
    for (const [who, email] of Object.entries(people)) {
      const client = await shop.customer(email)
      const me = (await client.get('/me')).body
      if (who === 'staff') assert.equal((await admin.put(`/admin/users/${me.id}/role`, { role: 'staff' })).status, 200)
    }
    browser = await launchBrowser()
  })

  after(async () => {
    await browser?.close()
    await shop?.stop()
  })

  it('shows a burst, finds the 500 and its error, tails a new request, draws the operations charts', {
    timeout: 180_000,
  }, async () => {
    await opsConsoleJourney({
      name: 'embedded',
      browser,
      url: shop.url,
      staff: { email: people.staff, password: PASSWORD },
      customer: { email: people.customer, password: PASSWORD },
      indexDelayMs: 20_000,
      async burst() {
        const c = shop.client()
        const list = await c.get('/products?limit=5')
        assert.equal(list.status, 200)
        const slug = list.body.items[0].slug
        for (let i = 0; i < 15; i++) assert.equal((await c.get(`/products?limit=5&page=${1 + (i % 3)}`)).status, 200)
        for (let i = 0; i < 5; i++) assert.equal((await c.get(`/products/${slug}`)).status, 200)
        assert.equal((await c.get('/products/no-such-product-here')).status, 404)
        assert.equal(
          (await c.post('/auth/login', { email: people.customer, password: 'not the password' })).status,
          401,
        )
        const failed = await c.get(`/products/${FAULT_SLUG}`)
        assert.equal(failed.status, 500)
        assert.equal(failed.body.error.code, 'EMP_INTERNAL')
        assert.doesNotMatch(JSON.stringify(failed.body), /disk read/, 'the client is not told the internal error')
      },
      async probe(marker) {
        assert.equal((await shop.client().get(`/products/${marker}`)).status, 404)
      },
    })
  })
})
