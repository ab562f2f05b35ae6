import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import pino from 'pino'
import { registerErrorHandling } from '../web/plugins/errors.ts'
import { AccessLogController, accessLogSerializers } from './access-log.ts'
import { classify } from './classify.ts'
import type { EcsRecord } from './ecs.ts'
import { toEcs } from './ecs-record.ts'
import { createAppLogger } from './logger.ts'

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

  it('with a shipping logger, access records go straight to the shipper: the same record, the user id, a stdout copy', async () => {
    const shipped: EcsRecord[] = []
    const app = createAppLogger({
      level: 'info',
      stdout: false,
      service: 'emporium',
      flushIntervalMs: 1,
      send: async (batch) => {
        shipped.push(...batch)
      },
    })
    const server = Fastify({ loggerInstance: app.logger, logController: new AccessLogController() })
    server.addHook('onRequest', async (req) => {
      ;(req as unknown as { user: { id: string } }).user = { id: 'usr_42' }
    })
    server.get('/items/:id', async () => ({ ok: 'y'.repeat(50) }))
    await server.ready()
    const res = await server.inject({ method: 'GET', url: '/items/9?x=1', headers: { 'user-agent': 'direct/2.0' } })
    await server.close()
    await app.close()
    assert.equal(app.shipper.stats().lines, 1)
    assert.equal(shipped.length, 1)
    const access = shipped[0] as EcsRecord
    assert.equal(access.message, 'request completed')
    assert.equal(access.http?.request?.method, 'GET')
    assert.ok(access.http?.request?.id && access.trace?.id === access.http.request.id, 'request id and trace id')
    assert.equal(access.http?.response?.status_code, 200)
    assert.equal(access.http?.response?.body?.bytes, Buffer.byteLength(res.body))
    assert.deepEqual(access.url, { path: '/items/9', query: 'x=1', route: '/items/:id' })
    assert.equal(access.user?.id, 'usr_42')
    assert.equal(access.user_agent?.original, 'direct/2.0')
    assert.equal(access.process?.pid, process.pid)
    assert.ok(access.host?.name)
    assert.ok((access.event.duration ?? 0) > 0)
  })

  it('a request that fails with a 500 is one error record: status, route, message and stack together', async () => {
    const lines: string[] = []
    const logger = pino({ serializers: accessLogSerializers }, { write: (line: string) => lines.push(line) })
    const app = Fastify({ loggerInstance: logger, logController: new AccessLogController() })
    registerErrorHandling(app as unknown as FastifyInstance, { bodyLimit: 1024, accountLockSeconds: 60 })
    app.get('/boom/:id', async () => {
      throw new Error('disk read timed out')
    })
    const res = await app.inject({ url: '/boom/1' })
    assert.equal(res.statusCode, 500)
    assert.doesNotMatch(res.body, /disk read/, 'the client is not told the internal error')
    await app.close()
    const records = lines.map((l) => toEcs(JSON.parse(l), { service: 'emporium' }))
    assert.equal(records.length, 1, 'one record, not an error line beside the access line')
    const [r] = records
    assert.equal(r?.log.level, 'error')
    assert.equal(r?.http?.response?.status_code, 500)
    assert.equal(r?.url?.route, '/boom/:id')
    assert.equal(r?.error?.message, 'disk read timed out')
    assert.match(r?.error?.stack_trace ?? '', /access-log\.test\.ts/)
    assert.equal(classify(r!), 'error')
  })

  it('a shipping logger above info writes no access record', async () => {
    const app = createAppLogger({ level: 'warn', stdout: false, service: 'emporium', send: async () => {} })
    const server = Fastify({ loggerInstance: app.logger, logController: new AccessLogController() })
    server.get('/', async () => 'ok')
    await server.inject({ url: '/' })
    await server.close()
    await app.close()
    assert.equal(app.shipper.stats().lines, 0)
  })
})
