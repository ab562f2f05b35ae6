// `npm run bench:dashboards`: latency of the operators' console queries over a day of logs, on both LogIndex adapters
// (SQLite FTS5, embedded; OpenSearch from the stack when OPENSEARCH_URL is set). Loads --records synthetic ECS records
// spread evenly over the last --hours (a realistic mix: access lines of 12 routes with statuses and durations, app,
// audit, security, business and error records with messages), then runs each console query --runs times through the
// code the console uses (explorerHistogram, LogIndex.search, operationsOverview) and prints median and worst.
// A day at the pipeline benchmark's rate (~18,000 records/s) is ~1.6 billion records; the run prints that scale
// beside the one measured. Prints figures and writes them to bench/results/; never pass/fail on timing.
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { uuidv7 } from '../src/core/ids.ts'
import type { LogIndex } from '../src/log-index/log-index.ts'
import { openSearchEngineLogIndex } from '../src/log-index/search-engine/search-engine-log-index.ts'
import { openSqliteLogIndex } from '../src/log-index/sqlite/sqlite-log-index.ts'
import type { EcsRecord, LogCategory, LogLevel } from '../src/logging/ecs.ts'
import { explorerHistogram, filterOf, operationsOverview, readExplorerParams } from '../src/web/observability.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const { values: flags } = parseArgs({
  options: {
    records: { type: 'string', default: '2000000' },
    hours: { type: 'string', default: '24' },
    runs: { type: 'string', default: '5' },
    adapters: { type: 'string', default: 'sqlite,opensearch' },
    'batch-size': { type: 'string', default: '5000' },
    /** The pipeline benchmark's app → index rate, for the scale line. */
    'pipeline-rate': { type: 'string', default: '18198' },
  },
})
const N = Number(flags.records)
const HOURS = Number(flags.hours)
const RUNS = Number(flags.runs)
const BATCH = Number(flags['batch-size'])
const ADAPTERS = String(flags.adapters).split(',')
const RUN_ID = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`

const ROUTES: [route: string, method: string, weight: number, baseMs: number][] = [
  ['/api/v1/products', 'GET', 30, 2],
  ['/api/v1/products/:slug', 'GET', 25, 1.5],
  ['/', 'GET', 10, 4],
  ['/products/:slug', 'GET', 10, 5],
  ['/api/v1/cart/items', 'POST', 6, 3],
  ['/api/v1/cart', 'GET', 5, 1],
  ['/api/v1/checkout', 'POST', 3, 40],
  ['/api/v1/auth/login', 'POST', 3, 60],
  ['/api/v1/orders', 'GET', 3, 6],
  ['/admin/orders', 'GET', 2, 12],
  ['/api/v1/admin/products/:id', 'PUT', 1, 8],
  ['/assets/:file', 'GET', 2, 0.3],
]
const TOTAL_WEIGHT = ROUTES.reduce((a, r) => a + r[2], 0)
/** The route whose share of the total weight holds `point`. */
function pickRoute(point: number): (typeof ROUTES)[number] {
  let left = point
  for (const r of ROUTES) {
    left -= r[2]
    if (left < 0) return r
  }
  return ROUTES[0]!
}
const MESSAGES = [
  'payment gateway timeout after 3 retries',
  'inventory running low',
  'cache miss for catalog version',
  'session store latency high',
  'order placed',
  'refund approved',
]

/** A cheap deterministic generator, so both adapters get the same records. */
function* records(count: number, fromMs: number, spanMs: number): Generator<EcsRecord> {
  let x = 0x2545f491
  const rnd = () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4294967296
  }
  for (let i = 0; i < count; i++) {
    const at = fromMs + Math.floor((i / count) * spanMs)
    const kind = rnd()
    const base = {
      '@timestamp': new Date(at).toISOString(),
      service: { name: 'emporium' },
      host: { name: `web-${i % 4}` },
    }
    if (kind < 0.82) {
      const [route, method, , baseMs] = pickRoute(rnd() * TOTAL_WEIGHT)
      const s = rnd()
      const status = s < 0.003 ? 500 : s < 0.01 ? 404 : s < 0.02 ? 401 : method === 'POST' ? 201 : 200
      const ms = baseMs * (0.5 + rnd()) * (rnd() < 0.02 ? 20 : 1)
      yield {
        ...base,
        message: status >= 500 ? 'request failed' : 'request completed',
        log: { level: status >= 500 ? 'error' : 'info' },
        event: {
          id: uuidv7(),
          category: status >= 500 ? 'error' : 'access',
          duration: Math.round(ms * 1e6),
          outcome: status >= 400 ? 'failure' : 'success',
        },
        http: { request: { method, id: uuidv7() }, response: { status_code: status, body: { bytes: 2000 } } },
        url: { path: route.replace(':slug', `product-${i % 500}`).replace(':id', `p${i % 50}`), route },
        client: { ip: `10.0.${i % 256}.${(i >> 8) % 256}` },
        user_agent: { original: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0' },
        ...(status >= 500 ? { error: { message: 'payment gateway timeout', type: 'Error' } } : {}),
      } as EcsRecord
      continue
    }
    const category: LogCategory = kind < 0.9 ? 'app' : kind < 0.94 ? 'audit' : kind < 0.97 ? 'security' : 'business'
    const level: LogLevel = category === 'security' ? 'warn' : rnd() < 0.1 ? 'warn' : 'info'
    yield {
      ...base,
      message: MESSAGES[Math.floor(rnd() * MESSAGES.length)]!,
      log: { level },
      event: {
        id: uuidv7(),
        category,
        ...(category === 'security' ? { action: rnd() < 0.7 ? 'login.failed' : 'rate_limited' } : {}),
      },
    } as EcsRecord
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (n: number) => Math.round(n * 10) / 10

async function timed(fn: () => Promise<unknown>): Promise<{ medianMs: number; worstMs: number; firstMs: number }> {
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now()
    await fn()
    times.push(performance.now() - t)
  }
  return { medianMs: round(median(times)), worstMs: round(Math.max(...times)), firstMs: round(times[0]!) }
}

async function benchAdapter(name: string, index: LogIndex, size: () => string) {
  await index.migrate()
  const now = Date.now()
  const from = now - HOURS * 3_600_000
  let batch: EcsRecord[] = []
  const t0 = performance.now()
  let loaded = 0
  for (const r of records(N, from, HOURS * 3_600_000)) {
    batch.push(r)
    if (batch.length === BATCH) {
      loaded += (await index.index(batch)).indexed
      batch = []
      if (loaded % (BATCH * 40) === 0) console.log(`  ${name}: ${loaded.toLocaleString('en-US')} loaded`)
    }
  }
  if (batch.length) loaded += (await index.index(batch)).indexed
  await index.refresh()
  const loadSeconds = (performance.now() - t0) / 1000
  const counted = await index.count({ from: new Date(from - 1).toISOString(), to: new Date(now + 1).toISOString() })
  console.log(
    `${name}: ${loaded.toLocaleString('en-US')} records in ${round(loadSeconds)} s (${Math.round(loaded / loadSeconds).toLocaleString('en-US')}/s), ${counted.toLocaleString('en-US')} counted, ${size()}`,
  )
  const custom = { range: 'custom', from: new Date(from).toISOString(), to: new Date(now + 1).toISOString() }
  const cases: [label: string, params: Record<string, unknown>][] = [
    ['whole day, no query', custom],
    ['whole day, status:>=500', { ...custom, q: 'status:>=500' }],
    ['whole day, route and slow', { ...custom, q: 'route:"/api/v1/checkout" AND duration:>=100ms' }],
    ['whole day, words "gateway timeout"', { ...custom, q: '"gateway timeout"' }],
    ['whole day, category security', { ...custom, category: 'security' }],
    ['last 15 minutes, no query', { range: '15m' }],
  ]
  const rows: Record<string, unknown>[] = []
  for (const [label, raw] of cases) {
    const p = readExplorerParams(raw, now)
    const histogram = await timed(() => explorerHistogram(index, p))
    const table = await timed(() => index.search({ ...filterOf(p), sort: 'desc', page: 1, limit: 50 }))
    const total = (await index.search({ ...filterOf(p), sort: 'desc', page: 1, limit: 1 })).total
    rows.push({ query: label, matches: total, histogram, table })
    console.log(
      `  ${label.padEnd(36)} ${String(total).padStart(10)} matches   histogram ${histogram.medianMs} ms (worst ${histogram.worstMs})   table ${table.medianMs} ms (worst ${table.worstMs})`,
    )
  }
  const overview = await timed(() =>
    operationsOverview(
      { logIndex: async () => index, pipelineGroup: 'pipeline' },
      readExplorerParams(custom, now).window,
    ),
  )
  console.log(`  operations overview, whole day, all sections: ${overview.medianMs} ms (worst ${overview.worstMs})`)
  // The dashboard opens on the last hour.
  const overviewHour = await timed(() =>
    operationsOverview(
      { logIndex: async () => index, pipelineGroup: 'pipeline' },
      readExplorerParams({ range: '1h' }, now).window,
    ),
  )
  console.log(
    `  operations overview, last hour, all sections: ${overviewHour.medianMs} ms (worst ${overviewHour.worstMs})`,
  )
  return {
    adapter: name,
    records: loaded,
    loadSeconds: round(loadSeconds),
    size: size(),
    queries: rows,
    overview,
    overviewHour,
  }
}

const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    memoryGiB: round(os.totalmem() / 2 ** 30),
    node: process.version,
  },
  records: N,
  hours: HOURS,
  runs: RUNS,
  scale: {
    measuredPerSecond: round(N / (HOURS * 3600)),
    pipelineRatePerSecond: Number(flags['pipeline-rate']),
    dayAtPipelineRate: Number(flags['pipeline-rate']) * 86_400,
  },
  adapters: [] as unknown[],
}
console.log(
  `${N.toLocaleString('en-US')} records over ${HOURS} h (${round(N / (HOURS * 3600))}/s); a day at the pipeline rate of ${Number(flags['pipeline-rate']).toLocaleString('en-US')}/s would be ${(Number(flags['pipeline-rate']) * 86_400).toLocaleString('en-US')}`,
)

if (ADAPTERS.includes('sqlite')) {
  const dir = mkdtempSync(join(os.tmpdir(), 'emporium-bench-dash-'))
  const file = join(dir, 'logs.db')
  const index = openSqliteLogIndex(file)
  try {
    const sizeOf = () => {
      let bytes = 0
      for (const f of [file, `${file}-wal`]) bytes += statSync(f, { throwIfNoEntry: false })?.size ?? 0
      return `${Math.round(bytes / 2 ** 20)} MiB on disk`
    }
    ;(results.adapters as unknown[]).push(await benchAdapter('sqlite', index, sizeOf))
  } finally {
    await index.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (ADAPTERS.includes('opensearch')) {
  const url = process.env.OPENSEARCH_URL
  if (!url)
    console.log('opensearch: skipped (OPENSEARCH_URL unset: npm run stack:up && eval "$(npm run -s stack:env)")')
  else {
    const namespace = `dash_${RUN_ID}`
    const index = openSearchEngineLogIndex({ url, namespace, replicas: 0 })
    const { Client } = await import('@opensearch-project/opensearch')
    const client = new Client({ node: url, requestTimeout: 120_000 })
    let size = ''
    const sizeOf = () => size
    try {
      const r = await benchAdapter('opensearch', index, () => 'size below')
      const stats = await client.transport.request({
        method: 'GET',
        path: `/logs-emporium.*-${namespace}/_stats/store`,
      })
      size = `${Math.round(((stats.body as any)._all.primaries.store.size_in_bytes as number) / 2 ** 20)} MiB on disk`
      r.size = sizeOf()
      console.log(`  opensearch: ${size}`)
      ;(results.adapters as unknown[]).push(r)
    } finally {
      await client.transport
        .request({ method: 'DELETE', path: `/_data_stream/logs-emporium.*-${namespace}` })
        .catch((e: Error) => console.error(`could not delete the bench data streams: ${e.message}`))
      await client.close()
      await index.close()
    }
  }
}

mkdirSync(join(ROOT, 'bench/results'), { recursive: true })
const out = join(ROOT, 'bench/results', `dashboards-${new Date().toISOString().replace(/:/g, '-')}.json`)
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`)
console.log(`results: ${out}`)
