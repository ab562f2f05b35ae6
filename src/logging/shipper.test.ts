import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import pino from 'pino'
import type { EcsRecord } from './ecs.ts'
import { LogShipper, type ShipperOptions } from './shipper.ts'

const dirs: string[] = []
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'emporium-shipper-'))
  dirs.push(d)
  return d
}
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

const line = (i: number, extra = '') => `{"level":30,"time":1768478400000,"msg":"line ${i}","i":${i}${extra}}\n`

async function until(check: () => boolean, what: string, state?: () => unknown, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(state?.())}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** A queue that can be taken down and brought back; it keeps every batch it accepted. */
function fakeQueue() {
  const q = {
    down: false,
    batches: [] as EcsRecord[][],
    attempts: 0,
    send: async (batch: EcsRecord[]) => {
      q.attempts++
      await Promise.resolve()
      if (q.down) throw new Error('Redis is not available; retry shortly')
      q.batches.push(batch)
    },
    numbers: () => q.batches.flat().map((r) => r.labels?.i as number),
  }
  return q
}

const shipper = (options: Partial<ShipperOptions> & Pick<ShipperOptions, 'send'>) =>
  new LogShipper({
    service: 'emporium',
    warn: () => {},
    flushIntervalMs: 60_000,
    retryMinMs: 5,
    retryMaxMs: 20,
    ...options,
  })

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i)

