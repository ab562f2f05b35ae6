// `npm run bench:pipeline`: events/s from the application to the search index through the whole log path
// (pino → shipper → BullMQ → routing worker → Redis Streams → pipeline → OpenSearch), beside, in the same run on the
// same machine, the engine's own raw bulk rate for the same documents (a direct bulk loader) and the raw Redis append
// rate; then the shipper's cost to a request (the web process with and without shipping, alternated).
// Needs the stack: npm run stack:up && eval "$(bash scripts/stack/stack.sh env)" && npm run bench:pipeline
// Prints figures and writes them to bench/results/; never pass/fail on timing.
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Client } from '@opensearch-project/opensearch'
import { Redis } from 'ioredis'
import pino from 'pino'
import { openSearchEngineLogIndex } from '../src/log-index/search-engine/search-engine-log-index.ts'
import type { EcsRecord } from '../src/logging/ecs.ts'
import { toEcs } from '../src/logging/ecs-record.ts'
import { routeLogs } from '../src/logging/route-logs.ts'
import { openMemoryLogChannels } from '../src/pipeline/channels/memory/memory-log-channels.ts'
import { normalize } from '../src/pipeline/transforms/normalize.ts'
import { parseUserAgent } from '../src/pipeline/transforms/parse-user-agent.ts'
import { dropRedisKeys } from '../src/testing/redis.ts'
import { type CliProcess, runCli, spawnCli, stopCli, waitForOutput } from '../test/support/cli-process.ts'
import { emit, generateLogs } from '../test/support/log-generator.ts'
import { runLoad } from './support/load.ts'
import { cpuSecondsOf } from './support/server-process.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const { values: flags } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    pipelines: { type: 'string', default: '2' },
    'bulk-concurrency': { type: 'string', default: '4' },
    'bulk-size': { type: 'string', default: '1000' },
    /** Writes V8 CPU profiles of the worker and pipeline processes into this directory. */
    'cpu-prof': { type: 'string' },
    /** Writes V8 CPU profiles of the web processes of the shipper phase into this directory. */
    'web-cpu-prof': { type: 'string' },
    'request-seconds': { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    phases: { type: 'string', default: 'redis,bulk,stage,pipeline,shipper' },
  },
})
const tenths = (n: number) => Math.round(n * 10) / 10
const N = Number(flags.records)
const PIPELINES = Number(flags.pipelines)
const BULK_CONCURRENCY = Number(flags['bulk-concurrency'])
const BULK_SIZE = Number(flags['bulk-size'])
const PHASES = new Set(String(flags.phases).split(','))

const REDIS_URL = process.env.REDIS_URL
const OPENSEARCH_URL = process.env.OPENSEARCH_URL
if (!REDIS_URL || !OPENSEARCH_URL) {
  console.error('bench:pipeline needs the stack: npm run stack:up && eval "$(bash scripts/stack/stack.sh env)"')
  process.exit(2)
}

const RUN = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
const PREFIX = `emp_bench_${RUN}`
const RAW_NS = `bench_raw_${RUN}`
const PIPE_NS = `bench_pipe_${RUN}`
const STAGE_NS = `bench_stage_${RUN}`
const STAGE_PREFIX = `${PREFIX}_stage`
const dataDir = mkdtempSync(join(os.tmpdir(), 'emporium-bench-pipeline-'))
const osClient = new Client({ node: OPENSEARCH_URL, requestTimeout: 120_000 })
const procs: CliProcess[] = []
const results: Record<string, unknown> = {
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    load: os.loadavg().map((l) => l.toFixed(2)),
  },
  records: N,
}
const say = (line: string) => console.log(line)
const STACK_DIR = process.env.EMPORIUM_STACK_DIR ?? join(ROOT, '.stack')
/** The engines' own CPU (Redis, OpenSearch) from their pid files, so each phase's cost per record shows in full. */
function engineCpu(): Record<string, number> {
  const out: Record<string, number> = {}
  for (const engine of ['redis', 'opensearch']) {
    try {
      out[engine] = cpuSecondsOf(Number(readFileSync(join(STACK_DIR, engine, `${engine}.pid`), 'utf8').trim()))
    } catch {
      out[engine] = Number.NaN
    }
  }
  return out
}
/** Runs a phase and adds the engines' CPU per record it cost. */
async function measured<T extends object>(
  records: number,
  phase: () => Promise<T>,
): Promise<T & { engineUsPerRecord: Record<string, number> }> {
  const before = engineCpu()
  const result = await phase()
  const after = engineCpu()
  const engineUsPerRecord: Record<string, number> = {}
  for (const k of Object.keys(after))
    engineUsPerRecord[k] = Math.round((((after[k] as number) - (before[k] as number)) * 1e6) / records)
  return { ...result, engineUsPerRecord }
}
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000))

