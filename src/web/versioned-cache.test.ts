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

  it('expires entries after the TTL and evicts the oldest beyond the bound', () => {
    const c = new VersionedCache(2, 100)
    c.get(1, 'x')
    c.set(1, 'a', 'A', 0)
    assert.equal(c.get(1, 'a', 50), 'A')
    assert.equal(c.get(1, 'a', 101), undefined)
    c.set(1, 'b', 'B', 200)
    c.set(1, 'c', 'C', 200)
    c.set(1, 'd', 'D', 200)
    assert.equal(c.get(1, 'b', 200), undefined, 'the oldest was evicted')
    assert.equal(c.get(1, 'd', 200), 'D')
  })
})
