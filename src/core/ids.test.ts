import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { newEventId, newId, randomSecret, uuidv7 } from './ids.ts'

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('ids', () => {
  it('makes RFC 9562 UUIDv7s that are unique and increase, across many refills of the random pool', () => {
    const n = 20_000 // the pool holds 1,024 words: this crosses dozens of refills
    const ids = Array.from({ length: n }, () => uuidv7())
    for (const id of ids) assert.match(id, V7)
    assert.equal(new Set(ids).size, n)
    for (let i = 1; i < n; i++)
      assert.ok((ids[i] as string) > (ids[i - 1] as string), `id ${i} is not above id ${i - 1}`)
  })

  it('puts the current time in the first 48 bits', () => {
    const before = Date.now()
    const id = newEventId()
    const after = Date.now()
    const ms = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)
    assert.ok(ms >= before && ms <= after, `${ms} not within ${before}..${after}`)
  })

  it('prefixes typed ids and keeps them free of dashes', () => {
    assert.match(newId('ord'), /^ord_[0-9a-f]{32}$/)
  })

  it('draws the random part afresh: no two ids share their random tail', () => {
    const tails = new Set(Array.from({ length: 5000 }, () => uuidv7().slice(24)))
    assert.equal(tails.size, 5000)
  })

  it('makes unguessable secrets of the asked size', () => {
    assert.equal(Buffer.from(randomSecret(), 'base64url').length, 32)
    assert.notEqual(randomSecret(16), randomSecret(16))
  })
})