/** The documents as the pipeline indexes them: the generator's pino lines → ECS → redacted, classified, normalized. */
async function sameDocuments(count: number): Promise<EcsRecord[]> {
  const lines: string[] = []
  const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) }).child({ name: 'bench' })
  for (let i = 0; i < count; i++) emit(logger, i)
  const raw = lines.map((l) => toEcs(JSON.parse(l), { service: 'emporium' }))
  // The routing worker's redact + classify, through the real routeLogs into in-memory channels.
  const channels = openMemoryLogChannels({ maxLength: count + 1 })
  const out: EcsRecord[] = []
  for (let i = 0; i < raw.length; i += 1000) await routeLogs(raw.slice(i, i + 1000), channels)
  for (const c of ['access', 'app', 'audit', 'security', 'business', 'error']) {
    await channels.ensureGroup(`logs:${c}`, 'b')
    for (;;) {
      const got = await channels.read<EcsRecord>(`logs:${c}`, 'b', 'x', 10_000, 0)
      if (got.length === 0) break
      out.push(...got.map((e) => e.data))
    }
  }
  await channels.close()
  const n = normalize.create(normalize.defaults(), {} as never) as { apply(r: EcsRecord[]): EcsRecord[] }
  const ua = (await parseUserAgent.create(parseUserAgent.defaults(), {} as never)) as {
    apply(r: EcsRecord[]): EcsRecord[]
  }
  return ua.apply(n.apply(out))
}

async function countIn(namespace: string): Promise<number> {
  const index = `logs-emporium.*-${namespace}`
  await osClient.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true })
  const r = await osClient.count({ index, ignore_unavailable: true, allow_no_indices: true })
  return r.body.count
}

async function benchRedisAppend(docs: EcsRecord[]) {
  const redis = new Redis(REDIS_URL as string, { maxRetriesPerRequest: 1 })
  const encoded = docs.map((d) => [d.event.category ?? 'app', JSON.stringify(d)] as const)
  const t0 = performance.now()
  for (let i = 0; i < encoded.length; i += 1000) {
    const p = redis.pipeline()
    for (const [category, json] of encoded.slice(i, i + 1000))
      p.xadd(`${PREFIX}:raw:logs:${category}`, 'MAXLEN', '~', 1_000_000, '*', 'd', json)
    await p.exec()
  }
  const ms = performance.now() - t0
  await redis.quit()
  // Free the memory at once: the stack's Redis has maxmemory 256 MB and the next phases need it.
  await dropRedisKeys(REDIS_URL as string, `${PREFIX}:raw:`)
  return { ms, perS: rate(docs.length, ms) }
}

async function benchRawBulk(docs: EcsRecord[]) {
  // The same template and data streams as the app (migrate installs the template), in a namespace of its own.
  const ix = openSearchEngineLogIndex({ url: OPENSEARCH_URL as string, namespace: RAW_NS, replicas: 0 })
  await ix.migrate()
  await ix.close()
  const bodies: string[] = []
  for (let i = 0; i < docs.length; i += BULK_SIZE) {
    let body = ''
    for (const d of docs.slice(i, i + BULK_SIZE))
      body += `${JSON.stringify({ create: { _index: `logs-emporium.${d.event.category}-${RAW_NS}`, _id: d.event.id } })}\n${JSON.stringify(d)}\n`
    bodies.push(body)
  }
  let next = 0
  let errors = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: BULK_CONCURRENCY }, async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const res = await fetch(`${OPENSEARCH_URL}/_bulk?filter_path=errors,items.*.status,items.*.error`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson' },
          body: bodies[i],
        })
        const answer = (await res.json()) as { errors: boolean }
        if (!res.ok || answer.errors) errors++
      }
    }),
  )
  const ms = performance.now() - t0
  const indexed = await countIn(RAW_NS)
  return { ms, perS: rate(docs.length, ms), indexed, batchesWithErrors: errors }
}

