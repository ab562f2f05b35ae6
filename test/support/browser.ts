// Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core (no browser is ever
// downloaded), a skip reason when it is missing (a failure on CI, which installs it), screenshots, a page watcher
// for console errors, uncaught page errors and CSP violations, and a small cookie-keeping fetch for raw HTML.
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
export const CHROMIUM_INSTALL = 'apt-get install -y chromium fonts-dejavu-core fonts-liberation'

/**
 * Why the browser tests cannot run here, or false when they can. Without CI a missing browser skips them with
 * this reason; on CI (which installs chromium) they run anyway, and `launchBrowser()` fails with the reason.
 */
export function browserSkipReason(): string | false {
  if (existsSync(CHROMIUM_PATH) || process.env.CI) return false
  return `chromium not installed at ${CHROMIUM_PATH}: ${CHROMIUM_INSTALL}`
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`chromium is missing at ${CHROMIUM_PATH} but CI is set; CI must install it: ${CHROMIUM_INSTALL}`)
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  })
}

/** A page with generous timeouts for a busy 2-core machine. */
export async function newPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  page.setDefaultNavigationTimeout(30_000)
  return page
}

export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url))

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true })
}

/**
 * Records what a person's browser would complain about: console errors (Chromium logs CSP refusals there too),
 * uncaught exceptions, and `securitypolicyviolation` events, reported through an init script (init scripts are
 * injected by the DevTools protocol and are not subject to the page's CSP).
 */
export async function watchProblems(context: BrowserContext): Promise<string[]> {
  const problems: string[] = []
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'}`)
    })
  })
  const attach = (page: Page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error on ${page.url()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`uncaught error on ${page.url()}: ${e.message}`))
  }
  context.pages().forEach(attach)
  context.on('page', attach)
  return problems
}

/** An element's text with whitespace collapsed. */
export const text = async (l: Locator): Promise<string> => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim()

/** Parses a money string as shown on pages ("$1,234.50", "−$5.00") into minor units, sign dropped. */
export const cents = (text: string): number => {
  const m = text.replace(/,/g, '').match(/(\d+)(?:\.(\d{2}))?/)
  if (!m) throw new Error(`no amount in "${text}"`)
  return Number(m[1]) * 100 + Number(m[2] ?? 0)
}

/** fetch with a cookie jar and no redirect following: for raw HTML, headers and hand-made form posts. */
export class WebClient {
  readonly cookies = new Map<string, string>()
  constructor(readonly origin: string) {}

  async request(
    method: string,
    path: string,
    opts: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Headers; text: string; json: any }> {
    const headers: Record<string, string> = { ...opts.headers }
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    let body: string | undefined
    if (opts.form) {
      body = new URLSearchParams(opts.form).toString()
      headers['content-type'] = 'application/x-www-form-urlencoded'
    } else if (opts.json !== undefined) {
      body = JSON.stringify(opts.json)
      headers['content-type'] = 'application/json'
    }
    const res = await fetch(this.origin + path, { method, headers, body, redirect: 'manual' })
    for (const c of res.headers.getSetCookie()) {
      const [pair = ''] = c.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1)
      if (!name) continue
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    const text = await res.text()
    let json: any = null
    if (res.headers.get('content-type')?.includes('json') && text) json = JSON.parse(text)
    return { status: res.status, headers: res.headers, text, json }
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, headers ? { headers } : {})
  }

  /** The `_csrf` value of the first form on a page. */
  static csrfOf(html: string): string {
    const m = html.match(/name="_csrf" value="([^"]*)"/)
    if (!m?.[1]) throw new Error('no _csrf field on the page')
    return m[1]
  }
}
