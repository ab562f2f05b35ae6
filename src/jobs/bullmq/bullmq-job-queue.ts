// The distributed JobQueue on BullMQ over Redis: durable jobs shared by every process, dead letters = jobs failed for good.

import { setTimeout as sleep } from 'node:timers/promises'
import { type Job, Queue, UnrecoverableError, WaitingError, Worker } from 'bullmq'
import { Redis, type RedisOptions } from 'ioredis'
import { EngineUnavailable, isEmporiumError } from '../../core/errors.ts'
import { uuidv7 } from '../../core/ids.ts'
import { isRedisConnectionError, redisUnavailable } from '../../core/redis-errors.ts'
import {
  backoffDelay,
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_GRACE_MS,
  type DeadLetter,
  errorMessage,
  isPermanentJobError,
  type JobContext,
  type JobHandlers,
  type JobOptions,
  type JobQueue,
  JobQueueClosed,
  type QueueCounts,
  resolveJobOptions,
  unknownJobError,
  validateConcurrency,
  validateQueueName,
  validateRepeat,
  type WorkOptions,
} from '../job-queue.ts'

export interface BullmqJobQueueOptions {
  /** Prefix of every Redis key (BullMQ's `prefix`); separate prefixes are separate queue systems. Default 'emporium:jobs'. */
  prefix?: string
  /** Completed jobs kept per queue (for counts and jobId dedupe). Default 1000. */
  keepCompleted?: number
  /** Dead letters kept per queue. Default 10000. */
  keepDeadLetters?: number
  /** How long a worker's claim on a job lasts without renewal: jobs of a crashed worker run again after this. Default 30000. */
  lockDurationMs?: number
  /** Bound on each producer-side call (enqueue, counts…) so that callers never hang on a dead Redis. Default 5000. */
  timeoutMs?: number
  /** Connection and worker errors that no call returns (reconnect attempts, lost locks). Default: ignored. */
  onError?: (error: Error) => void
}

const BACKOFF_TYPE = 'emporium-exponential'
const DOWN = new Set(['reconnecting', 'close', 'end'])

// BullMQ rejects custom ids that are integers or contain ':'; the port promises any string, so every id we create is
// escaped and prefixed. Ids BullMQ makes itself (scheduler runs: `repeat:<key>:<millis>`) are passed through.
const escapeId = (id: string): string => id.replace(/[%:]/g, (c) => (c === '%' ? '%25' : '%3A'))
const unescapeId = (id: string): string => id.replace(/%(25|3A)/g, (_, c: string) => (c === '25' ? '%' : ':'))
const toBullId = (id: string): string => `j.${escapeId(id)}`
const fromBullId = (id: string | undefined): string => {
  if (id === undefined) return ''
  return id.startsWith('j.') ? unescapeId(id.slice(2)) : id
}

interface Run {
  job: Job
  token: string | undefined
  controller: AbortController
  returning: boolean
  returnToQueue: (error: Error) => void
}

const retryOptions = (backoffMs: number, keepCompleted: number, keepDeadLetters: number) => ({
  backoff: { type: BACKOFF_TYPE, delay: backoffMs },
  removeOnComplete: { count: keepCompleted },
  removeOnFail: { count: keepDeadLetters },
})

export class BullmqJobQueue implements JobQueue {
  readonly kind = 'bullmq'
  readonly prefix: string
  private readonly connection: RedisOptions
  private readonly url: string | undefined
  private readonly client: Redis
  private workerClient: Redis | undefined
  private readonly queues = new Map<string, Queue>()
  private readonly workers = new Map<string, Worker>()
  private readonly running = new Set<Run>()
  private readonly keepCompleted: number
  private readonly keepDeadLetters: number
  private readonly lockDurationMs: number
  private readonly timeoutMs: number
  private readonly onError: (error: Error) => void
  private closing: Promise<void> | null = null
  private graceOver = false

  constructor(redis: string | RedisOptions, options: BullmqJobQueueOptions = {}) {
    this.prefix = options.prefix ?? 'emporium:jobs'
    this.keepCompleted = options.keepCompleted ?? 1000
    this.keepDeadLetters = options.keepDeadLetters ?? 10_000
    this.lockDurationMs = options.lockDurationMs ?? 30_000
    this.timeoutMs = options.timeoutMs ?? 5000
    this.onError = options.onError ?? (() => {})
    this.url = typeof redis === 'string' ? redis : undefined
    this.connection = typeof redis === 'string' ? {} : redis
    // Producer side fails fast while Redis is away (one retry, then the call rejects) and reconnects by itself.
    this.client = this.connect({ maxRetriesPerRequest: 1, connectionName: 'emporium-jobs' })
  }

