// The embedded JobQueue: jobs, retries, schedules and dead letters held in this process's memory (lost when it exits).
import { setTimeout as sleep } from 'node:timers/promises'
import { EngineUnavailable } from '../../core/errors.ts'
import { uuidv7 } from '../../core/ids.ts'
import {
  backoffDelay,
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_GRACE_MS,
  type DeadLetter,
  errorMessage,
  isPermanentJobError,
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

export interface MemoryJobQueueOptions {
  /** Completed jobs kept per queue (for counts and jobId dedupe); the oldest go first. Default 1000. */
  keepCompleted?: number
  /** Dead letters kept per queue; the oldest go first. Default 1000. */
  keepDeadLetters?: number
}

type State = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed'

interface Job {
  id: string
  name: string
  /** JSON text, so every run gets its own copy, as from a real broker. */
  json: string
  attempts: number
  backoffMs: number
  keepWhenDone: boolean
  failures: number
  state: State
  error?: string
  failedAt?: number
  timer?: NodeJS.Timeout
  schedule?: Schedule
}

interface Schedule {
  key: string
  name: string
  data: unknown
  everyMs: number
  /** The slot (epoch ms) of the schedule's pending job. */
  slot: number
  pending?: Job
}

interface Run {
  job: Job
  controller: AbortController
  settled: Promise<void>
  returned: boolean
}

interface QueueState {
  name: string
  jobs: Map<string, Job>
  waiting: Job[]
  delayed: Set<Job>
  active: Map<Job, Run>
  completed: Job[]
  failed: Job[]
  schedules: Map<string, Schedule>
  worker?: { handlers: JobHandlers; concurrency: number }
}

const toJson = (data: unknown): string => JSON.stringify(data === undefined ? null : data)

export class MemoryJobQueue implements JobQueue {
  readonly kind = 'memory'
  private readonly queues = new Map<string, QueueState>()
  private readonly keepCompleted: number
  private readonly keepDeadLetters: number
  private closing: Promise<void> | null = null

  constructor(options: MemoryJobQueueOptions = {}) {
    this.keepCompleted = options.keepCompleted ?? 1000
    this.keepDeadLetters = options.keepDeadLetters ?? 1000
  }

  async enqueue<T>(queue: string, name: string, data: T, options?: JobOptions): Promise<string> {
    this.assertOpen()
    const opts = resolveJobOptions(queue, name, options)
    const q = this.queue(queue)
    if (opts.jobId !== undefined && q.jobs.has(opts.jobId)) return opts.jobId
    const job: Job = {
      id: opts.jobId ?? uuidv7(),
      name,
      json: toJson(data),
      attempts: opts.attempts,
      backoffMs: opts.backoffMs,
      keepWhenDone: opts.keepWhenDone,
      failures: 0,
      state: 'waiting',
    }
    q.jobs.set(job.id, job)
    this.schedule(q, job, opts.delayMs)
    return job.id
  }

  async repeat(queue: string, name: string, data: unknown, everyMs: number, key: string): Promise<void> {
    this.assertOpen()
    validateRepeat(queue, name, everyMs, key)
    const q = this.queue(queue)
    const existing = q.schedules.get(key)
    const pending = existing?.pending
    const stillPending = pending && (pending.state === 'waiting' || pending.state === 'delayed')
    if (existing && stillPending && existing.everyMs === everyMs) {
      // Same key, same interval: keep the slot and refresh what the pending run will do (an upsert, as BullMQ does).
      Object.assign(existing, { name, data })
      Object.assign(pending, { name, json: toJson(data) })
      return
    }
    if (existing && stillPending) this.remove(q, pending)
    const schedule: Schedule = existing ?? { key, name, data, everyMs, slot: Date.now() }
    Object.assign(schedule, { name, data, everyMs })
    q.schedules.set(key, schedule)
    this.addScheduledRun(q, schedule, Date.now())
  }

  async cancelRepeat(queue: string, key: string): Promise<boolean> {
    this.assertOpen()
    validateQueueName(queue)
    const q = this.queue(queue)
    const schedule = q.schedules.get(key)
    if (!schedule) return false
    q.schedules.delete(key)
    const pending = schedule.pending
    if (pending && (pending.state === 'waiting' || pending.state === 'delayed')) this.remove(q, pending)
    return true
  }

  async work(queue: string, handlers: JobHandlers, options: WorkOptions = {}): Promise<void> {
    this.assertOpen()
    validateQueueName(queue)
    const concurrency = options.concurrency ?? 1
    validateConcurrency(concurrency)
    const q = this.queue(queue)
    if (q.worker) throw new Error(`queue "${queue}" already has a worker in this process`)
    q.worker = { handlers: { ...handlers }, concurrency }
    this.pump(q)
  }

  async counts(queue: string): Promise<QueueCounts> {
    validateQueueName(queue)
    const q = this.queues.get(queue)
    if (!q) return { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 }
    return {
      waiting: q.waiting.length,
      active: q.active.size,
      delayed: q.delayed.size,
      failed: q.failed.length,
      completed: q.completed.length,
    }
  }

  async deadLetters(queue: string, limit = 100): Promise<DeadLetter[]> {
    validateQueueName(queue)
    const failed = this.queues.get(queue)?.failed ?? []
    return failed
      .slice(-Math.max(0, limit))
      .reverse()
      .map((job) => ({
        id: job.id,
        name: job.name,
        data: JSON.parse(job.json) as unknown,
        attempts: job.failures,
        error: job.error ?? '',
        failedAt: new Date(job.failedAt ?? 0).toISOString(),
      }))
  }

  async retryDeadLetter(queue: string, id: string): Promise<boolean> {
    this.assertOpen()
    validateQueueName(queue)
    const q = this.queues.get(queue)
    const job = q?.jobs.get(id)
    if (!q || !job || job.state !== 'failed') return false
    q.failed.splice(q.failed.indexOf(job), 1)
    job.failures = 0
    job.error = undefined
    job.failedAt = undefined
    this.schedule(q, job, 0)
    return true
  }

  async ping(): Promise<void> {
    if (this.closing) throw new EngineUnavailable('In-process job queue')
  }

  close(graceMs = DEFAULT_GRACE_MS): Promise<void> {
    this.closing ??= this.shutdown(graceMs)
    return this.closing
  }

  private async shutdown(graceMs: number): Promise<void> {
    const runs: Run[] = []
    for (const q of this.queues.values()) {
      for (const job of q.delayed) clearTimeout(job.timer)
      runs.push(...q.active.values())
    }
    if (runs.length === 0) return
    const timer = new AbortController()
    const allSettled = Promise.all(runs.map((r) => r.settled)).then(() => true)
    const graceOver = sleep(graceMs, false, { signal: timer.signal }).catch(() => false)
    const finished = await Promise.race([allSettled, graceOver])
    timer.abort()
    if (finished) return
    for (const q of this.queues.values()) {
      for (const run of [...q.active.values()]) {
        run.returned = true
        q.active.delete(run.job)
        run.job.state = 'waiting'
        q.waiting.unshift(run.job)
        run.controller.abort(new Error('the job queue is shutting down; this job was returned to the queue'))
      }
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new JobQueueClosed()
  }

  private queue(name: string): QueueState {
    let q = this.queues.get(name)
    if (!q) {
      q = {
        name,
        jobs: new Map(),
        waiting: [],
        delayed: new Set(),
        active: new Map(),
        completed: [],
        failed: [],
        schedules: new Map(),
      }
      this.queues.set(name, q)
    }
    return q
  }

  /** Makes the job waiting now, or delayed for delayMs. */
  private schedule(q: QueueState, job: Job, delayMs: number): void {
    if (delayMs <= 0) {
      job.state = 'waiting'
      q.waiting.push(job)
      this.pump(q)
      return
    }
    job.state = 'delayed'
    q.delayed.add(job)
    job.timer = setTimeout(() => {
      q.delayed.delete(job)
      job.timer = undefined
      job.state = 'waiting'
      q.waiting.push(job)
      this.pump(q)
    }, delayMs)
    job.timer.unref()
  }

  private remove(q: QueueState, job: Job): void {
    clearTimeout(job.timer)
    q.delayed.delete(job)
    const at = q.waiting.indexOf(job)
    if (at >= 0) q.waiting.splice(at, 1)
    q.jobs.delete(job.id)
  }

  private addScheduledRun(q: QueueState, schedule: Schedule, slot: number): void {
    schedule.slot = slot
    const job: Job = {
      id: `repeat:${schedule.key}:${slot}`,
      name: schedule.name,
      json: toJson(schedule.data),
      attempts: DEFAULT_ATTEMPTS,
      backoffMs: DEFAULT_BACKOFF_MS,
      keepWhenDone: true,
      failures: 0,
      state: 'waiting',
      schedule,
    }
    schedule.pending = job
    q.jobs.set(job.id, job)
    this.schedule(q, job, slot - Date.now())
  }

  /** The slot after `previous`; after a gap (nothing ran for a while) the next aligned slot, never a burst of catch-ups. */
  private nextSlot(previous: number, everyMs: number): number {
    const next = previous + everyMs
    const now = Date.now()
    if (next >= now) return next
    return Math.floor(now / everyMs) * everyMs + everyMs
  }

  private pump(q: QueueState): void {
    const worker = q.worker
    if (!worker || this.closing) return
    while (q.active.size < worker.concurrency && q.waiting.length > 0)
      this.start(q, q.waiting.shift()!, worker.handlers)
  }

  private start(q: QueueState, job: Job, handlers: JobHandlers): void {
    job.state = 'active'
    const schedule = job.schedule
    if (schedule && q.schedules.get(schedule.key) === schedule && schedule.pending === job)
      this.addScheduledRun(q, schedule, this.nextSlot(schedule.slot, schedule.everyMs))
    const controller = new AbortController()
    const handler = Object.hasOwn(handlers, job.name) ? handlers[job.name] : undefined
    const context = {
      id: job.id,
      queue: q.name,
      name: job.name,
      data: JSON.parse(job.json) as unknown,
      attempt: job.failures + 1,
      signal: controller.signal,
    }
    const run: Run = { job, controller, returned: false, settled: Promise.resolve() }
    run.settled = Promise.resolve()
      .then(() => {
        if (!handler) throw unknownJobError(q.name, job.name, handlers)
        return handler(context)
      })
      .then(
        () => this.finish(q, run, null),
        (error: unknown) => this.finish(q, run, error ?? new Error('job failed')),
      )
    q.active.set(job, run)
  }

  private finish(q: QueueState, run: Run, error: unknown): void {
    if (run.returned) return
    const { job } = run
    q.active.delete(job)
    if (error === null) {
      job.state = 'completed'
      if (job.keepWhenDone) {
        q.completed.push(job)
        this.trim(q, q.completed, this.keepCompleted)
      } else if (q.jobs.get(job.id) === job) q.jobs.delete(job.id)
    } else {
      job.failures++
      job.error = errorMessage(error)
      if (isPermanentJobError(error) || job.failures >= job.attempts) {
        job.state = 'failed'
        job.failedAt = Date.now()
        q.failed.push(job)
        this.trim(q, q.failed, this.keepDeadLetters)
      } else if (!this.closing) {
        this.schedule(q, job, backoffDelay(job.failures, job.backoffMs))
      } else {
        job.state = 'delayed'
        q.delayed.add(job)
      }
    }
    this.pump(q)
  }

  private trim(q: QueueState, list: Job[], keep: number): void {
    while (list.length > keep) {
      const old = list.shift()!
      if (q.jobs.get(old.id) === old) q.jobs.delete(old.id)
    }
  }
}

export function openMemoryJobQueue(options?: MemoryJobQueueOptions): MemoryJobQueue {
  return new MemoryJobQueue(options)
}
