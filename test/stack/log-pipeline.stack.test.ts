// The distributed log pipeline on the real stack, end to end: `emporium web`, `emporium worker` (the routing workers)
// and two `emporium pipeline` processes, plus synthetic-log generator processes that ship through the same pino →
// shipper → BullMQ path, into OpenSearch data streams of this run's own namespace.
// Shows: 100,000 records (real HTTP traffic + synthetic) each indexed exactly once, with the time from the last
// request to the last record indexed; exactly once again after `kill -9` of a pipeline mid-stream, after OpenSearch
// was stopped for 30 s and after Redis was stopped for 30 s (the shippers spill to disk and replay); a record the index
// refuses lands in `logs:dead-letter` with the reason while the rest of its batch is indexed; and the index holds
// none of the journey's passwords, card numbers or e-mail addresses.
// Run: npm run stack:up && eval "$(bash scripts/stack/stack.sh env)" && node --import tsx --test <this file>
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Client } from '@opensearch-project/opensearch'
import { Redis } from 'ioredis'
import { newEventId } from '../../src/core/ids.ts'
import type { EcsRecord } from '../../src/logging/ecs.ts'
import { openRedisLogChannels } from '../../src/pipeline/channels/redis/redis-log-channels.ts'
import {
  type CliProcess,
  freePort,
  mongoUrlWithDatabase,
  REPO_ROOT,
  runCli,
  spawnCli,
  spawnScript,
  stopCli,
  waitForOutput,
} from '../support/cli-process.ts'
import { ApiClient } from '../support/http-client.ts'
import { dropStackRun, STACK_MONGO_BASE, stackSkipReason } from '../support/stack-run.ts'

const RUN = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
const NAMESPACE = `e2e_${RUN}`
const STREAMS = `logs-emporium.*-${NAMESPACE}`
const REDIS_PREFIX = `emp_logs_${RUN}`
const MONGO_BASE = STACK_MONGO_BASE
const DB = `emp_logs_${RUN}`
const SERVING = 'Emporium is serving'
const CONSUMING = 'worker is consuming'
const INDEXING = 'pipeline is indexing'

const EMAIL = `ada.lovelace.${RUN}@analytical.example`
const PASSWORD = 'the engine weaves algebraic patterns'
const CARD = '4242 4242 4242 4242'

const SKIP = stackSkipReason()

const log = (t: TestContext, line: string) => {
  t.diagnostic(line)
  console.log(line)
}

const stack = (...args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile('bash', [join(REPO_ROOT, 'scripts/stack/stack.sh'), ...args], { timeout: 300_000 }, (err, out, errOut) =>
      err ? reject(new Error(`stack.sh ${args.join(' ')}: ${err.message}\n${errOut}`)) : resolve(`${out}${errOut}`),
    ),
  )

