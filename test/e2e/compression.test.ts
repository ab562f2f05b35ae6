// Cached API bodies in the encoding the client asks for: br or gzip made once per cached body, identity otherwise.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { startTestShop, type TestShop } from '../support/test-shop.ts'

interface Raw {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** node:http, not fetch: fetch asks for gzip itself and hides what came over the wire. */
function get(url: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

describe('API response encodings (embedded shop)', () => {
  let shop: TestShop
  let list: string
  before(async () => {
    shop = await startTestShop()
    list = `${shop.api}/products?limit=24`
  })
  after(async () => {
    await shop?.stop()
  })

  it('sends the product list as br to a browser, as gzip to a gzip-only client, as is to others: the same JSON', async () => {
    const plain = await get(list)
    assert.equal(plain.status, 200)
    assert.equal(plain.headers['content-encoding'], undefined)
    assert.equal(plain.headers.vary, 'accept-encoding')
    const json = JSON.parse(plain.body.toString('utf8'))
    assert.equal(json.items.length, 24)
    assert.ok(plain.body.length > 10_000, 'the list is large enough to be worth compressing')

    const br = await get(list, { 'accept-encoding': 'gzip, deflate, br, zstd' })
    assert.equal(br.status, 200)
    assert.equal(br.headers['content-encoding'], 'br')
    assert.match(String(br.headers.vary), /accept-encoding/i)
    assert.ok(br.body.length < plain.body.length / 3, `br ${br.body.length} B vs ${plain.body.length} B`)
    assert.deepEqual(JSON.parse(brotliDecompressSync(br.body).toString('utf8')), json)
    assert.equal(Number(br.headers['content-length']), br.body.length, 'one cached buffer, sized, not a stream')

    const gz = await get(list, { 'accept-encoding': 'gzip' })
    assert.equal(gz.headers['content-encoding'], 'gzip')
    assert.deepEqual(JSON.parse(gunzipSync(gz.body).toString('utf8')), json)

    const again = await get(list, { 'accept-encoding': 'br' })
    assert.deepEqual(again.body, br.body, 'the second br answer is the same cached bytes')
  })

  it('honours q-values: br;q=0 gets gzip, everything refused gets identity, an unknown coding gets identity', async () => {
    assert.equal((await get(list, { 'accept-encoding': 'br;q=0, gzip' })).headers['content-encoding'], 'gzip')
    const none = await get(list, { 'accept-encoding': 'br;q=0, gzip;q=0' })
    assert.equal(none.headers['content-encoding'], undefined)
    assert.equal(JSON.parse(none.body.toString('utf8')).items.length, 24)
    assert.equal((await get(list, { 'accept-encoding': 'compress' })).headers['content-encoding'], undefined)
    assert.equal((await get(list, { 'accept-encoding': 'identity' })).headers['content-encoding'], undefined)
  })

  it('a catalog change is served fresh in every encoding', async () => {
    const before = JSON.parse(brotliDecompressSync((await get(list, { 'accept-encoding': 'br' })).body).toString())
    const first = before.items[0]
    const admin = await shop.admin()
    const sku = first.variants[0].sku
    const set = await admin.put(`/admin/inventory/${sku}`, { available: 4321 })
    assert.equal(set.status, 200)
    for (const enc of ['br', 'gzip', 'identity']) {
      const r = await get(list, { 'accept-encoding': enc })
      const body =
        enc === 'br' ? brotliDecompressSync(r.body) : enc === 'gzip' ? gunzipSync(r.body) : (r.body as Buffer)
      const item = JSON.parse(body.toString()).items.find((p: { slug: string }) => p.slug === first.slug)
      assert.equal(item.variants[0].available, 4321, `${enc} shows the new stock`)
    }
  })

  it('pages and uncached JSON are compressed per response for clients that accept it, and sent as is to others', async () => {
    const plain = await get(`${shop.url}/`)
    assert.equal(plain.status, 200)
    assert.equal(plain.headers['content-encoding'], undefined)
    const page = plain.body.toString('utf8')
    assert.match(page, /^<!doctype html>/i)
    // Made per request: gzip (level 1) is preferred, being the cheaper of the two at the same size.
    const gz = await get(`${shop.url}/`, { 'accept-encoding': 'gzip, deflate, br, zstd' })
    assert.equal(gz.headers['content-encoding'], 'gzip')
    assert.equal(Number(gz.headers['content-length']), gz.body.length)
    const html = gunzipSync(gz.body).toString('utf8')
    assert.match(html, /^<!doctype html>/i)
    assert.ok(Math.abs(html.length - page.length) < 200, 'the same page (tokens aside)')
    const br = await get(`${shop.url}/`, { 'accept-encoding': 'br' })
    assert.equal(br.headers['content-encoding'], 'br')
    assert.match(brotliDecompressSync(br.body).toString('utf8'), /^<!doctype html>/i)
    assert.equal(
      (await get(`${shop.url}/`, { 'accept-encoding': 'gzip;q=0.5, br' })).headers['content-encoding'],
      'br',
      'q-values first',
    )

    const docsPlain = await get(`${shop.url}/docs/json`)
    const docs = await get(`${shop.url}/docs/json`, { 'accept-encoding': 'br' })
    assert.equal(docs.headers['content-encoding'], 'br')
    assert.deepEqual(JSON.parse(brotliDecompressSync(docs.body).toString()), JSON.parse(docsPlain.body.toString()))
  })

  it('a small body (one product) goes out as is, whatever the client accepts', async () => {
    const plain = JSON.parse((await get(list)).body.toString())
    const one = await get(`${shop.api}/products/${plain.items[0].slug}`, { 'accept-encoding': 'br' })
    assert.equal(one.status, 200)
    assert.ok(one.body.length < 1024, `a demo product is ${one.body.length} B`)
    assert.equal(one.headers['content-encoding'], undefined)
    assert.equal(JSON.parse(one.body.toString()).slug, plain.items[0].slug)
  })
})
