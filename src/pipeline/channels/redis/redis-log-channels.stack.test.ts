import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { EngineUnavailable } from '../../../core/errors.ts'
import { dropRedisKeys } from '../../../testing/redis.ts'
import { tcpProxy } from '../../../testing/tcp-proxy.ts'
import { describeLogChannelsConformance, makeLogRecord } from '../log-channels.conformance.ts'
import { LogChannelsClosed } from '../log-channels.ts'
import { openRedisLogChannels, type RedisLogChannels } from './redis-log-channels.ts'

const url = process.env.REDIS_URL
const skip = url ? false : 'REDIS_URL is not set; run `eval "$(npm run -s stack:env)"` with the stack up'
const uniquePrefix = () => `emporium-test:logs:${randomUUID()}:`

const dropKeys = (prefix: string) => dropRedisKeys(url as string, prefix)

if (url) {
  describeLogChannelsConformance({
    name: 'redis-streams',
    create: async ({ maxLength }) => openRedisLogChannels(url, { maxLength, prefix: uniquePrefix() }),
    cleanup: async (c) => {
      await c.close()
      await dropKeys((c as RedisLogChannels).prefix)
    },
  })
}

const redisProxy = (target: URL) => tcpProxy(target)

describe('LogChannels › redis-streams › engine behaviour', { skip }, () => {
  it('fails fast with EngineUnavailable when Redis is unreachable', async () => {
    const channels = openRedisLogChannels('redis://127.0.0.1:1', { maxLength: 100, prefix: uniquePrefix() })
    try {
      const t0 = performance.now()
      await assert.rejects(() => channels.ping(), EngineUnavailable)
      await assert.rejects(() => channels.append('logs:app', [{ a: 1 }]), EngineUnavailable)
      await assert.rejects(() => channels.read('logs:app', 'g', 'c', 10, 1000), EngineUnavailable)
      assert.ok(performance.now() - t0 < 5000, `took ${(performance.now() - t0).toFixed(0)} ms`)
    } finally {
      await channels.close()
    }
  })

  it('fails fast during an outage and reconnects by itself when Redis is back', async () => {
    const proxy = redisProxy(new URL(url!))
    const port = await proxy.start(0)
    const prefix = uniquePrefix()
    const channels = openRedisLogChannels(`redis://127.0.0.1:${port}`, { maxLength: 1000, prefix })
    try {
      await channels.ensureGroup('logs:app', 'g')
      await channels.append('logs:app', [{ before: true }])
      await channels.read('logs:app', 'g', 'c', 10, 0)
      const reading = channels.read('logs:app', 'g', 'c', 10, 10_000).catch((e: unknown) => e)
      await sleep(100)
      await proxy.stop()
      await sleep(50)
      const t0 = performance.now()
      assert.ok((await reading) instanceof EngineUnavailable, 'the blocked read did not fail with EngineUnavailable')
      await assert.rejects(() => channels.ping(), EngineUnavailable)
      await assert.rejects(() => channels.append('logs:app', [{ during: true }]), EngineUnavailable)
      assert.ok(performance.now() - t0 < 5000, `failing took ${(performance.now() - t0).toFixed(0)} ms`)
      await proxy.start(port)
      const deadline = Date.now() + 8000
      for (;;) {
        try {
          await channels.ping()
          break
        } catch (error) {
          assert.ok(error instanceof EngineUnavailable)
          if (Date.now() > deadline) throw new Error('the channels did not reconnect within 8 s')
          await sleep(100)
        }
      }
      await channels.append('logs:app', [{ after: true }])
      const got = await channels.read('logs:app', 'g', 'c', 10, 2000)
      assert.deepEqual(
        got.map((e) => e.data),
        [{ after: true }],
      )
    } finally {
      await channels.close()
      await proxy.stop()
      await dropKeys(prefix)
    }
  })

  it('a blocking read does not hold up the other calls', async () => {
    const prefix = uniquePrefix()
    const channels = openRedisLogChannels(url!, { maxLength: 1000, prefix })
    try {
      await channels.ensureGroup('logs:app', 'g')
      await channels.ensureGroup('logs:audit', 'g')
      const reading = channels.read('logs:app', 'g', 'c', 10, 3000)
      await sleep(100)
      const t0 = performance.now()
      await channels.append('logs:audit', [{ a: 1 }])
      await channels.info('logs:audit', 'g')
      await channels.ping()
      assert.ok(performance.now() - t0 < 1000, `other calls took ${(performance.now() - t0).toFixed(0)} ms`)
      assert.deepEqual(await reading, [])
    } finally {
      await channels.close()
      await dropKeys(prefix)
    }
  })

  it('more blocking reads than reader connections all complete', async () => {
    const prefix = uniquePrefix()
    const channels = openRedisLogChannels(url!, { maxLength: 1000, prefix, maxBlockingReads: 2 })
    try {
      await channels.ensureGroup('logs:app', 'g')
      const t0 = performance.now()
      const reads = Array.from({ length: 5 }, (_, i) => channels.read('logs:app', 'g', `c${i}`, 10, 300))
      await sleep(50)
      await channels.append(
        'logs:app',
        Array.from({ length: 5 }, (_, i) => ({ i })),
      )
      const got = await Promise.all(reads)
      assert.ok(performance.now() - t0 < 5000, `took ${(performance.now() - t0).toFixed(0)} ms`)
      assert.deepEqual(
        got
          .flat()
          .map((e) => (e.data as { i: number }).i)
          .sort(),
        [0, 1, 2, 3, 4],
      )
    } finally {
      await channels.close()
      await dropKeys(prefix)
    }
  })

  it('stores each entry as one JSON field of a stream under the prefix, trimmed with MAXLEN ~', async () => {
    const prefix = uniquePrefix()
    const channels = openRedisLogChannels(url!, { maxLength: 200, prefix })
    const redis = new Redis(url!)
    try {
      const record = makeLogRecord(1, 'access')
      const [id] = await channels.append('logs:access', [record])
      assert.deepEqual(await redis.xrange(`${prefix}logs:access`, '-', '+'), [[id, ['d', JSON.stringify(record)]]])
      await channels.append(
        'logs:access',
        Array.from({ length: 1000 }, (_, i) => makeLogRecord(i)),
      )
      const length = await redis.xlen(`${prefix}logs:access`)
      assert.ok(length >= 200 && length <= 200 + channels.trimSlack, `length ${length}`)
    } finally {
      redis.disconnect()
      await channels.close()
      await dropKeys(prefix)
    }
  })

  it('lag stays exact when entries were deleted with XDEL (Redis reports no lag then)', async () => {
    const prefix = uniquePrefix()
    const channels = openRedisLogChannels(url!, { maxLength: 1000, prefix })
    const redis = new Redis(url!)
    try {
      await channels.ensureGroup('logs:app', 'g')
      const ids = await channels.append(
        'logs:app',
        Array.from({ length: 10 }, (_, i) => ({ i })),
      )
      await channels.read('logs:app', 'g', 'c', 3, 0)
      await redis.xdel(`${prefix}logs:app`, ids[6]!)
      assert.deepEqual(await channels.info('logs:app', 'g'), { length: 9, pending: 3, lag: 6 })
    } finally {
      redis.disconnect()
      await channels.close()
      await dropKeys(prefix)
    }
  })

  it('a passed client is left open on close', async () => {
    const redis = new Redis(url!)
    const prefix = uniquePrefix()
    try {
      const channels = openRedisLogChannels(redis, { maxLength: 100, prefix })
      await channels.ensureGroup('logs:app', 'g')
      const reading = channels.read('logs:app', 'g', 'c', 10, 5000)
      await sleep(100)
      await channels.close()
      assert.deepEqual(await reading, [])
      await assert.rejects(() => channels.ping(), LogChannelsClosed)
      assert.equal(await redis.ping(), 'PONG')
    } finally {
      redis.disconnect()
      await dropKeys(prefix)
    }
  })
})

if (!url) describe('LogChannels › redis-streams', () => it('conformance', { skip }, () => {}))
