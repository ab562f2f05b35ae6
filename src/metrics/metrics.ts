// The Prometheus metrics of one process: a registry of its own (never prom-client's global one), the HTTP latency
// histogram the web server observes, and gauges and counters read at scrape time from the job queue, the log channels,
// the log shipper and the pipeline, plus Node's own process metrics, all labelled with the process's role.
import { readFileSync } from 'node:fs'
import client from 'prom-client'
import type { JobQueue, QueueCounts } from '../jobs/job-queue.ts'
import type { ShipperStats } from '../logging/shipper.ts'
import { ChannelGroupMissing, type LogChannels } from '../pipeline/channels/log-channels.ts'
import type { PipelineMetrics } from '../pipeline/component.ts'

export type MetricsRole = 'start' | 'web' | 'worker' | 'pipeline'

/** What a process can report beyond HTTP; each part is optional (a web process has no pipeline). */
export interface MetricsSources {
  role: MetricsRole
  /** Defaults to package.json's version. */
  version?: string
  /** Job queue depth by queue and state, read at scrape time. */
  jobs?: { queue: JobQueue; names: readonly string[] }
  /**
   * Log channel length, lag and pending by category, read at scrape time; `group` is the pipeline's consumer group
   * (lag and pending are counted against it). `deadLetter` is the dead-letter channel (its length only).
   */
  channels?: {
    channels: LogChannels
    categories: readonly { category: string; channel: string }[]
    group: string
    deadLetter: string
  }
  /** The log shipper's counters, when this process ships its logs. */
  shipper?: () => ShipperStats | null
  /** The pipeline runner's counters and its sinks' names (each shown from 0), in the roles that run it. */
  pipeline?: { metrics: () => PipelineMetrics; sinks: readonly string[] }
  /** Longest wait for the queue or the channels during one scrape (a dead Redis must not hang the scrape). */
  backlogTimeoutMs?: number
}

/** Web latency buckets, in seconds: a cached answer is well under a millisecond, a checkout a few hundred. */
export const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The route label of a request no route matched (a 404 from the not-found handler): bounded, never the raw URL. */
export const UNMATCHED_ROUTE = '(unmatched)'

export const METRICS_CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE

const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'failed',
  'completed',
] as const satisfies readonly (keyof QueueCounts)[]

/**
 * prom-client's defaults that break Prometheus naming: these are gauges whose names end in `_total`, which
 * `promtool check metrics` flags; the per-type series (nodejs_active_handles{type}, …) stay, and summing them gives the same.
 */
const NON_CONFORMING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

interface Backlog {
  queues: { name: string; counts: QueueCounts }[] | null
  channels: { category: string; length: number; lag: number | null; pending: number | null }[] | null
  deadLetter: number | null
}

