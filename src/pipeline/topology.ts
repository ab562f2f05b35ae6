// Runs a topology: one source → transforms → every sink (each with its own bounded queue and retries) →
// acknowledgement only after every sink has the batch. Bounded in flight by batches and bytes.
import type { EcsRecord } from '../logging/ecs.ts'
import {
  type ComponentContext,
  isRetryable,
  type PipelineMetrics,
  type Sink,
  type Source,
  type SourceBatch,
  type Transform,
} from './component.ts'

export interface RunnerOptions {
  maxBatchRecords: number
  maxBatchWaitMs: number
  maxInFlightBatches: number
  maxInFlightBytes: number
  /** Batches one sink writes at once (bulk requests in parallel); the index absorbs any order. */
  maxSinkConcurrency: number
  retryBaseMs: number
  retryMaxMs: number
  /** Logs a `pipeline stats` record (throughput, lag, pending, retries, dead letters) this often; 0 = never. */
  statsEveryMs: number
}

export const defaultRunnerOptions = (): RunnerOptions => ({
  maxBatchRecords: 1000,
  maxBatchWaitMs: 200,
  maxInFlightBatches: 8,
  maxInFlightBytes: 32 * 1024 * 1024,
  maxSinkConcurrency: 2,
  retryBaseMs: 200,
  retryMaxMs: 30_000,
  statsEveryMs: 10_000,
})

export interface PipelineStats extends PipelineMetrics {
  /** Entries in the channels not yet delivered to the group (null when the source cannot tell). */
  lag: number | null
  /** Entries delivered to the group and not acknowledged yet, by any consumer. */
  pending: number | null
  channels: Record<string, { lag: number; pending: number; length: number }> | null
}

export interface NamedSink {
  name: string
  sink: Sink
}

/** Capped exponential backoff with full jitter. */
export const backoffMs = (attempt: number, baseMs: number, maxMs: number, random = Math.random): number =>
  Math.round(random() * Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20)))

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        resolve()
      },
      { once: true },
    )
  })

/**
 * One sink's queue: up to `maxSinkConcurrency` batches are written at once (started in arrival order), each retried
 * until it is delivered or refused for good. A slow sink fills its own queue only; the runner's in-flight bound then
 * stops reading, so memory stays bounded.
 */
class SinkLane {
  private running = 0
  private readonly waiting: (() => void)[] = []
  constructor(
    readonly name: string,
    private readonly sink: Sink,
    private readonly options: RunnerOptions,
    private readonly ctx: ComponentContext,
  ) {}

  /** Resolves with the records refused for good once the batch is written. */
  async push(records: EcsRecord[]): Promise<{ record: EcsRecord; reason: string }[]> {
    if (this.running >= this.options.maxSinkConcurrency) await new Promise<void>((r) => this.waiting.push(r))
    else this.running++
    try {
      return await this.deliver(records)
    } finally {
      // Hand the slot straight to the next batch in line, or free it.
      const next = this.waiting.shift()
      if (next) next()
      else this.running--
    }
  }

  private async deliver(records: EcsRecord[]): Promise<{ record: EcsRecord; reason: string }[]> {
    if (records.length === 0) return []
    for (let attempt = 0; ; attempt++) {
      try {
        const { rejected } = await this.sink.write(records)
        const m = this.ctx.metrics
        m.delivered[this.name] = (m.delivered[this.name] ?? 0) + records.length - rejected.length
        return rejected
      } catch (e) {
        if (!isRetryable(e)) {
          // A whole batch refused for a reason retrying cannot fix: every record goes to the dead letters.
          return records.map((record) => ({ record, reason: `${this.name}: ${(e as Error).message}` }))
        }
        this.ctx.metrics.retries[this.name] = (this.ctx.metrics.retries[this.name] ?? 0) + 1
        const wait = backoffMs(attempt, this.options.retryBaseMs, this.options.retryMaxMs)
        if (attempt % 10 === 0)
          this.ctx.log('warn', 'sink unavailable, retrying', {
            sink: this.name,
            attempt,
            waitMs: wait,
            error: (e as Error).message,
          })
        // Retries go on while stopping too: shutdown bounds the wait, and what is not acknowledged is redelivered.
        await new Promise((r) => setTimeout(r, wait).unref())
      }
    }
  }
}

export class PipelineRunner {
  readonly metrics: PipelineMetrics
  private readonly lanes: SinkLane[]
  private readonly sinks: Sink[]
  private readonly stop = new AbortController()
  private inFlight = new Set<Promise<void>>()
  private inFlightBytes = 0
  private loop: Promise<void> | null = null
  private stopped = false
  private statsTimer: NodeJS.Timeout | null = null

  constructor(
    private readonly source: Source,
    private readonly transforms: Transform[],
    sinks: NamedSink[],
    private readonly deadLetter: Sink,
    private readonly options: RunnerOptions,
    private readonly ctx: ComponentContext,
  ) {
    this.metrics = ctx.metrics
    this.sinks = sinks.map((s) => s.sink)
    this.lanes = sinks.map((s) => new SinkLane(s.name, s.sink, options, ctx))
  }

