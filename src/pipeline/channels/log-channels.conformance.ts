// The LogChannels conformance suite: one battery of behaviour every channel adapter must pass, opt-outs recorded as data.
//
// Timing is always "eventually, with a generous bound": waits are asserted to end after (most of) blockMs and well
// before a multi-second ceiling, never to a tight window.
//
// Trimming policy checked here: after appending more than maxLength entries a channel holds at least maxLength and at
// most maxLength + trimSlack entries, and those are the newest ones, in order. An adapter that trims exactly declares
// trimSlack 0; Redis (`XADD … MAXLEN ~`) trims whole stream nodes and declares one node's worth.

import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Capabilities, conformanceAreas } from '../../testing/conformance.ts'
import {
  type ChannelEntry,
  ChannelGroupMissing,
  channelOf,
  compareChannelIds,
  type LogChannels,
  LogChannelsClosed,
} from './log-channels.ts'

export interface LogChannelsHarness {
  name: string
  /** A fresh, empty set of channels per call (its own namespace), trimming each channel at maxLength. */
  create: (options: { maxLength: number }) => Promise<LogChannels>
  /** Idempotent; closes the instance and drops its storage. */
  cleanup: (channels: LogChannels) => Promise<void>
  capabilities?: Capabilities
}

const ROOMY = 10_000

/** A record shaped like what the shipper appends: ECS fields, about 600 bytes of JSON. */
export const makeLogRecord = (i: number, category = 'app') => ({
  '@timestamp': new Date(Date.UTC(2026, 0, 15, 12, 0, 0, i)).toISOString(),
  log: { level: 'info', logger: 'emporium.web' },
  message: `GET /products/sku-${i} answered 200`,
  event: { id: `0190f5c2-7e3a-7c1e-9a4b-${String(i).padStart(12, '0')}`, category, dataset: `emporium.${category}` },
  service: { name: 'emporium', version: '0.1.0' },
  http: { request: { method: 'GET' }, response: { status_code: 200, body: { bytes: 18_234 } } },
  url: { path: `/products/sku-${i}`, query: 'ref=home&utm_source=newsletter' },
  client: { ip: '203.0.113.42' },
  user_agent: {
    original: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  },
  trace: { id: '4bf92f3577b34da6a3ce929d0e0e4736' },
})

const elapsedSince = (t0: number): number => performance.now() - t0

