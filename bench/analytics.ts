// `npm run bench:analytics`: the AnalyticsStore adapters under a shop's worth of data. A seeded, deterministic
// generator makes order-line facts (default 10 million: ~500 products in 10 categories, countries, coupons, channels,
// quantities and prices, ~90 days plus some older) and behaviour events for the funnel (default 2 million); they are
// loaded in batches through the port's write() into DuckDB (a temp file, threads = the cores) and into Cassandra (a
// unique keyspace, dropped at the end) when CASSANDRA_CONTACT_POINTS and CASSANDRA_LOCAL_DC are set. It reports the
// ingest rate, Cassandra's rollup time, and the latency (median and max of 5 runs after 1 warm-up) of four dashboard
// queries, beside the targets: revenue by day over 90 days < 100 ms on DuckDB and < 2 s on one Cassandra node; ingest
// ≥ 20,000 events/s into either store.
//   npm run bench:analytics                              # 10M facts + 2M events, every store available
//   npm run bench:analytics -- --quick                   # 200k facts + 40k events, a fast check
//   npm run bench:analytics -- --facts 2000000 --events 400000 --stores duckdb --batch 20000
// Cassandra: npm run stack:up && eval "$(bash scripts/stack/stack.sh env)" first.
// Prints figures and writes them to bench/results/analytics-<timestamp>.json; never pass/fail on timing.
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import cassandra from 'cassandra-driver'
import type { AnalyticsStore } from '../src/analytics/analytics-store.ts'
import { openCassandraAnalyticsStore } from '../src/analytics/cassandra/cassandra-analytics-store.ts'
import { openDuckDbAnalyticsStore } from '../src/analytics/duckdb/duckdb-analytics-store.ts'
import {
  type AnalyticsEvent,
  DAY_MS,
  daysBetween,
  type EventType,
  type OrderLineFact,
} from '../src/analytics/events.ts'
import { prng } from '../src/commerce/seed/seed.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const { values: flags } = parseArgs({
  options: {
    facts: { type: 'string' },
    events: { type: 'string' },
    stores: { type: 'string', default: 'duckdb,cassandra' },
    quick: { type: 'boolean', default: false },
    /** Records per write() (the port allows up to 50,000). */
    batch: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '42' },
    runs: { type: 'string', default: '5' },
  },
})
const FACTS = Number(flags.facts ?? (flags.quick ? 200_000 : 10_000_000))
const EVENTS = Number(flags.events ?? Math.round(FACTS / 5))
const BATCH = Number(flags.batch)
const SEED = Number(flags.seed)
const RUNS = Number(flags.runs)
const STORES = new Set(String(flags.stores).split(',').filter(Boolean))
const CURRENCY = 'USD'
for (const [name, v] of Object.entries({ facts: FACTS, events: EVENTS, batch: BATCH, runs: RUNS }))
  if (!Number.isSafeInteger(v) || v < (name === 'events' ? 0 : 1)) throw new RangeError(`--${name} must be a count`)

const contactPoints = process.env.CASSANDRA_CONTACT_POINTS?.split(',').filter(Boolean)
const localDataCenter = process.env.CASSANDRA_LOCAL_DC
if (STORES.has('cassandra') && !(contactPoints?.length && localDataCenter)) {
  console.error(
    'cassandra skipped: CASSANDRA_CONTACT_POINTS / CASSANDRA_LOCAL_DC not set (eval "$(npm run -s stack:env)")',
  )
  STORES.delete('cassandra')
}

/** Data ends at today's 00:00 UTC; 90 % of it falls in the 90 days before, the rest up to 30 days earlier. */
const END_MS = Math.floor(Date.now() / DAY_MS) * DAY_MS
const RECENT_DAYS = 90
const OLDER_DAYS = 30
const iso = (ms: number) => new Date(ms).toISOString()

// --- The generator: the seed's mulberry32 (prng), so the same seed gives the same records in every store. ---

