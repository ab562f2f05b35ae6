// The SessionStore conformance suite: one battery of behaviour every session adapter must pass, opt-outs recorded as data.

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Capabilities, conformanceAreas } from '../../testing/conformance.ts'
import type { SessionData, SessionStore } from './session-store.ts'

export interface SessionStoreHarness {
  name: string
  /** A fresh, empty, migrated store per test. */
  create: () => Promise<SessionStore>
  /** Idempotent. */
  cleanup: (s: SessionStore) => Promise<void>
  capabilities?: Capabilities
}

/** A session id as the web tier stores it: the SHA-256 (hex) of the cookie's secret. */
export const makeSessionId = (): string => randomBytes(32).toString('hex')

export const makeSessionData = (overrides: Partial<SessionData> = {}): SessionData => ({
  userId: null,
  csrfToken: randomBytes(32).toString('base64url'),
  cartId: null,
  createdAt: '2026-01-15T12:00:00.000Z',
  ...overrides,
})

const LONG = 60_000

export function describeSessionStoreConformance(h: SessionStoreHarness): void {
  const { area, describeCapabilityCheck } = conformanceAreas(h.capabilities)

  describe(`SessionStore › ${h.name}`, () => {
    let store: SessionStore
    beforeEach(async () => {
      store = await h.create()
    })
    afterEach(async () => {
      if (store) await h.cleanup(store)
    })

    area('lifecycle', (test) => {
      test('kind names the adapter', async () => {
        assert.equal(typeof store.kind, 'string')
        assert.ok(store.kind.length > 0)
      })
      test('ping resolves', async () => {
        await store.ping()
      })
      test('migrate twice is safe and keeps data', async () => {
        const id = makeSessionId()
        const data = makeSessionData()
        await store.set(id, data, LONG)
        await store.migrate()
        await store.migrate()
        assert.deepEqual(await store.get(id), data)
      })
    })

    area('get and set', (test) => {
      test('get of an unknown id is null', async () => {
        assert.equal(await store.get(makeSessionId()), null)
      })
      test('data round-trips', async () => {
        const id = makeSessionId()
        const data = makeSessionData({ userId: 'usr_1', cartId: 'crt_1' })
        await store.set(id, data, LONG)
        assert.deepEqual(await store.get(id), data)
      })
      test('flash messages round-trip', async () => {
        const id = makeSessionId()
        const data = makeSessionData({
          flash: [
            { kind: 'info', text: 'Added to cart' },
            { kind: 'error', text: 'Coupon "X" ünknown <b>' },
          ],
        })
        await store.set(id, data, LONG)
        assert.deepEqual(await store.get(id), data)
      })
      test('set overwrites', async () => {
        const id = makeSessionId()
        await store.set(id, makeSessionData({ flash: [{ kind: 'info', text: 'old' }] }), LONG)
        const next = makeSessionData({ userId: 'usr_2', cartId: 'crt_2' })
        await store.set(id, next, LONG)
        assert.deepEqual(await store.get(id), next)
      })
      test('sessions are independent', async () => {
        const a = makeSessionId()
        const b = makeSessionId()
        const da = makeSessionData({ userId: 'usr_a' })
        const db = makeSessionData({ userId: 'usr_b' })
        await store.set(a, da, LONG)
        await store.set(b, db, LONG)
        assert.deepEqual(await store.get(a), da)
        assert.deepEqual(await store.get(b), db)
      })
    })

    area('expiry', (test) => {
      test('a session expires ttl after set', async () => {
        const id = makeSessionId()
        const data = makeSessionData()
        await store.set(id, data, 200)
        assert.deepEqual(await store.get(id), data)
        await sleep(600)
        assert.equal(await store.get(id), null)
      })
      test('set restarts the ttl', async () => {
        const id = makeSessionId()
        await store.set(id, makeSessionData(), 150)
        const data = makeSessionData({ userId: 'usr_1' })
        await store.set(id, data, LONG)
        await sleep(500)
        assert.deepEqual(await store.get(id), data)
      })
      test('an expired session can be set again', async () => {
        const id = makeSessionId()
        await store.set(id, makeSessionData(), 150)
        await sleep(450)
        const data = makeSessionData({ userId: 'usr_again' })
        await store.set(id, data, LONG)
        assert.deepEqual(await store.get(id), data)
      })
    })

    area('touch', (test) => {
      test('pushes the expiry without rewriting the data', async () => {
        const id = makeSessionId()
        const data = makeSessionData({ userId: 'usr_1', flash: [{ kind: 'info', text: 'hi' }] })
        await store.set(id, data, 300)
        assert.equal(await store.touch(id, LONG), true)
        await sleep(700)
        assert.deepEqual(await store.get(id), data)
      })
      test('can shorten the expiry', async () => {
        const id = makeSessionId()
        await store.set(id, makeSessionData(), LONG)
        assert.equal(await store.touch(id, 150), true)
        await sleep(550)
        assert.equal(await store.get(id), null)
      })
      test('false for an unknown session', async () => {
        const id = makeSessionId()
        assert.equal(await store.touch(id, LONG), false)
        assert.equal(await store.get(id), null)
      })
      test('false for an expired session, which stays gone', async () => {
        const id = makeSessionId()
        await store.set(id, makeSessionData(), 150)
        await sleep(500)
        assert.equal(await store.touch(id, LONG), false)
        assert.equal(await store.get(id), null)
      })
    })

    area('destroy', (test) => {
      test('destroy removes the session', async () => {
        const id = makeSessionId()
        const keep = makeSessionId()
        await store.set(id, makeSessionData(), LONG)
        await store.set(keep, makeSessionData(), LONG)
        await store.destroy(id)
        assert.equal(await store.get(id), null)
        assert.equal(await store.touch(id, LONG), false)
        assert.notEqual(await store.get(keep), null)
        await store.destroy(id)
        await store.destroy(makeSessionId())
      })
      test('destroyByUser ends every session of the user', async () => {
        const mine = [makeSessionId(), makeSessionId(), makeSessionId()]
        const theirs = makeSessionId()
        const anonymous = makeSessionId()
        for (const id of mine) await store.set(id, makeSessionData({ userId: 'usr_1' }), LONG)
        await store.set(theirs, makeSessionData({ userId: 'usr_2' }), LONG)
        await store.set(anonymous, makeSessionData({ userId: null }), LONG)
        assert.equal(await store.destroyByUser('usr_1'), 3)
        for (const id of mine) assert.equal(await store.get(id), null)
        assert.equal((await store.get(theirs))?.userId, 'usr_2')
        assert.notEqual(await store.get(anonymous), null)
        assert.equal(await store.destroyByUser('usr_1'), 0)
        assert.equal(await store.destroyByUser('usr_nobody'), 0)
      })
      test('destroyByUser keeps the excepted session', async () => {
        const current = makeSessionId()
        const others = [makeSessionId(), makeSessionId()]
        const data = makeSessionData({ userId: 'usr_1' })
        await store.set(current, data, LONG)
        for (const id of others) await store.set(id, makeSessionData({ userId: 'usr_1' }), LONG)
        assert.equal(await store.destroyByUser('usr_1', current), 2)
        assert.deepEqual(await store.get(current), data)
        for (const id of others) assert.equal(await store.get(id), null)
        assert.equal(await store.destroyByUser('usr_1', current), 0)
      })
      test('destroyByUser follows a session that changed user', async () => {
        const id = makeSessionId()
        await store.set(id, makeSessionData({ userId: 'usr_1' }), LONG)
        const data = makeSessionData({ userId: 'usr_2' })
        await store.set(id, data, LONG)
        assert.equal(await store.destroyByUser('usr_1'), 0)
        assert.deepEqual(await store.get(id), data)
        assert.equal(await store.destroyByUser('usr_2'), 1)
        assert.equal(await store.get(id), null)
      })
      test('destroyByUser does not count sessions destroyed one by one', async () => {
        const a = makeSessionId()
        const b = makeSessionId()
        await store.set(a, makeSessionData({ userId: 'usr_1' }), LONG)
        await store.set(b, makeSessionData({ userId: 'usr_1' }), LONG)
        await store.destroy(a)
        assert.equal(await store.destroyByUser('usr_1'), 1)
      })
    })

    area('prune', (test) => {
      test('removes expired sessions and keeps live ones', async () => {
        const dead = makeSessionId()
        const live = makeSessionId()
        const data = makeSessionData({ userId: 'usr_1' })
        await store.set(dead, makeSessionData({ userId: 'usr_1' }), 100)
        await store.set(live, data, LONG)
        await sleep(400)
        const pruned = await store.prune()
        assert.ok(pruned === 0 || pruned === 1, `prune returned ${pruned}; expected 1 (or 0 with native expiry)`)
        assert.equal(await store.get(dead), null)
        assert.deepEqual(await store.get(live), data)
        assert.equal(await store.prune(), 0)
      })
      test('prune of an empty store is 0', async () => {
        assert.equal(await store.prune(), 0)
      })
    })

    describeCapabilityCheck()
  })
}