describe('log pipeline across processes (stack)', { skip: SKIP }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'emporium-logs-'))
  const procs: CliProcess[] = []
  const pipelines: CliProcess[] = []
  let env: Record<string, string>
  let api = ''
  let os: Client
  let slugs: string[] = []

  const spawnPipeline = async (name: string) => {
    const p = spawnCli(name, 'pipeline', { ...env, LOG_STDOUT: 'true' })
    procs.push(p)
    pipelines.push(p)
    await waitForOutput(p, INDEXING, 90_000)
    return p
  }

  /** Docs matching `query` in this run's streams: total and distinct event.id (exact: composite aggregation pages). */
  async function countDistinct(query: object): Promise<{ total: number; distinct: number; duplicated: string[] }> {
    await os.indices.refresh({ index: STREAMS, ignore_unavailable: true, allow_no_indices: true })
    let afterKey: unknown
    let total = 0
    let distinct = 0
    const duplicated: string[] = []
    for (;;) {
      const r = await os.search({
        index: STREAMS,
        ignore_unavailable: true,
        allow_no_indices: true,
        body: {
          size: 0,
          query,
          aggs: {
            ids: {
              composite: {
                size: 10_000,
                sources: [{ id: { terms: { field: 'event.id' } } }],
                ...(afterKey ? { after: afterKey } : {}),
              },
            },
          },
        } as any,
      })
      const agg = (r.body.aggregations as any)?.ids
      const buckets: { key: { id: string }; doc_count: number }[] = agg?.buckets ?? []
      for (const b of buckets) {
        distinct++
        total += b.doc_count
        if (b.doc_count > 1 && duplicated.length < 20) duplicated.push(`${b.key.id}×${b.doc_count}`)
      }
      if (buckets.length < 10_000 || !agg?.after_key) break
      afterKey = agg.after_key
    }
    return { total, distinct, duplicated }
  }

  const count = async (query: object): Promise<number> => {
    await os.indices.refresh({ index: STREAMS, ignore_unavailable: true, allow_no_indices: true })
    const r = await os.count({ index: STREAMS, ignore_unavailable: true, allow_no_indices: true, body: { query } })
    return r.body.count
  }

  /** Polls until `count(query)` reaches `expected` (or the deadline); returns when it got there. */
  async function waitForCount(query: object, expected: number, timeoutMs: number, label: string): Promise<number> {
    const deadline = Date.now() + timeoutMs
    let last = -1
    for (;;) {
      try {
        last = await count(query)
        if (last >= expected) return performance.now()
      } catch {
        // The engine may be restarting: keep polling until the deadline.
      }
      if (Date.now() > deadline)
        assert.fail(
          `${label}: ${last} of ${expected} records indexed after ${timeoutMs} ms\n${pipelines
            .map((p) => `--- ${p.name}\n${p.output().slice(-3000)}`)
            .join('\n')}`,
        )
      await sleep(250)
    }
  }

  const byLogger = (name: string) => ({ term: { 'log.logger': name } })
  const byAgent = (ua: string) => ({ term: { 'user_agent.original': ua } })

  async function assertExactlyOnce(t: TestContext, query: object, expected: number, label: string) {
    const got = await countDistinct(query)
    log(t, `${label}: ${got.total} documents, ${got.distinct} distinct event.id, ${expected} expected`)
    assert.deepEqual(got.duplicated, [], `${label}: duplicated event ids`)
    assert.equal(got.distinct, expected, `${label}: distinct event.id`)
    assert.equal(got.total, expected, `${label}: documents`)
  }

  /** A generator process: `count` synthetic records under logger `name`, through its own shipper and spool. */
  function generate(name: string, count: number, ratePerSecond = 0) {
    const p = spawnScript(`loggen ${name}`, 'test/support/log-generator.ts', [], {
      REDIS_URL: env.REDIS_URL as string,
      REDIS_KEY_PREFIX: REDIS_PREFIX,
      LOGGEN_COUNT: String(count),
      LOGGEN_LOGGER: name,
      LOGGEN_SPOOL: join(dataDir, `spool-${name}`),
      LOGGEN_RATE: String(ratePerSecond),
    })
    procs.push(p)
    return {
      proc: p,
      async done(timeoutMs: number): Promise<{ emitMs: number; shippedMs: number; stats: any }> {
        await waitForOutput(p, 'loggen done', timeoutMs)
        const line = p
          .output()
          .split('\n')
          .find((l) => l.startsWith('loggen done'))
        return JSON.parse((line as string).slice('loggen done '.length))
      },
    }
  }

  /** GET traffic from `concurrency` clients until `total` requests completed; every request makes one access record. */
  async function browse(
    ua: string,
    total: number,
    concurrency: number,
  ): Promise<{ ms: number; statuses: Record<number, number> }> {
    const statuses: Record<number, number> = {}
    let next = 0
    const t0 = performance.now()
    const paths = (i: number) => {
      const slug = slugs[i % slugs.length] as string
      switch (i % 4) {
        case 0:
          return `/products?limit=24&page=${1 + (i % 5)}`
        case 1:
          return `/products/${slug}`
        case 2:
          return `/products?q=${encodeURIComponent(slug.split('-')[0] as string)}&limit=12`
        default:
          return '/categories'
      }
    }
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < total; i = next++) {
          const res = await fetch(`${api}${paths(i)}`, { headers: { 'user-agent': ua } })
          await res.arrayBuffer()
          statuses[res.status] = (statuses[res.status] ?? 0) + 1
        }
      }),
    )
    return { ms: performance.now() - t0, statuses }
  }

  before(async () => {
    const mongoUrl = mongoUrlWithDatabase(MONGO_BASE as string, DB)
    const pipelineConfig = join(dataDir, 'pipeline.json')
    // Fast takeover of a dead consumer's entries, and frequent stats, so the crash test does not wait 30 s.
    writeFileSync(
      pipelineConfig,
      JSON.stringify({ source: { claimIdleMs: 3000, claimEveryMs: 1000 }, metrics: { logEveryMs: 5000 } }),
    )
    env = {
      HOST: '127.0.0.1',
      MONGODB_URL: mongoUrl,
      REDIS_URL: process.env.REDIS_URL as string,
      REDIS_KEY_PREFIX: REDIS_PREFIX,
      OPENSEARCH_URL: process.env.OPENSEARCH_URL as string,
      LOG_INDEX_REPLICAS: '0',
      LOG_INDEX_NAMESPACE: NAMESPACE,
      PIPELINE_CONFIG: pipelineConfig,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      LOG_STDOUT: 'false',
      EMPORIUM_ADMIN_EMAIL: `ops.${RUN}@stack.example`,
      EMPORIUM_ADMIN_PASSWORD: 'pipelines carry the logs 42',
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1',
      AUTH_RATE_LIMIT: '100000',
    }
    if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR
    os = new Client({ node: process.env.OPENSEARCH_URL as string, requestTimeout: 30_000 })
    const seeded = await runCli('seed', 'seed', { ...env, LOG_LEVEL: 'warn' }, 300_000)
    assert.equal(seeded.code, 0, `emporium seed failed:\n${seeded.output.slice(-4000)}`)
    const port = await freePort()
    const web = spawnCli('web', 'web', { ...env, PORT: String(port) })
    const worker = spawnCli('worker', 'worker', env)
    procs.push(web, worker)
    await Promise.all([waitForOutput(web, SERVING, 90_000), waitForOutput(worker, CONSUMING, 90_000)])
    await Promise.all([spawnPipeline('pipeline A'), spawnPipeline('pipeline B')])
    api = `http://127.0.0.1:${port}/api/v1`
    const list = await (await fetch(`${api}/products?limit=100`)).json()
    slugs = list.items.map((p: { slug: string }) => p.slug)
    assert.ok(slugs.length > 10, 'the seeded catalog answers')
  })

  after(async () => {
    // Whatever happened, the engines the outage tests stop are running again for the next test file.
    await stack('up', 'redis', 'opensearch').catch((e) => console.error(e.message))
    for (const p of procs) {
      const exit = await stopCli(p, 10_000)
      console.log(`${p.name}: ${exit ? `exited ${exit.code ?? exit.signal}` : 'did not exit'}`)
    }
    await dropStackRun({ db: DB, streams: STREAMS, redisPrefix: REDIS_PREFIX })
    await os?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('a shopper journey leaves access, audit, security and business records, and no password, card or e-mail', async (t) => {
    const ua = `emporium-e2e-journey/${RUN}`
    const from = new Date().toISOString()
    const c = new ApiClient(api, { 'user-agent': ua })
    let requests = 0
    const call = async <T>(r: Promise<T>) => {
      requests++
      return r
    }
    await call(c.get('/auth/session'))
    const reg = await call(c.post('/auth/register', { email: EMAIL, password: PASSWORD, name: 'Ada' }))
    assert.equal(reg.status, 201)
    await call(c.get(`/products?q=${encodeURIComponent(EMAIL)}&limit=1`))
    await call(c.get(`/products?q=${encodeURIComponent(CARD)}`))
    const product = await call(c.get(`/products/${slugs[3]}`))
    const sku = product.body.variants.find((v: { available: number }) => v.available > 0).sku
    assert.equal((await call(c.post('/cart/items', { sku, quantity: 1 }))).status, 200)
    const placed = await call(
      c.post(
        '/checkout',
        {
          shippingAddress: {
            name: 'Ada',
            line1: '12 St James Square',
            line2: CARD,
            city: 'London',
            postalCode: 'SW1Y 4JH',
            country: 'GB',
          },
          paymentToken: 'tok_visa',
        },
        { headers: { 'idempotency-key': `journey-${RUN}` } },
      ),
    )
    assert.equal(placed.status, 201, JSON.stringify(placed.body))
    const stranger = new ApiClient(api, { 'user-agent': ua })
    await call(stranger.get('/auth/session'))
    const refused = await call(stranger.post('/auth/login', { email: EMAIL, password: `${PASSWORD}!` }))
    assert.equal(refused.status, 401)

    await waitForCount(byAgent(ua), requests, 60_000, 'journey access records')
    const window = { range: { '@timestamp': { gte: from } } }
    for (const category of ['audit', 'security', 'business']) {
      await waitForCount(
        { bool: { filter: [window, { term: { 'event.category': category } }] } },
        1,
        30_000,
        `journey ${category} records`,
      )
    }
    // Every record of the journey's window, as stored (_source), must be free of the secrets in every form.
    const all = await os.search({
      index: STREAMS,
      body: { size: 2000, query: window, sort: [{ '@timestamp': 'asc' }] } as any,
    })
    const hits = (all.body.hits.hits as { _source: EcsRecord }[]).map((h) => h._source)
    log(t, `journey: ${requests} requests, ${hits.length} records in its window`)
    const text = JSON.stringify(hits)
    for (const secret of [
      PASSWORD,
      encodeURIComponent(PASSWORD),
      PASSWORD.replaceAll(' ', '+'),
      EMAIL,
      encodeURIComponent(EMAIL),
      CARD,
      CARD.replaceAll(' ', ''),
      encodeURIComponent(CARD),
      CARD.replaceAll(' ', '+'),
    ]) {
      const at = text.indexOf(secret)
      assert.equal(at, -1, `"${secret}" is in the index: …${text.slice(Math.max(0, at - 100), at + 40)}…`)
    }
    // And the engine's own search finds none of them in any indexed field.
    for (const secret of [PASSWORD, EMAIL, CARD, CARD.replaceAll(' ', '')]) {
      const found = await os.count({
        index: STREAMS,
        body: { query: { multi_match: { query: secret, type: 'phrase', fields: ['*'], lenient: true } } } as any,
      })
      assert.equal(found.body.count, 0, `a search for "${secret}" finds records`)
    }
  })

  it('100,000 records from real HTTP traffic and generator processes are each indexed exactly once', async (t) => {
    const TOTAL = 100_000
    const HTTP = 6_000
    const ua = `emporium-e2e-load/${RUN}`
    const logger = `synthetic-load-${RUN}`
    const t0 = performance.now()
    const gens = [generate(`${logger}`, (TOTAL - HTTP) / 2), generate(`${logger}`, (TOTAL - HTTP) / 2)]
    const traffic = await browse(ua, HTTP, 16)
    const reports = await Promise.all(gens.map((g) => g.done(300_000)))
    const lastRequest = performance.now()
    log(
      t,
      `traffic: ${HTTP} requests in ${Math.round(traffic.ms)} ms (${JSON.stringify(traffic.statuses)}); generators emitted ` +
        reports
          .map((r) => `${r.stats.lines} lines in ${Math.round(r.emitMs)} ms (shipped by ${Math.round(r.shippedMs)} ms)`)
          .join(', '),
    )
    for (const r of reports) assert.equal(r.stats.dropped, 0, 'a generator dropped records')
    const query = { bool: { should: [byAgent(ua), byLogger(logger)], minimum_should_match: 1 } }
    const lastIndexed = await waitForCount(query, TOTAL, 300_000, '100k records')
    const lag = Math.round(lastIndexed - lastRequest)
    log(
      t,
      `100,000 records: last one indexed ${lag} ms after the last request (counting polls every 250 ms with a refresh); ` +
        `${Math.round(TOTAL / ((lastIndexed - t0) / 1000))} records/s from the first request to the last record indexed`,
    )
    await assertExactlyOnce(t, byAgent(ua), HTTP, 'access records of the traffic')
    await assertExactlyOnce(t, byLogger(logger), TOTAL - HTTP, 'synthetic records')
  })

  it('kill -9 of a pipeline mid-stream, then a new one: still exactly once, nothing missing', async (t) => {
    const N = 30_000
    const logger = `synthetic-crash-${RUN}`
    const gen = generate(logger, N, 3000)
    await waitForCount(byLogger(logger), 3000, 60_000, 'crash test warm-up')
    const victim = pipelines[0] as CliProcess
    const redis = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: 1 })
    /** Entries the victim has read and not acknowledged yet, over the channels the generator writes to. */
    const heldBy = async (consumer: string) => {
      let held = 0
      for (const c of ['app', 'error', 'audit', 'business']) {
        const rows = (await redis.xpending(
          `${REDIS_PREFIX}:logs:${c}`,
          'pipeline',
          '-',
          '+',
          100_000,
          consumer,
        )) as unknown[]
        held += rows.length
      }
      return held
    }
    const consumer = `${hostname()}-${victim.proc.pid}`
    // Kill it while it holds a batch (read, not acknowledged): the case that loses data with a plain list.
    for (let i = 0; i < 200 && (await heldBy(consumer)) === 0; i++) await sleep(10)
    victim.proc.kill('SIGKILL')
    await victim.exited
    const heldByDead = await heldBy(consumer)
    await redis.quit()
    const indexedAtKill = await count(byLogger(logger))
    log(
      t,
      `killed ${victim.name} (pid ${victim.proc.pid}) with ${indexedAtKill} of ${N} indexed; it held ${heldByDead} unacknowledged entries`,
    )
    pipelines.splice(0, 1)
    await spawnPipeline('pipeline A2')
    await gen.done(120_000)
    await waitForCount(byLogger(logger), N, 180_000, 'after kill -9')
    await assertExactlyOnce(t, byLogger(logger), N, 'records across the crash')
    assert.ok(heldByDead > 0, 'the pipeline was killed holding unacknowledged entries')
    assert.ok(
      pipelines.some((p) => p.output().includes('took over entries a dead consumer left pending')),
      'a live pipeline took over the dead one’s pending entries',
    )
  })

  it('OpenSearch stopped for 30 s: the pipeline backs off, then catches up with nothing missing', async (t) => {
    const N = 20_000
    const logger = `synthetic-os-outage-${RUN}`
    const gen = generate(logger, N, 400)
    await waitForCount(byLogger(logger), 1000, 60_000, 'before the OpenSearch outage')
    const down = performance.now()
    await stack('down', 'opensearch')
    log(t, 'OpenSearch stopped')
    await sleep(30_000)
    await stack('up', 'opensearch')
    const upAfter = Math.round(performance.now() - down)
    log(t, `OpenSearch answering again ${upAfter} ms after it was stopped`)
    await gen.done(120_000)
    const caughtUp = await waitForCount(byLogger(logger), N, 240_000, 'after the OpenSearch outage')
    log(t, `caught up ${Math.round(caughtUp - down - upAfter)} ms after OpenSearch was back`)
    await assertExactlyOnce(t, byLogger(logger), N, 'records across the OpenSearch outage')
    assert.ok(
      pipelines.some((p) => p.output().includes('sink unavailable, retrying')),
      'the pipelines reported retrying the unavailable sink',
    )
  })

  it('Redis stopped for 30 s: the shippers spill to disk and replay, nothing missing', async (t) => {
    const N = 20_000
    const logger = `synthetic-redis-outage-${RUN}`
    const ua = `emporium-e2e-redis-outage/${RUN}`
    const gen = generate(logger, N, 400)
    await waitForCount(byLogger(logger), 1000, 60_000, 'before the Redis outage')
    let browsing = true
    let served = 0
    const statuses: Record<number, number> = {}
    const traffic = (async () => {
      while (browsing) {
        const res = await fetch(`${api}/products/${slugs[served % slugs.length]}`, { headers: { 'user-agent': ua } })
        await res.arrayBuffer()
        statuses[res.status] = (statuses[res.status] ?? 0) + 1
        served++
        await sleep(50)
      }
    })()
    await stack('down', 'redis')
    log(t, 'Redis stopped')
    await sleep(30_000)
    await stack('up', 'redis')
    log(t, 'Redis answering again')
    await sleep(2000)
    browsing = false
    await traffic
    const report = await gen.done(240_000)
    log(
      t,
      `generator shipper: ${JSON.stringify(report.stats)}; web traffic during the outage: ${JSON.stringify(statuses)}`,
    )
    assert.ok(report.stats.spilled > 0, 'the generator spilled to its disk spool while Redis was away')
    assert.equal(report.stats.dropped, 0)
    assert.ok(report.stats.replayed >= report.stats.spilled, 'and replayed all of it')
    await waitForCount(byLogger(logger), N, 240_000, 'after the Redis outage')
    await assertExactlyOnce(t, byLogger(logger), N, 'generator records across the Redis outage')
    await waitForCount(byAgent(ua), served, 120_000, 'web access records across the Redis outage')
    await assertExactlyOnce(t, byAgent(ua), served, 'web access records across the Redis outage')
  })

  it('a record the index refuses goes to logs:dead-letter with the reason; the rest of its batch is indexed', async (t) => {
    const logger = `dead-letter-${RUN}`
    const channels = openRedisLogChannels(process.env.REDIS_URL as string, {
      prefix: `${REDIS_PREFIX}:`,
      maxLength: 1_000_000,
    })
    const records: EcsRecord[] = Array.from({ length: 25 }, (_, i) => ({
      '@timestamp': new Date().toISOString(),
      message: `record ${i} of a batch with one bad apple`,
      log: { level: 'info', logger },
      event: { id: newEventId(), category: 'app' },
      service: { name: 'emporium' },
      http: { response: { status_code: 200 } },
    }))
    const bad = records[12] as EcsRecord
    // A producer that gets a type wrong: the template maps http.response.status_code as long.
    ;(bad.http as any).response.status_code = 'two hundred'
    try {
      await channels.append('logs:app', records)
      await waitForCount(byLogger(logger), 24, 60_000, 'the good records of the batch')
      const redis = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: 1 })
      const deadline = Date.now() + 30_000
      let dead: any
      while (!dead && Date.now() < deadline) {
        const entries = await redis.xrange(`${REDIS_PREFIX}:logs:dead-letter`, '-', '+')
        dead = entries.map(([, f]) => JSON.parse(f[1] as string)).find((r) => r.event?.id === bad.event.id)
        if (!dead) await sleep(200)
      }
      await redis.quit()
      assert.ok(dead, 'the refused record is in logs:dead-letter')
      log(t, `dead letter reason: ${dead.labels.dead_letter_reason}`)
      assert.match(dead.labels.dead_letter_reason, /mapper_parsing_exception|number_format|failed to parse/i)
      await sleep(1000)
      await assertExactlyOnce(t, byLogger(logger), 24, 'the good records of the batch')
    } finally {
      await channels.close()
    }
  })

  it('no record anywhere in this run was indexed twice', async (t) => {
    const all = await countDistinct({ match_all: {} })
    log(t, `the whole run: ${all.total} documents, ${all.distinct} distinct event.id`)
    assert.deepEqual(all.duplicated, [])
    assert.equal(all.total, all.distinct)
    assert.ok(all.total > 100_000)
  })
})