/** Picks from weighted choices with one uniform draw. */
function weighted<T>(choices: readonly [T, number][]): (u: number) => T {
  const total = choices.reduce((a, [, w]) => a + w, 0)
  const cumulative = choices.map(
    ([v], i) => [v, choices.slice(0, i + 1).reduce((a, [, w]) => a + w, 0) / total] as const,
  )
  return (u) => {
    for (const [v, c] of cumulative) if (u < c) return v
    return cumulative[cumulative.length - 1]![0]
  }
}

const CATEGORIES = ['apparel', 'shoes', 'home', 'kitchen', 'garden', 'toys', 'books', 'beauty', 'sports', 'electronics']
interface Product {
  id: string
  category: string
  price: number
}
const PRODUCTS: Product[] = (() => {
  const r = prng(SEED ^ 0x5eed)
  return Array.from({ length: 500 }, (_, i) => ({
    id: `prod_${String(i + 1).padStart(4, '0')}`,
    category: CATEGORIES[i % CATEGORIES.length]!,
    // Log-uniform between $4 and $400, in cents.
    price: Math.round(400 * 100 ** r()) - 1,
  }))
})()
/** Zipf-like popularity: a few products sell a lot. */
const pickProduct = weighted(PRODUCTS.map((p, i) => [p, 1 / (i + 10)] as [Product, number]))
const pickCountry = weighted<string>([
  ['US', 40],
  ['GB', 12],
  ['DE', 10],
  ['FR', 8],
  ['CA', 7],
  ['NL', 5],
  ['ES', 5],
  ['IT', 5],
  ['AU', 4],
  ['SE', 4],
])
const pickChannel = weighted<string>([
  ['web', 60],
  ['app', 30],
  ['api', 10],
])
const pickCoupon = weighted<string | null>([
  [null, 85],
  ['WELCOME10', 6],
  ['SPRING20', 4],
  ['FREESHIP', 3],
  ['VIP30', 2],
])
const pickQuantity = weighted<number>([
  [1, 70],
  [2, 18],
  [3, 7],
  [4, 3],
  [5, 2],
])
const pickLines = weighted<number>([
  [1, 40],
  [2, 30],
  [3, 18],
  [4, 8],
  [5, 4],
])

/** A time: 90 % in the last 90 days, busier in the evening (UTC), the rest in the 30 days before. */
function timeOf(r: () => number): number {
  const days = r() < 0.9 ? RECENT_DAYS * r() : RECENT_DAYS + OLDER_DAYS * r()
  const day = END_MS - Math.ceil(days) * DAY_MS
  const hour = Math.min(23, Math.floor(24 * r() ** 0.7))
  return day + hour * 3_600_000 + Math.floor(r() * 3_600_000)
}

/** Order-line facts in batches: orders of 1–5 lines, the discount of a coupon spread over its lines. */
function* orderLineBatches(total: number, size: number): Generator<OrderLineFact[]> {
  const r = prng(SEED)
  const customers = Math.max(1, Math.round(total / 6))
  let made = 0
  let order = 0
  let batch: OrderLineFact[] = []
  while (made < total) {
    order++
    const orderId = `ord_${order.toString(36).padStart(7, '0')}`
    const paidAt = iso(timeOf(r))
    const customerId = `cus_${Math.floor(r() * customers)}`
    const country = pickCountry(r())
    const channel = pickChannel(r())
    const coupon = pickCoupon(r())
    const discount = coupon === 'VIP30' ? 0.7 : coupon === 'SPRING20' ? 0.8 : coupon === 'WELCOME10' ? 0.9 : 1
    const lines = Math.min(pickLines(r()), total - made)
    for (let n = 1; n <= lines; n++) {
      const product = pickProduct(r())
      const quantity = pickQuantity(r())
      batch.push({
        id: `${orderId}:${n}`,
        orderId,
        customerId,
        sessionId: `ses_o${order.toString(36)}`,
        productId: product.id,
        category: product.category,
        quantity,
        revenue: Math.round(product.price * quantity * discount),
        currency: CURRENCY,
        country,
        coupon,
        channel,
        paidAt,
      })
      made++
      if (batch.length === size) {
        yield batch
        batch = []
      }
    }
  }
  if (batch.length > 0) yield batch
}