  async enqueue<T>(queue: string, name: string, data: T, options?: JobOptions): Promise<string> {
    const opts = resolveJobOptions(queue, name, options)
    const job = await this.call(() =>
      this.queue(queue).add(name, data, {
        jobId: toBullId(opts.jobId ?? uuidv7()),
        delay: opts.delayMs,
        attempts: opts.attempts,
        ...retryOptions(opts.backoffMs, this.keepCompleted, this.keepDeadLetters),
        ...(opts.keepWhenDone ? {} : { removeOnComplete: true }),
      }),
    )
    return fromBullId(job.id)
  }

  async repeat(queue: string, name: string, data: unknown, everyMs: number, key: string): Promise<void> {
    validateRepeat(queue, name, everyMs, key)
    await this.call(() =>
      this.queue(queue).upsertJobScheduler(
        escapeId(key),
        { every: everyMs },
        {
          name,
          data,
          opts: {
            attempts: DEFAULT_ATTEMPTS,
            ...retryOptions(DEFAULT_BACKOFF_MS, this.keepCompleted, this.keepDeadLetters),
          },
        },
      ),
    )
  }

  async cancelRepeat(queue: string, key: string): Promise<boolean> {
    validateQueueName(queue)
    return this.call(() => this.queue(queue).removeJobScheduler(escapeId(key)))
  }

  async work(queue: string, handlers: JobHandlers, options: WorkOptions = {}): Promise<void> {
    validateQueueName(queue)
    const concurrency = options.concurrency ?? 1
    validateConcurrency(concurrency)
    if (this.closing) throw new JobQueueClosed()
    if (this.workers.has(queue)) throw new Error(`queue "${queue}" already has a worker in this process`)
    const table = { ...handlers }
    // Workers need maxRetriesPerRequest: null (BullMQ's blocking commands); they share one connection per instance.
    this.workerClient ??= this.connect({ maxRetriesPerRequest: null, connectionName: 'emporium-jobs-worker' })
    const worker = new Worker(queue, (job, token) => this.process(queue, table, job, token), {
      connection: this.workerClient,
      prefix: this.prefix,
      concurrency,
      lockDuration: this.lockDurationMs,
      settings: {
        backoffStrategy: (failures, _type, _error, job) => {
          const backoff = job?.opts.backoff
          const base = typeof backoff === 'object' && backoff.delay !== undefined ? backoff.delay : DEFAULT_BACKOFF_MS
          return backoffDelay(failures, base)
        },
      },
    })
    worker.on('error', (error) => this.onError(error))
    this.workers.set(queue, worker)
    await this.call(() => worker.waitUntilReady())
  }

  async counts(queue: string): Promise<QueueCounts> {
    validateQueueName(queue)
    const c = await this.call(() =>
      this.queue(queue).getJobCounts('wait', 'paused', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
    )
    return {
      waiting: (c.wait ?? 0) + (c.paused ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      failed: c.failed ?? 0,
      completed: c.completed ?? 0,
    }
  }

  async deadLetters(queue: string, limit = 100): Promise<DeadLetter[]> {
    validateQueueName(queue)
    if (limit <= 0) return []
    const jobs = await this.call(() => this.queue(queue).getFailed(0, limit - 1))
    return jobs.map((job) => ({
      id: fromBullId(job.id),
      name: job.name,
      data: job.data as unknown,
      attempts: job.attemptsMade,
      error: job.failedReason ?? '',
      failedAt: new Date(job.finishedOn ?? job.timestamp).toISOString(),
    }))
  }

  async retryDeadLetter(queue: string, id: string): Promise<boolean> {
    validateQueueName(queue)
    const candidates = id.startsWith('repeat:') ? [toBullId(id), id] : [toBullId(id)]
    return this.call(async () => {
      for (const bullId of candidates) {
        const job = await this.queue(queue).getJob(bullId)
        if (!job) continue
        if ((await job.getState()) !== 'failed') return false
        try {
          await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true })
          return true
        } catch (error) {
          if (isRedisConnectionError(error)) throw error
          return false // retried or removed by someone else meanwhile
        }
      }
      return false
    })
  }