export function describeLogChannelsConformance(h: LogChannelsHarness): void {
  const { area, describeCapabilityCheck } = conformanceAreas(h.capabilities)

  describe(`LogChannels › ${h.name}`, () => {
    let ch: LogChannels
    let opened: LogChannels[] = []
    /** Another instance with its own namespace (for a different maxLength); cleaned up after the test. */
    const open = async (maxLength: number): Promise<LogChannels> => {
      const other = await h.create({ maxLength })
      opened.push(other)
      return other
    }
    beforeEach(async () => {
      opened = []
      ch = await open(ROOMY)
    })
    afterEach(async () => {
      for (const instance of opened.reverse()) await h.cleanup(instance)
    })

    /** Everything the group has not seen yet, without waiting. */
    const drain = async <T = unknown>(
      c: LogChannels,
      channel: string,
      group: string,
      consumer = 'drainer',
    ): Promise<ChannelEntry<T>[]> => {
      const all: ChannelEntry<T>[] = []
      for (;;) {
        const got = await c.read<T>(channel, group, consumer, 100, 0)
        if (got.length === 0) return all
        all.push(...got)
      }
    }
    const numbers = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ i: from + i }))

    area('lifecycle', (test) => {
      test('kind names the adapter', async () => {
        assert.equal(typeof ch.kind, 'string')
        assert.ok(ch.kind.length > 0)
        assert.equal(ch.maxLength, ROOMY)
        assert.ok(Number.isInteger(ch.trimSlack) && ch.trimSlack >= 0, `trimSlack ${ch.trimSlack}`)
      })
      test('ping resolves', async () => {
        await ch.ping()
      })
      test('close is safe twice', async () => {
        await ch.append('logs:app', [{ a: 1 }])
        await ch.close()
        await ch.close()
      })
      test('calls after close reject with LogChannelsClosed', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.close()
        await assert.rejects(() => ch.append('logs:app', [{ a: 1 }]), LogChannelsClosed)
        await assert.rejects(() => ch.read('logs:app', 'g', 'c', 10, 0), LogChannelsClosed)
        await assert.rejects(() => ch.info('logs:app', 'g'), LogChannelsClosed)
        await assert.rejects(() => ch.ping(), LogChannelsClosed)
      })
      test('close ends a blocked read with no entries', async () => {
        await ch.ensureGroup('logs:app', 'g')
        const t0 = performance.now()
        const reading = ch.read('logs:app', 'g', 'c', 10, 20_000)
        await sleep(100)
        await ch.close()
        assert.deepEqual(await reading, [])
        assert.ok(elapsedSince(t0) < 5000, `the read took ${elapsedSince(t0).toFixed(0)} ms`)
      })
    })

    area('input', (test) => {
      test('bad names, counts and waits are refused with RangeError', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await assert.rejects(() => ch.append('', [{}]), RangeError)
        await assert.rejects(() => ch.append('logs app', [{}]), RangeError)
        await assert.rejects(() => ch.ensureGroup('logs:app', ''), RangeError)
        await assert.rejects(() => ch.read('logs:app', 'g', 'c', 0, 0), RangeError)
        await assert.rejects(() => ch.read('logs:app', 'g', 'c', 1.5, 0), RangeError)
        await assert.rejects(() => ch.read('logs:app', 'g', 'c', 10, -1), RangeError)
        await assert.rejects(() => ch.read('logs:app', 'g', '', 10, 0), RangeError)
        await assert.rejects(() => ch.claimStale('logs:app', 'g', 'c', -1, 10), RangeError)
        await assert.rejects(() => ch.claimStale('logs:app', 'g', 'c', 0, 0), RangeError)
      })
      test('a batch with data JSON cannot encode is refused whole', async () => {
        const cyclic: Record<string, unknown> = { a: 1 }
        cyclic.self = cyclic
        await assert.rejects(() => ch.append('logs:app', [{ ok: 1 }, cyclic]), TypeError)
        await assert.rejects(() => ch.append('logs:app', [{ ok: 1 }, 10n]), TypeError)
        await assert.rejects(() => ch.append('logs:app', [{ ok: 1 }, undefined]), TypeError)
        await ch.ensureGroup('logs:app', 'g')
        assert.deepEqual(await ch.info('logs:app', 'g'), { length: 0, pending: 0, lag: 0 })
      })
    })

    area('append', (test) => {
      test('returns one increasing id per entry, also across appends', async () => {
        const first = await ch.append('logs:app', numbers(50))
        const second = await ch.append('logs:app', numbers(3, 50))
        const single = await ch.append('logs:app', [{ i: 53 }])
        const ids = [...first, ...second, ...single]
        assert.equal(ids.length, 54)
        for (let k = 1; k < ids.length; k++)
          assert.ok(compareChannelIds(ids[k - 1]!, ids[k]!) < 0, `${ids[k - 1]} is not before ${ids[k]}`)
      })
      test('an empty batch appends nothing', async () => {
        assert.deepEqual(await ch.append('logs:app', []), [])
        await ch.ensureGroup('logs:app', 'g')
        assert.equal((await ch.info('logs:app', 'g')).length, 0)
      })
      test('entries are read in the order they were appended, with the ids append returned', async () => {
        const ids = [
          ...(await ch.append('logs:access', numbers(7))),
          ...(await ch.append('logs:access', numbers(5, 7))),
          ...(await ch.append('logs:access', [{ i: 12 }])),
        ]
        await ch.ensureGroup('logs:access', 'g')
        const got = await drain<{ i: number }>(ch, 'logs:access', 'g')
        assert.deepEqual(
          got.map((e) => e.data.i),
          numbers(13).map((n) => n.i),
        )
        assert.deepEqual(
          got.map((e) => e.id),
          ids,
        )
        for (const e of got) {
          assert.equal(e.channel, 'logs:access')
          assert.equal(e.deliveries, 1)
        }
      })
      test('data round-trips: nested objects, arrays, unicode, numbers, null', async () => {
        const data = [
          makeLogRecord(1),
          {
            message: 'Zahlung für Bestellung «Nº 42» abgelehnt — 🛒💳 ok? 中文 العربية',
            nested: { deep: { deeper: [1, 'two', { three: 3 }, [4, [5]]] } },
            numbers: { int: 42, negative: -7, float: 3.25, big: 9_007_199_254_740_991, zero: 0 },
            flags: { yes: true, no: false, none: null },
            empty: { string: '', array: [], object: {} },
            tricky: 'quotes " and \\ backslashes, newlines\nand tabs\t, NUL \u0000 and 𝄞',
          },
          'a bare string',
          12.5,
          null,
          [{ a: 1 }, { b: [2] }],
        ]
        await ch.append('logs:app', data)
        await ch.ensureGroup('logs:app', 'g')
        const got = await drain(ch, 'logs:app', 'g')
        assert.deepEqual(
          got.map((e) => e.data),
          data,
        )
      })
      test('channelOf names the channel of a category', async () => {
        assert.equal(channelOf('security'), 'logs:security')
        await ch.append(channelOf('security'), [{ x: 1 }])
        await ch.ensureGroup(channelOf('security'), 'g')
        assert.equal((await drain(ch, channelOf('security'), 'g')).length, 1)
      })
    })

    area('groups', (test) => {
      test('a group starts at the beginning of the channel', async () => {
        await ch.append('logs:app', numbers(5))
        await ch.ensureGroup('logs:app', 'late')
        const got = await drain<{ i: number }>(ch, 'logs:app', 'late')
        assert.deepEqual(
          got.map((e) => e.data.i),
          [0, 1, 2, 3, 4],
        )
      })
      test('ensureGroup is idempotent and keeps the group where it is', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.append('logs:app', numbers(6))
        const before = await ch.read<{ i: number }>('logs:app', 'g', 'c', 2, 0)
        await ch.ensureGroup('logs:app', 'g')
        await ch.ensureGroup('logs:app', 'g')
        const rest = await drain<{ i: number }>(ch, 'logs:app', 'g')
        assert.deepEqual(
          [...before, ...rest].map((e) => e.data.i),
          [0, 1, 2, 3, 4, 5],
        )
        assert.deepEqual(await ch.info('logs:app', 'g'), { length: 6, pending: 6, lag: 0 })
      })
      test('ensureGroup on a channel never appended to creates it empty', async () => {
        await ch.ensureGroup('logs:audit', 'g')
        assert.deepEqual(await ch.info('logs:audit', 'g'), { length: 0, pending: 0, lag: 0 })
        assert.deepEqual(await ch.read('logs:audit', 'g', 'c', 10, 0), [])
      })
      test('a group that was never ensured is refused with ChannelGroupMissing', async () => {
        await assert.rejects(() => ch.read('logs:app', 'nope', 'c', 10, 0), ChannelGroupMissing)
        await assert.rejects(() => ch.read('logs:app', 'nope', 'c', 10, 50), ChannelGroupMissing)
        await assert.rejects(() => ch.info('logs:app', 'nope'), ChannelGroupMissing)
        await assert.rejects(() => ch.claimStale('logs:app', 'nope', 'c', 0, 10), ChannelGroupMissing)
        await ch.ensureGroup('logs:app', 'g')
        await assert.rejects(() => ch.read('logs:app', 'nope', 'c', 10, 0), ChannelGroupMissing)
        await assert.rejects(() => ch.info('logs:app', 'nope'), ChannelGroupMissing)
        assert.equal(await ch.acknowledge('logs:app', 'nope', ['1-0']), 0)
      })
      test('every group receives every entry, independently', async () => {
        await ch.ensureGroup('logs:app', 'index')
        await ch.ensureGroup('logs:app', 'archive')
        await ch.append('logs:app', numbers(4))
        const a = await drain<{ i: number }>(ch, 'logs:app', 'index')
        await ch.acknowledge(
          'logs:app',
          'index',
          a.map((e) => e.id),
        )
        const b = await ch.read<{ i: number }>('logs:app', 'archive', 'c', 3, 0)
        assert.deepEqual(
          a.map((e) => e.data.i),
          [0, 1, 2, 3],
        )
        assert.deepEqual(
          b.map((e) => e.data.i),
          [0, 1, 2],
        )
        assert.deepEqual(await ch.info('logs:app', 'index'), { length: 4, pending: 0, lag: 0 })
        assert.deepEqual(await ch.info('logs:app', 'archive'), { length: 4, pending: 3, lag: 1 })
      })
    })

    area('read', (test) => {
      test('returns at most count, and each entry once per group', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.append('logs:app', numbers(10))
        const a = await ch.read<{ i: number }>('logs:app', 'g', 'c', 3, 0)
        const b = await ch.read<{ i: number }>('logs:app', 'g', 'c', 3, 0)
        const c = await ch.read<{ i: number }>('logs:app', 'g', 'c', 100, 0)
        assert.deepEqual([a.length, b.length, c.length], [3, 3, 4])
        assert.deepEqual(
          [...a, ...b, ...c].map((e) => e.data.i),
          numbers(10).map((n) => n.i),
        )
        assert.deepEqual(await ch.read('logs:app', 'g', 'c', 100, 0), [])
        assert.deepEqual(await ch.read('logs:app', 'g', 'other', 100, 0), [])
      })
      test('an empty read with blockMs 0 returns at once', async () => {
        await ch.ensureGroup('logs:app', 'g')
        const t0 = performance.now()
        assert.deepEqual(await ch.read('logs:app', 'g', 'c', 10, 0), [])
        assert.ok(elapsedSince(t0) < 1000, `took ${elapsedSince(t0).toFixed(0)} ms`)
      })
      test('an empty read waits about blockMs, then returns []', async () => {
        await ch.ensureGroup('logs:app', 'g')
        const t0 = performance.now()
        assert.deepEqual(await ch.read('logs:app', 'g', 'c', 10, 400), [])
        const took = elapsedSince(t0)
        assert.ok(took >= 300, `returned after ${took.toFixed(0)} ms, before the wait was over`)
        assert.ok(took < 4000, `returned after ${took.toFixed(0)} ms`)
      })
      test('a blocked read wakes up when an entry is appended', async () => {
        await ch.ensureGroup('logs:app', 'g')
        const t0 = performance.now()
        const reading = ch.read<{ i: number }>('logs:app', 'g', 'c', 10, 15_000)
        await sleep(150)
        await ch.append('logs:app', [{ i: 7 }])
        const got = await reading
        assert.deepEqual(
          got.map((e) => e.data),
          [{ i: 7 }],
        )
        assert.ok(elapsedSince(t0) < 5000, `woke after ${elapsedSince(t0).toFixed(0)} ms`)
      })
      test('a blocked read is not woken by another channel', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.ensureGroup('logs:audit', 'g')
        const reading = ch.read('logs:app', 'g', 'c', 10, 500)
        await sleep(50)
        await ch.append('logs:audit', [{ other: true }])
        assert.deepEqual(await reading, [])
        assert.equal((await ch.info('logs:audit', 'g')).lag, 1)
      })
      test('blocked reads on several channels wait side by side', async () => {
        const names = ['logs:access', 'logs:app', 'logs:audit', 'logs:security']
        for (const name of names) await ch.ensureGroup(name, 'g')
        const t0 = performance.now()
        const reads = names.map((name) => ch.read<{ name: string }>(name, 'g', `c-${name}`, 10, 10_000))
        await sleep(150)
        for (const name of names) await ch.append(name, [{ name }])
        const got = await Promise.all(reads)
        assert.deepEqual(
          got.map((entries) => entries.map((e) => e.data.name)),
          names.map((name) => [name]),
        )
        assert.ok(elapsedSince(t0) < 5000, `took ${elapsedSince(t0).toFixed(0)} ms`)
      })
      test('two consumers in one group split the entries without duplicates', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.append('logs:app', numbers(30))
        const seen: Record<string, number[]> = { a: [], b: [] }
        for (let turn = 0; ; turn++) {
          const who = turn % 2 === 0 ? 'a' : 'b'
          const got = await ch.read<{ i: number }>('logs:app', 'g', who, 4, 0)
          if (got.length === 0) break
          seen[who]!.push(...got.map((e) => e.data.i))
        }
        assert.ok(seen.a!.length > 0 && seen.b!.length > 0)
        assert.deepEqual(
          [...seen.a!, ...seen.b!].sort((x, y) => x - y),
          numbers(30).map((n) => n.i),
        )
      })
      test('one new entry wakes exactly one of two blocked consumers', async () => {
        await ch.ensureGroup('logs:app', 'g')
        const a = ch.read('logs:app', 'g', 'a', 10, 1000)
        const b = ch.read('logs:app', 'g', 'b', 10, 1000)
        await sleep(100)
        await ch.append('logs:app', [{ only: 1 }])
        const [ga, gb] = await Promise.all([a, b])
        assert.equal(ga.length + gb.length, 1, `a got ${ga.length}, b got ${gb.length}`)
        assert.deepEqual(await ch.info('logs:app', 'g'), { length: 1, pending: 1, lag: 0 })
      })
    })

    area('acknowledge', (test) => {
      test('removes entries from pending', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.append('logs:app', numbers(5))
        const got = await ch.read('logs:app', 'g', 'c', 10, 0)
        assert.equal((await ch.info('logs:app', 'g')).pending, 5)
        assert.equal(
          await ch.acknowledge(
            'logs:app',
            'g',
            got.slice(0, 3).map((e) => e.id),
          ),
          3,
        )
        assert.equal((await ch.info('logs:app', 'g')).pending, 2)
      })
      test('acknowledging twice counts once', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.append('logs:app', numbers(2))
        const [first, second] = await ch.read('logs:app', 'g', 'c', 10, 0)
        assert.equal(await ch.acknowledge('logs:app', 'g', [first!.id]), 1)
        assert.equal(await ch.acknowledge('logs:app', 'g', [first!.id]), 0)
        assert.equal(await ch.acknowledge('logs:app', 'g', [second!.id, second!.id]), 1)
        assert.equal((await ch.info('logs:app', 'g')).pending, 0)
      })
      test('entries not delivered, unknown ids and an empty list count 0', async () => {
        await ch.ensureGroup('logs:app', 'g')
        const [id] = await ch.append('logs:app', [{ a: 1 }])
        assert.equal(await ch.acknowledge('logs:app', 'g', [id!]), 0)
        assert.equal(await ch.acknowledge('logs:app', 'g', ['1-0', '99999999999999-0']), 0)
        assert.equal(await ch.acknowledge('logs:app', 'g', []), 0)
        assert.deepEqual(await ch.info('logs:app', 'g'), { length: 1, pending: 0, lag: 1 })
      })
      test('any consumer of the group may acknowledge', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.append('logs:app', numbers(2))
        const got = await ch.read('logs:app', 'g', 'reader', 10, 0)
        assert.equal(
          await ch.acknowledge(
            'logs:app',
            'g',
            got.map((e) => e.id),
          ),
          2,
        )
      })
    })

    area('reclaim', (test) => {
      test("a dead consumer's unacknowledged entries go to another after minIdleMs, deliveries incremented", async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.append('logs:app', numbers(4))
        const taken = await ch.read<{ i: number }>('logs:app', 'g', 'dead', 10, 0)
        await ch.acknowledge('logs:app', 'g', [taken[0]!.id])
        // "dead" stops here: it never reads or acknowledges again.
        await sleep(400)
        const claimed = await ch.claimStale<{ i: number }>('logs:app', 'g', 'alive', 200, 10)
        assert.deepEqual(
          claimed.map((e) => [e.id, e.data.i, e.deliveries, e.channel]),
          taken.slice(1).map((e) => [e.id, e.data.i, 2, 'logs:app']),
        )
        assert.deepEqual(await ch.info('logs:app', 'g'), { length: 4, pending: 3, lag: 0 })
        assert.equal(
          await ch.acknowledge(
            'logs:app',
            'g',
            claimed.map((e) => e.id),
          ),
          3,
        )
        assert.deepEqual(await ch.info('logs:app', 'g'), { length: 4, pending: 0, lag: 0 })
      })
      test('fresh entries are not taken', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.append('logs:app', numbers(3))
        await ch.read('logs:app', 'g', 'busy', 10, 0)
        assert.deepEqual(await ch.claimStale('logs:app', 'g', 'thief', 10_000, 10), [])
        assert.equal((await ch.info('logs:app', 'g')).pending, 3)
      })
      test('acknowledged and undelivered entries are never claimed', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.append('logs:app', numbers(3))
        const got = await ch.read('logs:app', 'g', 'c', 2, 0)
        await ch.acknowledge(
          'logs:app',
          'g',
          got.map((e) => e.id),
        )
        await sleep(150)
        assert.deepEqual(await ch.claimStale('logs:app', 'g', 'other', 50, 10), [])
        assert.equal((await ch.info('logs:app', 'g')).lag, 1)
      })
      test('claims at most count, oldest first', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.append('logs:app', numbers(5))
        await ch.read('logs:app', 'g', 'dead', 10, 0)
        await sleep(250)
        const first = await ch.claimStale<{ i: number }>('logs:app', 'g', 'alive', 100, 2)
        const second = await ch.claimStale<{ i: number }>('logs:app', 'g', 'alive', 100, 10)
        assert.deepEqual(
          first.map((e) => e.data.i),
          [0, 1],
        )
        assert.deepEqual(
          second.map((e) => e.data.i),
          [2, 3, 4],
        )
      })
      test('a claimed entry is not claimed again until it is idle again', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.append('logs:app', [{ a: 1 }])
        await ch.read('logs:app', 'g', 'first', 10, 0)
        await sleep(250)
        assert.equal((await ch.claimStale('logs:app', 'g', 'second', 100, 10)).length, 1)
        assert.deepEqual(await ch.claimStale('logs:app', 'g', 'third', 100, 10), [])
        await sleep(250)
        const again = await ch.claimStale('logs:app', 'g', 'third', 100, 10)
        assert.deepEqual(
          again.map((e) => e.deliveries),
          [3],
        )
      })
      test('claimed entries are not read again as new ones', async () => {
        await ch.ensureGroup('logs:app', 'g')
        await ch.append('logs:app', numbers(2))
        await ch.read('logs:app', 'g', 'dead', 10, 0)
        await sleep(200)
        assert.equal((await ch.claimStale('logs:app', 'g', 'alive', 100, 10)).length, 2)
        assert.deepEqual(await ch.read('logs:app', 'g', 'alive', 10, 0), [])
      })
    })

    area('info', (test) => {
      test('reports length, pending and lag exactly through a group’s life', async () => {
        await ch.ensureGroup('logs:app', 'g')
        assert.deepEqual(await ch.info('logs:app', 'g'), { length: 0, pending: 0, lag: 0 })
        await ch.append('logs:app', numbers(10))
        assert.deepEqual(await ch.info('logs:app', 'g'), { length: 10, pending: 0, lag: 10 })
        const a = await ch.read('logs:app', 'g', 'c', 4, 0)
        assert.deepEqual(await ch.info('logs:app', 'g'), { length: 10, pending: 4, lag: 6 })
        await ch.acknowledge(
          'logs:app',
          'g',
          a.slice(0, 2).map((e) => e.id),
        )
        assert.deepEqual(await ch.info('logs:app', 'g'), { length: 10, pending: 2, lag: 6 })
        const b = await ch.read('logs:app', 'g', 'c', 100, 0)
        assert.deepEqual(await ch.info('logs:app', 'g'), { length: 10, pending: 8, lag: 0 })
        await ch.acknowledge(
          'logs:app',
          'g',
          [...a, ...b].map((e) => e.id),
        )
        assert.deepEqual(await ch.info('logs:app', 'g'), { length: 10, pending: 0, lag: 0 })
        await ch.append('logs:app', numbers(3))
        assert.deepEqual(await ch.info('logs:app', 'g'), { length: 13, pending: 0, lag: 3 })
        await ch.ensureGroup('logs:app', 'later')
        assert.deepEqual(await ch.info('logs:app', 'later'), { length: 13, pending: 0, lag: 13 })
      })

      test('length counts the entries of any channel, with or without a group', async () => {
        assert.equal(await ch.length('logs:dead-letter'), 0)
        await ch.append('logs:dead-letter', numbers(4))
        assert.equal(await ch.length('logs:dead-letter'), 4)
        await ch.ensureGroup('logs:app', 'g')
        await ch.append('logs:app', numbers(2))
        await ch.read('logs:app', 'g', 'c', 1, 0)
        assert.equal(await ch.length('logs:app'), 2)
        await assert.rejects(ch.length('bad name!'), RangeError)
      })
    })

    area('trimming', (test) => {
      const assertBounded = (c: LogChannels, length: number, appended: number) => {
        assert.ok(length >= c.maxLength, `holds ${length} of ${appended}, fewer than maxLength ${c.maxLength}`)
        assert.ok(
          length <= c.maxLength + c.trimSlack,
          `holds ${length}, more than maxLength ${c.maxLength} + trimSlack ${c.trimSlack}`,
        )
      }

      test('appending beyond maxLength trims the oldest entries', async () => {
        const small = await open(50)
        await small.ensureGroup('logs:app', 'g')
        for (let k = 0; k < 10; k++) await small.append('logs:app', numbers(40, k * 40))
        const info = await small.info('logs:app', 'g')
        assertBounded(small, info.length, 400)
        assert.equal(info.lag, info.length, 'lag counts only entries the channel still holds')
        const got = await drain<{ i: number }>(small, 'logs:app', 'g')
        assert.deepEqual(
          got.map((e) => e.data.i),
          numbers(info.length, 400 - info.length).map((n) => n.i),
        )
      })
      test('one batch larger than maxLength keeps its newest entries', async () => {
        const small = await open(50)
        await small.append('logs:app', numbers(600))
        await small.ensureGroup('logs:app', 'g')
        const info = await small.info('logs:app', 'g')
        assertBounded(small, info.length, 600)
        const got = await drain<{ i: number }>(small, 'logs:app', 'g')
        assert.equal(got.length, info.length)
        assert.equal(got.at(-1)!.data.i, 599)
        assert.equal(got[0]!.data.i, 600 - info.length)
      })
      test('a group left behind by trimming resumes at the oldest entry held, with lag exact', async () => {
        const small = await open(50)
        await small.ensureGroup('logs:app', 'g')
        await small.append('logs:app', numbers(10))
        const early = await small.read('logs:app', 'g', 'c', 5, 0)
        await small.acknowledge(
          'logs:app',
          'g',
          early.map((e) => e.id),
        )
        for (let k = 0; k < 10; k++) await small.append('logs:app', numbers(50, 10 + k * 50))
        const held = (await small.info('logs:app', 'g')).length
        assertBounded(small, held, 510)
        assert.deepEqual(await small.info('logs:app', 'g'), { length: held, pending: 0, lag: held })
        const next = await small.read<{ i: number }>('logs:app', 'g', 'c', 10, 0)
        assert.deepEqual(
          next.map((e) => e.data.i),
          numbers(10, 510 - held).map((n) => n.i),
        )
        assert.deepEqual(await small.info('logs:app', 'g'), { length: held, pending: 10, lag: held - 10 })
        await small.append('logs:app', [{ i: 510 }])
        const after = await small.info('logs:app', 'g')
        const lastRead = next.at(-1)!.data.i
        assert.deepEqual(after, { length: after.length, pending: 10, lag: Math.min(after.length, 510 - lastRead) })
      })
      test('channels are trimmed one by one', async () => {
        const small = await open(50)
        await small.append('logs:app', numbers(300))
        await small.append('logs:audit', numbers(20))
        await small.ensureGroup('logs:audit', 'g')
        assert.deepEqual(await small.info('logs:audit', 'g'), { length: 20, pending: 0, lag: 20 })
      })
    })

    area('isolation', (test) => {
      test('channels are independent', async () => {
        await ch.ensureGroup('logs:access', 'g')
        await ch.ensureGroup('logs:error', 'g')
        await ch.append('logs:access', [{ from: 'access' }, { from: 'access' }])
        await ch.append('logs:error', [{ from: 'error' }])
        const access = await drain<{ from: string }>(ch, 'logs:access', 'g')
        const error = await drain<{ from: string }>(ch, 'logs:error', 'g')
        assert.deepEqual(
          access.map((e) => e.data.from),
          ['access', 'access'],
        )
        assert.deepEqual(
          error.map((e) => [e.data.from, e.channel]),
          [['error', 'logs:error']],
        )
        assert.deepEqual(await ch.info('logs:access', 'g'), { length: 2, pending: 2, lag: 0 })
        // Ids are positions within one channel: the same id may exist in another channel, and is another entry there.
        await ch.acknowledge(
          'logs:access',
          'g',
          [...access, ...error].map((e) => e.id),
        )
        assert.deepEqual(await ch.info('logs:access', 'g'), { length: 2, pending: 0, lag: 0 })
        assert.deepEqual(await ch.info('logs:error', 'g'), { length: 1, pending: 1, lag: 0 })
      })
      test('groups keep their own pending entries and delivery counts', async () => {
        await ch.ensureGroup('logs:app', 'one')
        await ch.ensureGroup('logs:app', 'two')
        await ch.append('logs:app', numbers(2))
        const one = await ch.read('logs:app', 'one', 'c', 10, 0)
        await ch.read('logs:app', 'two', 'c', 10, 0)
        await ch.acknowledge(
          'logs:app',
          'one',
          one.map((e) => e.id),
        )
        await sleep(200)
        assert.deepEqual(await ch.claimStale('logs:app', 'one', 'd', 100, 10), [])
        const two = await ch.claimStale('logs:app', 'two', 'd', 100, 10)
        assert.deepEqual(
          two.map((e) => e.deliveries),
          [2, 2],
        )
        assert.equal((await ch.info('logs:app', 'one')).pending, 0)
        assert.equal((await ch.info('logs:app', 'two')).pending, 2)
      })
      test('two instances do not see each other’s channels', async () => {
        const other = await open(ROOMY)
        await ch.append('logs:app', [{ mine: true }])
        await other.ensureGroup('logs:app', 'g')
        assert.deepEqual(await other.info('logs:app', 'g'), { length: 0, pending: 0, lag: 0 })
      })
    })

    describeCapabilityCheck()
  })
}
