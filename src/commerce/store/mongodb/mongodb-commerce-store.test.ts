// Engine-free tests of the MongoDB adapter: connection-string parsing, search folding, and failing fast when nothing answers.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MongoClient } from 'mongodb'
import {
  databaseNameOf,
  escapeRegex,
  openMongoCommerceStore,
  searchTermsOf,
  searchWords,
} from './mongodb-commerce-store.ts'

const hasCode = (code: string) => (e: unknown) => (e as { code?: unknown })?.code === code

describe('databaseNameOf', () => {
  it('takes the path of the connection string, else emporium', () => {
    assert.equal(databaseNameOf('mongodb://127.0.0.1:27017/shop'), 'shop')
    assert.equal(databaseNameOf('mongodb://a:1,b:2,c:3/shop?replicaSet=rs0'), 'shop')
    assert.equal(databaseNameOf('mongodb+srv://user:pw@cluster.example.net/live?retryWrites=true'), 'live')
    assert.equal(databaseNameOf('mongodb://127.0.0.1:27017'), 'emporium')
    assert.equal(databaseNameOf('mongodb://127.0.0.1:27017/'), 'emporium')
    assert.equal(databaseNameOf('mongodb://127.0.0.1:27017/?directConnection=true'), 'emporium')
  })
})

describe('search folding', () => {
  it('lower-cases, strips diacritics and keeps letter and digit words only', () => {
    assert.deepEqual(searchWords('Café CRÈME, 2x "organic"* {$gt:""}'), ['cafe', 'creme', '2x', 'organic', 'gt'])
    assert.deepEqual(searchWords('   '), [])
    assert.deepEqual(searchWords('İstanbul'), ['istanbul'])
  })
  it('indexes the distinct words of name and description', () => {
    assert.deepEqual(searchTermsOf({ name: 'Blue Cotton Shirt', description: 'Soft cotton' }), [
      'blue',
      'cotton',
      'shirt',
      'soft',
    ])
  })
  it('escapes every regex metacharacter', () => {
    const hostile = ['.', '*', '+', '?', '^', '$', '{', '}', '(', ')', '|', '[', ']', '\\'].join('')
    assert.equal(new RegExp(`^${escapeRegex(hostile)}$`).test(hostile), true)
  })
})

describe('an unreachable MongoDB', () => {
  it('fails a call with EngineUnavailable within the server selection timeout', async () => {
    const client = new MongoClient('mongodb://127.0.0.1:1/emporium', { serverSelectionTimeoutMS: 300 })
    const store = await openMongoCommerceStore('mongodb://127.0.0.1:1/emporium', { client })
    const started = Date.now()
    await assert.rejects(store.ping(), hasCode('EMP_UNAVAILABLE'))
    await assert.rejects(store.getOrder('ord_1'), hasCode('EMP_UNAVAILABLE'))
    assert.ok(Date.now() - started < 3000)
    await store.close()
    await client.close()
  })
  it('refuses to open with EngineUnavailable after about 3 s', async () => {
    const started = Date.now()
    await assert.rejects(openMongoCommerceStore('mongodb://127.0.0.1:1/emporium'), hasCode('EMP_UNAVAILABLE'))
    assert.ok(Date.now() - started < 6000)
  })
  it('answers EngineUnavailable after close', async () => {
    const client = new MongoClient('mongodb://127.0.0.1:1/emporium', { serverSelectionTimeoutMS: 300 })
    const store = await openMongoCommerceStore('mongodb://127.0.0.1:1/emporium', { client })
    await store.close()
    await store.close()
    await assert.rejects(store.ping(), hasCode('EMP_UNAVAILABLE'))
    await client.close()
  })
})
