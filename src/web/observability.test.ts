import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { isEmporiumError } from '../core/errors.ts'
import { openMemoryJobQueue } from '../jobs/memory/memory-job-queue.ts'
import { openSqliteLogIndex } from '../log-index/sqlite/sqlite-log-index.ts'
import type { EcsRecord, LogCategory } from '../logging/ecs.ts'
import { openMemoryLogChannels } from '../pipeline/channels/memory/memory-log-channels.ts'
import {
  chooseInterval,
  DEFAULT_COLUMNS,
  LogTail,
  operationsOverview,
  quoted,
  readExplorerParams,
  readLastEventId,
  readSections,
  resolveWindow,
  TAIL_BATCH,
  TAIL_LOOKBACK_MS,
} from './observability.ts'

const NOW = Date.parse('2026-11-27T12:00:00Z')

const refused = (fn: () => unknown, field: string) =>
  assert.throws(fn, (e: unknown) => isEmporiumError(e) && e.code === 'EMP_VALIDATION' && field in (e.fields ?? {}))

describe('observability › time windows', () => {
  it('a preset is the last span up to now; nothing given is the last hour', () => {
    assert.deepEqual(resolveWindow({ range: '15m' }, NOW), {
      from: '2026-11-27T11:45:00.000Z',
      to: '2026-11-27T12:00:00.000Z',
      range: '15m',
    })
    assert.equal(resolveWindow({}, NOW).range, '1h')
    assert.equal(resolveWindow({}, NOW).from, '2026-11-27T11:00:00.000Z')
  })

  it('absolute bounds: datetime-local values are UTC, zones are honoured, to defaults to now', () => {
    assert.deepEqual(resolveWindow({ range: 'custom', from: '2026-11-27T03:15', to: '2026-11-27T04:00:30' }, NOW), {
      from: '2026-11-27T03:15:00.000Z',
      to: '2026-11-27T04:00:30.000Z',
      range: 'custom',
    })
    assert.equal(resolveWindow({ from: '2026-11-27T10:00:00+02:00' }, NOW).from, '2026-11-27T08:00:00.000Z')
    assert.equal(resolveWindow({ from: '2026-11-27T10:00:00Z' }, NOW).to, '2026-11-27T12:00:00.000Z')
  })

  it('refuses unknown presets, bad dates, reversed and overlong windows, with the field', () => {
    refused(() => resolveWindow({ range: '9h' }, NOW), 'range')
    refused(() => resolveWindow({ range: 'custom' }, NOW), 'from')
    refused(() => resolveWindow({ from: 'yesterday' }, NOW), 'from')
    refused(() => resolveWindow({ from: '2026-02-30T00:00' }, NOW), 'from')
    refused(() => resolveWindow({ from: '2026-11-27T10:00', to: 'soon' }, NOW), 'to')
    refused(() => resolveWindow({ to: '2026-11-27T10:00' }, NOW), 'from')
    refused(() => resolveWindow({ from: '2026-11-27T10:00', to: '2026-11-27T09:00' }, NOW), 'to')
    refused(() => resolveWindow({ from: '2026-11-27T10:00', to: '2026-11-27T10:00' }, NOW), 'to')
    refused(() => resolveWindow({ from: '2020-01-01T00:00', to: '2026-01-01T00:00' }, NOW), 'to')
    refused(() => resolveWindow({ from: `2026-11-27T10:00${'0'.repeat(50)}` }, NOW), 'from')
  })

  it('picks the smallest round interval giving at most 90 buckets', () => {
    const span = (ms: number) => ({ from: new Date(NOW - ms).toISOString(), to: new Date(NOW).toISOString() })
    assert.equal(chooseInterval(span(60_000)), 1_000)
    assert.equal(chooseInterval(span(15 * 60_000)), 10_000)
    assert.equal(chooseInterval(span(3_600_000)), 60_000)
    assert.equal(chooseInterval(span(86_400_000)), 30 * 60_000)
    assert.equal(chooseInterval(span(30 * 86_400_000)), 12 * 3_600_000)
    assert.equal(chooseInterval(span(400 * 86_400_000)), 7 * 86_400_000)
  })
})

