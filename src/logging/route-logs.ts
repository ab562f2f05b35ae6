// The routing worker's job: redact a shipped batch, classify each record and append it to its `logs:<category>` channel.
import { newEventId } from '../core/ids.ts'
import { type JobHandler, type JobQueue, PermanentJobError } from '../jobs/job-queue.ts'
import { channelOf, type LogChannels } from '../pipeline/channels/log-channels.ts'
import { classify } from './classify.ts'
import type { EcsRecord, LogCategory } from './ecs.ts'
import { isRecord } from './ecs-record.ts'
import { type Redactor, redactRecord } from './redact.ts'

/** The queue and job name a shipped batch travels under. */
export const LOGS_QUEUE = 'logs'
export const ROUTE_LOGS_JOB = 'route-logs'

export interface RouteLogsOptions {
  redact?: Redactor
}

export interface RouteReport {
  routed: Partial<Record<LogCategory, number>>
  /** Entries of the batch that were not records at all (not objects); they cannot be routed. */
  invalid: number
}

/**
 * One append per category per batch, in the batch's order within each category. A failed append fails the job, so the
 * queue retries the whole batch; categories appended before the failure get the records again, which the index
 * absorbs (the document id is event.id).
 */
export async function routeLogs(
  batch: readonly unknown[],
  channels: LogChannels,
  options: RouteLogsOptions = {},
): Promise<RouteReport> {
  if (!Array.isArray(batch)) throw new PermanentJobError('route-logs: the job data must be an array of log records')
  const redact = options.redact ?? redactRecord
  const groups = new Map<LogCategory, EcsRecord[]>()
  let invalid = 0
  for (const entry of batch) {
    if (!isRecord(entry)) {
      invalid++
      continue
    }
    const raw = entry as unknown as EcsRecord
    const event = isRecord(raw.event) ? raw.event : ({} as EcsRecord['event'])
    const record = redact(
      typeof event.id === 'string' && event.id ? raw : { ...raw, event: { ...event, id: newEventId() } },
    )
    const category = classify(record)
    record.event = { ...record.event, category, dataset: `emporium.${category}` }
    const group = groups.get(category)
    if (group) group.push(record)
    else groups.set(category, [record])
  }
  await Promise.all([...groups].map(([category, records]) => channels.append(channelOf(category), records)))
  const routed: RouteReport['routed'] = {}
  for (const [category, records] of groups) routed[category] = records.length
  return { routed, invalid }
}

/** The JobQueue handler for `route-logs` on the `logs` queue. */
export function routeLogsHandler(
  channels: LogChannels,
  options: RouteLogsOptions & { onInvalid?: (count: number) => void } = {},
): JobHandler<unknown[]> {
  return async (job) => {
    const report = await routeLogs(job.data, channels, options)
    if (report.invalid > 0) options.onInvalid?.(report.invalid)
  }
}

/**
 * The shipper's `send`: one batch is one job, deduplicated by its first record's event.id while it waits, and
 * forgotten once routed (a batch sent again after that is routed again, which the index absorbs by event.id).
 */
export function enqueueLogBatch(jobs: Pick<JobQueue, 'enqueue'>): (batch: EcsRecord[]) => Promise<void> {
  return async (batch) => {
    if (batch.length === 0) return
    // A batch is up to 512 KiB: kept after completion, a thousand of them would fill Redis (or the embedded heap).
    await jobs.enqueue(LOGS_QUEUE, ROUTE_LOGS_JOB, batch, { jobId: batch[0]?.event.id, keepWhenDone: false })
  }
}