export class ProcessMetrics {
  readonly registry = new client.Registry()
  readonly contentType = METRICS_CONTENT_TYPE
  private readonly http = new RequestDurations(HTTP_BUCKETS)
  private backlog: { at: number; value: Promise<Backlog> } | null = null

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry]
    this.registry.setDefaultLabels({ role: sources.role })
    client.collectDefaultMetrics({ register: this.registry })
    for (const name of NON_CONFORMING_DEFAULTS) this.registry.removeSingleMetric(name)

    new client.Gauge({
      name: 'emporium_build_info',
      help: 'Always 1; the labels say which Emporium and Node.js this process runs.',
      labelNames: ['version', 'node_version'],
      registers,
    }).set({ version: sources.version ?? emporiumVersion(), node_version: process.versions.node }, 1)

    this.registry.registerMetric(this.http as unknown as client.Metric)

    if (sources.jobs || sources.channels) this.registerBacklog(registers)
    if (sources.shipper) this.registerShipper(registers, sources.shipper)
    if (sources.pipeline) this.registerPipeline(registers, sources.pipeline)
  }

  /** Called once per answered request (in an onResponse hook): no promise, and no allocation once a series exists. */
  observeRequest(method: string, route: string | undefined, statusCode: number, seconds: number): void {
    this.http.observe(method, route ?? UNMATCHED_ROUTE, statusCode, seconds)
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics()
  }

  /** Stops nothing that outlives the process, but forgets the series, so a closed process reports nothing stale. */
  close(): void {
    this.registry.clear()
  }

  /**
   * One read of the queue and the channels per scrape, shared by every gauge that shows it (prom-client collects
   * the gauges concurrently); each part gives up after backlogTimeoutMs, and its `up` gauge says so.
   */
  private readBacklog(): Promise<Backlog> {
    const now = performance.now()
    if (this.backlog && now - this.backlog.at < 500) return this.backlog.value
    const timeoutMs = this.sources.backlogTimeoutMs ?? 2000
    const { jobs, channels } = this.sources
    const value = Promise.all([
      jobs
        ? withTimeout(
            Promise.all(jobs.names.map(async (name) => ({ name, counts: await jobs.queue.counts(name) }))),
            timeoutMs,
          )
        : Promise.resolve(null),
      channels
        ? withTimeout(
            Promise.all(
              channels.categories.map(async ({ category, channel: name }) => {
                try {
                  const info = await channels.channels.info(name, channels.group)
                  return { category, length: info.length, lag: info.lag, pending: info.pending }
                } catch (e) {
                  // No consumer group yet (no pipeline has started): the length is all there is to tell.
                  if (!(e instanceof ChannelGroupMissing)) throw e
                  return { category, length: await channels.channels.length(name), lag: null, pending: null }
                }
              }),
            ),
            timeoutMs,
          )
        : Promise.resolve(null),
      channels ? withTimeout(channels.channels.length(channels.deadLetter), timeoutMs) : Promise.resolve(null),
    ]).then(([queues, channelInfo, deadLetter]) => ({ queues, channels: channelInfo, deadLetter }))
    this.backlog = { at: now, value }
    return value
  }

  private registerBacklog(registers: client.Registry[]): void {
    const read = () => this.readBacklog()
    const { jobs, channels } = this.sources
    new client.Gauge({
      name: 'emporium_backlog_source_up',
      help: 'Whether the last scrape could read the source (job_queue, log_channels): 1 yes, 0 it failed or timed out.',
      labelNames: ['source'],
      registers,
      async collect() {
        const b = await read()
        this.reset()
        if (jobs) this.set({ source: 'job_queue' }, b.queues ? 1 : 0)
        if (channels) this.set({ source: 'log_channels' }, b.channels && b.deadLetter !== null ? 1 : 0)
      },
    })
    if (jobs)
      new client.Gauge({
        name: 'emporium_job_queue_jobs',
        help: 'Jobs in a queue by state (waiting, active, delayed, failed = dead letters, completed = retained).',
        labelNames: ['queue', 'state'],
        registers,
        async collect() {
          const b = await read()
          this.reset()
          for (const q of b.queues ?? [])
            for (const state of QUEUE_STATES) this.set({ queue: q.name, state }, q.counts[state])
        },
      })
    if (!channels) return
    const perCategory = (
      name: string,
      help: string,
      pick: (c: NonNullable<Backlog['channels']>[number]) => number | null,
    ) =>
      new client.Gauge({
        name,
        help,
        labelNames: ['category'],
        registers,
        async collect() {
          const b = await read()
          this.reset()
          for (const c of b.channels ?? []) {
            const value = pick(c)
            if (value !== null) this.set({ category: c.category }, value)
          }
        },
      })
    perCategory('emporium_log_channel_entries', 'Entries a log channel holds now (after trimming).', (c) => c.length)
    perCategory(
      'emporium_log_channel_lag_entries',
      "Entries in a log channel not yet delivered to the pipeline's consumer group (absent before the group exists).",
      (c) => c.lag,
    )
    perCategory(
      'emporium_log_channel_pending_entries',
      "Entries delivered to the pipeline's consumer group and not acknowledged yet.",
      (c) => c.pending,
    )
    new client.Gauge({
      name: 'emporium_log_dead_letter_entries',
      help: 'Records in the dead-letter channel (refused by the log index for good, with the reason).',
      registers,
      async collect() {
        const b = await read()
        this.reset()
        if (b.deadLetter !== null) this.set(b.deadLetter)
      },
    })
  }

  private registerShipper(registers: client.Registry[], stats: () => ShipperStats | null): void {
    const counter = (name: string, help: string, pick: (s: ShipperStats) => number) =>
      new client.Counter({
        name,
        help,
        registers,
        collect() {
          const s = stats()
          this.reset()
          if (s) this.inc(pick(s))
        },
      })
    const gauge = (name: string, help: string, pick: (s: ShipperStats) => number) =>
      new client.Gauge({
        name,
        help,
        registers,
        collect() {
          const s = stats()
          this.reset()
          if (s) this.set(pick(s))
        },
      })
    counter(
      'emporium_log_shipper_records_shipped_total',
      'Log records delivered to the logs queue by live sends.',
      (s) => s.shipped,
    )
    counter(
      'emporium_log_shipper_records_spilled_total',
      'Log records written to the local disk spool while the queue could not be reached.',
      (s) => s.spilled,
    )
    counter(
      'emporium_log_shipper_records_replayed_total',
      'Log records delivered later from the disk spool.',
      (s) => s.replayed,
    )
    counter(
      'emporium_log_shipper_records_dropped_total',
      'Log records lost: spool full or absent, memory bound passed, or written after close.',
      (s) => s.dropped,
    )
    counter(
      'emporium_log_shipper_send_failures_total',
      'Batches whose send failed or timed out.',
      (s) => s.sendFailures,
    )
    gauge('emporium_log_shipper_buffered_records', 'Log records in memory not yet sent or spilled.', (s) => s.buffered)
    gauge('emporium_log_shipper_spool_bytes', 'Bytes held in the disk spool.', (s) => s.spoolBytes)
    gauge('emporium_log_shipper_healthy', '1 while the last send succeeded, 0 after a failure.', (s) =>
      s.healthy ? 1 : 0,
    )
  }

  private registerPipeline(
    registers: client.Registry[],
    { metrics, sinks }: NonNullable<MetricsSources['pipeline']>,
  ): void {
    const counter = (name: string, help: string, pick: (m: PipelineMetrics) => number) =>
      new client.Counter({
        name,
        help,
        registers,
        collect() {
          this.reset()
          this.inc(pick(metrics()))
        },
      })
    const perSink = (name: string, help: string, pick: (m: PipelineMetrics) => Record<string, number>) =>
      new client.Counter({
        name,
        help,
        labelNames: ['sink'],
        registers,
        collect() {
          const bySink = pick(metrics())
          this.reset()
          for (const sink of sinks) this.inc({ sink }, bySink[sink] ?? 0)
          for (const [sink, n] of Object.entries(bySink)) if (!sinks.includes(sink)) this.inc({ sink }, n)
        },
      })
    const gauge = (name: string, help: string, pick: (m: PipelineMetrics) => number) =>
      new client.Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(pick(metrics()))
        },
      })
    counter('emporium_pipeline_records_read_total', 'Records the pipeline read from its source.', (m) => m.read)
    counter('emporium_pipeline_read_bytes_total', 'Bytes of the records the pipeline read.', (m) => m.readBytes)
    counter(
      'emporium_pipeline_records_acknowledged_total',
      'Records acknowledged to the source after every sink had them.',
      (m) => m.acknowledged,
    )
    counter('emporium_pipeline_records_dropped_total', 'Records a transform dropped on purpose.', (m) => m.dropped)
    counter(
      'emporium_pipeline_records_dead_lettered_total',
      'Records a sink refused for good, written to the dead-letter channel.',
      (m) => m.deadLettered,
    )
    perSink('emporium_pipeline_records_delivered_total', 'Records a sink accepted.', (m) => m.delivered)
    perSink(
      'emporium_pipeline_sink_retries_total',
      'Retried sink writes (429, 5xx, connection errors).',
      (m) => m.retries,
    )
    gauge('emporium_pipeline_in_flight_batches', 'Batches read and not yet acknowledged.', (m) => m.inFlightBatches)
    gauge('emporium_pipeline_in_flight_bytes', 'Bytes of the batches in flight.', (m) => m.inFlightBytes)
    gauge(
      'emporium_pipeline_last_batch_duration_seconds',
      'Time the last acknowledged batch took from read to acknowledgement.',
      (m) => m.lastBatchLatencyMs / 1000,
    )
  }
}

