// The METRICS_PORT listeners of `emporium web`, `emporium worker` and `emporium pipeline` on the real engines (Redis,
// a MongoDB-wire server, OpenSearch): each serves /healthz, its role's /readyz and a /metrics that promtool accepts;
// traffic on web shows in web's histogram, the shipped logs in the worker's queue gauges and the pipeline's counters;
// and a real Prometheus scrapes the three.
// Run: npm run stack:up && eval "$(bash scripts/stack/stack.sh env)" && node scripts/run-tests.mjs stack metrics.stack
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Client } from '@opensearch-project/opensearch'
import {
  type CliProcess,
  freePort,
  mongoUrlWithDatabase,
  spawnCli,
  stopCli,
  waitForOutput,
} from '../support/cli-process.ts'
import {
  PROMTOOL_PATH,
  parseExposition,
  prometheusSkipReason,
  promtoolCheckMetrics,
  type Sample,
  sampleValue,
  startPrometheus,
} from '../support/prometheus.ts'
import { dropStackRun, STACK_MONGO_BASE, stackSkipReason } from '../support/stack-run.ts'

const RUN = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
const NAMESPACE = `metrics_${RUN}`
const STREAMS = `logs-emporium.*-${NAMESPACE}`
const REDIS_PREFIX = `emp_metrics_${RUN}`
const MONGO_BASE = STACK_MONGO_BASE
const DB = `emp_metrics_${RUN}`
const ROLES = ['web', 'worker', 'pipeline'] as const
type Role = (typeof ROLES)[number]

const SKIP = stackSkipReason()

