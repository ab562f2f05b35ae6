// The embedded log flow in one process: pino → shipper → in-process queue → routing worker → in-memory channels →
// pipeline → SQLite FTS5 index; personal data never reaches the index.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestShop, type TestShop } from '../support/test-shop.ts'

const EMAIL = 'grace.hopper.logs@example.com'
const PASSWORD = 'nanoseconds are 30 centimetres'
const CARD = '4111 1111 1111 1111'

describe('log pipeline (embedded: one process into SQLite)', () => {
  let shop: TestShop
  before(async () => {
    shop = await startTestShop({ LOG_LEVEL: 'info', LOG_STDOUT: 'false' })
  })
  after(async () => {
    await shop?.stop()
  })

  it('indexes access, audit, security and business records of real traffic, with no password, card or e-mail', async () => {
    const c = shop.client()
    await c.get('/auth/session')
    assert.equal((await c.post('/auth/register', { email: EMAIL, password: PASSWORD, name: 'Grace' })).status, 201)
    const list = await c.get(`/products?inStock=true&limit=1&q=${encodeURIComponent(EMAIL)}`)
    assert.equal(list.status, 200)
    await c.get(`/products?q=${encodeURIComponent(CARD)}`)
    const any = await c.get('/products?inStock=true&limit=1')
    const sku = any.body.items[0].variants.find((v: any) => v.available > 0).sku
    await c.post('/cart/items', { sku, quantity: 1 })
    const placed = await c.post(
      '/checkout',
      {
        shippingAddress: { name: 'Grace', line1: '1 Navy Way', city: 'Arlington', postalCode: '22202', country: 'US' },
        paymentToken: 'tok_visa',
      },
      { headers: { 'idempotency-key': `logs-${Date.now()}` } },
    )
    assert.equal(placed.status, 201)
    const other = shop.client()
    assert.equal((await other.post('/auth/login', { email: EMAIL, password: 'wrong password here' })).status, 401)

    const index = await shop.started.rt.logIndex()
    const window = {
      from: new Date(Date.now() - 3_600_000).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
    }
    const found = async (q: string) => (await index.search({ ...window, q, page: 1, limit: 50 })).total
    // Everything arrives asynchronously (batches, queue, channels, pipeline): wait for the last of it.
    const deadline = Date.now() + 20_000
    const expected = async () =>
      (await found('status:201 AND method:POST')) > 0 &&
      (await found('category:access')) >= 5 &&
      (await found('category:audit')) >= 1 &&
      (await found('category:security')) >= 1 &&
      (await found('category:business')) >= 1
    while (!(await expected())) {
      if (Date.now() > deadline)
        assert.fail(
          `not everything reached the index: ${JSON.stringify(
            Object.fromEntries(
              await Promise.all(
                ['access', 'audit', 'security', 'business'].map(async (c) => [c, await found(`category:${c}`)]),
              ),
            ),
          )}`,
        )
      await new Promise((r) => setTimeout(r, 100))
    }

    const all = await index.search({ ...window, page: 1, limit: 1000 })
    const text = JSON.stringify(all.items)
    assert.ok(all.total > 0)
    assert.ok(!text.includes(PASSWORD), 'no password in the index')
    assert.ok(!text.includes(EMAIL) && !text.includes(encodeURIComponent(EMAIL)), 'no e-mail address in the index')
    for (const leak of ['4111 1111 1111 1111', '4111111111111111', '4111%201111', '4111+1111']) {
      const at = text.indexOf(leak)
      assert.equal(at, -1, `a card number (${leak}) reached the index: …${text.slice(Math.max(0, at - 120), at + 40)}…`)
    }
    assert.equal(await found(`"${PASSWORD}"`), 0)

    const stats = shop.started.rt.shipperStats()
    assert.ok(stats && stats.shipped > 0, 'the shipper shipped')
    assert.equal(stats?.dropped, 0, 'the shipper dropped nothing')
  })
})
