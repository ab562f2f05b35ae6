// The shape every pipeline component shares: a typed config with defaults and validation, create, and a
// shutdown that is safe to call twice (and before start). Sources are nouns, transforms verbs, sinks nouns.
import type { LogIndex } from '../log-index/log-index.ts'
import type { EcsRecord } from '../logging/ecs.ts'
import type { LogChannels } from './channels/log-channels.ts'

export interface ComponentContext {
  /** Structured logs of the pipeline itself (never records it processes). */
  log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void
  metrics: PipelineMetrics
  /** The engines behind the ports, opened by the runtime from Config. */
  resources: { channels: LogChannels; logIndex: LogIndex }
}

/** A batch read from a source: records plus what the source needs to acknowledge them. */
export interface SourceBatch {
  records: EcsRecord[]
  /** Opaque to everyone but the source. */
  token: unknown
  bytes: number
}

export interface Source {
  readonly type: string
  /** Waits up to maxWaitMs for at most maxRecords; [] when there is nothing. */
  next(maxRecords: number, maxWaitMs: number): Promise<SourceBatch | null>
  /** Called only after every sink has the batch. */
  ack(batch: SourceBatch): Promise<void>
  /** What waits upstream, per channel: entries not yet delivered (lag) and delivered but unacknowledged (pending). */
  backlog?(): Promise<Record<string, { lag: number; pending: number; length: number }>>
  shutdown(): Promise<void>
}

export interface Transform {
  readonly type: string
  /** Returns the records to keep (possibly changed); synchronous and cheap. */
  apply(records: EcsRecord[]): EcsRecord[]
}

export interface SinkResult {
  /** Records the sink refused for good, with the reason; the rest are delivered. */
  rejected: { record: EcsRecord; reason: string }[]
}

/** A sink error that retrying can fix (429, 5xx, connection refused); anything else is permanent. */
export class RetryableError extends Error {
  readonly retryable = true
}

export const isRetryable = (e: unknown): boolean =>
  e instanceof RetryableError ||
  (typeof e === 'object' && e !== null && (e as { retryable?: unknown }).retryable === true)

export interface Sink {
  readonly type: string
  write(records: EcsRecord[]): Promise<SinkResult>
  shutdown(): Promise<void>
}

export interface ComponentFactory<C, T> {
  type: string
  defaults(): C
  /** Throws a PipelineConfigError naming the field; returns the config with defaults applied. */
  validate(raw: Partial<C> & Record<string, unknown>, path: string): C
  create(config: C, ctx: ComponentContext): T | Promise<T>
  /** One example config, parsed by a test. */
  example: Partial<C>
}

export class PipelineConfigError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`)
    this.name = 'PipelineConfigError'
  }
}

export interface PipelineMetrics {
  read: number
  readBytes: number
  dropped: number
  delivered: Record<string, number>
  retries: Record<string, number>
  deadLettered: number
  acknowledged: number
  inFlightBatches: number
  inFlightBytes: number
  lastBatchLatencyMs: number
}

export const newMetrics = (): PipelineMetrics => ({
  read: 0,
  readBytes: 0,
  dropped: 0,
  delivered: {},
  retries: {},
  deadLettered: 0,
  acknowledged: 0,
  inFlightBatches: 0,
  inFlightBytes: 0,
  lastBatchLatencyMs: 0,
})
