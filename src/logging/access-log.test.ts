import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify from 'fastify'
import pino from 'pino'
import { AccessLogController, accessLogSerializers } from './access-log.ts'
import { toEcs } from './ecs-record.ts'

describe('access log (Fastify + pino → ECS)', () => {
  it('writes one complete line per request, which toEcs turns into an access record', async () => {
    const lines: string[] = []
    const logger = pino({ serializers: accessLogSerializers }, { write: (line: string) => lines.push(line) })
    const app = Fastify({ loggerInstance: logger, logController: new AccessLogController() })
    app.get('/items/:id', async (req) => {
      req.log.info({ userId: 'usr_1', audit: 'item.viewed' }, 'viewed')
      return { ok: 'x'.repeat(100) }
    })
    await app.ready()
    const res = await app.inject({
      method: 'GET',
      url: '/items/7?full=1',
      headers: { 'user-agent': 'test-agent/1.0' },
    })
    assert.equal(res.statusCode, 200)
    await app.close()

    const records = lines.map((l) => toEcs(JSON.parse(l), { service: 'emporium' }))
    assert.deepEqual(
      records.map((r) => r.message),
      ['viewed', 'request completed'],
      'no "incoming request" line',
    )
    const [audit, access] = records
    assert.equal(audit?.http?.request?.id, access?.http?.request?.id, 'the request id ties them together')
    assert.equal(access?.http?.request?.method, 'GET')
    assert.equal(access?.http?.response?.status_code, 200)
    assert.equal(access?.http?.response?.body?.bytes, Buffer.byteLength(res.body))
    assert.deepEqual(access?.url, { path: '/items/7', query: 'full=1', route: '/items/:id' })
    assert.equal(access?.client?.ip, '127.0.0.1')
    assert.equal(access?.user_agent?.original, 'test-agent/1.0')
    assert.ok((access?.event.duration ?? 0) > 0, 'duration in ns')
  })
})
