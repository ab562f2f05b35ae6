// The runner's delivery rules, with scripted components (test doubles above the ports).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { EcsRecord } from '../logging/ecs.ts'
import {
  type ComponentContext,
  newMetrics,
  RetryableError,
  type Sink,
  type Source,
  type SourceBatch,
} from './component.ts'
import { backoffMs, defaultRunnerOptions, PipelineRunner } from './topology.ts'

const record = (i: number): EcsRecord => ({
  '@timestamp': new Date(1_700_000_000_000 + i).toISOString(),
  message: `m${i}`,
  log: { level: 'info' },
  event: { id: `id-${i}` },
  service: { name: 't' },
})

/** Hands out `total` records in batches of `size`, and records what was acknowledged. */
class ScriptedSource implements Source {
  readonly type = 'scripted'
  acked: string[] = []
  private next_ = 0
  constructor(
    private readonly total: number,
    private readonly size: number,
  ) {}
  async next(): Promise<SourceBatch | null> {
    if (this.next_ >= this.total) {
      await new Promise((r) => setTimeout(r, 5))
      return null
    }
    const records = Array.from({ length: Math.min(this.size, this.total - this.next_) }, (_, i) =>
      record(this.next_ + i),
    )
    this.next_ += records.length
    return { records, token: records.map((r) => r.event.id), bytes: records.length * 100 }
  }
  async ack(batch: SourceBatch) {
    this.acked.push(...(batch.token as string[]))
  }
  async shutdown() {}
}

class RecordingSink implements Sink {
  readonly type = 'recording'
  got: string[] = []
  failuresLeft = 0
  delayMs = 0
  refuse = new Set<string>()
  async write(records: EcsRecord[]) {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs))
    if (this.failuresLeft > 0) {
      this.failuresLeft--
      throw new RetryableError('503 from the engine')
    }
    const rejected = records
      .filter((r) => this.refuse.has(r.event.id))
      .map((record) => ({ record, reason: 'mapper_parsing_exception' }))
    this.got.push(...records.filter((r) => !this.refuse.has(r.event.id)).map((r) => r.event.id))
    return { rejected }
  }
  async shutdown() {}
}

const ctx = (): ComponentContext => ({
  log: () => {},
  metrics: newMetrics(),
  resources: {} as ComponentContext['resources'],
})
const fast = { ...defaultRunnerOptions(), retryBaseMs: 1, retryMaxMs: 5, maxBatchWaitMs: 5 }

