// The operators' console journey in a real browser, shared by the embedded (SQLite) and the stack (OpenSearch)
// tests: a burst of traffic with one failing request shows in the explorer's histogram and table, a query for
// status 500 finds the request and its error, the live tail shows a new request, the operations charts render with
// data, the page fits a phone, and a customer gets no access.
import assert from 'node:assert/strict'
import type { Browser, Page } from 'playwright-core'
import { newPage, screenshot, text, watchProblems } from './browser.ts'

export const FAULT_SLUG = 'observability-fault-probe'
export const FAULT_MESSAGE = 'simulated storage fault: disk read timed out'

export interface OpsJourney {
  browser: Browser
  url: string
  staff: { email: string; password: string }
  customer: { email: string; password: string }
  /** Sends ordinary traffic (lists, products, a 404, a failed sign-in) and one request that fails with a 500. */
  burst(): Promise<void>
  /** One new request whose path contains `marker`. */
  probe(marker: string): Promise<void>
  /** How long records may take from request to index here. */
  indexDelayMs: number
  name: string
}

async function signIn(page: Page, url: string, who: { email: string; password: string }) {
  await page.goto(`${url}/login`)
  await page.getByLabel('E-mail').fill(who.email)
  await page.getByLabel('Password').fill(who.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL((u) => u.pathname !== '/login')
}

/** Reloads until `check` passes (records reach the index asynchronously), bounded. */
async function eventually(page: Page, what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`)
    await page.waitForTimeout(1000)
    await page.reload()
  }
}

const histogramTotal = async (page: Page): Promise<number> => {
  const status = page.locator('[data-chart-status="histogram"]')
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-chart-status="histogram"]')?.textContent ?? ''
    return s !== '' && s !== 'Loading…'
  })
  const t = await text(status)
  const m = /^([\d,]+) records/.exec(t)
  return m ? Number(m[1]!.replace(/,/g, '')) : 0
}

export async function opsConsoleJourney(j: OpsJourney): Promise<void> {
  const context = await j.browser.newContext({ viewport: { width: 1280, height: 900 } })
  const problems = await watchProblems(context)
  try {
    const page = await newPage(context)
    await signIn(page, j.url, j.staff)
    await j.burst()

    // The back office leads staff to the console.
    await page.goto(`${j.url}/admin`)
    await page.getByRole('navigation', { name: 'Back office' }).getByRole('link', { name: 'Observability' }).click()
    await page.waitForURL((u) => u.pathname === '/admin/observability')
    assert.equal(await text(page.locator('h1')), 'Log explorer')

    // The burst shows in the histogram and the table.
    await page.goto(`${j.url}/admin/observability?range=15m&q=${encodeURIComponent('url.path:/api/v1/products*')}`)
    await eventually(page, 'the burst in the explorer', j.indexDelayMs, async () => {
      const total = Number(await page.locator('[data-ops-total]').getAttribute('data-ops-total'))
      return total >= 20 && (await histogramTotal(page)) >= 20
    })
    const rows = await page.locator('tr.ops-row').count()
    assert.ok(rows >= 20, `the table shows the burst (${rows} rows)`)
    const histogram = await histogramTotal(page)
    const total = Number(await page.locator('[data-ops-total]').getAttribute('data-ops-total'))
    assert.equal(histogram, total, 'the histogram counts what the table found')
    const drawn = await page
      .locator('[data-ops-histogram] canvas')
      .evaluate((c: HTMLCanvasElement) => c.width > 0 && c.height > 0)
    assert.ok(drawn, 'the histogram is drawn')
    await screenshot(page, `ops-explorer-${j.name}`)

    // A query for status 500 finds the failing request, and its document holds the error.
    await page.getByLabel('Query', { exact: true }).fill('http.response.status_code:500')
    await page.getByRole('button', { name: 'Search logs' }).click()
    await page.waitForURL((u) => u.searchParams.get('q') === 'http.response.status_code:500')
    await eventually(page, 'the 500 in the explorer', j.indexDelayMs, async () => {
      return (await page.locator('tr.ops-row').count()) >= 1
    })
    const failing = page.locator('tr.ops-row').first()
    assert.match(await text(failing), /500/)
    assert.match(await text(failing), new RegExp(FAULT_SLUG))
    const doc = page.locator('tr.ops-doc details').first()
    await doc.locator('summary').click()
    assert.match(await text(doc.locator('pre')), new RegExp(FAULT_MESSAGE))
    // The same trace: the link finds the request's records.
    await doc.getByRole('link', { name: 'Records of the same trace' }).click()
    await page.waitForURL((u) => (u.searchParams.get('q') ?? '').startsWith('trace.id:'))
    assert.ok((await page.locator('tr.ops-row').count()) >= 1, 'the trace has records')
    assert.match(await text(page.locator('.ops-results')), new RegExp(FAULT_SLUG))

    // A bad query is refused next to the field, with the reason.
    await page.goto(`${j.url}/admin/observability?q=${encodeURIComponent('status:>=')}`)
    assert.match(await text(page.locator('#err-q')), /position/)

    // Dragging across the histogram zooms into that time.
    await page.goto(`${j.url}/admin/observability?range=15m`)
    await histogramTotal(page)
    const canvas = page.locator('[data-ops-histogram] canvas')
    await canvas.scrollIntoViewIfNeeded()
    const box = await canvas.boundingBox()
    assert.ok(box, 'the histogram has a size')
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 })
    await page.mouse.up()
    await page.waitForURL((u) => u.searchParams.get('range') === 'custom')
    const zoomed = new URL(page.url())
    const span = Date.parse(zoomed.searchParams.get('to') ?? '') - Date.parse(zoomed.searchParams.get('from') ?? '')
    assert.ok(span > 0 && span < 15 * 60_000, `the zoomed window is inside the 15 minutes (${span} ms)`)

    // An empty result says so; auto-refresh brings new records in without a reload.
    const fresh = `refresh-probe-${Date.now()}`
    await page.goto(
      `${j.url}/admin/observability?range=15m&refresh=5s&q=${encodeURIComponent(`url.path:"/api/v1/products/${fresh}"`)}`,
    )
    await page.locator('[data-ops-empty]').waitFor()
    assert.match(await text(page.locator('[data-ops-empty]')), /No records match/)
    await page.evaluate(() => {
      ;(window as unknown as { notReloaded: boolean }).notReloaded = true
    })
    await j.probe(fresh)
    await page.locator('tr.ops-row', { hasText: fresh }).first().waitFor({ timeout: j.indexDelayMs })
    assert.equal(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
      'the records were refreshed in place, not by reloading the page',
    )

    // The live tail shows a new request within a few seconds.
    await page.goto(`${j.url}/admin/observability?range=15m`)
    await page.getByRole('button', { name: 'Start live tail' }).click()
    await page.waitForFunction(() =>
      /Live|Waiting/.test(document.querySelector('[data-tail-status]')?.textContent ?? ''),
    )
    const marker = `tail-probe-${Date.now()}`
    const sentAt = Date.now()
    await j.probe(marker)
    await page.locator('[data-tail-rows] tr', { hasText: marker }).first().waitFor({ timeout: j.indexDelayMs })
    const tailMs = Date.now() - sentAt
    console.log(`# ${j.name}: the live tail showed a new request after ${tailMs} ms`)
    await page.getByRole('button', { name: 'Pause live tail' }).click()

    // The operations dashboard renders its charts and tables with data.
    await page.getByRole('link', { name: 'Operations' }).click()
    await page.waitForURL((u) => u.pathname === '/admin/observability/operations')
    await page.waitForFunction(() => document.querySelector('[data-ops-overview]')?.getAttribute('aria-busy') === null)
    const requests = Number((await text(page.locator('[data-ops-stat="requests"]'))).replace(/,/g, ''))
    assert.ok(requests >= 20, `the request count covers the burst (${requests})`)
    assert.notEqual(await text(page.locator('[data-ops-stat="errorRate"]')), '—')
    assert.match(await text(page.locator('[data-ops-stat="p95"]')), /ms$/)
    assert.match(await text(page.locator('[data-ops-table="routes"]')), /\/api\/v1\/products/)
    assert.match(await text(page.locator('[data-ops-table="statuses"]')), /500/)
    assert.match(await text(page.locator('[data-ops-table="actions"]')), /login\.failed/)
    assert.match(await text(page.locator('[data-ops-table="channels"]')), /logs:access/)
    assert.match(await text(page.locator('[data-ops-table="queues"]')), /logs/)
    for (const chart of ['requests', 'errors', 'status', 'security', 'indexed', 'backlog']) {
      const ok = await page
        .locator(`[data-ops-chart="${chart}"] canvas`)
        .evaluate((c: HTMLCanvasElement) => c.width > 0 && c.height > 0)
      assert.ok(ok, `chart ${chart} is drawn`)
      assert.doesNotMatch(await text(page.locator(`[data-chart-status="${chart}"]`)), /Loading|could not/)
    }
    await screenshot(page, `ops-operations-${j.name}`)

    // At phone width nothing overflows the page sideways.
    await page.setViewportSize({ width: 390, height: 844 })
    await page.reload()
    await page.waitForFunction(() => document.querySelector('[data-ops-overview]')?.getAttribute('aria-busy') === null)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 1, `the operations page fits a phone (overflows by ${overflow} px)`)
    await page.goto(`${j.url}/admin/observability?range=15m`)
    const overflowExplorer = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflowExplorer <= 1, `the explorer fits a phone (overflows by ${overflowExplorer} px)`)
    await screenshot(page, `ops-explorer-phone-${j.name}`)

    // A customer gets no access, to the pages or to the JSON.
    const other = await j.browser.newContext()
    try {
      const p2 = await newPage(other)
      await signIn(p2, j.url, j.customer)
      for (const path of ['/admin/observability', '/admin/observability/operations']) {
        const res = await p2.goto(`${j.url}${path}`)
        assert.equal(res?.status(), 403, `${path} refuses a customer`)
      }
      for (const path of ['/api/v1/ops/logs', '/api/v1/ops/overview', '/api/v1/ops/logs/histogram']) {
        const status = await p2.evaluate(async (u) => (await fetch(u)).status, `${j.url}${path}`)
        assert.equal(status, 403, `${path} refuses a customer`)
      }
    } finally {
      await other.close()
    }
    // The refused query answered 400 on purpose; Chromium reports every 4xx document in the console.
    const unexpected = problems.filter(
      (p) => !p.includes(`q=${encodeURIComponent('status:>=')}: Failed to load resource`),
    )
    assert.deepEqual(unexpected, [], 'no console errors, page errors or CSP violations')
  } finally {
    await context.close()
  }
}
