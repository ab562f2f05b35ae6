import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import {
  declaredFamilies,
  PROMTOOL_PATH,
  parseExposition,
  prometheusSkipReason,
  promtoolCheckMetrics,
  sampleValue,
} from '../../test/support/prometheus.ts'
import type { JobQueue } from '../jobs/job-queue.ts'
import { openMemoryJobQueue } from '../jobs/memory/memory-job-queue.ts'
import type { ShipperStats } from '../logging/shipper.ts'
import { openMemoryLogChannels } from '../pipeline/channels/memory/memory-log-channels.ts'
import { newMetrics } from '../pipeline/component.ts'
import { METRICS_CONTENT_TYPE, ProcessMetrics, UNMATCHED_ROUTE } from './metrics.ts'
import { startMetricsListener } from './metrics-listener.ts'

const shipperStats = (over: Partial<ShipperStats> = {}): ShipperStats => ({
  lines: 0,
  invalid: 0,
  shipped: 0,
  spilled: 0,
  replayed: 0,
  dropped: 0,
  inFlight: 0,
  buffered: 0,
  sendFailures: 0,
  spoolBytes: 0,
  spoolSegments: 0,
  spoolCorruptLines: 0,
  healthy: true,
  spool: 'open',
  ...over,
})

const scrape = async (m: ProcessMetrics) => parseExposition(await m.text())