async function until(check: () => boolean, ms = 5000) {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('pipeline runner', () => {
  it('writes up to inFlight.perSink batches to one sink at once, never more', async () => {
    const source = new ScriptedSource(2000, 100)
    let now = 0
    let peak = 0
    const got: string[] = []
    const slow: Sink = {
      type: 'slow',
      async write(records) {
        now++
        peak = Math.max(peak, now)
        await new Promise((r) => setTimeout(r, 10))
        got.push(...records.map((r) => r.event.id))
        now--
        return { rejected: [] }
      },
      async shutdown() {},
    }
    const runner = new PipelineRunner(
      source,
      [],
      [{ name: 'slow', sink: slow }],
      new RecordingSink(),
      { ...fast, maxSinkConcurrency: 3, maxInFlightBatches: 8 },
      ctx(),
    )
    runner.start()
    await until(() => source.acked.length === 2000)
    await runner.shutdown()
    assert.equal(peak, 3)
    assert.equal(new Set(got).size, 2000)
  })

  it('logs pipeline stats: throughput, lag and pending from the source, retries and dead letters', async () => {
    const source = Object.assign(new ScriptedSource(300, 100), {
      backlog: async () => ({ 'logs:app': { lag: 7, pending: 2, length: 9 } }),
    })
    const sink = new RecordingSink()
    sink.failuresLeft = 1
    sink.refuse.add('id-5')
    const lines: { message: string; fields?: Record<string, unknown> }[] = []
    const c: ComponentContext = { ...ctx(), log: (_level, message, fields) => lines.push({ message, fields }) }
    const runner = new PipelineRunner(
      source,
      [],
      [{ name: 'index', sink }],
      new RecordingSink(),
      { ...fast, statsEveryMs: 20 },
      c,
    )
    runner.start()
    await until(() => source.acked.length === 300 && lines.some((l) => l.message === 'pipeline stats'))
    const stats = await runner.stats()
    await runner.shutdown()
    assert.equal(stats.lag, 7)
    assert.equal(stats.pending, 2)
    assert.equal(stats.read, 300)
    assert.equal(stats.retries.index, 1)
    assert.equal(stats.deadLettered, 1)
    assert.equal(stats.delivered.index, 299)
    const line = lines.find((l) => l.message === 'pipeline stats')
    assert.ok(
      line?.fields && typeof line.fields.readPerSecond === 'number' && line.fields.lag === 7,
      JSON.stringify(line),
    )
  })

  it('delivers every record to every sink and acknowledges each once, after the sinks have it', async () => {
    const source = new ScriptedSource(2500, 100)
    const a = new RecordingSink()
    const b = new RecordingSink()
    const dl = new RecordingSink()
    const c = ctx()
    const runner = new PipelineRunner(
      source,
      [],
      [
        { name: 'a', sink: a },
        { name: 'b', sink: b },
      ],
      dl,
      fast,
      c,
    )
    runner.start()
    await until(() => source.acked.length === 2500)
    await runner.shutdown()
    assert.equal(new Set(a.got).size, 2500)
    assert.equal(new Set(b.got).size, 2500)
    assert.equal(new Set(source.acked).size, 2500)
    assert.equal(c.metrics.delivered.a, 2500)
  })

  it('retries a sink that answers 503, then delivers; nothing is acknowledged before', async () => {
    const source = new ScriptedSource(300, 100)
    const sink = new RecordingSink()
    sink.failuresLeft = 5
    const c = ctx()
    const runner = new PipelineRunner(source, [], [{ name: 'index', sink }], new RecordingSink(), fast, c)
    runner.start()
    await until(() => source.acked.length === 300)
    await runner.shutdown()
    assert.equal(c.metrics.retries.index, 5)
    assert.deepEqual([...sink.got].sort(), [...source.acked].sort())
  })

  it('sends records refused for good to the dead letters with the reason, and indexes the rest of the batch', async () => {
    const source = new ScriptedSource(10, 10)
    const sink = new RecordingSink()
    sink.refuse.add('id-3')
    const dl = new RecordingSink()
    const c = ctx()
    const runner = new PipelineRunner(source, [], [{ name: 'index', sink }], dl, fast, c)
    runner.start()
    await until(() => source.acked.length === 10)
    await runner.shutdown()
    assert.equal(sink.got.length, 9)
    assert.deepEqual(dl.got, ['id-3'])
    assert.equal(c.metrics.deadLettered, 1)
  })

  it('keeps in-flight work bounded while a sink is slow, and the fast sink is not held back within that bound', async () => {
    const source = new ScriptedSource(5000, 50)
    const slow = new RecordingSink()
    slow.delayMs = 20
    const quick = new RecordingSink()
    const c = ctx()
    let maxInFlight = 0
    const runner = new PipelineRunner(
      source,
      [],
      [
        { name: 'slow', sink: slow },
        { name: 'quick', sink: quick },
      ],
      new RecordingSink(),
      { ...fast, maxInFlightBatches: 4 },
      c,
    )
    const probe = setInterval(() => {
      maxInFlight = Math.max(maxInFlight, c.metrics.inFlightBatches)
    }, 1)
    runner.start()
    await until(() => quick.got.length >= 200)
    assert.ok(quick.got.length > slow.got.length, 'the quick sink is ahead of the slow one')
    await runner.shutdown(50)
    clearInterval(probe)
    assert.ok(maxInFlight <= 4, `at most 4 batches in flight (saw ${maxInFlight})`)
  })

  it('shuts down safely twice', async () => {
    const runner = new PipelineRunner(
      new ScriptedSource(0, 1),
      [],
      [{ name: 'a', sink: new RecordingSink() }],
      new RecordingSink(),
      fast,
      ctx(),
    )
    await runner.shutdown()
    await runner.shutdown()
    runner.start()
  })

  it('backs off exponentially with full jitter, capped', () => {
    assert.equal(
      backoffMs(0, 100, 1000, () => 1),
      100,
    )
    assert.equal(
      backoffMs(3, 100, 1000, () => 1),
      800,
    )
    assert.equal(
      backoffMs(10, 100, 1000, () => 1),
      1000,
    )
    assert.equal(
      backoffMs(10, 100, 1000, () => 0),
      0,
    )
  })
})