/**
 * The Logstash role alone: every document already in the channels (appended as the routing workers do, one JSON field
 * per entry), then the pipelines start; the time from the first one ready to the last document indexed.
 */
async function benchPipelineStage(docs: EcsRecord[]) {
  const env = { ...baseEnv(), REDIS_KEY_PREFIX: STAGE_PREFIX, LOG_INDEX_NAMESPACE: STAGE_NS }
  const redis = new Redis(REDIS_URL as string, { maxRetriesPerRequest: 1 })
  for (let i = 0; i < docs.length; i += 1000) {
    const p = redis.pipeline()
    for (const d of docs.slice(i, i + 1000))
      p.xadd(`${STAGE_PREFIX}:logs:${d.event.category}`, 'MAXLEN', '~', 10_000_000, '*', 'd', JSON.stringify(d))
    await p.exec()
  }
  await redis.quit()
  const started: CliProcess[] = []
  for (let i = 0; i < PIPELINES; i++) started.push(spawnCli(`stage pipeline ${i + 1}`, 'pipeline', env))
  procs.push(...started)
  const t0 = await Promise.race(
    started.map((p) => waitForOutput(p, 'pipeline is indexing', 90_000).then(() => performance.now())),
  )
  await Promise.all(started.map((p) => waitForOutput(p, 'pipeline is indexing', 90_000)))
  const cpuBefore = started.map((p) => cpuSecondsOf(p.proc.pid as number))
  let indexedAt = 0
  const deadline = performance.now() + 600_000
  while (!indexedAt && performance.now() < deadline) {
    if ((await countIn(STAGE_NS)) >= docs.length) indexedAt = performance.now()
    else await sleep(100)
  }
  const cpu = started.map((p, i) => {
    const cpuS = cpuSecondsOf(p.proc.pid as number) - (cpuBefore[i] as number)
    return { name: p.name, cpuS: Number(cpuS.toFixed(2)), usPerRecord: Math.round((cpuS * 1e6) / docs.length) }
  })
  for (const p of started) await stopCli(p, 10_000)
  await dropRedisKeys(REDIS_URL as string, `${STAGE_PREFIX}:`)
  if (!indexedAt) throw new Error(`the pipeline stage did not index ${docs.length} records within 600 s`)
  const ms = indexedAt - t0
  return { ms: Math.round(ms), perS: rate(docs.length, ms), cpu }
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    REDIS_URL: REDIS_URL as string,
    REDIS_KEY_PREFIX: PREFIX,
    OPENSEARCH_URL: OPENSEARCH_URL as string,
    LOG_INDEX_REPLICAS: '0',
    LOG_INDEX_NAMESPACE: PIPE_NS,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    LOG_STDOUT: 'false',
    EMPORIUM_ADMIN_EMAIL: 'ops@bench.emporium.test',
    EMPORIUM_ADMIN_PASSWORD: `Bench-${randomBytes(12).toString('base64url')}`,
  }
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR
  return env
}