describe('observability › explorer parameters', () => {
  it('defaults, repeated and comma-separated lists, aliases as columns', () => {
    const p = readExplorerParams({}, NOW)
    assert.deepEqual(
      { ...p, window: undefined },
      {
        q: '',
        window: undefined,
        categories: [],
        sort: 'desc',
        page: 1,
        limit: 50,
        columns: [...DEFAULT_COLUMNS],
        refresh: 'off',
      },
    )
    const q = readExplorerParams(
      {
        q: '  status:500 ',
        category: ['access', 'error,access'],
        cols: 'status,route,message',
        sort: 'asc',
        page: '3',
        limit: 100,
        refresh: '10s',
        range: '24h',
      },
      NOW,
    )
    assert.equal(q.q, 'status:500')
    assert.deepEqual(q.categories, ['access', 'error'])
    assert.deepEqual(q.columns, ['http.response.status_code', 'url.route', 'message'])
    assert.equal(q.page, 3)
    assert.equal(q.limit, 100)
    assert.equal(q.refresh, '10s')
    assert.equal(q.window.range, '24h')
  })

  it('refuses bad syntax (with the position), unknown categories, columns, sizes, pages and refresh', () => {
    assert.throws(
      () => readExplorerParams({ q: 'status:>=' }, NOW),
      (e: unknown) => isEmporiumError(e) && /position/.test(e.fields?.q ?? ''),
    )
    refused(() => readExplorerParams({ q: '(level:error' }, NOW), 'q')
    refused(() => readExplorerParams({ q: 'nosuchfield:1' }, NOW), 'q')
    refused(() => readExplorerParams({ category: 'access,nope' }, NOW), 'category')
    refused(() => readExplorerParams({ cols: 'message,password' }, NOW), 'cols')
    refused(() => readExplorerParams({ limit: '7' }, NOW), 'limit')
    refused(() => readExplorerParams({ page: '0' }, NOW), 'page')
    refused(() => readExplorerParams({ page: '-1' }, NOW), 'page')
    refused(() => readExplorerParams({ page: '1e3' }, NOW), 'page')
    refused(() => readExplorerParams({ page: '201', limit: '50' }, NOW), 'page')
    refused(() => readExplorerParams({ sort: 'random' }, NOW), 'sort')
    refused(() => readExplorerParams({ refresh: '1s' }, NOW), 'refresh')
    refused(() => readSections('traffic,nope'), 'sections')
    assert.deepEqual(readSections('routes,routes'), ['routes'])
  })

  it('quotes keyword values so a route with quotes or backslashes stays one term', () => {
    assert.equal(quoted('/api/v1/products/:slug'), '"/api/v1/products/:slug"')
    assert.equal(quoted('a"b\\c'), '"a\\"b\\\\c"')
  })
})

let seq = 0
const record = (at: number, over: Partial<EcsRecord> & { category?: LogCategory } = {}): EcsRecord => {
  const { category = 'access', ...rest } = over
  seq++
  const id = `0192${String(seq).padStart(4, '0')}-0000-7000-8000-${String(seq).padStart(12, '0')}`
  return {
    '@timestamp': new Date(at).toISOString(),
    message: 'request completed',
    log: { level: 'info' },
    service: { name: 'emporium' },
    ...rest,
    event: { ...(rest.event ?? {}), id, category },
  } as EcsRecord
}
const request = (at: number, route: string, status: number, ms: number): EcsRecord =>
  record(at, {
    category: status >= 500 ? 'error' : 'access',
    log: { level: status >= 500 ? 'error' : 'info' },
    http: { request: { method: 'GET' }, response: { status_code: status } },
    url: { path: route, route },
    event: { id: '', duration: ms * 1e6 },
  })