  async ping(): Promise<void> {
    if (this.closing) throw new EngineUnavailable('Redis')
    await this.call(() => this.client.ping(), Math.min(this.timeoutMs, 2000))
  }

  close(graceMs = DEFAULT_GRACE_MS): Promise<void> {
    this.closing ??= this.shutdown(graceMs)
    return this.closing
  }

  private async shutdown(graceMs: number): Promise<void> {
    // Worker.close() stops fetching at once and resolves when the jobs it holds are settled.
    const workersClosed = Promise.allSettled([...this.workers.values()].map((w) => w.close()))
    const timer = new AbortController()
    const finished = await Promise.race([
      workersClosed.then(() => true),
      sleep(graceMs, false, { signal: timer.signal }).catch(() => false),
    ])
    timer.abort()
    if (!finished) {
      this.graceOver = true
      await Promise.allSettled([...this.running].map((run) => this.returnToQueue(run)))
    }
    await workersClosed
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()))
    this.client.disconnect()
    this.workerClient?.disconnect()
  }

  /** Hands a job that is still running back to the queue, unspent; its handler is told through the signal and then ignored. */
  private async returnToQueue(run: Run): Promise<void> {
    if (run.returning) return
    run.returning = true
    run.controller.abort(new Error('the job queue is shutting down; this job was returned to the queue'))
    try {
      await run.job.moveToWait(run.token)
    } catch (error) {
      // The lock then simply expires, and the stalled-job check of a live worker puts the job back.
      this.onError(error instanceof Error ? error : new Error(String(error)))
    }
    run.returnToQueue(new WaitingError())
  }

  private async process(queue: string, handlers: JobHandlers, job: Job, token: string | undefined): Promise<void> {
    let returnToQueue!: (error: Error) => void
    const returned = new Promise<never>((_, reject) => {
      returnToQueue = reject
    })
    const run: Run = { job, token, controller: new AbortController(), returning: false, returnToQueue }
    this.running.add(run)
    try {
      if (this.graceOver) void this.returnToQueue(run)
      const handler = Object.hasOwn(handlers, job.name) ? handlers[job.name] : undefined
      const context: JobContext<unknown> = {
        id: fromBullId(job.id),
        queue,
        name: job.name,
        data: job.data as unknown,
        attempt: job.attemptsMade + 1,
        signal: run.controller.signal,
      }
      const handled = Promise.resolve().then(() => {
        if (!handler) throw unknownJobError(queue, job.name, handlers)
        return handler(context)
      })
      handled.catch(() => {}) // once returned to the queue, its outcome is ignored
      await Promise.race([handled, returned])
    } catch (error) {
      if (error instanceof WaitingError) throw error
      if (isPermanentJobError(error)) throw new UnrecoverableError(errorMessage(error))
      throw error instanceof Error ? error : new Error(errorMessage(error))
    } finally {
      this.running.delete(run)
    }
  }

  private connect(extra: RedisOptions): Redis {
    const options: RedisOptions = {
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
      ...extra,
    }
    const client = this.url === undefined ? new Redis({ ...this.connection, ...options }) : new Redis(this.url, options)
    client.on('error', (error: Error) => this.onError(error))
    return client
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name)
    if (!q) {
      q = new Queue(name, { connection: this.client, prefix: this.prefix })
      q.on('error', (error) => this.onError(error))
      this.queues.set(name, q)
    }
    return q
  }

  /** Runs a Redis-backed call: rejects at once when closed or Redis is away, and maps connection failures to EngineUnavailable. */
  private async call<T>(fn: () => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    if (this.closing) throw new JobQueueClosed()
    if (DOWN.has(this.client.status)) throw redisUnavailable(new Error(`Redis connection is ${this.client.status}`))
    const timer = new AbortController()
    const pending = fn()
    pending.catch(() => {}) // it may settle after the timeout
    try {
      return await Promise.race([
        pending,
        sleep(timeoutMs, undefined, { signal: timer.signal }).then(() => {
          throw redisUnavailable(new Error(`Redis did not answer within ${timeoutMs} ms`))
        }),
      ])
    } catch (error) {
      if (isEmporiumError(error) || !isRedisConnectionError(error)) throw error
      throw redisUnavailable(error)
    } finally {
      timer.abort()
    }
  }
}

export function openBullmqJobQueue(redis: string | RedisOptions, options?: BullmqJobQueueOptions): BullmqJobQueue {
  return new BullmqJobQueue(redis, options)
}
