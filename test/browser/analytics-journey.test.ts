// An analyst's session on /admin/analytics in a real browser (Debian's headless Chromium): revenue by day for the last
// 90 days as a chart and a table, the CSV download, saving the query and running it again from the list, the raw
// console refusing DROP TABLE, and a customer refused the page; without console errors or CSP violations.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import {
  browserSkipReason,
  cents,
  launchBrowser,
  newPage,
  screenshot,
  text,
  watchProblems,
} from '../support/browser.ts'
import { startTestShop, type TestShop } from '../support/test-shop.ts'

const PASSWORD = 'correct horse battery'
const SAVED_NAME = 'Revenue, last 90 days'
const DAY = 86_400_000

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

describe('the analytics page in a real browser', { skip: browserSkipReason() }, () => {
  let shop: TestShop
  let browser: Browser
  const people = { analyst: `ada.${Date.now()}@example.com`, customer: `carl.${Date.now()}@example.com` }

  before(async () => {
    shop = await startTestShop()
    const admin = await shop.admin()
    for (const [who, email] of Object.entries(people)) {
      const client = await shop.customer(email)
      const me = (await client.get('/me')).body
      if (who === 'analyst')
        assert.equal((await admin.put(`/admin/users/${me.id}/role`, { role: 'analyst' })).status, 200)
    }
    browser = await launchBrowser()
  })

  after(async () => {
    await browser?.close()
    await shop?.stop()
  })

  const signIn = async (page: Page, email: string) => {
    await page.goto(`${shop.url}/login`)
    await page.getByLabel('E-mail').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL((u) => u.pathname !== '/login')
  }

  /** The result table as [first cell, revenue cell] texts. */
  const resultRows = async (page: Page) =>
    page
      .locator('table.analytics-result tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => (c.textContent ?? '').trim())))

  it('an analyst builds revenue by day for the last 90 days, exports it, saves it, runs it again, and is refused DROP TABLE', {
    timeout: 240_000,
  }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })
    const problems = await watchProblems(context)
    try {
      const page = await newPage(context)
      await signIn(page, people.analyst)

      // The header leads an analyst to the one back-office page they have.
      await page.getByRole('link', { name: 'Back office' }).click()
      await page.waitForURL((u) => u.pathname === '/admin/analytics')
      assert.equal(await text(page.locator('h1')), 'Analytics')

      // Revenue by day, last 90 days.
      await page.getByLabel('Revenue', { exact: true }).check()
      await page.getByLabel('Orders', { exact: true }).uncheck()
      await page.getByLabel('Time', { exact: true }).selectOption('day')
      await page.getByLabel('Range', { exact: true }).selectOption('90d')
      const today = Date.parse(`${isoDay(Date.now())}T00:00:00Z`)
      assert.equal(await page.getByLabel('From', { exact: true }).inputValue(), isoDay(today - 89 * DAY))
      assert.equal(await page.getByLabel('To (included)').inputValue(), isoDay(today), 'the preset fills in its dates')
      await page.getByRole('button', { name: 'Run query' }).click()
      await page.waitForURL((u) => u.searchParams.get('range') === '90d')
      const url = new URL(page.url())
      assert.deepEqual(url.searchParams.getAll('m'), ['revenue'])
      assert.equal(url.searchParams.get('time'), 'day')

      // A chart and a table.
      assert.equal(await text(page.locator('#result-title')), 'Revenue by day')
      const chart = page.locator('figure.chart svg.line-chart')
      await chart.waitFor()
      assert.equal(await chart.getAttribute('role'), 'img')
      assert.equal(await page.locator('figure.chart circle.chart-point').count(), 90, 'a point for each of the 90 days')
      assert.ok(await page.locator('figure.chart polyline.chart-line').count(), 'a line through them')
      assert.equal(await text(page.locator('figure.chart figcaption')), 'Revenue by day')
      const rows = await resultRows(page)
      assert.ok(rows.length >= 60, `the seeded days have revenue (${rows.length} rows)`)
      for (const [day, revenue] of rows) {
        assert.match(day ?? '', /^\d{4}-\d{2}-\d{2}$/)
        assert.match(revenue ?? '', /^-?\$[\d,]+\.\d{2}$/, 'money in dollars and cents')
      }
      await screenshot(page, 'analytics-revenue-by-day')

      // The CSV of the same query.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download CSV' }).click(),
      ])
      assert.match(download.suggestedFilename(), /^analytics-day-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/)
      const csv = readFileSync((await download.path())!, 'utf8').split('\r\n')
      assert.equal(csv[0], 'day,revenue (USD)')
      assert.equal(csv.length - 2, rows.length, 'a line per table row')
      const [firstDay, firstRevenue] = rows[0]!
      const [csvDay, csvRevenue] = csv[1]!.split(',')
      assert.equal(csvDay, firstDay)
      assert.equal(Math.round(Math.abs(Number(csvRevenue)) * 100), cents(firstRevenue!), 'the same amount')

      // Save it under a name.
      await page.getByLabel('Save this query as').fill(SAVED_NAME)
      await page.getByRole('button', { name: 'Save query' }).click()
      await page.waitForURL((u) => u.searchParams.has('saved'))
      await page
        .getByRole('status')
        .filter({ hasText: `Saved “${SAVED_NAME}”.` })
        .waitFor()
      const savedList = page.getByRole('region', { name: 'Saved queries' })
      await savedList.getByRole('link', { name: SAVED_NAME }).waitFor()

      // Elsewhere, then run it again from the list.
      await page.goto(`${shop.url}/admin/analytics`)
      assert.equal(await page.getByLabel('Range', { exact: true }).inputValue(), '30d', 'the page opens on 30 days')
      await page.getByRole('region', { name: 'Saved queries' }).getByRole('link', { name: SAVED_NAME }).click()
      await page.waitForURL((u) => u.searchParams.has('saved'))
      assert.equal(await text(page.locator('h1')), `Analytics: ${SAVED_NAME}`)
      assert.equal(await page.getByLabel('Range', { exact: true }).inputValue(), '90d')
      assert.equal(await page.getByLabel('Orders', { exact: true }).isChecked(), false)
      assert.deepEqual(await resultRows(page), rows, 'the same rows again')
      await page.locator('figure.chart svg.line-chart').waitFor()

      // The raw console: a read answers rows, DROP TABLE is refused beside the statement.
      const statement = page.getByLabel('One read-only statement')
      await statement.fill('SELECT count(*) AS order_lines FROM order_lines')
      await page.getByRole('button', { name: 'Run statement' }).click()
      await page.locator('table.raw-result').waitFor()
      assert.equal(await text(page.locator('table.raw-result th')), 'order_lines')
      assert.ok(Number(await text(page.locator('table.raw-result td'))) > 0)

      await page.getByLabel('One read-only statement').fill('DROP TABLE x')
      const [answer] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/admin/analytics/raw'),
        page.getByRole('button', { name: 'Run statement' }).click(),
      ])
      assert.equal(answer.status(), 422)
      await page.waitForLoadState()
      const refusal = page.locator('#err-statement')
      assert.match(await text(refusal), /^Refused: The console runs one read-only statement only/)
      assert.equal(await refusal.getAttribute('role'), 'alert')
      assert.equal(await page.getByLabel('One read-only statement').inputValue(), 'DROP TABLE x')
      assert.equal(await page.getByLabel('One read-only statement').getAttribute('aria-invalid'), 'true')
      assert.equal(await page.locator('table.raw-result').count(), 0)
      await screenshot(page, 'analytics-console-refusal')

      // Chromium reports the refusal's 422 as a failed resource; nothing else may show up.
      const unexpected = problems.filter((p) => !/status of 422/.test(p))
      assert.deepEqual(unexpected, [], 'no console errors, page errors or CSP violations')
    } finally {
      await context.close()
    }
  })

  it('a customer is refused the analytics page: a 403 without its forms or data', { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    try {
      const page = await newPage(context)
      await signIn(page, people.customer)
      assert.equal(await page.getByRole('link', { name: 'Back office' }).count(), 0)
      for (const path of ['/admin/analytics', '/admin/analytics?m=revenue&time=day&range=90d']) {
        const res = await page.goto(`${shop.url}${path}`)
        assert.equal(res?.status(), 403, path)
        assert.equal(await text(page.locator('h1')), 'Not allowed')
        assert.equal(await page.getByRole('button', { name: /Run query|Run statement|Save query/ }).count(), 0)
        assert.equal(await page.locator('main table, main svg, main textarea').count(), 0, 'no analytics shown')
      }
      const csv = await page.goto(`${shop.url}/admin/analytics/export.csv?m=revenue&range=90d`)
      assert.equal(csv?.status(), 403)
      assert.match(csv?.headers()['content-type'] ?? '', /^text\/html/, 'a refusal page, not a file')
    } finally {
      await context.close()
    }
  })
})