/** Behaviour events by session: 1–6 product views; 30 % add to cart, half of those check out, 70 % of those pay. */
function* eventBatches(total: number, size: number): Generator<AnalyticsEvent[]> {
  const r = prng(SEED ^ 0xe7e7)
  let made = 0
  let session = 0
  let batch: AnalyticsEvent[] = []
  while (made < total) {
    session++
    const sessionId = `ses_${session.toString(36)}`
    const country = pickCountry(r())
    const channel = pickChannel(r())
    let at = timeOf(r)
    const product = pickProduct(r())
    const steps: EventType[] = Array.from({ length: 1 + Math.floor(r() * 6) }, () => 'product_view')
    if (r() < 0.3) {
      steps.push('add_to_cart')
      if (r() < 0.5) {
        steps.push('checkout_started')
        if (r() < 0.7) steps.push('order_paid')
      }
    }
    for (const type of steps.slice(0, total - made)) {
      at += Math.floor(r() * 120_000)
      const quantity = type === 'product_view' ? 0 : 1
      batch.push({
        id: `evt_${session.toString(36)}_${made.toString(36)}`,
        type,
        at: iso(at),
        sessionId,
        productId: product.id,
        category: product.category,
        quantity,
        value: product.price,
        currency: CURRENCY,
        orderId: type === 'order_paid' ? `ord_s${session.toString(36)}` : null,
        country,
        channel,
      })
      made++
      if (batch.length === size) {
        yield batch
        batch = []
      }
    }
  }
  if (batch.length > 0) yield batch
}

// --- Measuring ---

const say = (line: string) => console.log(line)
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

/** A progress bar on stderr: percent, rate and ETA, redrawn at most 4 times a second. */
function progress(label: string, total: number) {
  const t0 = performance.now()
  let last = 0
  const draw = (done: number, final = false) => {
    const now = performance.now()
    if (!final && now - last < 250) return
    last = now
    const s = (now - t0) / 1000
    const rate = done / Math.max(s, 1e-3)
    const eta = rate > 0 ? (total - done) / rate : 0
    const width = 30
    const filled = Math.round((width * done) / total)
    process.stderr.write(
      `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${((100 * done) / total).toFixed(1)}% ` +
        `${fmt(done)}/${fmt(total)} ${fmt(rate)}/s ETA ${eta.toFixed(0)}s   ${final ? '\n' : ''}`,
    )
  }
  return { update: (done: number) => draw(done), done: (done: number) => draw(done, true) }
}

interface Ingest {
  records: number
  seconds: number
  writeSeconds: number
  perS: number
}

/** Loads facts then events in batches through write(); perS counts the whole load (generation included). */
async function load(label: string, store: AnalyticsStore): Promise<Ingest> {
  const total = FACTS + EVENTS
  const bar = progress(`${label} load`, total)
  let done = 0
  let writeMs = 0
  const t0 = performance.now()
  const write = async (batch: Parameters<AnalyticsStore['write']>[0], n: number) => {
    const w0 = performance.now()
    await store.write(batch)
    writeMs += performance.now() - w0
    done += n
    bar.update(done)
  }
  for (const orderLines of orderLineBatches(FACTS, BATCH)) await write({ orderLines }, orderLines.length)
  for (const events of eventBatches(EVENTS, BATCH)) await write({ events }, events.length)
  const seconds = (performance.now() - t0) / 1000
  bar.done(done)
  return {
    records: done,
    seconds: round(seconds),
    writeSeconds: round(writeMs / 1000),
    perS: Math.round(done / seconds),
  }
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits))

