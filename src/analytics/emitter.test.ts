// The analytics emitter: batches by size and time, never throws or waits, retries the same batch, stays bounded.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { AnalyticsEmitter } from './emitter.ts'
import type { AnalyticsEvent } from './events.ts'

let n = 0
const event = (): AnalyticsEvent => ({
  id: `e${++n}`,
  type: 'product_view',
  at: '2026-03-01T00:00:00.000Z',
  sessionId: 's1',
  currency: 'USD',
})

describe('AnalyticsEmitter', () => {
  it('sends a full batch at once and the rest after the flush interval, as one job each', async () => {
    const batches: AnalyticsEvent[][] = []
    const emitter = new AnalyticsEmitter({
      send: async (b) => {
        batches.push(b)
      },
      maxBatchEvents: 3,
      flushIntervalMs: 30,
    })
    for (let i = 0; i < 4; i++) emitter.emit(event())
    await sleep(0)
    assert.deepEqual(
      batches.map((b) => b.length),
      [3],
    )
    await sleep(60)
    assert.deepEqual(
      batches.map((b) => b.length),
      [3, 1],
    )
    assert.deepEqual(emitter.stats(), { emitted: 4, sent: 4, dropped: 0, sendFailures: 0, buffered: 0, healthy: true })
    await emitter.close()
  })

  it('never throws into the caller when sending fails, and retries the same batch until it goes', async () => {
    let fail = true
    const attempts: string[][] = []
    const warnings: string[] = []
    const emitter = new AnalyticsEmitter({
      send: (b) => {
        attempts.push(b.map((e) => e.id))
        if (fail) throw new Error('queue down')
        return Promise.resolve()
      },
      flushIntervalMs: 5,
      retryMinMs: 10,
      retryMaxMs: 20,
      warn: (m) => warnings.push(m),
    })
    const first = [event(), event()]
    for (const e of first) assert.doesNotThrow(() => emitter.emit(e))
    await sleep(40)
    assert.ok(attempts.length >= 2, `retried (${attempts.length} attempts)`)
    assert.equal(emitter.stats().healthy, false)
    assert.equal(emitter.stats().buffered, 2)
    emitter.emit(event())
    fail = false
    await emitter.flush()
    await sleep(30)
    await emitter.flush()
    const ids = first.map((e) => e.id)
    assert.ok(
      attempts.every((a, i) => i >= attempts.length - 1 || JSON.stringify(a) === JSON.stringify(ids)),
      'each retry carries exactly the first batch',
    )
    const s = emitter.stats()
    assert.equal(s.sent, 3)
    assert.equal(s.buffered, 0)
    assert.equal(s.healthy, true)
    assert.ok(s.sendFailures >= 2)
    assert.deepEqual(warnings, [
      'analytics events could not be queued; holding them and retrying',
      'analytics events are being queued again',
    ])
    await emitter.close()
  })

  it('a send that never answers times out and does not hold emit()', async () => {
    const emitter = new AnalyticsEmitter({
      send: () => new Promise(() => {}),
      flushIntervalMs: 1,
      sendTimeoutMs: 20,
      retryMinMs: 1000,
    })
    const started = performance.now()
    for (let i = 0; i < 1000; i++) emitter.emit(event())
    assert.ok(performance.now() - started < 200, 'emit returns at once')
    await sleep(60)
    assert.equal(emitter.stats().sendFailures, 1)
    assert.equal(emitter.stats().healthy, false)
    await emitter.close(10)
    assert.equal(emitter.stats().dropped, 1000, 'what was still held at close is counted as dropped')
  })

  it('is bounded: past maxBufferedEvents new events are dropped and counted', async () => {
    const emitter = new AnalyticsEmitter({
      send: async () => {
        throw new Error('down')
      },
      maxBufferedEvents: 50,
      maxBatchEvents: 10,
      retryMinMs: 10_000,
    })
    for (let i = 0; i < 80; i++) emitter.emit(event())
    await sleep(10)
    const s = emitter.stats()
    assert.equal(s.emitted, 80)
    assert.equal(s.buffered, 50)
    assert.equal(s.dropped, 30)
    await emitter.close(10)
  })

  it('close() sends what it holds, then refuses (counts) later events', async () => {
    const sent: number[] = []
    const emitter = new AnalyticsEmitter({
      send: async (b) => {
        sent.push(b.length)
      },
      flushIntervalMs: 10_000,
    })
    for (let i = 0; i < 7; i++) emitter.emit(event())
    await emitter.close()
    assert.deepEqual(sent, [7])
    emitter.emit(event())
    assert.deepEqual(emitter.stats(), { emitted: 8, sent: 7, dropped: 1, sendFailures: 0, buffered: 0, healthy: true })
  })
})
