// The analytics emitter: collects behaviour events in a bounded in-process buffer and sends them as batches (one job
// per batch) without ever blocking or throwing into the request that emitted them. While sending fails it keeps the
// batches and retries with backoff; past its bound it drops new events and counts them.
import type { AnalyticsEvent } from './events.ts'

export interface EmitterOptions {
  /** Delivers one batch (one job). Rejecting, throwing or taking longer than sendTimeoutMs counts as a failure. */
  send: (batch: AnalyticsEvent[]) => Promise<unknown>
  /** A batch goes out this long after its first event at the latest. */
  flushIntervalMs?: number
  maxBatchEvents?: number
  /** Events held in memory (collecting, waiting, in flight); past it new events are dropped and counted. */
  maxBufferedEvents?: number
  sendTimeoutMs?: number
  /** Backoff between attempts while sending fails: min, doubling up to max. */
  retryMinMs?: number
  retryMaxMs?: number
  /** One line per trouble episode (failing, recovered, dropping); never event contents. */
  warn?: (message: string, fields: Record<string, unknown>) => void
}

export interface EmitterStats {
  emitted: number
  /** Events in batches the queue accepted. */
  sent: number
  /** Events lost: buffer full, or not confirmed sent at close(). */
  dropped: number
  /** Send attempts that failed (each is retried). */
  sendFailures: number
  buffered: number
  /** False while the last attempt to send failed. */
  healthy: boolean
}

export const EMITTER_DEFAULTS = {
  flushIntervalMs: 200,
  // A store writes a batch in a handful of statements whatever its size: DuckDB took 240k events at 22k/s in batches
  // of 500 and 46k/s in batches of 2,000 (one core). A quiet shop still sends small batches every flushIntervalMs.
  maxBatchEvents: 2000,
  maxBufferedEvents: 10_000,
  sendTimeoutMs: 5000,
  retryMinMs: 500,
  retryMaxMs: 30_000,
} as const

export class AnalyticsEmitter {
  private readonly o: Required<Omit<EmitterOptions, 'warn'>>
  private readonly warn: NonNullable<EmitterOptions['warn']>
  private current: AnalyticsEvent[] = []
  /** Sealed batches, oldest first; the head is the one being sent or retried (always as the same batch). */
  private readonly ready: AnalyticsEvent[][] = []
  private buffered = 0
  private flushTimer: NodeJS.Timeout | null = null
  private retryTimer: NodeJS.Timeout | null = null
  private inflight: Promise<void> | null = null
  private retryAt = 0
  private failures = 0
  private healthy = true
  private dropping = false
  private closed = false
  /** After close(): whatever is still held was counted as dropped and is never sent. */
  private stopped = false
  private readonly counters = { emitted: 0, sent: 0, dropped: 0, sendFailures: 0 }

  constructor(options: EmitterOptions) {
    const { warn, ...rest } = options
    const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined))
    this.o = { ...EMITTER_DEFAULTS, ...defined } as Required<Omit<EmitterOptions, 'warn'>>
    for (const key of ['flushIntervalMs', 'maxBatchEvents', 'maxBufferedEvents', 'sendTimeoutMs'] as const)
      if (!Number.isInteger(this.o[key]) || this.o[key] < 1) throw new RangeError(`${key} must be a whole number ≥ 1`)
    this.warn = warn ?? (() => {})
  }

  /** Takes an event; never throws, never waits. */
  emit(event: AnalyticsEvent): void {
    this.counters.emitted++
    if (this.closed || this.buffered >= this.o.maxBufferedEvents) {
      this.counters.dropped++
      if (!this.dropping) {
        this.dropping = true
        this.warn('analytics events dropped: the buffer is full or closed', {
          buffered: this.buffered,
          limit: this.o.maxBufferedEvents,
        })
      }
      return
    }
    this.dropping = false
    this.current.push(event)
    this.buffered++
    if (this.current.length >= this.o.maxBatchEvents) this.seal()
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null
        this.seal()
      }, this.o.flushIntervalMs)
      this.flushTimer.unref()
    }
  }

  stats(): EmitterStats {
    return { ...this.counters, buffered: this.buffered, healthy: this.healthy }
  }

  /** Sends everything held now; returns when it is sent, or when sending fails (the batches stay for the retry). */
  async flush(): Promise<void> {
    this.seal()
    for (;;) {
      if (this.inflight) {
        await this.inflight
        continue
      }
      if (this.ready.length === 0 || this.retryAt > Date.now()) return
      this.pump()
    }
  }

  /** Stops taking events, sends what it holds (waiting up to timeoutMs) and counts the rest as dropped. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.retryAt = 0
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.flush(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs)
      }),
    ])
    clearTimeout(timer)
    for (const t of [this.flushTimer, this.retryTimer]) if (t) clearTimeout(t)
    this.stopped = true
    // A send still in flight may yet land; it is counted as dropped all the same (at most one batch over).
    const lost = this.buffered
    this.buffered = 0
    this.ready.length = 0
    this.current = []
    if (lost > 0) {
      this.counters.dropped += lost
      this.warn('analytics events not sent before close', { dropped: lost })
    }
  }

  private seal(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer)
      this.flushTimer = null
    }
    if (this.current.length > 0) {
      this.ready.push(this.current)
      this.current = []
    }
    this.pump()
  }

  private pump(): void {
    if (this.stopped || this.inflight || this.ready.length === 0) return
    const wait = this.retryAt - Date.now()
    if (wait > 0) {
      if (!this.retryTimer && !this.closed) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null
          this.pump()
        }, wait)
        this.retryTimer.unref()
      }
      return
    }
    this.inflight = this.sendHead().finally(() => {
      this.inflight = null
      this.pump()
    })
  }

  private async sendHead(): Promise<void> {
    const batch = this.ready[0]!
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        Promise.resolve().then(() => this.o.send(batch)),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.o.sendTimeoutMs} ms`)),
            this.o.sendTimeoutMs,
          )
        }),
      ])
      if (this.stopped) return
      this.ready.shift()
      this.buffered -= batch.length
      this.counters.sent += batch.length
      this.failures = 0
      if (!this.healthy) {
        this.healthy = true
        this.warn('analytics events are being queued again', { buffered: this.buffered })
      }
    } catch (e) {
      if (this.stopped) return
      this.failures++
      this.counters.sendFailures++
      const backoff = Math.min(this.o.retryMaxMs, this.o.retryMinMs * 2 ** (this.failures - 1))
      this.retryAt = Date.now() + backoff
      if (this.healthy) {
        this.healthy = false
        this.warn('analytics events could not be queued; holding them and retrying', {
          error: e instanceof Error ? e.message : String(e),
          buffered: this.buffered,
          retryInMs: backoff,
        })
      }
    } finally {
      clearTimeout(timer)
    }
  }
}
