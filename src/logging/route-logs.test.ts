import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isPermanentJobError, type JobContext } from '../jobs/job-queue.ts'
import type { LogChannels } from '../pipeline/channels/log-channels.ts'
import type { EcsRecord } from './ecs.ts'
import { toEcs } from './ecs-record.ts'
import { REDACTED } from './redact.ts'
import { enqueueLogBatch, LOGS_QUEUE, ROUTE_LOGS_JOB, routeLogs, routeLogsHandler } from './route-logs.ts'

/** Only append is used by the router; the rest of the port is out of reach of this logic. */
function fakeChannels(fail?: string) {
  const appends: { channel: string; entries: EcsRecord[] }[] = []
  const channels = {
    kind: 'fake',
    async append<T>(channel: string, entries: readonly T[]) {
      if (channel === fail) throw new Error('channel down')
      appends.push({ channel, entries: [...entries] as unknown as EcsRecord[] })
      return entries.map((_, i) => `${i}-0`)
    },
  } as unknown as LogChannels
  return { channels, appends }
}

const rec = (pino: Record<string, unknown>) => toEcs({ level: 30, ...pino }, { service: 'emporium' })

describe('routeLogs', () => {
  it('redacts, classifies and appends once per category, in batch order', async () => {
    const batch = [
      rec({ reqId: 'r1', req: { method: 'GET', url: '/a' }, res: { statusCode: 200 }, responseTime: 1 }),
      rec({ userId: 'usr_1', audit: 'user.login', msg: 'signed in as joe@example.com' }),
      rec({ security: 'login.failed', password: 'hunter2' }),
      rec({ reqId: 'r2', req: { method: 'GET', url: '/b?token=abc' }, res: { statusCode: 200 }, responseTime: 1 }),
      rec({ level: 50, err: { message: 'boom' } }),
      rec({ business: 'order.paid', orderId: 'ord_1' }),
      rec({ msg: 'started' }),
    ]
    const { channels, appends } = fakeChannels()
    const report = await routeLogs(batch, channels)
    assert.deepEqual(report, {
      routed: { access: 2, audit: 1, security: 1, error: 1, business: 1, app: 1 },
      invalid: 0,
    })
    assert.deepEqual(appends.map((a) => a.channel).sort(), [
      'logs:access',
      'logs:app',
      'logs:audit',
      'logs:business',
      'logs:error',
      'logs:security',
    ])
    const byChannel = Object.fromEntries(appends.map((a) => [a.channel, a.entries]))
    assert.deepEqual(
      byChannel['logs:access']?.map((r) => r.event.id),
      [batch[0]?.event.id, batch[3]?.event.id],
    )
    assert.equal(byChannel['logs:access']?.[1]?.url?.query, `token=${REDACTED}`)
    assert.match(byChannel['logs:audit']?.[0]?.message ?? '', /^signed in as email:[0-9a-f]{16}$/)
    assert.equal(byChannel['logs:audit']?.[0]?.user?.id, 'usr_1')
    assert.equal(byChannel['logs:security']?.[0]?.labels?.password, REDACTED)
    for (const a of appends)
      for (const r of a.entries) {
        assert.equal(`logs:${r.event.category}`, a.channel)
        assert.equal(r.event.dataset, `emporium.${r.event.category}`)
      }
    assert.equal(batch[1]?.message, 'signed in as joe@example.com', 'the job data itself is not changed')
  })

  it('fails the job when an append fails, so the queue retries the batch', async () => {
    const { channels } = fakeChannels('logs:error')
    await assert.rejects(routeLogs([rec({ level: 50, msg: 'x' })], channels), /channel down/)
  })

  it('refuses data that is not a batch for good, and counts entries that are not records', async () => {
    const { channels, appends } = fakeChannels()
    await assert.rejects(routeLogs({ not: 'a batch' } as unknown as unknown[], channels), (e) => isPermanentJobError(e))
    const report = await routeLogs([42, null, 'x', { message: 'no id', log: { level: 'info' } }], channels)
    assert.equal(report.invalid, 3)
    assert.equal(appends[0]?.entries[0]?.message, 'no id')
    assert.ok(appends[0]?.entries[0]?.event.id, 'a record without an id gets one')
  })

  it('the job handler routes job.data and reports invalid entries', async () => {
    const { channels, appends } = fakeChannels()
    let invalid = 0
    const handle = routeLogsHandler(channels, { onInvalid: (n) => (invalid += n) })
    await handle({ data: [rec({ msg: 'x' }), 7] } as JobContext<unknown[]>)
    assert.equal(appends.length, 1)
    assert.equal(invalid, 1)
  })

  it('enqueueLogBatch sends one job per batch, idempotent by the first event.id', async () => {
    const calls: unknown[][] = []
    const send = enqueueLogBatch({
      enqueue: async (...args: unknown[]) => {
        calls.push(args)
        return 'id'
      },
    } as never)
    const batch = [rec({ msg: 'a' }), rec({ msg: 'b' })]
    await send(batch)
    await send([])
    assert.deepEqual(calls, [[LOGS_QUEUE, ROUTE_LOGS_JOB, batch, { jobId: batch[0]?.event.id, keepWhenDone: false }]])
  })
})
