import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ECS_LIMITS, levelOf, toEcs } from './ecs-record.ts'

const service = { service: 'emporium' }
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('toEcs', () => {
  it('maps pino levels, time and msg, and is born with a UUIDv7 event.id', () => {
    const r = toEcs({ level: 30, time: 1768478400000, pid: 42, hostname: 'web-1', msg: 'hello' }, service)
    assert.equal(r['@timestamp'], '2026-01-15T12:00:00.000Z')
    assert.equal(r.log.level, 'info')
    assert.equal(r.message, 'hello')
    assert.match(r.event.id, UUID_V7)
    assert.deepEqual(r.service, { name: 'emporium' })
    assert.deepEqual(r.host, { name: 'web-1' })
    assert.deepEqual(r.process, { pid: 42 })
    assert.equal(r.labels, undefined, 'pid and hostname are not labels')
    assert.notEqual(toEcs({ msg: 'x' }, service).event.id, toEcs({ msg: 'x' }, service).event.id)
  })

  it('keeps an event.id the record already has', () => {
    const id = '01936b2e-0000-7000-8000-000000000001'
    assert.equal(toEcs({ msg: 'x', event: { id } }, service).event.id, id)
  })

  it('maps every pino level number and label', () => {
    assert.deepEqual([10, 20, 30, 40, 50, 60, 35, 5, 70].map(levelOf), [
      'trace',
      'debug',
      'info',
      'warn',
      'error',
      'fatal',
      'info',
      'trace',
      'fatal',
    ])
    assert.deepEqual(['WARN', 'warning', 'error', 'nonsense', undefined].map(levelOf), [
      'warn',
      'warn',
      'error',
      'info',
      'info',
    ])
  })

  it('maps an ISO time and falls back to now for a missing or garbage one', () => {
    assert.equal(toEcs({ time: '2026-01-15T12:00:00Z' }, service)['@timestamp'], '2026-01-15T12:00:00.000Z')
    for (const time of [undefined, 'yesterday', Number.NaN, 1e20]) {
      const ts = Date.parse(toEcs({ time }, service)['@timestamp'])
      assert.ok(Math.abs(ts - Date.now()) < 5000, String(time))
    }
  })

  it('maps err (pino serializer shape) to error.*', () => {
    const r = toEcs(
      {
        level: 50,
        msg: 'request failed',
        err: { type: 'TypeError', message: 'x is undefined', stack: 'TypeError: x is undefined\n    at f', code: 'E1' },
      },
      service,
    )
    assert.deepEqual(r.error, {
      message: 'x is undefined',
      type: 'TypeError',
      stack_trace: 'TypeError: x is undefined\n    at f',
      code: 'E1',
    })
    assert.equal(toEcs({ err: { message: 'only a message' } }, service).message, 'only a message')
    assert.deepEqual(toEcs({ err: 'plain string' }, service).error, { message: 'plain string' })
  })

  it("maps Fastify's req, res, responseTime and reqId", () => {
    const r = toEcs(
      {
        level: 30,
        reqId: '01936b2e-aaaa-7000-8000-000000000002',
        req: {
          method: 'GET',
          url: '/api/v1/products?q=mug&page=2',
          route: '/api/v1/products',
          remoteAddress: '203.0.113.9',
          userAgent: 'Mozilla/5.0',
        },
        res: { statusCode: 200, bytes: 5120 },
        responseTime: 12.5,
        msg: 'request completed',
      },
      service,
    )
    assert.deepEqual(r.http, {
      request: { method: 'GET', id: '01936b2e-aaaa-7000-8000-000000000002' },
      response: { status_code: 200, body: { bytes: 5120 } },
    })
    assert.deepEqual(r.url, { path: '/api/v1/products', query: 'q=mug&page=2', route: '/api/v1/products' })
    assert.deepEqual(r.client, { ip: '203.0.113.9' })
    assert.deepEqual(r.user_agent, { original: 'Mozilla/5.0' })
    assert.equal(r.event.duration, 12_500_000)
    assert.equal(r.event.outcome, 'success')
    assert.deepEqual(r.trace, { id: '01936b2e-aaaa-7000-8000-000000000002' })
  })

  it("reads Fastify's default serializer shape too (no route, headers, content-length)", () => {
    const r = toEcs(
      {
        req: {
          method: 'POST',
          url: '/x',
          host: 'h',
          remoteAddress: '::1',
          remotePort: 5,
          headers: { 'user-agent': 'ua' },
        },
        res: { statusCode: 404, headers: { 'content-length': '17' } },
      },
      service,
    )
    assert.deepEqual(r.url, { path: '/x' })
    assert.equal(r.http?.response?.status_code, 404)
    assert.equal(r.http?.response?.body?.bytes, 17)
    assert.equal(r.event.outcome, 'failure')
    assert.equal(r.user_agent?.original, 'ua')
  })

  it('maps userId and the security/audit/business markers', () => {
    const login = toEcs({ userId: 'usr_1', audit: 'user.login', msg: 'signed in' }, service)
    assert.deepEqual(login.user, { id: 'usr_1' })
    assert.equal(login.event.category, 'audit')
    assert.equal(login.event.action, 'user.login')
    const failed = toEcs({ security: 'login.failed', code: 'EMP_INVALID_CREDENTIALS' }, service)
    assert.equal(failed.event.category, 'security')
    assert.equal(failed.event.action, 'login.failed')
    assert.equal(failed.event.outcome, 'failure')
    assert.deepEqual(failed.labels, { code: 'EMP_INVALID_CREDENTIALS' })
    const paid = toEcs({ business: 'order.paid', orderId: 'ord_1' }, service)
    assert.equal(paid.event.category, 'business')
    assert.deepEqual(paid.labels, { orderId: 'ord_1' })
    assert.equal(toEcs({ audit: 'a', security: 's' }, service).event.category, 'security', 'security is strongest')
  })

  it('takes a route logged beside a marker as url.route', () => {
    const r = toEcs({ security: 'rate_limited', route: '/api/v1/auth/login' }, service)
    assert.equal(r.url?.route, '/api/v1/auth/login')
    assert.equal(r.labels, undefined)
  })

  it('puts other fields in flat, primitive, bounded labels', () => {
    const many: Record<string, number> = {}
    for (let i = 0; i < 40; i++) many[`k${i}`] = i
    const r = toEcs(
      {
        orderId: 'ord_1',
        available: 3,
        ok: true,
        nothing: null,
        nested: { a: 1, b: { c: 'deep', d: { e: { f: 1 } } } },
        list: [1, 'two'],
        'weird key!': 'v',
        long: 'x'.repeat(5000),
        inf: Number.POSITIVE_INFINITY,
      },
      service,
    )
    assert.equal(r.labels?.orderId, 'ord_1')
    assert.equal(r.labels?.available, 3)
    assert.equal(r.labels?.ok, true)
    assert.equal('nothing' in (r.labels ?? {}), false)
    assert.equal(r.labels?.nested_a, 1)
    assert.equal(r.labels?.nested_b_c, 'deep')
    assert.equal(r.labels?.nested_b_d, '{"e":{"f":1}}')
    assert.equal(r.labels?.list, '[1,"two"]')
    assert.equal(r.labels?.weird_key_, 'v')
    assert.equal(String(r.labels?.long).length, ECS_LIMITS.labelValue + 1)
    assert.equal('inf' in (r.labels ?? {}), false)
    for (const v of Object.values(r.labels ?? {})) assert.ok(['string', 'number', 'boolean'].includes(typeof v))

    const crowded = toEcs(many, service)
    assert.equal(Object.keys(crowded.labels ?? {}).length, ECS_LIMITS.labels + 1)
    assert.equal(crowded.labels?.labels_dropped, 40 - ECS_LIMITS.labels)
  })

  it('bounds the message and never throws on odd values', () => {
    assert.equal(toEcs({ msg: 'm'.repeat(100_000) }, service).message.length, ECS_LIMITS.message + 1)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = [cyclic]
    const odd = toEcs(
      { msg: 42, level: 'x', req: 'not an object', res: [], err: null, big: 10n, fn: () => 1, cyclic },
      service,
    )
    assert.equal(odd.message, '42')
    assert.equal(odd.labels?.big, '10')
    assert.equal(odd.labels?.cyclic_self, '[unserializable]')
    assert.equal(odd.http, undefined)
  })
})