describe('metrics › HTTP requests', () => {
  it('counts each request in the buckets of its duration, under its route pattern and status', async () => {
    const m = new ProcessMetrics({ role: 'web' })
    m.observeRequest('GET', '/api/v1/products/:slug', 200, 0.003)
    m.observeRequest('GET', '/api/v1/products/:slug', 200, 0.2)
    m.observeRequest('GET', undefined, 404, 0.0004)
    m.observeRequest('HEAD', '/api/v1/products/:slug', 200, 0.005)
    m.observeRequest('GET', '/healthz', 200, 60)
    const s = await scrape(m)
    const route = { route: '/api/v1/products/:slug', status_code: '200', method: 'GET', role: 'web' }
    const bucket = (le: string) => sampleValue(s, 'emporium_http_request_duration_seconds_bucket', { ...route, le })
    assert.equal(bucket('0.0025'), 0)
    assert.equal(bucket('0.005'), 1)
    assert.equal(bucket('0.1'), 1)
    assert.equal(bucket('0.25'), 2)
    assert.equal(bucket('+Inf'), 2)
    assert.equal(sampleValue(s, 'emporium_http_request_duration_seconds_count', route), 2)
    assert.ok(Math.abs(sampleValue(s, 'emporium_http_request_duration_seconds_sum', route) - 0.203) < 1e-9)
    // A bucket counts what is less than or equal to its bound; a time past the largest is in +Inf only.
    const head = { route: '/api/v1/products/:slug', method: 'HEAD' }
    assert.equal(sampleValue(s, 'emporium_http_request_duration_seconds_bucket', { ...head, le: '0.0025' }), 0)
    assert.equal(sampleValue(s, 'emporium_http_request_duration_seconds_bucket', { ...head, le: '0.005' }), 1)
    const slow = (le: string) =>
      sampleValue(s, 'emporium_http_request_duration_seconds_bucket', { route: '/healthz', le })
    assert.equal(slow('10'), 0)
    assert.equal(slow('+Inf'), 1)
    // A URL no route matched is one fixed label: a scan of random paths cannot grow the series.
    assert.equal(
      sampleValue(s, 'emporium_http_request_duration_seconds_count', { route: UNMATCHED_ROUTE, status_code: '404' }),
      1,
    )
  })

  it('each process has its own registry, labelled with its role', async () => {
    const a = new ProcessMetrics({ role: 'web' })
    const b = new ProcessMetrics({ role: 'worker' })
    a.observeRequest('GET', '/healthz', 200, 0.001)
    const sb = await scrape(b)
    assert.equal(sb.filter((x) => x.name === 'emporium_http_request_duration_seconds_count').length, 0)
    assert.ok(sb.length > 0 && sb.every((x) => x.labels.role === 'worker'))
    assert.equal(sampleValue(sb, 'emporium_build_info', { node_version: process.versions.node }), 1)
    // Node's own metrics: event-loop lag, heap, CPU.
    const families = declaredFamilies(await b.text())
    for (const name of ['nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'process_cpu_seconds_total'])
      assert.ok(families.has(name), name)
  })
})

describe('metrics › backlog read at scrape time', () => {
  const queue = openMemoryJobQueue()
  const channels = openMemoryLogChannels({ maxLength: 1000 })
  after(async () => {
    await queue.close()
    await channels.close()
  })

  it('shows queue depth by state and channel length, lag and pending by category', async () => {
    for (let i = 0; i < 3; i++) await queue.enqueue('logs', 'route', { i })
    await queue.enqueue('analytics', 'project', {}, { delayMs: 60_000 })
    await channels.append('logs:access', [1, 2, 3, 4, 5])
    await channels.ensureGroup('logs:access', 'pipeline')
    await channels.read('logs:access', 'pipeline', 'c1', 2, 0)
    await channels.append('logs:app', [1])
    await channels.append('logs:dead-letter', [1, 2])
    const m = new ProcessMetrics({
      role: 'start',
      jobs: { queue, names: ['logs', 'analytics'] },
      channels: {
        channels,
        categories: [
          { category: 'access', channel: 'logs:access' },
          { category: 'app', channel: 'logs:app' },
        ],
        group: 'pipeline',
        deadLetter: 'logs:dead-letter',
      },
    })
    const s = await scrape(m)
    assert.equal(sampleValue(s, 'emporium_job_queue_jobs', { queue: 'logs', state: 'waiting' }), 3)
    assert.equal(sampleValue(s, 'emporium_job_queue_jobs', { queue: 'analytics', state: 'delayed' }), 1)
    assert.equal(sampleValue(s, 'emporium_job_queue_jobs', { queue: 'analytics', state: 'waiting' }), 0)
    assert.equal(sampleValue(s, 'emporium_log_channel_entries', { category: 'access' }), 5)
    assert.equal(sampleValue(s, 'emporium_log_channel_lag_entries', { category: 'access' }), 3)
    assert.equal(sampleValue(s, 'emporium_log_channel_pending_entries', { category: 'access' }), 2)
    // No consumer group on logs:app yet: its length, and no lag or pending made up.
    assert.equal(sampleValue(s, 'emporium_log_channel_entries', { category: 'app' }), 1)
    assert.equal(
      s.filter((x) => x.name === 'emporium_log_channel_lag_entries' && x.labels.category === 'app').length,
      0,
    )
    assert.equal(sampleValue(s, 'emporium_log_dead_letter_entries'), 2)
    assert.equal(sampleValue(s, 'emporium_backlog_source_up', { source: 'job_queue' }), 1)
    assert.equal(sampleValue(s, 'emporium_backlog_source_up', { source: 'log_channels' }), 1)
  })

  it('a queue that never answers costs the scrape its timeout, not the scrape', async () => {
    const stuck = new Proxy(queue, {
      get: (target, key) =>
        key === 'counts' ? () => new Promise(() => {}) : Reflect.get(target, key as keyof JobQueue),
    })
    const m = new ProcessMetrics({ role: 'worker', jobs: { queue: stuck, names: ['logs'] }, backlogTimeoutMs: 150 })
    const started = performance.now()
    const s = await scrape(m)
    const took = performance.now() - started
    assert.ok(took >= 140 && took < 2000, `${took} ms`)
    assert.equal(sampleValue(s, 'emporium_backlog_source_up', { source: 'job_queue' }), 0)
    assert.equal(s.filter((x) => x.name === 'emporium_job_queue_jobs').length, 0)
  })
})

describe('metrics › shipper and pipeline counters', () => {
  it('report the current counts of their sources at each scrape', async () => {
    let stats = shipperStats({ shipped: 10, spilled: 4, dropped: 1 })
    const pipeline = newMetrics()
    const m = new ProcessMetrics({
      role: 'pipeline',
      shipper: () => stats,
      pipeline: { metrics: () => pipeline, sinks: ['index', 'archive'] },
    })
    let s = await scrape(m)
    assert.equal(sampleValue(s, 'emporium_log_shipper_records_shipped_total'), 10)
    assert.equal(sampleValue(s, 'emporium_log_shipper_records_spilled_total'), 4)
    assert.equal(sampleValue(s, 'emporium_log_shipper_records_dropped_total'), 1)
    // Every configured sink is shown from 0, so a rate over it exists before its first retry.
    assert.equal(sampleValue(s, 'emporium_pipeline_sink_retries_total', { sink: 'index' }), 0)
    assert.equal(sampleValue(s, 'emporium_pipeline_records_delivered_total', { sink: 'archive' }), 0)

    stats = shipperStats({ shipped: 25, spilled: 4, replayed: 4, dropped: 1, sendFailures: 2, healthy: false })
    pipeline.read = 120
    pipeline.acknowledged = 100
    pipeline.delivered.index = 98
    pipeline.retries.index = 3
    pipeline.deadLettered = 2
    pipeline.inFlightBatches = 1
    pipeline.lastBatchLatencyMs = 40
    s = await scrape(m)
    assert.equal(sampleValue(s, 'emporium_log_shipper_records_shipped_total'), 25)
    assert.equal(sampleValue(s, 'emporium_log_shipper_records_replayed_total'), 4)
    assert.equal(sampleValue(s, 'emporium_log_shipper_send_failures_total'), 2)
    assert.equal(sampleValue(s, 'emporium_log_shipper_healthy'), 0)
    assert.equal(sampleValue(s, 'emporium_pipeline_records_read_total'), 120)
    assert.equal(sampleValue(s, 'emporium_pipeline_records_acknowledged_total'), 100)
    assert.equal(sampleValue(s, 'emporium_pipeline_records_delivered_total', { sink: 'index' }), 98)
    assert.equal(sampleValue(s, 'emporium_pipeline_sink_retries_total', { sink: 'index' }), 3)
    assert.equal(sampleValue(s, 'emporium_pipeline_records_dead_lettered_total'), 2)
    assert.equal(sampleValue(s, 'emporium_pipeline_in_flight_batches'), 1)
    assert.equal(sampleValue(s, 'emporium_pipeline_last_batch_duration_seconds'), 0.04)
  })

  it('a process that does not ship logs or run the pipeline has no such series', async () => {
    const families = declaredFamilies(await new ProcessMetrics({ role: 'web' }).text())
    assert.ok(
      ![...families.keys()].some((n) => n.startsWith('emporium_log_shipper_') || n.startsWith('emporium_pipeline_')),
    )
  })

  it('promtool accepts the whole text, lint included', { skip: prometheusSkipReason(PROMTOOL_PATH) }, async () => {
    const queue = openMemoryJobQueue()
    const channels = openMemoryLogChannels({ maxLength: 100 })
    try {
      const m = new ProcessMetrics({
        role: 'start',
        jobs: { queue, names: ['logs'] },
        channels: {
          channels,
          categories: [{ category: 'access', channel: 'logs:access' }],
          group: 'g',
          deadLetter: 'dl',
        },
        shipper: () => shipperStats(),
        pipeline: { metrics: newMetrics, sinks: ['index'] },
      })
      m.observeRequest('POST', '/api/v1/cart/items', 201, 0.01)
      const r = await promtoolCheckMetrics(await m.text())
      assert.equal(r.output.trim(), '')
      assert.equal(r.code, 0)
    } finally {
      await queue.close()
      await channels.close()
    }
  })
})

describe('metrics › the METRICS_PORT listener', () => {
  it('serves /metrics, /healthz and /readyz (503 while a check fails) on the port it got', async () => {
    let healthy = false
    const metrics = new ProcessMetrics({ role: 'worker' })
    const listener = await startMetricsListener({
      host: '127.0.0.1',
      port: 0,
      metrics,
      checks: [
        {
          name: 'job-queue',
          kind: 'redis',
          ping: async () => {
            if (!healthy) throw new Error('connection refused')
          },
        },
      ],
    })
    try {
      assert.ok(listener.port > 0)
      const base = `http://127.0.0.1:${listener.port}`
      const m = await fetch(`${base}/metrics`)
      assert.equal(m.status, 200)
      assert.equal(m.headers.get('content-type'), METRICS_CONTENT_TYPE)
      assert.equal(m.headers.get('cache-control'), 'no-store')
      assert.match(await m.text(), /^emporium_build_info\{.*role="worker"\} 1$/m)
      assert.deepEqual(await (await fetch(`${base}/healthz`)).json(), { status: 'ok' })
      const down = await fetch(`${base}/readyz`)
      assert.equal(down.status, 503)
      const body = (await down.json()) as { status: string; checks: { name: string; ok: boolean; error?: string }[] }
      assert.equal(body.status, 'unavailable')
      assert.deepEqual(
        body.checks.map((c) => [c.name, c.ok, c.error]),
        [['job-queue', false, 'connection refused']],
      )
      healthy = true
      assert.equal((await fetch(`${base}/readyz`)).status, 200)
      assert.equal((await fetch(`${base}/api/v1/products`)).status, 404)
      assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405)
    } finally {
      await listener.close()
      await listener.close()
    }
    await assert.rejects(fetch(`http://127.0.0.1:${listener.port}/healthz`))
  })
})
