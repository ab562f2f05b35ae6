// Without METRICS_PORT, `emporium start` serves /metrics on its own HTTP port: Prometheus text, never cached, and
// absent from the OpenAPI document.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { parseExposition, sampleValue } from '../support/prometheus.ts'
import { startTestShop, type TestShop } from '../support/test-shop.ts'

describe('/metrics on the shop port (METRICS_PORT unset)', () => {
  let shop: TestShop
  before(async () => {
    shop = await startTestShop()
  })
  after(() => shop?.stop())

  it('answers Prometheus text with the requests counted by route, uncached and hidden from the API docs', async () => {
    assert.equal(shop.started.metricsPort, null)
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${shop.api}/categories`)).status, 200)
    const r = await fetch(`${shop.url}/metrics`, { headers: { 'accept-encoding': 'gzip' } })
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    assert.equal(r.headers.get('cache-control'), 'no-store')
    const s = parseExposition(await r.text())
    const count = sampleValue(s, 'emporium_http_request_duration_seconds_count', {
      role: 'start',
      route: '/api/v1/categories',
      status_code: '200',
    })
    assert.equal(count, 3)
    const docs = (await (await fetch(`${shop.url}/docs/json`)).json()) as { paths: Record<string, unknown> }
    assert.ok(Object.keys(docs.paths).length > 10)
    assert.ok(!Object.keys(docs.paths).some((p) => p.includes('metrics')), Object.keys(docs.paths).join())
  })
})
