// The JobQueue port: named background jobs on named queues, with retries, exponential backoff, dead letters and schedules.
// Adapters: memory/ (embedded, in-process) and bullmq/ (distributed, BullMQ on Redis).

export interface JobOptions {
  /** Idempotent enqueue: while a job with this id is known (pending, or among the retained finished jobs), enqueueing it again is a no-op that returns the same id. Any string; adapters encode it if their engine restricts ids. */
  jobId?: string
  /** Not run before this many ms from now. */
  delayMs?: number
  /** Total runs before the job is dead-lettered (default 5). */
  attempts?: number
  /** Base of the exponential backoff between attempts: base, 2·base, 4·base… capped at MAX_BACKOFF_MS (default 1000). */
  backoffMs?: number
  /**
   * false: the job and its data are forgotten as soon as it completes (it is not counted as completed, and its jobId
   * no longer dedupes). For bulky, idempotent jobs such as log batches, whose retained copies would fill the engine.
   * Default true (kept among the retained finished jobs). Failed jobs are kept as dead letters either way.
   */
  keepWhenDone?: boolean
}

export interface JobContext<T> {
  id: string
  queue: string
  name: string
  data: T
  /** 1-based; a run that shutdown returned to the queue does not use up an attempt. */
  attempt: number
  /** Aborted when close() gives up waiting for this run; the job is then back in the queue and whatever the handler does afterwards is ignored. */
  signal: AbortSignal
}

// Method syntax makes the parameter bivariant, so a handler typed for its own payload fits a table of handlers.
export type JobHandler<T = unknown> = { handle(job: JobContext<T>): Promise<void> }['handle']

/** Handlers by job name. */
export type JobHandlers = Record<string, JobHandler>

export interface DeadLetter {
  id: string
  name: string
  data: unknown
  attempts: number
  /** The message of the last attempt's error. */
  error: string
  failedAt: string
}

export interface QueueCounts {
  /** Ready to run (includes jobs returned at shutdown). */
  waiting: number
  active: number
  /** Scheduled for later: delayed jobs and jobs waiting out a retry backoff. */
  delayed: number
  /** Dead letters (retained, bounded). */
  failed: number
  /** Retained completed jobs (bounded), not a lifetime total. */
  completed: number
}

export interface WorkOptions {
  /** Most handlers running at once for this queue in this process (default 1). */
  concurrency?: number
}

export interface JobQueue {
  readonly kind: string
  /** Returns the job id (options.jobId when given). Data must survive JSON: handlers receive a JSON copy. */
  enqueue<T>(queue: string, name: string, data: T, options?: JobOptions): Promise<string>
  /**
   * Runs `name` every `everyMs`, first at once. Upsert by `key`: several processes (or calls) with the same key make
   * one schedule, and the latest call's name, data and interval win. Schedules outlive close() where the engine is durable.
   */
  repeat(queue: string, name: string, data: unknown, everyMs: number, key: string): Promise<void>
  /** Removes a schedule and its pending run; false if there was none. */
  cancelRepeat(queue: string, key: string): Promise<boolean>
  /** Starts consuming `queue`; handlers are looked up by job name, and a name with no handler is dead-lettered at once. Once per queue per instance. */
  work(queue: string, handlers: JobHandlers, options?: WorkOptions): Promise<void>
  counts(queue: string): Promise<QueueCounts>
  /** Newest first. */
  deadLetters(queue: string, limit?: number): Promise<DeadLetter[]>
  /** Puts a dead-lettered job back in the queue with a fresh set of attempts; false if no such dead letter. */
  retryDeadLetter(queue: string, id: string): Promise<boolean>
  ping(): Promise<void>
  /** Stops taking jobs, waits up to graceMs for in-flight jobs, returns unfinished ones to the queue; safe to call twice. */
  close(graceMs?: number): Promise<void>
}

export const DEFAULT_ATTEMPTS = 5
export const DEFAULT_BACKOFF_MS = 1000
export const MAX_BACKOFF_MS = 10 * 60_000
export const DEFAULT_GRACE_MS = 5000

/** Thrown by a handler when retrying cannot help (bad data, unknown job): the job is dead-lettered at once. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'PermanentJobError'
  }
}

export const isPermanentJobError = (e: unknown): boolean =>
  e instanceof PermanentJobError || (e instanceof Error && e.name === 'PermanentJobError')

export const unknownJobError = (queue: string, name: string, handlers: Record<string, unknown>): PermanentJobError =>
  new PermanentJobError(
    `No handler for job "${name}" on queue "${queue}" (this worker handles: ${Object.keys(handlers).join(', ') || 'nothing'})`,
  )

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** The wait after the n-th failed run (n ≥ 1): base·2^(n-1), capped. */
export const backoffDelay = (failures: number, baseMs: number): number =>
  Math.min(MAX_BACKOFF_MS, Math.round(baseMs * 2 ** Math.max(0, failures - 1)))

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

export function validateQueueName(queue: string): void {
  if (typeof queue !== 'string' || !QUEUE_NAME.test(queue))
    throw new RangeError(`queue name ${JSON.stringify(queue)} must be 1-100 characters of [A-Za-z0-9._-]`)
}

export interface ResolvedJobOptions {
  jobId?: string
  delayMs: number
  attempts: number
  backoffMs: number
  keepWhenDone: boolean
}

export function resolveJobOptions(queue: string, name: string, options: JobOptions = {}): ResolvedJobOptions {
  validateQueueName(queue)
  if (typeof name !== 'string' || name.length === 0 || name.length > 200)
    throw new RangeError('job name must be 1-200 characters')
  const {
    jobId,
    delayMs = 0,
    attempts = DEFAULT_ATTEMPTS,
    backoffMs = DEFAULT_BACKOFF_MS,
    keepWhenDone = true,
  } = options
  if (jobId !== undefined && (typeof jobId !== 'string' || jobId.length === 0 || jobId.length > 500))
    throw new RangeError('jobId must be 1-500 characters')
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`delayMs must be ≥ 0 (got ${delayMs})`)
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new RangeError(`attempts must be an integer ≥ 1 (got ${attempts})`)
  if (!Number.isFinite(backoffMs) || backoffMs < 0) throw new RangeError(`backoffMs must be ≥ 0 (got ${backoffMs})`)
  if (typeof keepWhenDone !== 'boolean') throw new RangeError('keepWhenDone must be a boolean')
  return { ...(jobId === undefined ? {} : { jobId }), delayMs, attempts, backoffMs, keepWhenDone }
}

export function validateRepeat(queue: string, name: string, everyMs: number, key: string): void {
  resolveJobOptions(queue, name)
  if (!Number.isFinite(everyMs) || everyMs < 10) throw new RangeError(`everyMs must be ≥ 10 (got ${everyMs})`)
  if (typeof key !== 'string' || key.length === 0 || key.length > 200)
    throw new RangeError('repeat key must be 1-200 characters')
}

export function validateConcurrency(concurrency: number): void {
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)
    throw new RangeError(`concurrency must be an integer from 1 to 1000 (got ${concurrency})`)
}

/** Thrown by enqueue/work/… after close(). */
export class JobQueueClosed extends Error {
  constructor() {
    super('the job queue is closed')
    this.name = 'JobQueueClosed'
  }
}
