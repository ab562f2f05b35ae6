// The operators' console journey in a real browser, shared by the embedded (SQLite) and the stack (OpenSearch)
// tests: a burst of traffic with one failing request shows in the explorer's histogram and table, a query for
// status 500 finds the request and its error, the live tail shows a new request, the operations charts render with
// data, the page fits a phone, and a customer gets no access.
import assert from 'node:assert/strict'
import type { Browser, Page } from 'playwright-core'
import type { Catalog } from '../../src/commerce/catalog.ts'
import { newPage, screenshot, text, watchProblems } from './browser.ts'
import { ApiClient } from './http-client.ts'

export const FAULT_SLUG = 'observability-fault-probe'
export const FAULT_MESSAGE = 'simulated storage fault: disk read timed out'
const PASSWORD = 'correct horse battery'

/**
 * A storage fault on one product, in the catalog the web routes call: that request answers 500 and its error is
 * logged. Fault injection in the running shop; nothing else is replaced.
 */
export function injectProductFault(catalog: Pick<Catalog, 'getBySlug'>): void {
  const getBySlug = catalog.getBySlug.bind(catalog)
  catalog.getBySlug = async (slug: string) => {
    if (slug === FAULT_SLUG) throw new Error(FAULT_MESSAGE)
    return getBySlug(slug)
  }
}

export interface OpsPeople {
  staff: { email: string; password: string }
  customer: { email: string; password: string }
}

/** Registers a staff member (promoted by the signed-in admin client) and a customer. */
export async function registerOpsPeople(api: string, admin: ApiClient, run: string): Promise<OpsPeople> {
  const people = {
    staff: { email: `sam.ops.${run}@example.com`, password: PASSWORD },
    customer: { email: `cora.${run}@example.com`, password: PASSWORD },
  }
  for (const [who, person] of Object.entries(people)) {
    const c = new ApiClient(api)
    assert.equal((await c.post('/auth/register', { ...person, name: who })).status, 201)
    const me = (await c.get('/me')).body
    if (who === 'staff') assert.equal((await admin.put(`/admin/users/${me.id}/role`, { role: 'staff' })).status, 200)
  }
  return people
}

export interface OpsJourney extends OpsPeople {
  browser: Browser
  url: string
  /** How long records may take from request to index here. */
  indexDelayMs: number
  name: string
}

/** Ordinary traffic (lists, products, a 404, a failed sign-in) and one request that fails with a 500. */
async function burst(j: OpsJourney): Promise<void> {
  const c = new ApiClient(`${j.url}/api/v1`)
  const list = await c.get('/products?limit=5')
  assert.equal(list.status, 200)
  const slug = list.body.items[0].slug
  for (let i = 0; i < 15; i++) assert.equal((await c.get(`/products?limit=5&page=${1 + (i % 3)}`)).status, 200)
  for (let i = 0; i < 5; i++) assert.equal((await c.get(`/products/${slug}`)).status, 200)
  assert.equal((await c.get('/products/no-such-product-here')).status, 404)
  assert.equal((await c.post('/auth/login', { email: j.customer.email, password: 'not the password' })).status, 401)
  const failed = await c.get(`/products/${FAULT_SLUG}`)
  assert.equal(failed.status, 500)
  assert.equal(failed.body.error.code, 'EMP_INTERNAL')
  assert.doesNotMatch(JSON.stringify(failed.body), /disk read/, 'the client is not told the internal error')
}

/** One new request whose path contains `marker`. */
async function probe(j: OpsJourney, marker: string): Promise<void> {
  assert.equal((await new ApiClient(`${j.url}/api/v1`).get(`/products/${marker}`)).status, 404)
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
    await burst(j)

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
    await probe(j, fresh)
    await page.locator('tr.ops-row', { hasText: fresh }).first().waitFor({ timeout: j.indexDelayMs })
    assert.equal(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
      'the records were refreshed in place, not by reloading the page',
    )

    // The live tail shows a new request within a few seconds.
    await page.goto(`${j.url}/admin/observability?range=15m`)
    await page.getByRole('button', { name: 'Start live tail' }).click()
    // "Live" appears on the stream's open event, after the server started the tail: a request sent before that is
    // older than the tail and, by design, not shown (on a slow machine the click alone can take seconds).
    await page.waitForFunction(() => /^Live/.test(document.querySelector('[data-tail-status]')?.textContent ?? ''))
    const marker = `tail-probe-${Date.now()}`
    const sentAt = Date.now()
    await probe(j, marker)
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
