// The JobQueue conformance suite: one battery of behaviour every job queue adapter must pass, opt-outs recorded as data.

import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Capabilities, conformanceAreas } from '../testing/conformance.ts'
import { type JobContext, type JobHandler, type JobQueue, PermanentJobError } from './job-queue.ts'

export interface JobQueueHarness {
  name: string
  /** A fresh, empty queue system per test. */
  create: () => Promise<JobQueue>
  /** Another instance over the same storage, as a second process would open it (durable adapters only). */
  reopen?: (q: JobQueue) => Promise<JobQueue>
  /** Idempotent; closes the instance and drops its storage. */
  cleanup: (q: JobQueue) => Promise<void>
  capabilities?: Capabilities
}

/** Polls until `check` holds; timing in these tests is always "eventually, with a generous bound". */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
}

const untilAborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })

const gate = (): { promise: Promise<void>; open: () => void } => {
  let open!: () => void
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

export function describeJobQueueConformance(h: JobQueueHarness): void {
  const { area, describeCapabilityCheck } = conformanceAreas(h.capabilities)

  describe(`JobQueue › ${h.name}`, () => {
    let q: JobQueue
    let opened: JobQueue[] = []
    const reopen = async (): Promise<JobQueue> => {
      assert.ok(h.reopen, 'this test needs harness.reopen (or a capability skip with the reason)')
      const other = await h.reopen(q)
      opened.push(other)
      return other
    }
    beforeEach(async () => {
      q = await h.create()
      opened = [q]
    })
    afterEach(async () => {
      for (const instance of opened.reverse()) await h.cleanup(instance)
    })

    area('lifecycle', (test) => {
      test('kind names the adapter', async () => {
        assert.equal(typeof q.kind, 'string')
        assert.ok(q.kind.length > 0)
      })
      test('ping resolves', async () => {
        await q.ping()
      })
      test('close is safe before work and twice', async () => {
        await q.enqueue('mail', 'send', { to: 'a' })
        await q.close(100)
        await q.close(100)
      })
      test('enqueue after close rejects', async () => {
        await q.close(100)
        await assert.rejects(() => q.enqueue('mail', 'send', {}))
      })
    })

    area('enqueue and process', (test) => {
      test('a job enqueued before work runs with its data, name and id', async () => {
        const data = { order: 'ord_1', lines: [{ sku: 'SKU-1', qty: 2 }], note: 'ünï <b>"x"</b>', coupon: null }
        const id = await q.enqueue('orders', 'confirm', data)
        assert.equal(typeof id, 'string')
        const seen: JobContext<typeof data>[] = []
        await q.work('orders', {
          confirm: async (job: JobContext<typeof data>) => {
            seen.push(job)
          },
        })
        await waitFor('the job to run', () => seen.length === 1)
        const job = seen[0]!
        assert.equal(job.id, id)
        assert.equal(job.queue, 'orders')
        assert.equal(job.name, 'confirm')
        assert.deepEqual(job.data, data)
        assert.equal(job.attempt, 1)
        assert.equal(job.signal.aborted, false)
        await waitFor('completed count', async () => (await q.counts('orders')).completed === 1)
      })
      test('a job enqueued while working runs', async () => {
        const seen: unknown[] = []
        await q.work('orders', { confirm: async (job) => void seen.push(job.data) })
        await q.enqueue('orders', 'confirm', { n: 1 })
        await q.enqueue('orders', 'confirm', { n: 2 })
        await waitFor('both jobs to run', () => seen.length === 2)
        assert.deepEqual(seen.map((d) => (d as { n: number }).n).sort(), [1, 2])
      })
      test('handlers are chosen by job name', async () => {
        const ran: string[] = []
        await q.work('mail', {
          welcome: async (job) => void ran.push(`welcome:${(job.data as { to: string }).to}`),
          receipt: async (job) => void ran.push(`receipt:${(job.data as { to: string }).to}`),
        })
        await q.enqueue('mail', 'receipt', { to: 'a' })
        await q.enqueue('mail', 'welcome', { to: 'b' })
        await waitFor('both jobs to run', () => ran.length === 2)
        assert.deepEqual(ran.sort(), ['receipt:a', 'welcome:b'])
      })
      test('queues are independent', async () => {
        const ran: string[] = []
        await q.work('alpha', { job: async (job) => void ran.push(job.queue) })
        await q.enqueue('beta', 'job', {})
        await q.enqueue('alpha', 'job', {})
        await waitFor('the alpha job to run', () => ran.length === 1)
        await sleep(150)
        assert.deepEqual(ran, ['alpha'])
        assert.equal((await q.counts('beta')).waiting, 1)
      })
      test('invalid arguments are rejected', async () => {
        await assert.rejects(() => q.enqueue('mail', 'send', {}, { attempts: 0 }), RangeError)
        await assert.rejects(() => q.enqueue('mail', 'send', {}, { delayMs: -1 }), RangeError)
        await assert.rejects(() => q.enqueue('mail', 'send', {}, { backoffMs: Number.NaN }), RangeError)
        await assert.rejects(() => q.enqueue('mail:eu', 'send', {}), RangeError)
        await assert.rejects(() => q.enqueue('mail', '', {}), RangeError)
        await assert.rejects(() => q.repeat('mail', 'digest', {}, 0, 'k'), RangeError)
        await assert.rejects(() => q.work('mail', {}, { concurrency: 0 }), RangeError)
        assert.equal((await q.counts('mail')).waiting, 0)
      })
      test('work twice on one queue is rejected', async () => {
        await q.work('mail', { send: async () => {} })
        await assert.rejects(() => q.work('mail', { send: async () => {} }))
      })
    })

    area('idempotency', (test) => {
      test('the same jobId makes one job', async () => {
        const first = await q.enqueue('mail', 'receipt', { n: 1 }, { jobId: 'receipt-ord_1' })
        const second = await q.enqueue('mail', 'receipt', { n: 2 }, { jobId: 'receipt-ord_1' })
        assert.equal(first, 'receipt-ord_1')
        assert.equal(second, 'receipt-ord_1')
        assert.equal((await q.counts('mail')).waiting, 1)
        const seen: unknown[] = []
        await q.work('mail', { receipt: async (job) => void seen.push(job.data) })
        await waitFor('the job to complete', async () => (await q.counts('mail')).completed === 1)
        assert.equal(await q.enqueue('mail', 'receipt', { n: 3 }, { jobId: 'receipt-ord_1' }), 'receipt-ord_1')
        await sleep(200)
        assert.deepEqual(seen, [{ n: 1 }])
      })
      test('keepWhenDone false: the job runs, then is forgotten (not counted, its id free again)', async () => {
        const seen: unknown[] = []
        await q.work('mail', { digest: async (job) => void seen.push(job.data) })
        await q.enqueue('mail', 'digest', { n: 1 }, { jobId: 'digest-1', keepWhenDone: false })
        await waitFor('the job to run', async () => seen.length === 1)
        await waitFor('the job to be forgotten', async () => {
          const c = await q.counts('mail')
          return c.active === 0 && c.waiting === 0
        })
        assert.equal((await q.counts('mail')).completed, 0)
        await q.enqueue('mail', 'digest', { n: 2 }, { jobId: 'digest-1', keepWhenDone: false })
        await waitFor('the same id to run again', async () => seen.length === 2)
        assert.deepEqual(seen, [{ n: 1 }, { n: 2 }])
        await assert.rejects(() => q.enqueue('mail', 'digest', {}, { keepWhenDone: 'no' as never }), RangeError)
      })
      test('any string is a jobId and comes back unchanged', async () => {
        const ids = ['order:42:confirmation', '42', 'a b/c%3A:', 'j.x']
        const seen = new Set<string>()
        await q.work('mail', {
          send: async (job) => void seen.add(job.id),
          fail: async () => {
            throw new PermanentJobError('no')
          },
        })
        for (const id of ids) assert.equal(await q.enqueue('mail', 'send', {}, { jobId: id }), id)
        await q.enqueue('mail', 'fail', {}, { jobId: 'order:43' })
        await waitFor('every job to run', () => seen.size === ids.length)
        assert.deepEqual([...seen].sort(), [...ids].sort())
        await waitFor('the dead letter', async () => (await q.deadLetters('mail')).length === 1)
        assert.equal((await q.deadLetters('mail'))[0]!.id, 'order:43')
        assert.equal(await q.retryDeadLetter('mail', 'order:43'), true)
      })
    })

    area('failure', (test) => {
      test('an unknown job name is dead-lettered at once with a clear error', async () => {
        await q.work('mail', { send: async () => {} })
        const id = await q.enqueue('mail', 'sned', { to: 'a' }, { attempts: 5, backoffMs: 10 })
        await waitFor('the dead letter', async () => (await q.deadLetters('mail')).length === 1)
        const [dead] = await q.deadLetters('mail')
        assert.equal(dead!.id, id)
        assert.equal(dead!.name, 'sned')
        assert.equal(dead!.attempts, 1)
        assert.match(dead!.error, /no handler/i)
        assert.match(dead!.error, /"sned"/)
        assert.match(dead!.error, /send/)
      })
      test('a failing job is retried with growing backoff', async () => {
        const runs: { attempt: number; at: number }[] = []
        await q.work('mail', {
          send: async (job) => {
            runs.push({ attempt: job.attempt, at: performance.now() })
            throw new Error(`failure #${job.attempt}`)
          },
        })
        const base = 40
        await q.enqueue('mail', 'send', {}, { attempts: 4, backoffMs: base })
        await waitFor('the dead letter', async () => (await q.deadLetters('mail')).length === 1)
        assert.deepEqual(
          runs.map((r) => r.attempt),
          [1, 2, 3, 4],
        )
        const gaps = runs.slice(1).map((r, i) => r.at - runs[i]!.at)
        gaps.forEach((gap, i) => {
          const backoff = base * 2 ** i
          assert.ok(gap >= backoff * 0.8, `gap ${i + 1} was ${gap.toFixed(0)} ms; backoff is ${backoff} ms`)
          assert.ok(gap < backoff + 2000, `gap ${i + 1} was ${gap.toFixed(0)} ms; backoff is ${backoff} ms`)
        })
        assert.ok(gaps[2]! > gaps[0]!, `gaps should grow: ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`)
      })
      test('after the last attempt the job is a dead letter with the last error', async () => {
        await q.work('mail', {
          send: async (job) => {
            throw new Error(`failure #${job.attempt}`)
          },
        })
        const before = Date.now()
        const id = await q.enqueue('mail', 'send', { to: 'x@example.com' }, { attempts: 3, backoffMs: 10 })
        await waitFor('the dead letter', async () => (await q.deadLetters('mail')).length === 1)
        const [dead] = await q.deadLetters('mail')
        assert.deepEqual(
          { ...dead, failedAt: undefined },
          {
            id,
            name: 'send',
            data: { to: 'x@example.com' },
            attempts: 3,
            error: 'failure #3',
            failedAt: undefined,
          },
        )
        const failedAt = Date.parse(dead!.failedAt)
        assert.ok(failedAt >= before - 1000 && failedAt <= Date.now() + 1000, `failedAt ${dead!.failedAt}`)
        const counts = await q.counts('mail')
        assert.equal(counts.failed, 1)
        assert.equal(counts.delayed + counts.waiting + counts.active, 0)
      })
      test('a job that succeeds on a retry is not dead-lettered', async () => {
        const attempts: number[] = []
        await q.work('mail', {
          send: async (job) => {
            attempts.push(job.attempt)
            if (job.attempt < 3) throw new Error('transient')
          },
        })
        await q.enqueue('mail', 'send', {}, { attempts: 5, backoffMs: 10 })
        await waitFor('the job to complete', async () => (await q.counts('mail')).completed === 1)
        assert.deepEqual(attempts, [1, 2, 3])
        assert.deepEqual(await q.deadLetters('mail'), [])
      })
      test('a PermanentJobError skips the remaining attempts', async () => {
        let runs = 0
        await q.work('payments', {
          capture: async () => {
            runs++
            throw new PermanentJobError('card number is malformed')
          },
        })
        await q.enqueue('payments', 'capture', {}, { attempts: 5, backoffMs: 10 })
        await waitFor('the dead letter', async () => (await q.deadLetters('payments')).length === 1)
        const [dead] = await q.deadLetters('payments')
        assert.equal(dead!.attempts, 1)
        assert.equal(dead!.error, 'card number is malformed')
        await sleep(100)
        assert.equal(runs, 1)
      })
      test('a rejection that is not an Error is recorded as text', async () => {
        await q.work('mail', {
          send: async () => {
            throw 'smtp said no'
          },
        })
        await q.enqueue('mail', 'send', {}, { attempts: 1 })
        await waitFor('the dead letter', async () => (await q.deadLetters('mail')).length === 1)
        assert.equal((await q.deadLetters('mail'))[0]!.error, 'smtp said no')
      })
      test('retryDeadLetter runs the job again with fresh attempts', async () => {
        let healthy = false
        const attempts: number[] = []
        await q.work('mail', {
          send: async (job) => {
            attempts.push(job.attempt)
            if (!healthy) throw new Error('smtp down')
          },
        })
        const id = await q.enqueue('mail', 'send', { to: 'a' }, { attempts: 2, backoffMs: 10 })
        await waitFor('the dead letter', async () => (await q.deadLetters('mail')).length === 1)
        healthy = true
        assert.equal(await q.retryDeadLetter('mail', id), true)
        await waitFor('the job to complete', async () => (await q.counts('mail')).completed === 1)
        assert.deepEqual(attempts, [1, 2, 1])
        assert.deepEqual(await q.deadLetters('mail'), [])
        assert.equal((await q.counts('mail')).failed, 0)
        assert.equal(await q.retryDeadLetter('mail', id), false, 'a completed job is not a dead letter')
        assert.equal(await q.retryDeadLetter('mail', 'no-such-job'), false)
      })
      test('deadLetters lists newest first and honours the limit', async () => {
        await q.work('mail', {
          send: async () => {
            throw new Error('no')
          },
        })
        for (const n of [1, 2, 3]) {
          await q.enqueue('mail', 'send', { n }, { attempts: 1 })
          await waitFor(`dead letter ${n}`, async () => (await q.counts('mail')).failed === n)
          await sleep(5)
        }
        assert.deepEqual(
          (await q.deadLetters('mail')).map((d) => d.data),
          [{ n: 3 }, { n: 2 }, { n: 1 }],
        )
        assert.deepEqual(
          (await q.deadLetters('mail', 2)).map((d) => d.data),
          [{ n: 3 }, { n: 2 }],
        )
      })
    })

    area('delay', (test) => {
      test('a delayed job does not run before its delay and runs after it', async () => {
        let ranAt = 0
        await q.work('mail', {
          reminder: async () => {
            ranAt = performance.now()
          },
        })
        const start = performance.now()
        await q.enqueue('mail', 'reminder', {}, { delayMs: 400 })
        await sleep(200)
        assert.equal(ranAt, 0, 'ran before its delay')
        assert.equal((await q.counts('mail')).delayed, 1)
        await waitFor('the delayed job to run', () => ranAt > 0, 3000)
        assert.ok(ranAt - start >= 400 * 0.9, `ran after ${(ranAt - start).toFixed(0)} ms; delay was 400 ms`)
      })
    })

    area('repeat', (test) => {
      test('a repeatable job runs at once and then every interval', async () => {
        const runs: { at: number; data: unknown }[] = []
        await q.work('maintenance', { prune: async (job) => void runs.push({ at: performance.now(), data: job.data }) })
        const start = performance.now()
        await q.repeat('maintenance', 'prune', { olderThanDays: 30 }, 100, 'prune-sessions')
        await waitFor('four runs', () => runs.length >= 4, 3000)
        assert.ok(runs[0]!.at - start < 1000, `first run after ${(runs[0]!.at - start).toFixed(0)} ms`)
        assert.deepEqual(runs[0]!.data, { olderThanDays: 30 })
        const span = runs[3]!.at - runs[0]!.at
        assert.ok(span >= 300 * 0.8, `three intervals took ${span.toFixed(0)} ms; interval is 100 ms`)
      })
      test('two repeat calls with the same key make one schedule', async () => {
        const runs: number[] = []
        await q.repeat('maintenance', 'prune', { v: 1 }, 150, 'prune-sessions')
        await q.repeat('maintenance', 'prune', { v: 2 }, 150, 'prune-sessions')
        await q.work('maintenance', { prune: async () => void runs.push(performance.now()) })
        await waitFor('the first run', () => runs.length >= 1)
        await sleep(900)
        // one schedule runs ~7 times in this window (first run + 900/150); two would run ~13 times
        assert.ok(runs.length >= 3 && runs.length <= 9, `${runs.length} runs in 900 ms at a 150 ms interval`)
      })
      test('cancelRepeat stops the schedule', async () => {
        let runs = 0
        await q.work('maintenance', { prune: async () => void runs++ })
        await q.repeat('maintenance', 'prune', {}, 80, 'sessions:prune')
        await waitFor('two runs', () => runs >= 2)
        assert.equal(await q.cancelRepeat('maintenance', 'sessions:prune'), true)
        await sleep(100)
        const after = runs
        await sleep(400)
        assert.equal(runs, after, 'the schedule kept running after cancelRepeat')
        assert.equal(await q.cancelRepeat('maintenance', 'sessions:prune'), false)
      })
    })

    area('concurrency', (test) => {
      const track = () => {
        const state = { now: 0, max: 0, done: 0 }
        const handler: JobHandler = async () => {
          state.now++
          state.max = Math.max(state.max, state.now)
          await sleep(60)
          state.now--
          state.done++
        }
        return { state, handler }
      }
      test('never more than concurrency handlers at once', async () => {
        const { state, handler } = track()
        for (let i = 0; i < 12; i++) await q.enqueue('images', 'resize', { i })
        await q.work('images', { resize: handler }, { concurrency: 3 })
        await waitFor('every job', () => state.done === 12)
        assert.equal(state.max, 3)
      })
      test('concurrency defaults to 1', async () => {
        const { state, handler } = track()
        for (let i = 0; i < 4; i++) await q.enqueue('images', 'resize', { i })
        await q.work('images', { resize: handler })
        await waitFor('every job', () => state.done === 4)
        assert.equal(state.max, 1)
      })
    })

    area('counts', (test) => {
      test('counts follow jobs through their states', async () => {
        assert.deepEqual(await q.counts('mixed'), { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 })
        const hold = gate()
        await q.enqueue('mixed', 'ok', {})
        await q.enqueue('mixed', 'fail', {}, { attempts: 1 })
        await q.enqueue('mixed', 'hold', {})
        await q.enqueue('mixed', 'ok', {}, { delayMs: 60_000 })
        assert.deepEqual(await q.counts('mixed'), { waiting: 3, active: 0, delayed: 1, failed: 0, completed: 0 })
        await q.work(
          'mixed',
          {
            ok: async () => {},
            fail: async () => {
              throw new Error('no')
            },
            hold: () => hold.promise,
          },
          { concurrency: 3 },
        )
        const expected = { waiting: 0, active: 1, delayed: 1, failed: 1, completed: 1 }
        await waitFor('jobs to settle', async () => {
          const c = await q.counts('mixed')
          return c.completed === 1 && c.failed === 1 && c.active === 1
        })
        assert.deepEqual(await q.counts('mixed'), expected)
        hold.open()
        await waitFor('the held job to complete', async () => (await q.counts('mixed')).completed === 2)
        assert.deepEqual(await q.counts('mixed'), { ...expected, active: 0, completed: 2 })
      })
    })

    area('shutdown', (test) => {
      test('close waits for an in-flight job to finish', async () => {
        const started = gate()
        let finished = false
        await q.work('mail', {
          send: async () => {
            started.open()
            await sleep(200)
            finished = true
          },
        })
        await q.enqueue('mail', 'send', {})
        await started.promise
        const t0 = performance.now()
        await q.close(5000)
        const took = performance.now() - t0
        assert.equal(finished, true, 'close returned before the in-flight job finished')
        assert.ok(took < 3000, `close took ${took.toFixed(0)} ms for a 200 ms job`)
      })
      test('close takes no new job once it begins', async () => {
        const started: number[] = []
        await q.work('mail', {
          send: async (job) => {
            started.push((job.data as { n: number }).n)
            await sleep(150)
          },
        })
        for (let n = 0; n < 5; n++) await q.enqueue('mail', 'send', { n })
        await waitFor('the first job', () => started.length === 1)
        await q.close(5000)
        await sleep(100)
        assert.equal(started.length, 1, `jobs started during close: ${started.join(', ')}`)
      })
      test('close gives up after the grace period and aborts the handler', async () => {
        const started = gate()
        let abortedInHandler = false
        await q.work('mail', {
          send: async (job) => {
            started.open()
            await untilAborted(job.signal)
            abortedInHandler = job.signal.aborted
          },
        })
        await q.enqueue('mail', 'send', {})
        await started.promise
        const t0 = performance.now()
        await q.close(300)
        const took = performance.now() - t0
        assert.ok(took >= 300 * 0.9, `close returned after ${took.toFixed(0)} ms; grace was 300 ms`)
        assert.ok(took < 3000, `close took ${took.toFixed(0)} ms; grace was 300 ms`)
        await waitFor('the handler to see the abort', () => abortedInHandler, 1000)
      })
    })

    area('shared storage', (test) => {
      test('a job enqueued by one instance runs on the worker of another', async () => {
        const other = await reopen()
        const seen: unknown[] = []
        await other.work('mail', { send: async (job) => void seen.push(job.data) })
        await q.enqueue('mail', 'send', { from: 'web' })
        await waitFor('the job to run on the other instance', () => seen.length === 1)
        assert.deepEqual(seen, [{ from: 'web' }])
      })
      test('a job returned at close is run by the next instance, with its attempt unspent', async () => {
        const started = gate()
        await q.work('mail', {
          send: async (job) => {
            started.open()
            await untilAborted(job.signal)
          },
        })
        const id = await q.enqueue('mail', 'send', { to: 'a' }, { attempts: 3 })
        await started.promise
        await q.close(150)
        const next = await reopen()
        const seen: JobContext<unknown>[] = []
        await next.work('mail', { send: async (job) => void seen.push(job) })
        await waitFor('the returned job to run', () => seen.length === 1)
        assert.equal(seen[0]!.id, id)
        assert.deepEqual(seen[0]!.data, { to: 'a' })
        assert.equal(seen[0]!.attempt, 1)
        await waitFor('the job to complete', async () => (await next.counts('mail')).completed === 1)
        assert.deepEqual(await next.deadLetters('mail'), [])
      })
      test('two instances scheduling the same key make one schedule', async () => {
        const other = await reopen()
        const runs: number[] = []
        await q.repeat('maintenance', 'prune', {}, 150, 'prune-sessions')
        await other.repeat('maintenance', 'prune', {}, 150, 'prune-sessions')
        await q.work('maintenance', { prune: async () => void runs.push(performance.now()) })
        await other.work('maintenance', { prune: async () => void runs.push(performance.now()) })
        await waitFor('the first run', () => runs.length >= 1)
        await sleep(900)
        assert.ok(runs.length >= 3 && runs.length <= 9, `${runs.length} runs in 900 ms at a 150 ms interval`)
      })
    })

    describeCapabilityCheck()
  })
}