async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const started = Date.now()
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined) return v
    } catch (e) {
      last = e
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`)
    await sleep(250)
  }
}

describe('METRICS_PORT listeners of web, worker and pipeline (stack)', { skip: SKIP }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'emporium-metrics-stack-'))
  const procs = {} as Record<Role, CliProcess>
  const listener = {} as Record<Role, string>
  let app = ''
  let os: Client

  const scrape = async (role: Role): Promise<{ text: string; samples: Sample[] }> => {
    const r = await fetch(`${listener[role]}/metrics`)
    assert.equal(r.status, 200, role)
    const text = await r.text()
    return { text, samples: parseExposition(text) }
  }

  before(async () => {
    const env: Record<string, string> = {
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
      MONGODB_URL: mongoUrlWithDatabase(MONGO_BASE as string, DB),
      REDIS_URL: process.env.REDIS_URL as string,
      REDIS_KEY_PREFIX: REDIS_PREFIX,
      OPENSEARCH_URL: process.env.OPENSEARCH_URL as string,
      LOG_INDEX_REPLICAS: '0',
      LOG_INDEX_NAMESPACE: NAMESPACE,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      LOG_STDOUT: 'false',
      EMPORIUM_ADMIN_EMAIL: `metrics.${RUN}@stack.example`,
      EMPORIUM_ADMIN_PASSWORD: 'scrape every second 42',
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1',
    }
    if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR
    os = new Client({ node: process.env.OPENSEARCH_URL as string, requestTimeout: 30_000 })
    const port = await freePort()
    procs.web = spawnCli('web', 'web', { ...env, PORT: String(port) })
    procs.worker = spawnCli('worker', 'worker', env)
    procs.pipeline = spawnCli('pipeline', 'pipeline', env)
    await Promise.all(ROLES.map((role) => waitForOutput(procs[role], `Emporium ${role} metrics on http://`, 120_000)))
    for (const role of ROLES) {
      const m = new RegExp(`Emporium ${role} metrics on (http://127\\.0\\.0\\.1:\\d+)/metrics`).exec(
        procs[role].output(),
      )
      assert.ok(m, procs[role].output())
      listener[role] = m[1] as string
    }
    await waitForOutput(procs.web, 'Emporium is serving', 60_000)
    app = `http://127.0.0.1:${port}`
    assert.equal(new Set(Object.values(listener)).size, 3, 'three listeners, three ports')
  })

  after(async () => {
    for (const p of Object.values(procs)) await stopCli(p, 10_000)
    await dropStackRun({ db: DB, streams: STREAMS, redisPrefix: REDIS_PREFIX })
    await os?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it("each role answers /healthz and its own /readyz; the pipeline's needs only the channels and the index", async () => {
    const expected: Record<Role, string[]> = {
      web: ['commerce-store', 'session-store', 'job-queue', 'payment-gateway'],
      worker: ['commerce-store', 'session-store', 'job-queue', 'payment-gateway', 'analytics-store', 'log-channels'],
      pipeline: ['log-channels', 'log-index'],
    }
    for (const role of ROLES) {
      assert.deepEqual(await (await fetch(`${listener[role]}/healthz`)).json(), { status: 'ok' }, role)
      const r = await fetch(`${listener[role]}/readyz`)
      const body = (await r.json()) as { status: string; checks: { name: string; kind: string; ok: boolean }[] }
      assert.equal(r.status, 200, `${role}: ${JSON.stringify(body)}`)
      assert.deepEqual(
        body.checks.map((c) => c.name),
        expected[role],
        role,
      )
    }
    // The web role's public port serves the shop and its probes, not /metrics.
    assert.equal((await fetch(`${app}/metrics`)).status, 404)
    assert.equal((await fetch(`${app}/readyz`)).status, 200)
  })

  it('traffic on web shows in its histogram; shipped logs in the worker queue gauges and the pipeline counters', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${app}/api/v1/categories`)
      await r.arrayBuffer()
      assert.equal(r.status, 200)
    }
    const web = await scrape('web')
    assert.equal(
      sampleValue(web.samples, 'emporium_http_request_duration_seconds_count', {
        role: 'web',
        route: '/api/v1/categories',
        status_code: '200',
      }),
      20,
    )
    const worker = await scrape('worker')
    assert.equal(sampleValue(worker.samples, 'emporium_backlog_source_up', { source: 'job_queue' }), 1)
    assert.ok(worker.samples.some((s) => s.name === 'emporium_job_queue_jobs' && s.labels.queue === 'logs'))
    assert.ok(!worker.samples.some((s) => s.name.startsWith('emporium_http_')), 'the worker serves no HTTP')
    // The 20 access records travel web (shipper) → logs queue → worker → logs:access → pipeline → OpenSearch.
    await eventually("the web role's access records through the channels and the pipeline", 90_000, async () => {
      const { samples } = await scrape('pipeline')
      const access = sampleValue(samples, 'emporium_log_channel_entries', { category: 'access' })
      const lag = sampleValue(samples, 'emporium_log_channel_lag_entries', { category: 'access' })
      const pending = sampleValue(samples, 'emporium_log_channel_pending_entries', { category: 'access' })
      const delivered = sampleValue(samples, 'emporium_pipeline_records_delivered_total', { sink: 'index' })
      const shipped = sampleValue((await scrape('web')).samples, 'emporium_log_shipper_records_shipped_total', {
        role: 'web',
      })
      // Everything the access channel holds was read and acknowledged: nothing waits, nothing is in flight.
      return access >= 20 && lag === 0 && pending === 0 && delivered >= access && shipped >= 20 ? true : undefined
    })
    const pipeline = await scrape('pipeline')
    assert.ok(pipeline.samples.every((s) => s.labels.role === 'pipeline'))
  })

  it('promtool accepts the /metrics of every role', { skip: prometheusSkipReason(PROMTOOL_PATH) }, async () => {
    for (const role of ROLES) {
      const r = await promtoolCheckMetrics((await scrape(role)).text)
      assert.equal(r.output.trim(), '', `${role}: ${r.output}`)
      assert.equal(r.code, 0, role)
    }
  })

  it('a real Prometheus scrapes the three roles', { skip: prometheusSkipReason() }, async () => {
    const prometheus = await startPrometheus(
      'emporium',
      ROLES.map((role) => new URL(listener[role]).host),
    )
    try {
      await eventually('up == 1 for web, worker and pipeline', 30_000, async () => {
        const r = await prometheus.query(
          'max by (role) (up{job="emporium"} * on (instance) group_left (role) emporium_build_info)',
        )
        const roles = r
          .filter((s) => s.value[1] === '1')
          .map((s) => s.metric.role)
          .sort()
        return JSON.stringify(roles) === JSON.stringify(['pipeline', 'web', 'worker']) ? roles : undefined
      })
      const delivered = await prometheus.query(
        'sum(emporium_pipeline_records_delivered_total{job="emporium",role="pipeline"})',
      )
      assert.ok(Number(delivered[0]?.value[1]) >= 20, JSON.stringify(delivered))
      const lag = await prometheus.query('max by (category) (emporium_log_channel_lag_entries{job="emporium"})')
      assert.ok(
        lag.some((s) => s.metric.category === 'access'),
        JSON.stringify(lag),
      )
    } finally {
      await prometheus.stop()
    }
  })
})
