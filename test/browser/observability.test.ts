// The operators' console in a real browser on the embedded shop (logs through the in-process pipeline into SQLite):
// explorer, status-500 search, live tail, operations charts, phone width, and a customer refused.
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { browserSkipReason, launchBrowser } from '../support/browser.ts'
import { injectProductFault, type OpsPeople, opsConsoleJourney, registerOpsPeople } from '../support/ops-console.ts'
import { startTestShop, type TestShop } from '../support/test-shop.ts'

describe('the observability console in a real browser (embedded)', { skip: browserSkipReason() }, () => {
  let shop: TestShop
  let browser: Browser
  let people: OpsPeople

  before(async () => {
    shop = await startTestShop({ LOG_LEVEL: 'info', LOG_STDOUT: 'false' })
    injectProductFault(shop.started.rt.shop.catalog)
    people = await registerOpsPeople(shop.api, await shop.admin(), String(Date.now()))
    browser = await launchBrowser()
  })

  after(async () => {
    await browser?.close()
    await shop?.stop()
  })

  it('shows a burst, finds the 500 and its error, tails a new request, draws the operations charts', {
    timeout: 180_000,
  }, async () => {
    await opsConsoleJourney({ name: 'embedded', browser, url: shop.url, indexDelayMs: 20_000, ...people })
  })
})
