// The operators' JSON API and pages over HTTP on the embedded shop: who may read logs, bad input with its field and
// code, search and histogram agreeing, the overview, and the live tail as Server-Sent Events.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { ApiClient } from '../support/http-client.ts'
import { startTestShop, type TestShop } from '../support/test-shop.ts'

describe('operators API /api/v1/ops (embedded)', () => {
  let shop: TestShop
  let admin: ApiClient
  let staff: ApiClient
  let analyst: ApiClient
  let customer: ApiClient

  before(async () => {
    shop = await startTestShop({ LOG_LEVEL: 'info', LOG_STDOUT: 'false' })
    admin = await shop.admin()
    const roles = { staff: '', analyst: '' }
    staff = await shop.customer()
    analyst = await shop.customer()
    customer = await shop.customer()
    for (const [role, client] of [
      ['staff', staff],
      ['analyst', analyst],
    ] as const) {
      const me = (await client.get('/me')).body
      roles[role] = me.id
      assert.equal((await admin.put(`/admin/users/${me.id}/role`, { role })).status, 200)
    }
    for (let i = 0; i < 12; i++) await shop.client().get('/products?limit=2')
    // Records reach the index asynchronously: wait for the traffic above.
    const deadline = Date.now() + 20_000
    while ((await staff.get('/ops/logs?q=route:"/api/v1/products"&range=15m')).body.total < 12) {
      if (Date.now() > deadline) assert.fail('the traffic did not reach the index in 20 s')
      await new Promise((r) => setTimeout(r, 300))
    }
  })
  after(() => shop?.stop())

  it('only staff and admins read logs: anonymous 401, customer and analyst 403', async () => {
    for (const path of ['/ops/logs', '/ops/logs/histogram', '/ops/overview', '/ops/logs/tail']) {
      assert.equal((await shop.client().get(path)).status, 401, `${path} anonymous`)
      for (const [who, c] of [
        ['customer', customer],
        ['analyst', analyst],
      ] as const) {
        const r = await c.get(path)
        assert.equal(r.status, 403, `${path} ${who}`)
        assert.equal(r.body.error.code, 'EMP_FORBIDDEN')
      }
    }
    assert.equal((await staff.get('/ops/logs')).status, 200)
    assert.equal((await admin.get('/ops/overview?sections=status')).status, 200)
    const page = await fetch(`${shop.url}/admin/observability`, {
      headers: { cookie: `emp_sid=${customer.cookie('emp_sid')}` },
      redirect: 'manual',
    })
    assert.equal(page.status, 403)
  })

  it('search and histogram agree, newest first, with paging', async () => {
    const q = 'route:"/api/v1/products" AND status:200'
    const search = await staff.get(`/ops/logs?q=${encodeURIComponent(q)}&range=15m&limit=25`)
    assert.equal(search.status, 200)
    assert.ok(search.body.total >= 12)
    const times = search.body.items.map((r: any) => r['@timestamp'])
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first')
    const histogram = await staff.get(`/ops/logs/histogram?q=${encodeURIComponent(q)}&range=15m`)
    assert.equal(histogram.status, 200)
    assert.equal(histogram.body.intervalMs, 10_000)
    const counted = histogram.body.buckets.reduce(
      (a: number, b: any) => a + Object.values(b.counts as Record<string, number>).reduce((x, y) => x + y, 0),
      0,
    )
    assert.equal(counted, search.body.total)
    assert.deepEqual(histogram.body.levels, ['info'])
    const page2 = await staff.get(`/ops/logs?q=${encodeURIComponent(q)}&range=15m&limit=25&page=2`)
    assert.equal(page2.body.page, 2)
    const ids = new Set(search.body.items.map((r: any) => r.event.id))
    assert.ok(!page2.body.items.some((r: any) => ids.has(r.event.id)), 'pages do not overlap')
    const sorted = await staff.get(`/ops/logs?q=${encodeURIComponent(q)}&range=15m&sort=asc&category=access`)
    const ascending = sorted.body.items.map((r: any) => r['@timestamp'])
    assert.deepEqual(ascending, [...ascending].sort(), 'oldest first')
    assert.ok(sorted.body.items.every((r: any) => r.event.category === 'access'))
  })

  it('bad input answers 400 EMP_VALIDATION naming the field, and nothing else happens', async () => {
    const cases: [string, string][] = [
      ['/ops/logs?q=status:>=', 'q'],
      ['/ops/logs?q=(level:error', 'q'],
      ['/ops/logs?q=secret:1', 'q'],
      ['/ops/logs?range=2h', 'range'],
      ['/ops/logs?range=custom', 'from'],
      ['/ops/logs?from=yesterday', 'from'],
      ['/ops/logs?from=2026-11-27T10:00&to=2026-11-27T09:00', 'to'],
      ['/ops/logs?category=passwords', 'category'],
      ['/ops/logs?limit=1000', 'limit'],
      ['/ops/logs?page=0', 'page'],
      ['/ops/logs?page=300&limit=50', 'page'],
      ['/ops/logs?sort=sideways', 'sort'],
      ['/ops/logs?unknown=1', 'unknown'],
      ['/ops/logs/histogram?q=%22unterminated', 'q'],
      ['/ops/overview?sections=traffic,bogus', 'sections'],
      ['/ops/overview?range=1y', 'range'],
      ['/ops/logs/tail?q=status:[1%20TO', 'q'],
      [`/ops/logs?q=${'a'.repeat(1001)}`, 'q'],
    ]
    for (const [path, field] of cases) {
      const r = await staff.get(path)
      assert.equal(r.status, 400, `${path} → ${r.status} ${JSON.stringify(r.body)}`)
      assert.equal(r.body.error.code, 'EMP_VALIDATION', path)
      assert.ok(field in (r.body.error.fields ?? {}), `${path} names ${field}: ${JSON.stringify(r.body.error)}`)
    }
    // The page shows the reason next to the field, with a 400.
    const page = await fetch(`${shop.url}/admin/observability?q=${encodeURIComponent('status:>=')}`, {
      headers: { cookie: `emp_sid=${staff.cookie('emp_sid')}` },
    })
    assert.equal(page.status, 400)
    assert.match(await page.text(), /id="err-q"[^>]*><span>[^<]*position/)
  })

  it('the explorer page escapes what records carry (a user agent with markup stays text)', async () => {
    const agent = `<script>alert("ua")</script><img src=x onerror=alert(1)> & more`
    await fetch(`${shop.api}/products?limit=1&probe=xss`, { headers: { 'user-agent': agent } })
    const q = encodeURIComponent('url.query:"limit=1&probe=xss"')
    const deadline = Date.now() + 20_000
    let html = ''
    while (!html.includes('data-event-id')) {
      if (Date.now() > deadline) assert.fail('the request did not reach the index')
      const page = await fetch(`${shop.url}/admin/observability?range=15m&q=${q}&cols=user_agent.original,url.query`, {
        headers: { cookie: `emp_sid=${staff.cookie('emp_sid')}` },
      })
      assert.equal(page.status, 200)
      html = await page.text()
    }
    assert.ok(!html.includes('<script>alert'), 'no markup from the record')
    assert.ok(!html.includes('<img src=x'), 'no markup from the record')
    assert.ok(
      html.includes('&lt;script&gt;alert(&quot;ua&quot;)&lt;/script&gt;'),
      'shown as text, in the cell and document',
    )
  })

  it('the overview counts the traffic, and its routes link back to their records', async () => {
    const r = await staff.get('/ops/overview?range=15m')
    assert.equal(r.status, 200)
    assert.deepEqual(r.body.problems, [])
    assert.ok(r.body.traffic.requests >= 12)
    assert.ok(r.body.routes.some((x: any) => x.route === '/api/v1/products' && x.requests >= 12 && x.p95 > 0))
    assert.ok(r.body.status.some((s: any) => s.code === '200'))
    assert.equal(r.body.pipeline.channels.length, 6)
    assert.equal(typeof r.body.pipeline.deadLetters, 'number')
    assert.deepEqual(
      r.body.pipeline.queues.map((q: any) => q.queue),
      ['logs', 'analytics', 'maintenance'],
    )
  })

  it('at most 20 live tails at once; one that disconnects frees its place', async () => {
    const open = async () => {
      const controller = new AbortController()
      const res = await fetch(`${shop.api}/ops/logs/tail`, {
        headers: { cookie: `emp_sid=${staff.cookie('emp_sid')}` },
        signal: controller.signal,
      })
      return { res, controller }
    }
    const tails = []
    for (let i = 0; i < 20; i++) tails.push(await open())
    assert.ok(tails.every((t) => t.res.status === 200))
    const refused = await open()
    assert.equal(refused.res.status, 429)
    assert.equal((await refused.res.json()).error.code, 'EMP_RATE_LIMITED')
    for (const t of tails) t.controller.abort()
    const deadline = Date.now() + 5000
    for (;;) {
      const again = await open()
      again.controller.abort()
      if (again.res.status === 200) break
      if (Date.now() > deadline) assert.fail('closed tails were not released')
      await new Promise((r) => setTimeout(r, 100))
    }
  })

  /** Opens a tail as staff and reads its first `records` event (15 s at most). */
  const firstTailEvent = async (q: string, act: () => Promise<unknown>, lastEventId?: string) => {
    const controller = new AbortController()
    const res = await fetch(`${shop.api}/ops/logs/tail?q=${encodeURIComponent(q)}`, {
      headers: {
        cookie: `emp_sid=${staff.cookie('emp_sid')}`,
        'accept-encoding': 'gzip, br',
        ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      },
      signal: controller.signal,
    })
    try {
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/)
      assert.equal(res.headers.get('content-encoding'), null, 'never compressed: events must flush at once')
      const reader = res.body!.getReader()
      const decoder = new TextDecoder()
      let buffer = ''
      await act()
      const deadline = Date.now() + 15_000
      for (;;) {
        if (Date.now() > deadline) assert.fail(`no tail event in 15 s; got ${buffer.slice(0, 500)}`)
        const { value, done } = await reader.read()
        if (done) assert.fail('the stream ended')
        buffer += decoder.decode(value, { stream: true })
        for (const block of buffer.split('\n\n')) {
          const event = /^id: (\d+)\nevent: records\ndata: (.*)$/m.exec(block)
          if (event) return { id: event[1]!, records: JSON.parse(event[2]!).records as any[], buffer }
        }
      }
    } finally {
      controller.abort()
    }
  }

  it('the live tail streams a new matching request as Server-Sent Events, and nothing that does not match', async () => {
    const marker = `tail-${Date.now()}`
    const event = await firstTailEvent('url.path:/api/v1/products/tail-*', async () => {
      await shop.client().get('/products/not-matching-the-tail')
      await shop.client().get(`/products/${marker}`)
    })
    assert.deepEqual(
      event.records.map((r) => r.url.path),
      [`/api/v1/products/${marker}`],
    )
    assert.match(event.buffer, /^retry: 3000/)
    assert.equal(event.id, String(Date.parse(event.records[0]['@timestamp'])), "the id is the newest record's time")
  })

  it('a tail reconnecting with Last-Event-ID gets the records born while it was away', async () => {
    const marker = `resume-${Date.now()}`
    const since = Date.now() - 1
    await shop.client().get(`/products/${marker}`)
    // Wait until the record is indexed: it now predates any new tail.
    const deadline = Date.now() + 15_000
    while (
      (await staff.get(`/ops/logs?q=${encodeURIComponent(`url.path:"/api/v1/products/${marker}"`)}`)).body.total < 1
    ) {
      if (Date.now() > deadline) assert.fail('the request did not reach the index in 15 s')
      await new Promise((r) => setTimeout(r, 200))
    }
    const event = await firstTailEvent('url.path:/api/v1/products/resume-*', async () => {}, String(since))
    assert.deepEqual(
      event.records.map((r) => r.url.path),
      [`/api/v1/products/${marker}`],
    )
  })
})
