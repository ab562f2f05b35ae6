// The log shipper: a pino destination that batches ECS records into jobs without ever blocking or throwing into the
// caller, spills to a bounded disk spool while the queue is unreachable, replays it later and counts what it drops.
import { DEFAULT_SPOOL_OPTIONS, DiskSpool } from './disk-spool.ts'
import type { EcsRecord } from './ecs.ts'
import { toEcs } from './ecs-record.ts'

export interface ShipperOptions {
  /** Delivers one batch (one job). Rejecting, throwing or taking longer than sendTimeoutMs counts as a failure. */
  send: (batch: EcsRecord[]) => Promise<void>
  service: string
  serviceVersion?: string
  /** Batches that cannot be sent go here (append-only NDJSON segments); without it they are dropped and counted. */
  spoolDir?: string
  maxSpoolBytes?: number
  spoolSegmentBytes?: number
  maxBatchRecords?: number
  /** Approximate: the sum of the input lines plus a per-record allowance for the ECS fields added. */
  maxBatchBytes?: number
  flushIntervalMs?: number
  /** Sends running at once, replay included. */
  maxInFlight?: number
  /** Records held in memory (batching, queued, in flight); past it, queued batches go to the spool, past twice it records are dropped. */
  maxBufferedRecords?: number
  sendTimeoutMs?: number
  /** Backoff between attempts while the queue is unreachable: min, doubling up to max. */
  retryMinMs?: number
  retryMaxMs?: number
  /** Every line is also written here as it came (stdout), so operators still see logs locally. */
  downstream?: { write(chunk: string): unknown } | null
  /** Where the shipper reports its own trouble: one line per drop episode. Never the shipper itself. */
  warn?: (line: string) => void
}

export interface ShipperStats {
  /** Lines written to the shipper. */
  lines: number
  /** Lines that were not a JSON object; passed downstream, not shipped. */
  invalid: number
  /** Records delivered by live sends. */
  shipped: number
  /** Records written to the disk spool. */
  spilled: number
  /** Records delivered from the spool (disjoint from shipped). */
  replayed: number
  /** Records lost: spool full or absent, memory bound passed, or written after close(). */
  dropped: number
  /** Batches being sent right now. */
  inFlight: number
  /** Records in memory not yet sent or spilled. */
  buffered: number
  sendFailures: number
  spoolBytes: number
  spoolSegments: number
  /** Spool lines that could not be read back (a write cut short by a crash or a full disk). */
  spoolCorruptLines: number
  /** False while the last attempt to send failed. */
  healthy: boolean
  /** 'none': no spool configured, or it could not be opened (then a warning said why). */
  spool: 'opening' | 'open' | 'none'
}

export const SHIPPER_DEFAULTS = {
  maxBatchRecords: 500,
  maxBatchBytes: 512 * 1024,
  flushIntervalMs: 200,
  maxInFlight: 4,
  maxBufferedRecords: 10_000,
  sendTimeoutMs: 10_000,
  retryMinMs: 500,
  retryMaxMs: 30_000,
  maxSpoolBytes: DEFAULT_SPOOL_OPTIONS.maxBytes,
  spoolSegmentBytes: DEFAULT_SPOOL_OPTIONS.segmentBytes,
} as const

/** What toEcs adds to a line (event.id, nesting) in the byte estimate of a batch. */
const RECORD_OVERHEAD_BYTES = 160

type Settings = Required<Omit<ShipperOptions, 'spoolDir' | 'serviceVersion' | 'downstream' | 'warn'>>

const defaultWarn = (line: string) => {
  try {
    process.stderr.write(`${line}\n`)
  } catch {
    // stderr is gone; the count in stats() remains.
  }
}

export class LogShipper {
  private readonly settings: Settings
  private readonly ecs: { service: string; serviceVersion?: string }
  private readonly downstream: { write(chunk: string): unknown } | null
  private readonly warn: (line: string) => void

  private current: EcsRecord[] = []
  private currentBytes = 0
  private flushTimer: NodeJS.Timeout | null = null
  private readonly ready: EcsRecord[][] = []
  private readyRecords = 0
  private readonly inFlightBatches = new Set<EcsRecord[]>()
  private inFlightRecords = 0
  private readonly spillingBatches = new Set<EcsRecord[]>()
  private spillingRecords = 0
  private replaying: Promise<void> | null = null
  private replayInFlight = false
  private pumpScheduled = false

