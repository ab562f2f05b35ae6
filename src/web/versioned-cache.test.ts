import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { VersionedCache } from './versioned-cache.ts'

describe('VersionedCache', () => {
  it('serves an entry until the version moves', () => {
    const c = new VersionedCache()
    assert.equal(c.get(1, 'a'), undefined)
    c.set(1, 'a', 'A')
    assert.equal(c.get(1, 'a'), 'A')
    assert.equal(c.get(2, 'a'), undefined, 'a new version empties the cache')
    c.set(1, 'a', 'stale')
    assert.equal(c.get(2, 'a'), undefined, 'a write for an old version is dropped')
  })

  it('expires entries after the TTL and evicts the oldest beyond the byte bound', () => {
    const c = new VersionedCache(12, 100)
    c.get(1, 'x')
    c.set(1, 'a', 'AAA', 0)
    assert.equal(c.get(1, 'a', 50), 'AAA')
    assert.equal(c.get(1, 'a', 101), undefined)
    for (const k of ['b', 'c', 'd', 'e']) c.set(1, k, k.repeat(3), 200)
    assert.equal(c.get(1, 'a', 200), undefined, 'the oldest was evicted')
    assert.equal(c.get(1, 'e', 200), 'eee')
    assert.deepEqual(c.size, { entries: 4, bytes: 12 })
    c.set(1, 'huge', 'x'.repeat(4), 200)
    assert.equal(c.get(1, 'huge', 200), undefined, 'an entry over a quarter of the bound is not cached')
  })
})

describe('VersionedCache of bytes', () => {
  it('bounds by byte length, not character count', () => {
    const c = new VersionedCache<Buffer>(40)
    c.get(1, 'x')
    c.set(1, 'a', Buffer.from('éééé')) // 4 characters, 8 bytes
    for (const k of ['b', 'c', 'd']) c.set(1, k, Buffer.from(k.repeat(10)))
    assert.deepEqual(c.size, { entries: 4, bytes: 38 })
    c.set(1, 'e', Buffer.from('e'.repeat(10)))
    assert.equal(c.get(1, 'a'), undefined, 'the oldest went to stay within 40 bytes')
    assert.equal(c.get(1, 'e')?.toString(), 'eeeeeeeeee')
    assert.deepEqual(c.size, { entries: 4, bytes: 40 })
    c.set(1, 'f', Buffer.from('ü'.repeat(6)))
    assert.equal(c.get(1, 'f'), undefined, '12 bytes is over a quarter of the bound, though 6 characters')
  })
})