interface Latency {
  medianMs: number
  maxMs: number
  rows: number
}

async function timed(run: () => Promise<number>): Promise<Latency> {
  await run() // warm-up
  const ms: number[] = []
  let rows = 0
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now()
    rows = await run()
    ms.push(performance.now() - t0)
  }
  ms.sort((a, b) => a - b)
  return { medianMs: round(ms[Math.floor(ms.length / 2)]!, 1), maxMs: round(ms[ms.length - 1]!, 1), rows }
}

const QUERIES: Record<string, (s: AnalyticsStore) => Promise<number>> = {
  'revenue by day, 90 days': async (s) =>
    (
      await s.query({
        measures: ['revenue'],
        dimensions: ['day'],
        from: iso(END_MS - 90 * DAY_MS),
        to: iso(END_MS),
      })
    ).rows.length,
  'top 20 products by revenue, 30 days': async (s) =>
    (
      await s.query({
        measures: ['revenue'],
        dimensions: ['product'],
        from: iso(END_MS - 30 * DAY_MS),
        to: iso(END_MS),
        sort: [{ by: 'revenue', direction: 'desc' }],
        limit: 20,
      })
    ).rows.length,
  'revenue by category by week, 90 days': async (s) =>
    (
      await s.query({
        measures: ['revenue'],
        dimensions: ['week', 'category'],
        from: iso(END_MS - 90 * DAY_MS),
        to: iso(END_MS),
      })
    ).rows.length,
  'funnel, 30 days': async (s) => (await s.funnel({ from: iso(END_MS - 30 * DAY_MS), to: iso(END_MS) })).steps.length,
}

interface StoreResult {
  ingest: Ingest
  rollup?: { days: number; seconds: number; msPerDay: number }
  latency: Record<string, Latency>
  funnel?: unknown
}

async function measureQueries(label: string, store: AnalyticsStore): Promise<Record<string, Latency>> {
  const out: Record<string, Latency> = {}
  for (const [name, run] of Object.entries(QUERIES)) {
    out[name] = await timed(() => run(store))
    say(`${label} ${name}: median ${out[name].medianMs} ms, max ${out[name].maxMs} ms (${out[name].rows} rows)`)
  }
  return out
}

// --- Run ---

const RUN = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
const KEYSPACE = `emp_bench_analytics_${RUN}`
let tempDir: string | undefined
let keyspaceCreated = false
const open: AnalyticsStore[] = []