  private healthy = true
  private failures = 0
  private retryAt = 0
  private retryTimer: NodeJS.Timeout | null = null

  private spool: DiskSpool | null = null
  private spoolState: 'opening' | 'open' | 'none'
  private readonly spoolReady: Promise<DiskSpool | null>

  private dropping = false
  private closed = false
  private stopping = false
  private closing: Promise<void> | null = null
  private idleWaiters: (() => void)[] = []

  private readonly counters = { lines: 0, invalid: 0, shipped: 0, spilled: 0, replayed: 0, dropped: 0, sendFailures: 0 }

  constructor(options: ShipperOptions) {
    const { spoolDir, serviceVersion, downstream, warn, ...rest } = options
    this.settings = { ...SHIPPER_DEFAULTS, ...stripUndefined(rest) } as Settings
    validateSettings(this.settings)
    this.ecs = serviceVersion ? { service: options.service, serviceVersion } : { service: options.service }
    this.downstream = downstream ?? null
    this.warn = warn ?? defaultWarn
    if (spoolDir) {
      this.spoolState = 'opening'
      this.spoolReady = DiskSpool.open({
        dir: spoolDir,
        maxBytes: this.settings.maxSpoolBytes,
        segmentBytes: this.settings.spoolSegmentBytes,
      }).then(
        (spool) => {
          this.spool = spool
          this.spoolState = 'open'
          // Batches a previous process left behind go out as soon as sending works.
          this.schedulePump()
          return spool
        },
        (e: unknown) => {
          this.spoolState = 'none'
          this.warn(
            `log shipper: no disk spool at ${spoolDir} (${e instanceof Error ? e.message : String(e)}); batches that cannot be sent will be dropped and counted`,
          )
          return null
        },
      )
    } else {
      this.spoolState = 'none'
      this.spoolReady = Promise.resolve(null)
    }
  }

  /** pino's destination call: synchronous, never throws, O(1) apart from parsing the line itself. */
  write(chunk: string | Uint8Array): boolean {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    if (this.downstream) {
      try {
        this.downstream.write(text)
      } catch {
        // A broken stdout must not cost the shipped copy.
      }
    }
    try {
      const nl = text.indexOf('\n')
      if (nl < 0 || nl === text.length - 1) this.ingest(nl < 0 ? text : text.slice(0, nl))
      else for (const line of text.split('\n')) if (line !== '') this.ingest(line)
    } catch {
      this.counters.invalid++
    }
    return true
  }

  /** Resolves once every batch written so far was sent or spilled (or dropped and counted). Also pino's flush(cb). */
  flush(cb?: (err?: Error) => void): Promise<void> {
    this.seal()
    const done = this.whenIdle()
    if (cb) done.then(() => cb(), cb)
    return done
  }

  /** Flushes, stops replaying and closes the spool; records written afterwards are dropped and counted. Safe twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true
      await this.flush()
      this.stopping = true
      this.clearTimers()
      if (this.replaying) await this.replaying
      const spool = await this.spoolReady
      await spool?.close()
    })()
    return this.closing
  }

  /**
   * For `process.on('exit')`: writes whatever is still in memory (including batches in flight, which may arrive
   * twice; duplicates are harmless) to the spool synchronously. Returns the number of records kept.
   */
  spillSync(): number {
    const batches = [...this.ready, ...this.inFlightBatches, ...this.spillingBatches]
    if (this.current.length > 0) batches.push(this.current)
    const kept = this.spool?.appendSync(batches) ?? 0
    return kept
  }

  stats(): ShipperStats {
    return {
      ...this.counters,
      inFlight: this.inFlightBatches.size + (this.replayInFlight ? 1 : 0),
      buffered: this.memoryRecords(),
      spoolBytes: this.spool?.bytes ?? 0,
      spoolSegments: this.spool?.segmentCount ?? 0,
      spoolCorruptLines: this.spool?.corruptLines ?? 0,
      healthy: this.healthy,
      spool: this.spoolState,
    }
  }