interface RequestSeries {
  method: string
  statusCode: number
  /** Observations per bucket (not cumulative), the last one past the largest bound. */
  counts: Float64Array
  sum: number
  count: number
}

/**
 * emporium_http_request_duration_seconds. prom-client's Histogram.observe builds and hashes a label object per call
 * (about 0.6 µs and some garbage per request); this finds the series through a Map by route and a short list by
 * status and method, and counts in a typed array. The registry renders it like any prom-client metric (get()).
 */
class RequestDurations {
  readonly name = 'emporium_http_request_duration_seconds'
  readonly help = 'Time from receiving a request to sending its answer, by method, route pattern and status code.'
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly byRoute = new Map<string, RequestSeries[]>()

  constructor(private readonly bounds: readonly number[]) {}

  observe(method: string, route: string, statusCode: number, seconds: number): void {
    let list = this.byRoute.get(route)
    if (list === undefined) {
      list = []
      this.byRoute.set(route, list)
    }
    let series: RequestSeries | undefined
    for (const s of list)
      if (s.statusCode === statusCode && s.method === method) {
        series = s
        break
      }
    if (series === undefined) {
      series = { method, statusCode, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 }
      list.push(series)
    }
    let bucket = 0
    while (bucket < this.bounds.length && seconds > (this.bounds[bucket] as number)) bucket++
    series.counts[bucket] = (series.counts[bucket] as number) + 1
    series.sum += seconds
    series.count++
  }

  /** The shape prom-client's registry renders: cumulative _bucket series with `le`, then _sum and _count. */
  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = []
    for (const [route, list] of this.byRoute)
      for (const s of list) {
        const labels = { method: s.method, route, status_code: s.statusCode }
        let cumulative = 0
        this.bounds.forEach((le, i) => {
          cumulative += s.counts[i] as number
          values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` })
        })
        values.push({ labels: { le: '+Inf', ...labels }, value: s.count, metricName: `${this.name}_bucket` })
        values.push({ labels, value: s.sum, metricName: `${this.name}_sum` })
        values.push({ labels, value: s.count, metricName: `${this.name}_count` })
      }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }

  reset(): void {
    this.byRoute.clear()
  }
}

/** package.json's version (src/metrics and dist/metrics are both two levels under the package root). */
function emporiumVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown
    }
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

/** The work's answer, or null when it fails or takes longer than ms (its late answer is then ignored). */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms)
  })
  return Promise.race([work.catch(() => null), timeout]).finally(() => clearTimeout(timer))
}