async function benchPipeline() {
  const env = baseEnv()
  const nodeArgs = flags['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof']}`] : []
  const started: CliProcess[] = []
  const worker = spawnCli('worker', 'worker', env, { nodeArgs })
  started.push(worker)
  await waitForOutput(worker, 'worker is consuming', 90_000)
  for (let i = 0; i < PIPELINES; i++) {
    const p = spawnCli(`pipeline ${i + 1}`, 'pipeline', env, { nodeArgs })
    started.push(p)
    await waitForOutput(p, 'pipeline is indexing', 90_000)
  }
  procs.push(...started)
  const redis = new Redis(REDIS_URL as string, { maxRetriesPerRequest: 1 })
  const streamsLength = async () => {
    let sum = 0
    for (const c of ['access', 'app', 'audit', 'security', 'business', 'error'])
      sum += await redis.xlen(`${PREFIX}:logs:${c}`)
    return sum
  }
  const cpuBefore = started.map((p) => cpuSecondsOf(p.proc.pid as number))
  const t0 = performance.now()
  let routedAt = 0
  let indexedAt = 0
  const giveUpAt = performance.now() + 900_000
  const watcher = (async () => {
    while (!indexedAt && performance.now() < giveUpAt) {
      if (!routedAt && (await streamsLength()) >= N) routedAt = performance.now()
      if ((await countIn(PIPE_NS)) >= N) indexedAt = performance.now()
      else await sleep(200)
    }
  })()
  const report = await generateLogs({
    redisUrl: REDIS_URL as string,
    keyPrefix: PREFIX,
    count: N,
    logger: `bench-${RUN}`,
    spoolDir: join(dataDir, 'spool-bench'),
  })
  await watcher
  await redis.quit()
  // CPU of the run itself (start-up excluded), per process, and per record.
  const cpu = started.map((p, i) => {
    const cpuS = cpuSecondsOf(p.proc.pid as number) - (cpuBefore[i] as number)
    return { name: p.name, cpuS: Number(cpuS.toFixed(2)), usPerRecord: Math.round((cpuS * 1e6) / N) }
  })
  for (const p of started) await stopCli(p, 10_000)
  await dropRedisKeys(REDIS_URL as string, `${PREFIX}:`)
  if (!indexedAt) throw new Error(`the pipeline did not index ${N} records within 900 s`)
  const ms = indexedAt - t0
  return {
    shippedMs: Math.round(report.shippedMs),
    routedMs: Math.round(routedAt - t0),
    ms: Math.round(ms),
    perS: rate(N, ms),
    dropped: report.stats.dropped,
    cpu,
  }
}

type Variant = 'none' | 'stdout' | 'shipper'
const VARIANTS: Variant[] = ['none', 'stdout', 'shipper']

/** Request throughput of `emporium web` on GET /products/:slug: no access logs, stdout only, shipper only; `rounds` times. */
async function benchShipperCost() {
  const env = { ...baseEnv(), LOG_LEVEL: 'info', AUTH_RATE_LIMIT: '100000' }
  const seeded = await runCli('seed', 'seed', { ...env, LOG_LEVEL: 'warn' }, 300_000)
  if (seeded.code !== 0) throw new Error(`seed failed:\n${seeded.output.slice(-2000)}`)
  const seconds = Number(flags['request-seconds'])
  const rounds = Number(flags.rounds)
  const out: { variant: Variant; reqPerS: number; p99Ms: number; webUsPerReq: number; redisUsPerReq: number }[] = []
  const redis = new Redis(REDIS_URL as string, { maxRetriesPerRequest: 1 })
  // Nothing consumes the shipped batches here (a worker would take CPU from the web process), and a variant ships some
  // 200 MB of them: within the stack's 256 MB limit the shipper would hit Redis's OOM errors and spill to disk, which
  // is not what a request costs with a consumer draining the queue. The limit goes back when the phase ends.
  const maxmemory = ((await redis.config('GET', 'maxmemory')) as string[])[1] ?? '0'
  await redis.config('SET', 'maxmemory', String(2 * 1024 ** 3))
  restoreRedis = async () => {
    await redis.config('SET', 'maxmemory', maxmemory)
    await redis.quit()
  }
  /** Redis's own CPU seconds (the shipper's appends cost the server too). */
  const redisCpuS = async () => {
    const info = await redis.info('cpu')
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN)
    return field('used_cpu_user') + field('used_cpu_sys')
  }
  for (let round = 0; round < rounds; round++) {
    for (const variant of VARIANTS) {
      const ship = variant === 'shipper'
      const port = 20_000 + Math.floor(Math.random() * 20_000)
      // Without shipping, pino writes to stdout, which goes to /dev/null-like draining; with it, stdout is off.
      // none: no access logs at all; stdout: pino to stdout (/dev/null, so no reader's CPU counts); shipper: the
      // shipper only. Ready when /healthz answers (stdout may be discarded).
      const web = spawnCli(
        `web ${variant}`,
        'web',
        {
          ...env,
          PORT: String(port),
          LOG_LEVEL: variant === 'none' ? 'warn' : 'info',
          LOG_SHIP: String(ship),
          LOG_STDOUT: String(variant === 'stdout'),
        },
        {
          discardStdout: true,
          nodeArgs: flags['web-cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['web-cpu-prof']}/${variant}`] : [],
        },
      )
      procs.push(web)
      const origin = `http://127.0.0.1:${port}`
      for (let tries = 0; ; tries++) {
        const up = await fetch(`${origin}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
        if (up) break
        if (web.exit() || tries > 900) throw new Error(`web ${variant} did not start:\n${web.output().slice(-2000)}`)
        await sleep(100)
      }
      const list = (await (await fetch(`${origin}/api/v1/products?limit=50`)).json()) as { items: { slug: string }[] }
      const slugs = list.items.map((p) => p.slug)
      let k = 0
      // Warm up, then measure.
      for (const durationS of [2, seconds]) {
        const webCpu0 = cpuSecondsOf(web.proc.pid as number)
        const redisCpu0 = await redisCpuS()
        const result = await runLoad({
          origin,
          connections: Number(flags.connections),
          durationS,
          stepsFor: () => [
            { kind: 'product', method: 'GET', next: () => ({ path: `/api/v1/products/${slugs[k++ % slugs.length]}` }) },
          ],
        })
        const webCpuS = cpuSecondsOf(web.proc.pid as number) - webCpu0
        const redisCpuUsed = (await redisCpuS()) - redisCpu0
        if (durationS === seconds)
          out.push({
            variant,
            reqPerS: Math.round(result.reqPerS),
            p99Ms: result.p99Ms,
            webUsPerReq: tenths((webCpuS * 1e6) / result.responses),
            redisUsPerReq: tenths((redisCpuUsed * 1e6) / result.responses),
          })
      }
      await stopCli(web, 10_000)
      // Drop what was shipped (and the analytics jobs), so the next variant starts with an empty Redis.
      await dropRedisKeys(REDIS_URL as string, `${PREFIX}:jobs:`)
    }
  }
  const mean = (variant: Variant) => {
    const xs = out.filter((o) => o.variant === variant).map((o) => o.reqPerS)
    return Math.round(xs.reduce((a, b) => a + b, 0) / xs.length)
  }
  await restoreRedis()
  restoreRedis = null
  const none = mean('none')
  const stdout = mean('stdout')
  const shipper = mean('shipper')
  // CPU per request (web process + Redis) is what a saturated server's throughput is the inverse of; on this shared
  // 2-core machine req/s also moves with the load generator's share of the cores.
  const cpuOf = (variant: Variant) => {
    const xs = out.filter((o) => o.variant === variant)
    const web = xs.reduce((a, o) => a + o.webUsPerReq, 0) / xs.length
    const redisUs = xs.reduce((a, o) => a + o.redisUsPerReq, 0) / xs.length
    return { webUsPerReq: tenths(web), redisUsPerReq: tenths(redisUs), totalUsPerReq: tenths(web + redisUs) }
  }
  const cpu = { none: cpuOf('none'), stdout: cpuOf('stdout'), shipper: cpuOf('shipper') }
  return {
    runs: out,
    noneReqPerS: none,
    stdoutReqPerS: stdout,
    shipperReqPerS: shipper,
    costVsNoLogs: 1 - shipper / none,
    costVsStdout: 1 - shipper / stdout,
    cpu,
    cpuCostVsNoLogs: 1 - cpu.none.totalUsPerReq / cpu.shipper.totalUsPerReq,
    cpuCostVsStdout: 1 - cpu.stdout.totalUsPerReq / cpu.shipper.totalUsPerReq,
  }
}

/** Puts back what the shipper phase changed in the stack's Redis, if it did not get to. */
let restoreRedis: (() => Promise<void>) | null = null

async function cleanup() {
  await restoreRedis?.().catch((e: Error) => console.error(`could not restore Redis's maxmemory: ${e.message}`))
  for (const p of procs) await stopCli(p, 5000)
  for (const ns of [RAW_NS, STAGE_NS, PIPE_NS])
    await osClient.transport
      .request({ method: 'DELETE', path: `/_data_stream/logs-emporium.*-${ns}` })
      .catch((e: Error) => console.error(`could not delete the ${ns} streams: ${e.message}`))
  await dropRedisKeys(REDIS_URL as string, `${PREFIX}:`).catch((e: Error) => console.error(e.message))
  await dropRedisKeys(REDIS_URL as string, `${STAGE_PREFIX}:`).catch((e: Error) => console.error(e.message))
  await osClient.close()
  rmSync(dataDir, { recursive: true, force: true })
}

try {
  say(`bench:pipeline — ${N} records; ${os.cpus().length} × ${os.cpus()[0]?.model}; Node ${process.version}`)
  const docs = await sameDocuments(N)
  const bytes = docs.reduce((a, d) => a + JSON.stringify(d).length, 0)
  say(`documents: ${docs.length}, ${Math.round(bytes / docs.length)} bytes each on average`)
  if (PHASES.has('redis')) {
    results.redisAppend = await measured(N, () => benchRedisAppend(docs))
    say(`raw Redis append (XADD, pipelined by 1000): ${JSON.stringify(results.redisAppend)}`)
  }
  if (PHASES.has('bulk')) {
    results.rawBulk = await measured(N, () => benchRawBulk(docs))
    say(`raw OpenSearch bulk (${BULK_CONCURRENCY} × ${BULK_SIZE} docs): ${JSON.stringify(results.rawBulk)}`)
  }
  if (PHASES.has('stage')) {
    results.pipelineStage = await measured(N, () => benchPipelineStage(docs))
    say(`channels → index, the pipeline stage alone (${PIPELINES} processes): ${JSON.stringify(results.pipelineStage)}`)
  }
  if (PHASES.has('pipeline')) {
    results.pipeline = await measured(N, () => benchPipeline())
    say(`app → index through the pipeline (${PIPELINES} pipeline processes): ${JSON.stringify(results.pipeline)}`)
  }
  if (PHASES.has('shipper')) {
    results.shipper = await benchShipperCost()
    say(`shipper cost: ${JSON.stringify(results.shipper)}`)
  }
  const pipe = results.pipeline as { perS: number } | undefined
  const bulk = results.rawBulk as { perS: number } | undefined
  const redis = results.redisAppend as { perS: number } | undefined
  const stage = results.pipelineStage as { perS: number } | undefined
  const shipper = results.shipper as
    | {
        noneReqPerS: number
        stdoutReqPerS: number
        shipperReqPerS: number
        costVsNoLogs: number
        costVsStdout: number
        cpu: Record<Variant, { totalUsPerReq: number; webUsPerReq: number; redisUsPerReq: number }>
        cpuCostVsNoLogs: number
        cpuCostVsStdout: number
      }
    | undefined
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`
  const rows: [string, string, string][] = [
    ['raw Redis append', redis ? `${redis.perS} ev/s` : '-', ''],
    ['raw OpenSearch bulk', bulk ? `${bulk.perS} ev/s` : '-', ''],
    [
      'channels → index (pipeline alone)',
      stage ? `${stage.perS} ev/s` : '-',
      stage && bulk ? `${pct(stage.perS / bulk.perS)} of raw bulk (target ≥ 70 %)` : '',
    ],
    [
      'app → index (pipeline)',
      pipe ? `${pipe.perS} ev/s` : '-',
      pipe && bulk
        ? `${pct(pipe.perS / bulk.perS)} of raw bulk (target ≥ 70 %); ${redis ? pct(pipe.perS / redis.perS) : '-'} of raw Redis append; Logstash ≈ 38,000 ev/s`
        : '',
    ],
    [
      'request: no logs / stdout / shipper',
      shipper ? `${shipper.noneReqPerS} / ${shipper.stdoutReqPerS} / ${shipper.shipperReqPerS} req/s` : '-',
      shipper
        ? `shipping costs ${pct(shipper.costVsNoLogs)} against no logs, ${pct(shipper.costVsStdout)} against stdout (target < 5 %)`
        : '',
    ],
    [
      'CPU µs/request (web + Redis)',
      shipper
        ? `${shipper.cpu.none.totalUsPerReq} / ${shipper.cpu.stdout.totalUsPerReq} / ${shipper.cpu.shipper.totalUsPerReq}`
        : '-',
      shipper
        ? `shipping is ${pct(shipper.cpuCostVsNoLogs)} of a request's CPU against no logs, ${pct(shipper.cpuCostVsStdout)} against stdout`
        : '',
    ],
  ]
  say('')
  for (const [a, b, c] of rows) say(`${a.padEnd(32)} ${b.padEnd(26)} ${c}`)
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true })
  const file = join(ROOT, `bench/results/pipeline-${new Date().toISOString().replaceAll(':', '-')}.json`)
  writeFileSync(file, JSON.stringify(results, null, 2))
  say(`\nwritten to ${file}`)
} finally {
  await cleanup()
}