  /**
   * Takes one log object as pino would have written it (level, time, msg, req, res…), without the JSON round trip:
   * the hot path for access records, which are made once per request. `sizeHint` estimates its JSON length.
   */
  writeObject(obj: Record<string, unknown>, sizeHint = 512): void {
    this.counters.lines++
    this.accept(obj, sizeHint)
  }

  private ingest(line: string): void {
    if (line === '') return
    this.counters.lines++
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch {
      this.counters.invalid++
      return
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.counters.invalid++
      return
    }
    this.accept(parsed as Record<string, unknown>, line.length)
  }

  private accept(parsed: Record<string, unknown>, bytes: number): void {
    if (this.closed) {
      this.drop(1, 'written after close')
      return
    }
    if (this.memoryRecords() >= 2 * this.settings.maxBufferedRecords) {
      this.drop(1, 'memory buffer full and the spool is not keeping up')
      return
    }
    this.current.push(toEcs(parsed, this.ecs))
    this.currentBytes += bytes + RECORD_OVERHEAD_BYTES
    if (this.current.length >= this.settings.maxBatchRecords || this.currentBytes >= this.settings.maxBatchBytes)
      this.seal()
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null
        this.seal()
      }, this.settings.flushIntervalMs)
      this.flushTimer.unref()
    }
  }

  private seal(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer)
      this.flushTimer = null
    }
    if (this.current.length === 0) return
    this.ready.push(this.current)
    this.readyRecords += this.current.length
    this.current = []
    this.currentBytes = 0
    this.schedulePump()
  }

  // Sending happens on a later turn of the event loop, never inside the log call that filled a batch.
  private schedulePump(): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    setImmediate(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  private pump(): void {
    this.maybeReplay()
    const { maxInFlight, maxBufferedRecords } = this.settings
    while (this.ready.length > 0) {
      const slots = maxInFlight - this.inFlightBatches.size - (this.replaying ? 1 : 0)
      if (this.healthy) {
        if (slots > 0) this.sendLive(this.takeReady())
        else if (this.memoryRecords() - this.spillingRecords > maxBufferedRecords) this.spill(this.takeReady())
        else break
      } else if (slots > 0 && this.mayProbeLive()) this.sendLive(this.takeReady())
      else this.spill(this.takeReady())
    }
    this.checkIdle()
  }

  /** While failing, a live batch probes the queue only when no spooled batch can (the spool replays oldest first). */
  private mayProbeLive(): boolean {
    if (this.inFlightBatches.size > 0 || this.replaying) return false
    if (Date.now() < this.retryAt) {
      if (!this.retryTimer) this.wakeAtRetry()
      return false
    }
    if (this.spoolState === 'none') return true
    if (this.spoolState === 'opening') return false
    return this.spool?.empty === true && this.spillingRecords === 0
  }

  private takeReady(): EcsRecord[] {
    const batch = this.ready.shift() as EcsRecord[]
    this.readyRecords -= batch.length
    return batch
  }

  private sendLive(batch: EcsRecord[]): void {
    const probe = !this.healthy
    this.inFlightBatches.add(batch)
    this.inFlightRecords += batch.length
    this.callSend(batch)
      .then(
        () => {
          this.counters.shipped += batch.length
          this.onSendOk()
        },
        () => {
          this.onSendFailed(probe)
          this.spill(batch)
        },
      )
      .finally(() => {
        this.inFlightBatches.delete(batch)
        this.inFlightRecords -= batch.length
        this.schedulePump()
        this.checkIdle()
      })
  }

  private callSend(batch: EcsRecord[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`send took longer than ${this.settings.sendTimeoutMs} ms`)),
        this.settings.sendTimeoutMs,
      )
      // Not unref'd: a flush() or close() awaiting this send must see it end, even with nothing else keeping the loop alive.
      let sent: Promise<void>
      try {
        sent = Promise.resolve(this.settings.send(batch))
      } catch (e) {
        sent = Promise.reject(e)
      }
      sent.then(
        () => {
          clearTimeout(timer)
          resolve()
        },
        (e: unknown) => {
          clearTimeout(timer)
          reject(e)
        },
      )
    })
  }

  private onSendOk(): void {
    this.healthy = true
    this.failures = 0
    this.retryAt = 0
    this.dropping = false
  }

  /** Only the first failure and failed probes lengthen the backoff, not the batches that were in flight together. */
  private onSendFailed(probe: boolean): void {
    this.counters.sendFailures++
    if (!this.healthy && !probe) return
    this.healthy = false
    this.failures++
    const { retryMinMs, retryMaxMs } = this.settings
    const delay = Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(this.failures - 1, 30))
    this.retryAt = Date.now() + delay
    this.wakeAtRetry()
  }

  /** Pumps again at retryAt. Timers run on the loop's cached clock and may fire a little before Date.now() agrees. */
  private wakeAtRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    if (this.stopping) return
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = null
        this.schedulePump()
      },
      Math.max(1, this.retryAt - Date.now()),
    )
    this.retryTimer.unref()
  }

  private spill(batch: EcsRecord[]): void {
    if (this.spoolState === 'none') {
      this.drop(batch.length, 'the queue is unreachable and there is no disk spool')
      return
    }
    this.spillingBatches.add(batch)
    this.spillingRecords += batch.length
    this.spoolReady
      .then((spool) => (spool ? spool.append(batch) : false))
      .then((kept) => {
        if (kept) {
          this.counters.spilled += batch.length
          this.dropping = false
        } else this.drop(batch.length, 'the queue is unreachable and the disk spool is full or unavailable')
      })
      .finally(() => {
        this.spillingBatches.delete(batch)
        this.spillingRecords -= batch.length
        this.schedulePump()
        this.checkIdle()
      })
  }

  private maybeReplay(): void {
    if (this.replaying || this.stopping || !this.spool || this.spool.empty) return
    if (!this.healthy && Date.now() < this.retryAt) {
      if (!this.retryTimer) this.wakeAtRetry()
      return
    }
    if (this.inFlightBatches.size >= this.settings.maxInFlight) return
    this.replaying = this.replay().finally(() => {
      this.replaying = null
      this.schedulePump()
    })
  }

  /** Oldest first, one batch at a time; a batch leaves the spool only after it was sent. */
  private async replay(): Promise<void> {
    const spool = this.spool as DiskSpool
    while (!this.stopping && (this.healthy || Date.now() >= this.retryAt)) {
      const batch = await spool.next()
      if (!batch || this.stopping) return
      const probe = !this.healthy
      this.replayInFlight = true
      try {
        await this.callSend(batch)
      } catch {
        this.onSendFailed(probe)
        return
      } finally {
        this.replayInFlight = false
      }
      this.counters.replayed += batch.length
      this.onSendOk()
      await spool.ack()
    }
  }

  private drop(records: number, reason: string): void {
    this.counters.dropped += records
    if (this.dropping) return
    this.dropping = true
    this.warn(
      `log shipper: dropping log records (${reason}); ${this.counters.dropped} dropped since start; the count is in the shipper stats`,
    )
  }

  private memoryRecords(): number {
    return this.current.length + this.readyRecords + this.inFlightRecords + this.spillingRecords
  }

  private whenIdle(): Promise<void> {
    this.schedulePump()
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve)
      this.checkIdle()
    })
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0) return
    if (this.ready.length > 0 || this.inFlightBatches.size > 0 || this.spillingBatches.size > 0 || this.pumpScheduled)
      return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  private clearTimers(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer)
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.flushTimer = null
    this.retryTimer = null
  }
}

function validateSettings(s: Settings): void {
  if (typeof s.send !== 'function') throw new TypeError('log shipper: send must be a function')
  if (typeof s.service !== 'string' || s.service === '') throw new TypeError('log shipper: service must be a name')
  const positive: (keyof typeof SHIPPER_DEFAULTS)[] = [
    'maxBatchRecords',
    'maxBatchBytes',
    'flushIntervalMs',
    'maxInFlight',
    'maxBufferedRecords',
    'sendTimeoutMs',
    'retryMinMs',
    'retryMaxMs',
    'maxSpoolBytes',
    'spoolSegmentBytes',
  ]
  for (const key of positive) {
    const v = s[key]
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`log shipper: ${key} must be an integer ≥ 1 (got ${v})`)
  }
  if (s.maxBufferedRecords < s.maxBatchRecords)
    throw new RangeError('log shipper: maxBufferedRecords must be at least maxBatchRecords')
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {}
  for (const k in o) if (o[k] !== undefined) out[k] = o[k]
  return out
}

export const createLogShipper = (options: ShipperOptions): LogShipper => new LogShipper(options)