  start(): void {
    if (this.loop) return
    this.loop = this.run()
    if (this.options.statsEveryMs > 0) {
      let last = { at: performance.now(), read: 0, acknowledged: 0 }
      this.statsTimer = setInterval(() => {
        const prev = last
        last = { at: performance.now(), read: this.metrics.read, acknowledged: this.metrics.acknowledged }
        const seconds = Math.max(0.001, (last.at - prev.at) / 1000)
        void this.stats().then((s) => {
          // A pipeline with nothing to do stays quiet.
          if (last.read === prev.read && last.acknowledged === prev.acknowledged && !s.lag && !s.pending) return
          this.ctx.log('info', 'pipeline stats', {
            readPerSecond: Math.round((last.read - prev.read) / seconds),
            acknowledgedPerSecond: Math.round((last.acknowledged - prev.acknowledged) / seconds),
            read: s.read,
            acknowledged: s.acknowledged,
            dropped: s.dropped,
            delivered: s.delivered,
            retries: s.retries,
            deadLettered: s.deadLettered,
            inFlightBatches: s.inFlightBatches,
            lag: s.lag,
            pending: s.pending,
            lastBatchLatencyMs: s.lastBatchLatencyMs,
          })
        })
      }, this.options.statsEveryMs)
      this.statsTimer.unref()
    }
  }

  private async run(): Promise<void> {
    while (!this.stop.signal.aborted) {
      while (
        (this.inFlight.size >= this.options.maxInFlightBatches ||
          this.inFlightBytes >= this.options.maxInFlightBytes) &&
        !this.stop.signal.aborted
      ) {
        await Promise.race(this.inFlight)
      }
      if (this.stop.signal.aborted) break
      let batch: SourceBatch | null
      try {
        batch = await this.source.next(this.options.maxBatchRecords, this.options.maxBatchWaitMs)
      } catch (e) {
        this.ctx.log('warn', 'source read failed', { error: (e as Error).message })
        await sleep(backoffMs(3, this.options.retryBaseMs, this.options.retryMaxMs), this.stop.signal)
        continue
      }
      if (!batch || batch.records.length === 0) continue
      this.track(batch)
    }
  }

  private track(batch: SourceBatch): void {
    const started = performance.now()
    this.metrics.read += batch.records.length
    this.metrics.readBytes += batch.bytes
    this.inFlightBytes += batch.bytes
    let records = batch.records
    for (const t of this.transforms) records = t.apply(records)
    this.metrics.dropped += batch.records.length - records.length
    const work = (async () => {
      const refusals = await Promise.all(this.lanes.map((lane) => lane.push(records)))
      const rejected = refusals.flat()
      if (rejected.length > 0) await this.deadLetterAll(rejected)
      await this.ackWithRetry(batch)
      this.metrics.acknowledged += batch.records.length
      this.metrics.lastBatchLatencyMs = Math.round(performance.now() - started)
    })()
    const tracked = work
      .catch((e) => this.ctx.log('error', 'batch failed; it will be redelivered', { error: (e as Error).message }))
      .finally(() => {
        this.inFlight.delete(tracked)
        this.inFlightBytes -= batch.bytes
        this.metrics.inFlightBatches = this.inFlight.size
        this.metrics.inFlightBytes = this.inFlightBytes
      })
    this.inFlight.add(tracked)
    this.metrics.inFlightBatches = this.inFlight.size
    this.metrics.inFlightBytes = this.inFlightBytes
  }

  private async deadLetterAll(rejected: { record: EcsRecord; reason: string }[]): Promise<void> {
    const records = rejected.map(({ record, reason }) => ({
      ...record,
      labels: { ...record.labels, dead_letter_reason: reason.slice(0, 2000) },
    }))
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deadLetter.write(records)
        this.metrics.deadLettered += records.length
        return
      } catch (e) {
        if (attempt >= 50) throw e
        await sleep(backoffMs(attempt, this.options.retryBaseMs, this.options.retryMaxMs), this.stop.signal)
      }
    }
  }

  private async ackWithRetry(batch: SourceBatch): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.source.ack(batch)
      } catch (e) {
        // An unacknowledged batch is delivered again later: harmless (event.id keeps the index free of duplicates).
        if (attempt >= 20) throw e
        await sleep(backoffMs(attempt, this.options.retryBaseMs, this.options.retryMaxMs), this.stop.signal)
      }
    }
  }

  /** The counters plus what waits upstream (lag and pending per channel, when the source can tell). */
  async stats(): Promise<PipelineStats> {
    const backlog = this.source.backlog ? await this.source.backlog().catch(() => null) : null
    let lag = 0
    let pending = 0
    for (const b of Object.values(backlog ?? {})) {
      lag += b.lag
      pending += b.pending
    }
    return {
      ...this.metrics,
      delivered: { ...this.metrics.delivered },
      retries: { ...this.metrics.retries },
      lag: backlog ? lag : null,
      pending: backlog ? pending : null,
      channels: backlog,
    }
  }

  /** Stops reading first, lets in-flight batches reach the sinks (up to graceMs), then shuts the sinks. Safe twice. */
  async shutdown(graceMs = 10_000): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.statsTimer) clearInterval(this.statsTimer)
    this.stop.abort()
    await this.loop
    await this.source.shutdown()
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, graceMs).unref())])
    await Promise.allSettled([...this.sinks.map((s) => s.shutdown()), this.deadLetter.shutdown()])
  }
}
