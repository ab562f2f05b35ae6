// `emporium start` as a real process with METRICS_PORT=0: its /metrics passes `promtool check metrics`, a real
// Prometheus scrapes it, and every metric the Grafana dashboard queries is in its output.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type CliProcess, REPO_ROOT, spawnCli, stopCli, waitForOutput } from '../support/cli-process.ts'
import {
  declaredFamilies,
  PROMTOOL_PATH,
  parseExposition,
  prometheusSkipReason,
  promtoolCheckMetrics,
  type Sample,
  sampleValue,
  startPrometheus,
} from '../support/prometheus.ts'

const DASHBOARD = join(REPO_ROOT, 'deploy/grafana/emporium.json')
/** Grafana's datasource variable as panels reference it (Grafana syntax, not a JavaScript template). */
const DATASOURCE_VARIABLE = `$${'{'}datasource}`

/** Polls until check returns a value (not undefined), or throws what it last saw after timeoutMs. */
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

describe('Prometheus /metrics of `emporium start` (METRICS_PORT=0)', () => {
  let shop: CliProcess
  let dataDir: string
  let app: string
  let metricsUrl: string
  const metricsText = async () => {
    const r = await fetch(`${metricsUrl}/metrics`)
    assert.equal(r.status, 200)
    return r.text()
  }
  const get = async (path: string) => {
    const r = await fetch(`${app}${path}`)
    await r.arrayBuffer()
    return r.status
  }

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'emporium-prometheus-e2e-'))
    shop = spawnCli('start', 'start', {
      PORT: '0',
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
      DATA_DIR: dataDir,
      EMPORIUM_SEED: 'never',
      EMPORIUM_ADMIN_EMAIL: 'admin@prometheus.emporium.test',
      EMPORIUM_ADMIN_PASSWORD: 'Prometheus-Scrape-42!',
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1',
      LOG_LEVEL: 'info',
      LOG_STDOUT: 'false',
    })
    await waitForOutput(shop, 'Emporium is serving', 120_000)
    const out = shop.output()
    metricsUrl = (/Emporium start metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(out) ?? [])[1] as string
    app = (/Emporium is serving (http:\/\/127\.0\.0\.1:\d+)/.exec(out) ?? [])[1] as string
    assert.ok(metricsUrl && app, out)
    assert.notEqual(metricsUrl, app)
  })

  after(async () => {
    if (shop) await stopCli(shop)
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('counts requests by route pattern on its own port; the public port serves no /metrics', async () => {
    for (let i = 0; i < 7; i++) assert.equal(await get('/api/v1/products?limit=2'), 200)
    assert.equal(await get('/api/v1/products/no-such-product'), 404)
    assert.equal(await get(`/no/such/page/${Date.now()}`), 404)
    assert.equal(await get('/metrics'), 404)
    const s = parseExposition(await metricsText())
    const count = (labels: Record<string, string>) =>
      sampleValue(s, 'emporium_http_request_duration_seconds_count', { role: 'start', method: 'GET', ...labels })
    assert.equal(count({ route: '/api/v1/products', status_code: '200' }), 7)
    assert.equal(count({ route: '/api/v1/products/:slug', status_code: '404' }), 1)
    assert.equal(count({ route: '(unmatched)', status_code: '404' }), 2)
    assert.ok(!s.some((x) => /no-such|no\/such/.test(JSON.stringify(x.labels))), 'a raw URL became a label')
    const ready = await fetch(`${metricsUrl}/readyz`)
    assert.equal(ready.status, 200)
    const checks = ((await ready.json()) as { checks: { name: string }[] }).checks.map((c) => c.name)
    assert.ok(checks.includes('commerce-store') && checks.includes('job-queue'), checks.join())
  })

  it('reports the log pipeline of the process: shipped, routed, delivered to the index', async () => {
    await eventually('access logs delivered to the log index', 60_000, async () => {
      const s = parseExposition(await metricsText())
      const shipped = sampleValue(s, 'emporium_log_shipper_records_shipped_total')
      const delivered = sampleValue(s, 'emporium_pipeline_records_delivered_total', { sink: 'index' })
      const acknowledged = sampleValue(s, 'emporium_pipeline_records_acknowledged_total')
      return shipped >= 10 && delivered >= 10 && acknowledged >= delivered ? true : undefined
    })
  })

  it('promtool check metrics accepts the output, lint findings included', {
    skip: prometheusSkipReason(PROMTOOL_PATH),
  }, async () => {
    const text = await metricsText()
    assert.match(text, /^emporium_http_request_duration_seconds_bucket\{/m)
    const r = await promtoolCheckMetrics(text)
    assert.equal(r.output.trim(), '', r.output)
    assert.equal(r.code, 0)
  })

  it('a real Prometheus scrapes it: up is 1 and the request counts arrive', {
    skip: prometheusSkipReason(),
  }, async () => {
    const target = new URL(metricsUrl).host
    const prometheus = await startPrometheus('emporium', [target])
    try {
      const up = await eventually('up{job="emporium"} == 1', 30_000, async () => {
        const r = await prometheus.query('up{job="emporium"}')
        return r.length === 1 && r[0]?.value[1] === '1' ? r[0] : undefined
      })
      assert.equal(up.metric.instance, target)
      for (let i = 0; i < 5; i++) assert.equal(await get('/api/v1/categories'), 200)
      const query =
        'sum by (role, route, status_code) (emporium_http_request_duration_seconds_count{job="emporium",route="/api/v1/categories"})'
      const series = await eventually('the 5 requests in Prometheus', 30_000, async () => {
        const r = await prometheus.query(query)
        return r.length === 1 && r[0]?.value[1] === '5' ? r[0] : undefined
      })
      assert.deepEqual(series.metric, { role: 'start', route: '/api/v1/categories', status_code: '200' })
      // The histogram is usable as the dashboard uses it.
      const p99 = await prometheus.query(
        'histogram_quantile(0.99, sum by (le) (emporium_http_request_duration_seconds_bucket{job="emporium",route="/api/v1/categories"}))',
      )
      const seconds = Number(p99[0]?.value[1])
      assert.ok(seconds > 0 && seconds <= 10, `p99 ${seconds}`)

      // Every query of the Grafana dashboard, with its variables filled in as Grafana would, runs on this Prometheus;
      // the main panels have data.
      const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard
      const filled = (expr: string) =>
        expr
          .replaceAll('$__rate_interval', '30s')
          .replaceAll('$__range', '5m')
          .replaceAll('$role', '.*')
          .replaceAll('$instance', '.*')
      const empty: string[] = []
      for (const p of dashboard.panels)
        for (const t of p.targets ?? []) {
          const r = await prometheus.query(filled(t.expr))
          if (r.length === 0) empty.push(p.title)
        }
      for (const title of ['Request rate', 'p95 by route', 'Slowest routes (p95 over the range)', 'Job queue depth'])
        assert.ok(!empty.includes(title), `"${title}" shows no data; empty: ${empty.join(', ')}`)
      for (const title of ['Stream lag', 'Pipeline throughput', 'Event-loop lag', 'Memory', 'Shipper drops and spills'])
        assert.ok(!empty.includes(title), `"${title}" shows no data; empty: ${empty.join(', ')}`)
    } finally {
      await prometheus.stop()
    }
  })

  it('every metric the Grafana dashboard queries is in the output, and every panel has a datasource and targets', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard
    const variables = dashboard.templating.list
    assert.ok(variables.some((v) => v.name === 'datasource' && v.type === 'datasource' && v.query === 'prometheus'))
    const text = await metricsText()
    const families = declaredFamilies(text)
    const samples = parseExposition(text)
    const panels = dashboard.panels.filter((p) => p.type !== 'row')
    assert.ok(panels.length >= 20, `${panels.length} panels`)
    const referenced = new Set<string>()
    for (const p of panels) {
      assert.equal(p.datasource?.uid, DATASOURCE_VARIABLE, p.title)
      assert.ok(p.targets && p.targets.length > 0, `${p.title}: no targets`)
      for (const t of p.targets) {
        assert.equal(t.datasource?.uid, DATASOURCE_VARIABLE, `${p.title} ${t.refId}`)
        for (const name of metricNames(t.expr)) referenced.add(name)
      }
    }
    for (const v of variables) {
      // label_values(<series selector>, <label>): the label is not a metric.
      const selector = v.definition ? /^label_values\((.*),\s*\w+\)$/.exec(v.definition)?.[1] : undefined
      if (v.definition) assert.ok(selector, `${v.name}: ${v.definition}`)
      if (selector) for (const name of metricNames(selector)) referenced.add(name)
    }
    const missing = [...referenced].filter((name) => !hasSamples(name, families, samples))
    assert.deepEqual(missing, [])
    for (const expected of [
      'emporium_http_request_duration_seconds_bucket',
      'emporium_job_queue_jobs',
      'emporium_log_channel_lag_entries',
      'emporium_pipeline_records_read_total',
      'emporium_log_shipper_records_dropped_total',
      'nodejs_eventloop_lag_p99_seconds',
      'process_resident_memory_bytes',
    ])
      assert.ok(referenced.has(expected), `the dashboard does not show ${expected}`)
  })
})

interface Dashboard {
  templating: { list: { name: string; type: string; query?: unknown; definition?: string }[] }
  panels: {
    type: string
    title: string
    datasource?: { uid?: string }
    targets?: { refId: string; expr: string; datasource?: { uid?: string } }[]
  }[]
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
])

/** The metric names in a PromQL expression: identifiers that are not functions, keywords or grouping labels. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
  const names: string[] = []
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\()?)/g)) {
    const word = m[0]
    if (m[1] || PROMQL_WORDS.has(word) || /^\d/.test(word)) continue
    const before = stripped[(m.index ?? 0) - 1]
    if (before === '$' || (before !== undefined && /[0-9.]/.test(before))) continue
    names.push(word)
  }
  return names
}

/** A name with samples in the output; a histogram's _bucket, _sum and _count belong to its family. */
function hasSamples(name: string, families: Map<string, string>, samples: Sample[]): boolean {
  const family = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '')
  if (!families.has(family)) return false
  return samples.some((s) => s.name === name)
}