describe('observability › the operations overview on the embedded adapters', () => {
  const index = openSqliteLogIndex(':memory:')
  const channels = openMemoryLogChannels({ maxLength: 1000 })
  const jobs = openMemoryJobQueue()
  const start = NOW - 10 * 60_000
  before(async () => {
    await index.migrate()
    const records: EcsRecord[] = []
    for (let i = 0; i < 100; i++) records.push(request(start + i * 1000, '/api/v1/products', 200, 1 + (i % 10)))
    for (let i = 0; i < 10; i++) records.push(request(start + i * 1000, '/api/v1/checkout', i < 4 ? 500 : 201, 100))
    records.push(
      record(start + 5000, { category: 'security', event: { id: '', action: 'login.failed' }, log: { level: 'warn' } }),
      record(start + 6000, { category: 'security', event: { id: '', action: 'login.failed' }, log: { level: 'warn' } }),
      record(start + 7000, { category: 'security', event: { id: '', action: 'rate_limited' }, log: { level: 'warn' } }),
      record(start + 8000, { category: 'app', message: 'started' }),
    )
    const result = await index.index(records)
    assert.equal(result.indexed, records.length)
    await index.refresh()
    await channels.append('logs:access', [1, 2, 3, 4, 5])
    await channels.ensureGroup('logs:access', 'pipeline')
    await channels.read('logs:access', 'pipeline', 'c1', 2, 0)
    await channels.append('logs:dead-letter', [{ reason: 'mapping conflict' }])
    await jobs.enqueue('logs', 'route', { n: 1 })
  })
  after(async () => {
    await index.close()
    await channels.close()
    await jobs.close()
  })

  it('counts requests and 5xx, latency by route, status codes, security events and the pipeline backlog', async () => {
    const window = {
      from: new Date(start - 60_000).toISOString(),
      to: new Date(NOW).toISOString(),
      range: 'custom' as const,
    }
    const o = await operationsOverview(
      { logIndex: async () => index, channels, jobs, pipelineGroup: 'pipeline' },
      window,
    )
    assert.deepEqual(o.problems, [])
    assert.equal(o.intervalMs, 10_000)
    assert.equal(o.traffic?.requests, 110)
    assert.equal(o.traffic?.errors, 4)
    assert.equal(
      o.traffic?.buckets.reduce((a, b) => a + b.requests, 0),
      110,
    )
    assert.deepEqual(o.status, [
      { code: '200', count: 100 },
      { code: '201', count: 6 },
      { code: '500', count: 4 },
    ])
    const products = o.routes?.find((r) => r.route === '/api/v1/products')
    const checkout = o.routes?.find((r) => r.route === '/api/v1/checkout')
    assert.equal(o.routes?.[0]?.route, '/api/v1/products', 'busiest first')
    assert.equal(products?.requests, 100)
    assert.equal(products?.errors, 0)
    assert.ok(products?.p50 !== null && products!.p50! >= 5 && products!.p50! <= 6, `p50 ${products?.p50}`)
    assert.equal(products?.p99, 10)
    assert.equal(checkout?.errors, 4)
    assert.equal(checkout?.p95, 100)
    assert.equal(o.security?.total, 3)
    assert.deepEqual(o.security?.actions, [
      { action: 'login.failed', count: 2 },
      { action: 'rate_limited', count: 1 },
    ])
    assert.equal(
      o.pipeline?.indexed.reduce((a, b) => a + b.count, 0),
      114,
    )
    const access = o.pipeline?.channels?.find((c) => c.category === 'access')
    assert.deepEqual(access, { category: 'access', length: 5, pending: 2, lag: 3 })
    const error = o.pipeline?.channels?.find((c) => c.category === 'error')
    assert.deepEqual(error, { category: 'error', length: 0, pending: 0, lag: 0 }, 'a channel with no group yet')
    assert.equal(o.pipeline?.deadLetters, 1)
    assert.equal(o.pipeline?.queues?.find((q) => q.queue === 'logs')?.waiting, 1)
  })

  it('answers the sections asked for, and reports a section that fails without failing the rest', async () => {
    const window = resolveWindow({ range: '1h' }, NOW)
    const o = await operationsOverview({ logIndex: async () => index, pipelineGroup: 'pipeline' }, window, [
      'status',
      'pipeline',
    ])
    assert.equal(o.traffic, undefined)
    assert.ok(o.status?.length)
    assert.equal(o.pipeline?.channels, null, 'no channels in this process')
    const closed = openMemoryLogChannels({ maxLength: 10 })
    await closed.close()
    const broken = await operationsOverview(
      { logIndex: async () => index, channels: closed, pipelineGroup: 'pipeline' },
      window,
      ['status', 'pipeline'],
    )
    assert.ok(broken.status?.length, 'the status section still answers')
    assert.equal(broken.problems.length, 1)
    assert.equal(broken.problems[0]?.section, 'pipeline')
  })
})