describe('LogShipper', () => {
  it('batches by count: one send per full batch, the rest on flush', async () => {
    const q = fakeQueue()
    const s = shipper({ send: q.send, maxBatchRecords: 10 })
    for (const i of range(0, 25)) s.write(line(i))
    await until(() => q.batches.length === 2, 'two full batches')
    assert.deepEqual(
      q.batches.map((b) => b.length),
      [10, 10],
    )
    await s.flush()
    assert.deepEqual(
      q.batches.map((b) => b.length),
      [10, 10, 5],
    )
    assert.deepEqual(q.numbers(), range(0, 25))
    const r = q.batches[0]?.[0]
    assert.equal(r?.message, 'line 0')
    assert.match(r?.event.id ?? '', /^[0-9a-f-]{36}$/, 'toEcs gave it its event.id')
    assert.equal(s.stats().shipped, 25)
    await s.close()
  })

  it('batches by bytes', async () => {
    const q = fakeQueue()
    const pad = `,"pad":"${'x'.repeat(800)}"`
    const perRecord = line(0, pad).length - 1 + 160
    const s = shipper({ send: q.send, maxBatchBytes: perRecord * 4 })
    for (const i of range(0, 10)) s.write(line(i, pad))
    await s.flush()
    assert.deepEqual(
      q.batches.map((b) => b.length),
      [4, 4, 2],
    )
    await s.close()
  })

  it('batches by time: a partial batch goes out after flushIntervalMs without a flush', async () => {
    const q = fakeQueue()
    const s = shipper({ send: q.send, flushIntervalMs: 20 })
    for (const i of range(0, 3)) s.write(line(i))
    assert.equal(q.batches.length, 0)
    await until(() => q.batches.length === 1, 'the timed batch')
    assert.deepEqual(q.numbers(), [0, 1, 2])
    await s.close()
  })

  it('sends on a later turn, never inside write, with at most maxInFlight batches at once', async () => {
    let active = 0
    let peak = 0
    const releases: (() => void)[] = []
    const send = () => {
      active++
      peak = Math.max(peak, active)
      return new Promise<void>((resolve) =>
        releases.push(() => {
          active--
          resolve()
        }),
      )
    }
    const s = shipper({ send, maxBatchRecords: 1, maxInFlight: 2 })
    for (const i of range(0, 6)) s.write(line(i))
    assert.equal(active, 0, 'nothing was sent synchronously')
    await until(() => active === 2, 'two sends')
    assert.equal(s.stats().inFlight, 2)
    assert.equal(s.stats().buffered, 6)
    while (releases.length) {
      releases.shift()?.()
      await new Promise((r) => setImmediate(r))
      await new Promise((r) => setImmediate(r))
    }
    await s.close()
    assert.equal(peak, 2)
  })

  it('spills while the queue is down and replays the spool oldest first once it is back: every id, once', async () => {
    const q = fakeQueue()
    const s = shipper({ send: q.send, maxBatchRecords: 10, spoolDir: await tempDir() })
    q.down = true
    for (const i of range(0, 95)) s.write(line(i))
    await s.flush()
    assert.equal(s.stats().spilled, 95)
    assert.equal(s.stats().healthy, false)
    assert.equal(q.batches.length, 0)
    const spilledIds = new Set<string>()

    q.down = false
    await until(() => s.stats().replayed === 95, 'the replay')
    assert.deepEqual(q.numbers(), range(0, 95), 'in order, nothing missing, nothing twice')
    for (const r of q.batches.flat()) spilledIds.add(r.event.id)
    assert.equal(spilledIds.size, 95)
    await until(() => s.stats().spoolBytes === 0, 'the spool to empty')

    for (const i of range(95, 5)) s.write(line(i))
    await s.flush()
    assert.deepEqual(q.numbers(), range(0, 100))
    const st = s.stats()
    assert.equal(st.shipped, 5)
    assert.equal(st.dropped, 0)
    assert.equal(st.healthy, true)
    await s.close()
  })

  it('beyond the disk bound drops and counts, with one stderr warning per drop episode', async () => {
    const q = fakeQueue()
    const warnings: string[] = []
    const s = shipper({
      send: q.send,
      maxBatchRecords: 10,
      spoolDir: await tempDir(),
      maxSpoolBytes: 12_000,
      warn: (l) => warnings.push(l),
    })
    q.down = true
    for (const i of range(0, 200)) s.write(line(i))
    await s.flush()
    let st = s.stats()
    assert.ok(st.spilled > 0 && st.dropped > 0, JSON.stringify(st))
    assert.equal(st.spilled + st.dropped, 200)
    assert.ok(st.spoolBytes <= 12_000)
    assert.equal(warnings.length, 1, 'one warning for the whole episode')
    assert.match(warnings[0] ?? '', /dropping log records.*disk spool is full/)

    q.down = false
    await until(() => s.stats().replayed === st.spilled, 'the replay')
    assert.deepEqual(q.numbers(), range(0, st.spilled), 'the oldest were kept, the newest dropped')

    q.down = true
    for (const i of range(200, 200)) s.write(line(i))
    await s.flush()
    st = s.stats()
    assert.equal(warnings.length, 2, 'a new episode, a new warning')
    await s.close()
  })

  it('without a spool, batches that cannot be sent are dropped and counted; it probes and recovers', async () => {
    const q = fakeQueue()
    const warnings: string[] = []
    const s = shipper({ send: q.send, maxBatchRecords: 5, warn: (l) => warnings.push(l) })
    q.down = true
    for (const i of range(0, 20)) s.write(line(i))
    await s.flush()
    assert.equal(s.stats().dropped, 20)
    assert.equal(warnings.length, 1)
    q.down = false
    await new Promise((r) => setTimeout(r, 30))
    for (const i of range(20, 5)) s.write(line(i))
    await s.flush()
    await until(() => s.stats().healthy, 'recovery')
    assert.deepEqual(q.numbers(), range(20, 5))
    await s.close()
  })

  it('a send that hangs past sendTimeoutMs is spilled, not waited for forever', async () => {
    let hang = true
    const got: EcsRecord[][] = []
    const send = async (b: EcsRecord[]) => {
      if (hang) await new Promise<void>(() => {})
      got.push(b)
    }
    const s = shipper({ send, sendTimeoutMs: 20, spoolDir: await tempDir() })
    for (const i of range(0, 3)) s.write(line(i))
    await s.flush()
    assert.equal(s.stats().spilled, 3)
    hang = false
    await until(
      () => s.stats().replayed === 3,
      'the replay',
      () => s.stats(),
    )
    assert.equal(got.flat().length, 3)
    await s.close()
  })

  it('past maxBufferedRecords queued batches go to the spool instead of memory', async () => {
    const releases: (() => void)[] = []
    const send = () => new Promise<void>((resolve) => releases.push(resolve))
    const s = shipper({ send, maxBatchRecords: 10, maxInFlight: 1, maxBufferedRecords: 30, spoolDir: await tempDir() })
    await until(() => s.stats().spool === 'open', 'the spool to open')
    for (const i of range(0, 100)) {
      s.write(line(i))
      if (i % 10 === 9) await until(() => s.stats().buffered <= 30, 'the excess to reach the spool')
    }
    // One batch in flight, two queued within the bound; the other seven went to disk.
    assert.deepEqual([s.stats().inFlight, s.stats().buffered, s.stats().spilled, s.stats().dropped], [1, 30, 70, 0])
    for (const r of releases.splice(0)) r()
    const done = s.close()
    const drain = setInterval(() => {
      for (const r of releases.splice(0)) r()
    }, 1)
    await done
    clearInterval(drain)
    assert.equal(s.stats().dropped, 0)
  })

  it('never throws into the caller: malformed lines are counted as invalid and passed downstream', async () => {
    const q = fakeQueue()
    const seen: string[] = []
    const s = shipper({ send: q.send, downstream: { write: (l) => seen.push(l) } })
    const bad = ['not json\n', '[1,2]\n', 'null\n', '"str"\n', '{"level":30,\n', '\n']
    for (const l of bad) assert.equal(s.write(l), true)
    s.write(Buffer.from(line(1)))
    s.write(`${line(2)}${line(3)}`)
    await s.flush()
    assert.deepEqual(seen, [...bad, line(1), `${line(2)}${line(3)}`])
    assert.equal(s.stats().invalid, 5, 'an empty line is not counted')
    assert.deepEqual(q.numbers(), [1, 2, 3])

    const throwing = shipper({
      send: () => {
        throw new Error('sync throw')
      },
      downstream: {
        write: () => {
          throw new Error('EPIPE')
        },
      },
    })
    assert.doesNotThrow(() => throwing.write(line(1)))
    await throwing.flush()
    assert.equal(throwing.stats().dropped, 1)
    await throwing.close()
    await s.close()
  })

  it('close() sends everything first, is safe twice, and counts what is written after it', async () => {
    const q = fakeQueue()
    const s = shipper({ send: q.send })
    for (const i of range(0, 7)) s.write(line(i))
    await Promise.all([s.close(), s.close()])
    assert.deepEqual(q.numbers(), range(0, 7))
    s.write(line(8))
    assert.equal(s.stats().dropped, 1)
  })

  it('replays a spool left by a previous process when it starts', async () => {
    const dir = await tempDir()
    const q = fakeQueue()
    q.down = true
    const first = shipper({ send: q.send, spoolDir: dir })
    for (const i of range(0, 4)) first.write(line(i))
    await first.close()
    assert.equal(first.stats().spilled, 4)

    q.down = false
    const second = shipper({ send: q.send, spoolDir: dir })
    await until(() => second.stats().replayed === 4, 'the replay at start')
    assert.deepEqual(q.numbers(), range(0, 4))
    await second.close()
  })

  it('spillSync keeps in-memory records on disk at process exit', async () => {
    const dir = await tempDir()
    const s = shipper({ send: () => new Promise(() => {}), sendTimeoutMs: 50, spoolDir: dir })
    for (const i of range(0, 3)) s.write(line(i))
    await until(() => s.stats().spool === 'open', 'the spool to open')
    assert.equal(s.spillSync(), 3)
    const onDisk = (await readdir(dir)).filter((f) => f.endsWith('.ndjson'))
    const kept = (await Promise.all(onDisk.map((f) => readFile(join(dir, f), 'utf8'))))
      .flatMap((text) => text.split('\n').filter(Boolean))
      .flatMap((l) => JSON.parse(l) as EcsRecord[])
    assert.deepEqual(
      kept.map((r) => r.labels?.i),
      [0, 1, 2],
    )
    await s.close()
  })

  it('refuses settings that cannot work', () => {
    const send = async () => {}
    assert.throws(() => new LogShipper({ service: 'x', send, maxInFlight: 0 }), /maxInFlight must be an integer ≥ 1/)
    assert.throws(() => new LogShipper({ service: 'x', send, maxBatchRecords: 1.5 }), RangeError)
    assert.throws(
      () => new LogShipper({ service: 'x', send, maxBatchRecords: 100, maxBufferedRecords: 10 }),
      RangeError,
    )
    assert.throws(() => new LogShipper({ service: '', send }), TypeError)
  })

  it('works as a pino destination', async () => {
    const q = fakeQueue()
    const s = shipper({ send: q.send })
    const log = pino({ base: { pid: 1, hostname: 'h' } }, s)
    log.info({ userId: 'usr_1', audit: 'user.login' }, 'signed in')
    log.error({ err: new Error('boom') }, 'failed')
    await new Promise<void>((resolve) => log.flush(() => resolve()))
    assert.equal(q.batches.flat().length, 2)
    const [login, failure] = q.batches.flat()
    assert.equal(login?.event.category, 'audit')
    assert.equal(login?.user?.id, 'usr_1')
    assert.equal(failure?.log.level, 'error')
    assert.equal(failure?.error?.message, 'boom')
    await s.close()
  })
})
