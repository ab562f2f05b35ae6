import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { EngineUnavailable } from '../../../core/errors.ts'
import { dropRedisKeys } from '../../../testing/redis.ts'
import { tcpProxy } from '../../../testing/tcp-proxy.ts'
import { describeSessionStoreConformance, makeSessionData, makeSessionId } from '../session-store.conformance.ts'
import { openRedisSessionStore, type RedisSessionStore } from './redis-session-store.ts'

const url = process.env.REDIS_URL
const skip = url ? false : 'REDIS_URL is not set; run `eval "$(npm run -s stack:env)"` with the stack up'
const uniquePrefix = () => `emporium-test:sess:${randomUUID()}:`

const dropKeys = (prefix: string) => dropRedisKeys(url as string, prefix)

if (url) {
  describeSessionStoreConformance({
    name: 'redis',
    create: async () => {
      const store = openRedisSessionStore(url, { prefix: uniquePrefix() })
      await store.migrate()
      return store
    },
    cleanup: async (s) => {
      await s.close()
      await dropKeys((s as RedisSessionStore).prefix)
    },
  })
}

const redisProxy = (target: URL) => tcpProxy(target)

describe('SessionStore › redis › engine behaviour', { skip }, () => {
  it('ping fails fast with EngineUnavailable when Redis is unreachable', async () => {
    const store = openRedisSessionStore('redis://127.0.0.1:1', { prefix: uniquePrefix() })
    try {
      const t0 = performance.now()
      await assert.rejects(() => store.ping(), EngineUnavailable)
      await assert.rejects(() => store.get(makeSessionId()), EngineUnavailable)
      assert.ok(performance.now() - t0 < 3000, `took ${(performance.now() - t0).toFixed(0)} ms`)
    } finally {
      await store.close()
    }
  })

  it('fails fast during an outage and reconnects by itself when Redis is back', async () => {
    const proxy = redisProxy(new URL(url!))
    const port = await proxy.start(0)
    const prefix = uniquePrefix()
    const store = openRedisSessionStore(`redis://127.0.0.1:${port}`, { prefix })
    try {
      const id = makeSessionId()
      const data = makeSessionData({ userId: 'usr_1' })
      await store.set(id, data, 60_000)
      await proxy.stop()
      await sleep(50)
      const t0 = performance.now()
      await assert.rejects(() => store.ping(), EngineUnavailable)
      await assert.rejects(() => store.get(id), EngineUnavailable)
      assert.ok(performance.now() - t0 < 3000, `failing took ${(performance.now() - t0).toFixed(0)} ms`)
      await proxy.start(port)
      const deadline = Date.now() + 8000
      for (;;) {
        try {
          await store.ping()
          break
        } catch (error) {
          assert.ok(error instanceof EngineUnavailable)
          if (Date.now() > deadline) throw new Error('the store did not reconnect within 8 s')
          await sleep(100)
        }
      }
      assert.deepEqual(await store.get(id), data)
    } finally {
      await store.close()
      await proxy.stop()
      await dropKeys(prefix)
    }
  })

  it('sessions and user indexes expire natively, leaving no keys behind', async () => {
    const prefix = uniquePrefix()
    const store = openRedisSessionStore(url!, { prefix })
    const redis = new Redis(url!)
    try {
      const id = makeSessionId()
      await store.set(id, makeSessionData({ userId: 'usr_1' }), 150)
      assert.ok((await redis.pttl(`${prefix}u:usr_1`)) > 0, 'the user index has no expiry')
      assert.equal(await store.touch(id, 400), true)
      assert.ok((await redis.pttl(`${prefix}u:usr_1`)) > 250, 'touch did not extend the user index')
      await sleep(700)
      assert.deepEqual(await redis.keys(`${prefix}*`), [])
    } finally {
      redis.disconnect()
      await store.close()
      await dropKeys(prefix)
    }
  })

  it('a passed client is left open on close', async () => {
    const redis = new Redis(url!)
    try {
      const store = openRedisSessionStore(redis, { prefix: uniquePrefix() })
      await store.ping()
      await store.close()
      await assert.rejects(() => store.ping(), EngineUnavailable)
      assert.equal(await redis.ping(), 'PONG')
    } finally {
      redis.disconnect()
    }
  })
})

if (!url) describe('SessionStore › redis', () => it('conformance', { skip }, () => {}))