describe('observability › the live tail', () => {
  const index = openSqliteLogIndex(':memory:')
  before(() => index.migrate())
  after(() => index.close())

  it('sends each new matching record once, oldest first, and none born before it started', async () => {
    const t0 = NOW
    await index.index([request(t0 - 5_000, '/old', 200, 1)])
    const tail = new LogTail(index, { q: 'route:"/a"' }, t0)
    assert.deepEqual((await tail.poll(t0 + 1000)).records, [])
    const a1 = request(t0 + 1500, '/a', 200, 1)
    const a2 = request(t0 + 1200, '/a', 200, 1)
    await index.index([a1, a2, request(t0 + 1300, '/b', 200, 1)])
    await index.refresh()
    const first = await tail.poll(t0 + 2000)
    assert.deepEqual(
      first.records.map((r) => r.event.id),
      [a2.event.id, a1.event.id],
    )
    assert.equal(first.skipped, 0)
    // A record indexed late (born before the last poll) still comes, once.
    const late = request(t0 + 1100, '/a', 200, 1)
    await index.index([late])
    await index.refresh()
    const second = await tail.poll(t0 + 3000)
    assert.deepEqual(
      second.records.map((r) => r.event.id),
      [late.event.id],
    )
    assert.deepEqual((await tail.poll(t0 + 4000)).records, [])
  })

  it('a resumed tail starts at its Last-Event-ID (at most the look-back back), so nothing born in between is lost', async () => {
    const t0 = NOW + 7_200_000
    const first = new LogTail(index, { q: 'route:"/resume"' }, t0)
    assert.equal(first.cursor, String(t0), 'before any record the cursor is the start')
    const a = request(t0 + 100, '/resume', 200, 1)
    await index.index([a])
    await index.refresh()
    assert.deepEqual(
      (await first.poll(t0 + 1000)).records.map((r) => r.event.id),
      [a.event.id],
    )
    assert.equal(first.cursor, String(t0 + 100))
    // The connection drops; a record is born while the browser reconnects.
    const b = request(t0 + 2000, '/resume', 200, 1)
    await index.index([b])
    await index.refresh()
    const fresh = new LogTail(index, { q: 'route:"/resume"' }, t0 + 3000)
    assert.deepEqual((await fresh.poll(t0 + 3500)).records, [], 'a fresh tail would miss it')
    const resumed = new LogTail(index, { q: 'route:"/resume"' }, t0 + 3000, readLastEventId(first.cursor))
    assert.deepEqual(
      (await resumed.poll(t0 + 3500)).records.map((r) => r.event.id),
      [a.event.id, b.event.id],
      'the resumed tail sends b (and a again, at its boundary; the browser drops it by id)',
    )
    // A cursor from the future or far in the past is clamped to [now - look-back, now].
    const future = new LogTail(index, { q: 'route:"/resume"' }, t0 + 3000, t0 + 3_600_000)
    assert.equal(future.cursor, String(t0 + 3000))
    const ancient = new LogTail(index, { q: 'route:"/resume"' }, t0 + 3000, 0)
    assert.equal(ancient.cursor, String(t0 + 3000 - TAIL_LOOKBACK_MS))
  })

  it('reads Last-Event-ID only as whole milliseconds', () => {
    assert.equal(readLastEventId('1795755515249'), 1795755515249)
    for (const bad of [undefined, '', ' 1', '1.5', '-1', '1e12', 'abc', '9'.repeat(16), ['1', '2']])
      assert.equal(readLastEventId(bad as string | string[] | undefined), undefined, JSON.stringify(bad))
  })

  it('at more than it can show, sends the newest and counts the rest as skipped', async () => {
    const t0 = NOW + 3_600_000
    const tail = new LogTail(index, { q: 'route:"/flood"' }, t0)
    const flood = Array.from({ length: TAIL_BATCH + 30 }, (_, i) => request(t0 + 10 + i, '/flood', 200, 1))
    await index.index(flood)
    await index.refresh()
    const polled = await tail.poll(t0 + 5000)
    assert.equal(polled.records.length, TAIL_BATCH)
    assert.equal(polled.skipped, 30)
    assert.equal(polled.records.at(-1)?.event.id, flood.at(-1)?.event.id, 'the newest is last')
  })
})