async function cleanup(): Promise<void> {
  for (const s of open.splice(0)) await s.close().catch(() => undefined)
  if (tempDir) {
    rmSync(tempDir, { recursive: true, force: true })
    tempDir = undefined
  }
  if (keyspaceCreated && contactPoints && localDataCenter) {
    const client = new cassandra.Client({ contactPoints, localDataCenter })
    try {
      await client.execute(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`, [], { readTimeout: 120_000 })
      keyspaceCreated = false
    } catch (error) {
      console.error(`could not drop keyspace ${KEYSPACE}: ${(error as Error).message}`)
    } finally {
      await client.shutdown()
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up\n`)
    void cleanup().finally(() => process.exit(130))
  })

const cpus = os.cpus()
const results: Record<string, unknown> = {
  machine: {
    cpus: cpus.length,
    model: cpus[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    load: os.loadavg().map((l) => l.toFixed(2)),
  },
  facts: FACTS,
  events: EVENTS,
  batch: BATCH,
  seed: SEED,
  runs: RUNS,
  dataEnds: iso(END_MS),
  stores: {} as Record<string, StoreResult>,
}
const stores = results.stores as Record<string, StoreResult>
const machine = results.machine as { cpus: number; model: string; memGiB: number; load: string[] }
say(`machine: ${machine.cpus} × ${machine.model}, ${machine.memGiB} GiB, Node ${process.version}, load ${machine.load}`)
say(`data: ${fmt(FACTS)} order-line facts + ${fmt(EVENTS)} events, batches of ${fmt(BATCH)}, seed ${SEED}`)

try {
  if (STORES.has('duckdb')) {
    tempDir = mkdtempSync(join(os.tmpdir(), 'emporium-bench-analytics-'))
    const store = await openDuckDbAnalyticsStore({
      path: join(tempDir, 'analytics.duckdb'),
      currency: CURRENCY,
      threads: cpus.length,
    })
    open.push(store)
    await store.migrate()
    const ingest = await load('duckdb', store)
    say(`duckdb ingest: ${fmt(ingest.perS)} events/s (${fmt(ingest.records)} in ${ingest.seconds} s)`)
    const latency = await measureQueries('duckdb', store)
    stores.duckdb = {
      ingest,
      latency,
      funnel: (await store.funnel({ from: iso(END_MS - 30 * DAY_MS), to: iso(END_MS) })).steps,
    }
    await store.close()
    open.splice(open.indexOf(store), 1)
    rmSync(tempDir, { recursive: true, force: true })
    tempDir = undefined
  }
  if (STORES.has('cassandra')) {
    const store = openCassandraAnalyticsStore({
      contactPoints: contactPoints!,
      localDataCenter: localDataCenter!,
      keyspace: KEYSPACE,
      currency: CURRENCY,
      requestTimeoutMs: 60_000,
    })
    open.push(store)
    keyspaceCreated = true
    await store.migrate()
    const ingest = await load('cassandra', store)
    say(`cassandra ingest: ${fmt(ingest.perS)} events/s (${fmt(ingest.records)} in ${ingest.seconds} s)`)
    const days = daysBetween(END_MS - (RECENT_DAYS + OLDER_DAYS) * DAY_MS, END_MS)
    const bar = progress('cassandra rollup', days.length)
    const r0 = performance.now()
    for (const [i, day] of days.entries()) {
      await store.rollup(day)
      bar.update(i + 1)
    }
    bar.done(days.length)
    const rollupS = (performance.now() - r0) / 1000
    const rollup = { days: days.length, seconds: round(rollupS), msPerDay: round((rollupS * 1000) / days.length, 1) }
    say(`cassandra rollup: ${rollup.days} days in ${rollup.seconds} s (${rollup.msPerDay} ms a day)`)
    const latency = await measureQueries('cassandra', store)
    stores.cassandra = {
      ingest,
      rollup,
      latency,
      funnel: (await store.funnel({ from: iso(END_MS - 30 * DAY_MS), to: iso(END_MS) })).steps,
    }
  }

  const target: Record<string, Record<string, string>> = {
    duckdb: { 'revenue by day, 90 days': '< 100 ms' },
    cassandra: { 'revenue by day, 90 days': '< 2 s (one node)' },
  }
  const rows: [string, string, string][] = []
  for (const [name, r] of Object.entries(stores)) {
    rows.push([`${name} ingest`, `${fmt(r.ingest.perS)} events/s`, '≥ 20,000 events/s'])
    if (r.rollup) rows.push([`${name} rollup (${r.rollup.days} days)`, `${r.rollup.seconds} s`, ''])
    for (const [q, l] of Object.entries(r.latency))
      rows.push([`${name} ${q}`, `${l.medianMs} ms (max ${l.maxMs})`, target[name]?.[q] ?? ''])
  }
  say('')
  say(`${'figure'.padEnd(48)} ${`measured (median of ${RUNS})`.padEnd(26)} target`)
  for (const [a, b, c] of rows) say(`${a.padEnd(48)} ${b.padEnd(26)} ${c}`)
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true })
  const file = join(ROOT, `bench/results/analytics-${new Date().toISOString().replaceAll(':', '-')}.json`)
  writeFileSync(file, JSON.stringify(results, null, 2))
  say(`\nwritten to ${file}`)
} finally {
  await cleanup()
}
