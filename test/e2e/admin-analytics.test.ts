// The back office's analytics page over real HTTP on the embedded shop: who gets in, the CSV export (headers, money
// in major units, a formula-looking value made inert), bad input answered beside its field and never with a 500,
// the raw console's refusals, and saved queries that only their owner can run or delete.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { EngineUnavailable } from '../../src/core/errors.ts'
import { newEventId } from '../../src/core/ids.ts'
import { buildServer } from '../../src/web/server.ts'
import { WebClient } from '../support/browser.ts'
import { ADMIN, startTestShop, type TestShop } from '../support/test-shop.ts'

const PASSWORD = 'correct horse battery'
const FORMULA_CATEGORY = '=HYPERLINK("http://evil.example","x")'

/** The messages shown beside fields, by field. */
const fieldErrors = (html: string): Record<string, string> =>
  Object.fromEntries([...html.matchAll(/class="error" id="err-([^"]+)"[^>]*>([^<]*)/g)].map((m) => [m[1]!, m[2]!]))

describe('the analytics page (embedded shop)', () => {
  let shop: TestShop
  const web: Record<'admin' | 'analyst' | 'other' | 'staff' | 'customer', WebClient> = {} as never

  const signIn = async (email: string, password: string) => {
    const c = new WebClient(shop.url)
    const r = await c.request('POST', '/api/v1/auth/login', { json: { email, password } })
    assert.equal(r.status, 200, r.text)
    return c
  }
  const csrfOf = async (c: WebClient) => WebClient.csrfOf((await c.get('/account')).text)

  before(async () => {
    shop = await startTestShop()
    const admin = await shop.admin()
    const people: Record<string, string> = {}
    for (const [who, role] of [
      ['analyst', 'analyst'],
      ['other', 'analyst'],
      ['staff', 'staff'],
      ['customer', 'customer'],
    ] as const) {
      const email = `${who}.${Date.now()}@example.com`
      const client = await shop.customer(email)
      const me = (await client.get('/me')).body
      if (role !== 'customer') assert.equal((await admin.put(`/admin/users/${me.id}/role`, { role })).status, 200)
      people[who] = email
    }
    web.admin = await signIn(ADMIN.email, ADMIN.password)
    for (const who of ['analyst', 'other', 'staff', 'customer'] as const)
      web[who] = await signIn(people[who]!, PASSWORD)

    // A product view whose category a spreadsheet would run as a formula, today.
    const store = await shop.started.rt.analytics()
    await store.write({
      events: [
        {
          id: newEventId(),
          type: 'product_view',
          at: new Date().toISOString(),
          sessionId: 'ses_formula',
          category: FORMULA_CATEGORY,
          productId: 'prd_formula',
          value: 1999,
          currency: 'USD',
          channel: 'web',
        },
      ],
    })
  })
  after(async () => {
    await shop?.stop()
  })

  it('analysts and admins get the page; staff and customers are refused; visitors are sent to sign in', async () => {
    for (const who of ['analyst', 'admin'] as const) {
      const r = await web[who].get('/admin/analytics')
      assert.equal(r.status, 200, who)
      assert.match(r.text, /<h1>Analytics<\/h1>/)
      assert.match(r.text, /<svg class="chart-svg line-chart"/, `${who} sees the default chart`)
      assert.match(r.text, /<a href="\/admin\/analytics" aria-current="page">Analytics<\/a>/)
    }
    const analystPage = (await web.analyst.get('/admin/analytics')).text
    assert.match(analystPage, /<a href="\/admin\/analytics">Back office<\/a>/, 'the header links analysts here')
    assert.doesNotMatch(analystPage, /href="\/admin\/orders"/, 'an analyst sees no other back-office section')

    for (const who of ['staff', 'customer'] as const) {
      const c = web[who]
      const csrf = await csrfOf(c)
      const attempts = [
        await c.get('/admin/analytics'),
        await c.get('/admin/analytics/export.csv?m=revenue&range=7d'),
        await c.request('POST', '/admin/analytics/raw', { form: { _csrf: csrf, statement: 'SELECT 1' } }),
        await c.request('POST', '/admin/analytics/saved', { form: { _csrf: csrf, name: 'x', query: 'm=revenue' } }),
      ]
      for (const r of attempts) {
        assert.equal(r.status, 403, who)
        assert.match(r.text, /Not allowed/)
        assert.doesNotMatch(r.text, /Run query|Raw console|revenue \(USD\)/)
      }
    }
    const visitor = await new WebClient(shop.url).get('/admin/analytics?m=revenue')
    assert.equal(visitor.status, 303)
    assert.equal(visitor.headers.get('location'), `/login?next=${encodeURIComponent('/admin/analytics?m=revenue')}`)
  })

  it('exports the query as a CSV attachment: money in major units, formula-looking text made inert', async () => {
    const r = await web.analyst.get('/admin/analytics/export.csv?m=revenue&m=orders&time=day&range=90d')
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('content-type'), 'text/csv; charset=utf-8')
    assert.match(
      r.headers.get('content-disposition') ?? '',
      /^attachment; filename="analytics-day-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv"$/,
    )
    const lines = r.text.split('\r\n')
    assert.equal(lines[0], 'day,revenue (USD),orders')
    assert.equal(lines.at(-1), '', 'every line ends with CRLF')
    const rows = lines.slice(1, -1)
    assert.ok(rows.length >= 60, `the seeded days are there (${rows.length})`)
    for (const row of rows) assert.match(row, /^\d{4}-\d{2}-\d{2},-?\d+\.\d{2},\d+$/, row)

    // The same numbers as the JSON API.
    const api = await shop.admin()
    const days = rows.map((l) => l.split(','))
    const [first] = days
    const answer = await api.post('/analytics/query', {
      measures: ['revenue'],
      filters: { day: first![0] },
      from: `${first![0]}T00:00:00Z`,
      to: `${new Date(Date.parse(`${first![0]}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)}T00:00:00Z`,
    })
    assert.equal(answer.status, 200, JSON.stringify(answer.body))
    assert.equal(Math.round(Number(first![1]) * 100), answer.body.rows[0].revenue.amount)

    const byCategory = await web.analyst.get('/admin/analytics/export.csv?m=sessions&by=category&range=7d')
    assert.equal(byCategory.status, 200)
    assert.match(byCategory.text, /^category,sessions\r\n/)
    assert.ok(
      byCategory.text.includes(`"'=HYPERLINK(""http://evil.example"",""x"")",1\r\n`),
      `the formula is quoted and starts with an apostrophe:\n${byCategory.text}`,
    )
    const page = await web.analyst.get('/admin/analytics?m=sessions&by=category&range=7d')
    assert.ok(page.text.includes('=HYPERLINK(&quot;http://evil.example&quot;,&quot;x&quot;)'), 'escaped on the page')

    const products = await web.analyst.get(
      '/admin/analytics/export.csv?m=revenue&by=product&range=90d&sort=revenue&dir=desc&limit=3',
    )
    const [header, top] = products.text.split('\r\n')
    assert.equal(header, 'product,product_name,revenue (USD)')
    assert.match(top ?? '', /^prd_\w+,[^,]+,\d+\.\d{2}$/)
  })

  it('bad input is answered beside its field (400), never with a 500; a bad export goes back to the form', async () => {
    const bad = await web.analyst.get('/admin/analytics?m=revenue&m=profit&range=custom&from=2026-13-01&to=&limit=0')
    assert.equal(bad.status, 400)
    const errors = fieldErrors(bad.text)
    assert.deepEqual(Object.keys(errors).sort(), ['from', 'limit', 'measures', 'to'])
    assert.match(errors.measures!, /profit is not a measure/)
    assert.match(bad.text, /The query was not run: 4 fields need fixing/)
    assert.match(bad.text, /id="q-limit"[^>]*aria-invalid="true"[^>]*aria-describedby="err-limit"/)

    for (const path of [
      '/admin/analytics?m[$gt]=1',
      '/admin/analytics?m=revenue&range=7d&f_country=' + 'A,'.repeat(150),
      '/admin/analytics?m=revenue&range=lastyear',
      '/admin/analytics?saved=..%2F..%2Fetc',
      '/admin/analytics?m=revenue&time=day&range=custom&from=2024-01-01&to=2026-01-01',
    ]) {
      const r = await web.analyst.get(path)
      assert.ok([400, 404].includes(r.status), `${path} → ${r.status}`)
    }

    const csv = await web.analyst.get('/admin/analytics/export.csv?m=revenue&range=custom&from=nope&to=2026-01-01')
    assert.equal(csv.status, 303)
    assert.match(
      csv.headers.get('location') ?? '',
      /^\/admin\/analytics\?m=revenue&range=custom&from=nope&to=2026-01-01$/,
    )
  })

  it('the raw console shows rows, a refusal beside the statement (422), and needs the form token', async () => {
    const csrf = await csrfOf(web.analyst)
    const ok = await web.analyst.request('POST', '/admin/analytics/raw?m=revenue&range=7d', {
      form: { _csrf: csrf, statement: `SELECT 42 AS answer, '<b>bold</b>' AS markup, NULL AS nothing` },
    })
    assert.equal(ok.status, 200)
    assert.match(ok.text, /<th scope="col">answer<\/th><th scope="col">markup<\/th>/)
    assert.match(ok.text, /<td class="num">42<\/td><td>&lt;b>bold&lt;\/b><\/td><td class="null">NULL<\/td>/)

    const dropped = await web.analyst.request('POST', '/admin/analytics/raw', {
      form: { _csrf: csrf, statement: 'DROP TABLE x' },
    })
    assert.equal(dropped.status, 422)
    assert.match(fieldErrors(dropped.text).statement ?? '', /^Refused: The console runs one read-only statement only/)
    assert.match(dropped.text, />DROP TABLE x<\/textarea>/, 'the statement is kept to be fixed')

    const cast = await web.analyst.request('POST', '/admin/analytics/raw', {
      form: { _csrf: csrf, statement: `SELECT CAST('x' AS INTEGER)` },
    })
    assert.equal(cast.status, 400)
    assert.match(fieldErrors(cast.text).statement ?? '', /Conversion Error/)

    const empty = await web.analyst.request('POST', '/admin/analytics/raw', { form: { _csrf: csrf, statement: '  ' } })
    assert.equal(empty.status, 400)
    assert.ok(fieldErrors(empty.text).statement)

    const forged = await web.analyst.request('POST', '/admin/analytics/raw', { form: { statement: 'SELECT 1' } })
    assert.equal(forged.status, 403)
    assert.match(forged.text, /Your form expired/)
  })

  it('saved queries: save, run, replace by name, and only the owner can run or delete them', async () => {
    const csrf = await csrfOf(web.analyst)
    const save = (name: string, query: string, c = web.analyst, token = csrf) =>
      c.request('POST', '/admin/analytics/saved', { form: { _csrf: token, name, query } })

    const blank = await save('   ', 'm=revenue&range=7d')
    assert.equal(blank.status, 422)
    assert.equal(fieldErrors(blank.text).name, 'Give the query a name')
    const broken = await save('Broken', 'm=profit&range=7d')
    assert.equal(broken.status, 422)
    assert.match(broken.text, /Not saved: Fix the query before saving it/)
    assert.match(fieldErrors(broken.text).measures ?? '', /profit is not a measure/)

    const saved = await save('Units by week', 'm=units&time=week&range=90d')
    assert.equal(saved.status, 303)
    const location = saved.headers.get('location') ?? ''
    assert.match(location, /^\/admin\/analytics\?saved=qry_\w+$/)
    const run = await web.analyst.get(location)
    assert.equal(run.status, 200)
    assert.match(run.text, /<h1>Analytics: Units by week<\/h1>/)
    assert.match(run.text, /Saved “Units by week”\./)
    assert.match(run.text, /<option value="90d" selected[^>]*>Last 90 days<\/option>/)
    assert.match(run.text, /<option value="week" selected>Week<\/option>/)
    assert.match(run.text, /aria-current="true">Units by week<\/a>/)

    const replaced = await save('Units by week', 'm=units&time=month&range=90d')
    assert.equal(replaced.headers.get('location'), location, 'the same name keeps its id')
    assert.match((await web.analyst.get(location)).text, /<option value="month" selected>Month<\/option>/)

    const id = location.split('=')[1]!
    const other = web.other
    assert.equal((await other.get(location)).status, 404, 'another analyst cannot run it')
    assert.doesNotMatch((await other.get('/admin/analytics')).text, /Units by week/, 'nor see it')
    const otherCsrf = await csrfOf(other)
    const stolen = await other.request('POST', `/admin/analytics/saved/${id}/delete`, {
      form: { _csrf: otherCsrf, query: '' },
    })
    assert.equal(stolen.status, 303)
    assert.equal((await web.analyst.get(location)).status, 200, 'still there for its owner')

    const deleted = await web.analyst.request('POST', `/admin/analytics/saved/${id}/delete`, {
      form: { _csrf: csrf, query: 'm=units&range=7d' },
    })
    assert.equal(deleted.status, 303)
    assert.equal(deleted.headers.get('location'), '/admin/analytics?m=units&range=7d')
    assert.match((await web.analyst.get('/admin/analytics?m=units&range=7d')).text, /Deleted “Units by week”\./)
    assert.equal((await web.analyst.get(location)).status, 404)
  })

  it('a web process that cannot open the analytics store says so (503) and still shows the form and saved queries', async () => {
    const rt = shop.started.rt
    const app = await buildServer({
      config: rt.config,
      shop: rt.shop,
      sessionStore: rt.sessions,
      readiness: [],
      logger: rt.logger,
      analytics: async () => {
        throw new EngineUnavailable('The analytics store (DATA_DIR/analytics.duckdb is locked by another process)')
      },
    })
    try {
      const cookie = `emp_sid=${web.analyst.cookies.get('emp_sid')}`
      const page = await app.inject({ method: 'GET', url: '/admin/analytics?m=revenue&range=7d', headers: { cookie } })
      assert.equal(page.statusCode, 503)
      assert.match(
        page.body,
        /role="alert">The analytics store \(DATA_DIR\/analytics.duckdb is locked by another process\)/,
      )
      assert.match(page.body, /Run query/)
      assert.match(page.body, /<h2 id="saved-title">Saved queries<\/h2>/)
      const csv = await app.inject({
        method: 'GET',
        url: '/admin/analytics/export.csv?m=revenue&range=7d',
        headers: { cookie },
      })
      assert.equal(csv.statusCode, 503)
    } finally {
      await app.close()
    }
  })

  it('an analyst keeps at most 50 saved queries, and may still replace one by name', async () => {
    const c = web.other
    const csrf = await csrfOf(c)
    for (let i = 0; i < 50; i++) {
      const r = await c.request('POST', '/admin/analytics/saved', {
        form: { _csrf: csrf, name: `Q${i}`, query: 'm=orders&range=7d' },
      })
      assert.equal(r.status, 303, `save ${i}`)
    }
    const over = await c.request('POST', '/admin/analytics/saved', {
      form: { _csrf: csrf, name: 'One more', query: 'm=orders&range=7d' },
    })
    assert.equal(over.status, 422)
    assert.match(fieldErrors(over.text).name ?? '', /50 saved queries/)
    const again = await c.request('POST', '/admin/analytics/saved', {
      form: { _csrf: csrf, name: 'Q7', query: 'm=units&range=7d' },
    })
    assert.equal(again.status, 303)
  })
})
