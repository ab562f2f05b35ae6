import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { classify } from './classify.ts'
import type { EcsRecord } from './ecs.ts'
import { toEcs } from './ecs-record.ts'

const from = (pino: Record<string, unknown>): EcsRecord => toEcs({ level: 30, ...pino }, { service: 'emporium' })
const completed = (status: number, extra: Record<string, unknown> = {}) =>
  from({ reqId: 'r1', req: { method: 'GET', url: '/x' }, res: { statusCode: status }, responseTime: 1, ...extra })

describe('classify', () => {
  it('error: level error or fatal, or any error.* field', () => {
    assert.equal(classify(from({ level: 50, msg: 'request failed' })), 'error')
    assert.equal(classify(from({ level: 60, msg: 'crash' })), 'error')
    assert.equal(classify(from({ level: 40, err: { message: 'queue problem' } })), 'error')
    assert.equal(classify(completed(500, { level: 50, err: { message: 'boom' } })), 'error')
    assert.equal(classify(from({ level: 50, security: 'login.failed' })), 'error', 'an error outranks a marker')
  })

  it('security: markers, 401/403/429, CSRF rejections, failed logins', () => {
    assert.equal(classify(from({ level: 40, security: 'rate_limited', route: '/api/v1/auth/login' })), 'security')
    assert.equal(classify(from({ level: 40, security: 'login.failed', code: 'EMP_INVALID_CREDENTIALS' })), 'security')
    assert.equal(classify(completed(401)), 'security')
    assert.equal(classify(completed(403)), 'security')
    assert.equal(classify(completed(429)), 'security')
    assert.equal(classify(from({ code: 'EMP_CSRF', msg: 'request refused' })), 'security')
    assert.equal(classify(from({ code: 'EMP_ACCOUNT_LOCKED', msg: 'request refused' })), 'security')
    assert.equal(classify(from({ audit: 'user.login_failed' })), 'security', 'a failed login under another marker')
  })

  it('audit and business markers', () => {
    assert.equal(classify(from({ userId: 'usr_1', audit: 'user.login' })), 'audit')
    assert.equal(classify(from({ userId: 'usr_1', audit: 'product.deleted', reqId: 'r1' })), 'audit')
    assert.equal(classify(from({ userId: 'usr_1', orderId: 'ord_1', business: 'order.paid' })), 'business')
  })

  it('access: request-completed lines with an HTTP status', () => {
    assert.equal(classify(completed(200)), 'access')
    assert.equal(classify(completed(404)), 'access')
    assert.equal(classify(completed(409)), 'access')
    assert.equal(
      classify(from({ reqId: 'r1', res: { statusCode: 204 }, responseTime: 1 })),
      'access',
      "Fastify's default line",
    )
  })

  it('app: everything else, including request-scoped lines without a status', () => {
    assert.equal(classify(from({ msg: 'Emporium is serving' })), 'app')
    assert.equal(classify(from({ reqId: 'r1', msg: 'cache miss' })), 'app')
    assert.equal(classify(from({ code: 'EMP_VALIDATION', msg: 'request refused' })), 'app')
    assert.equal(classify(from({ level: 40, msg: 'slow query' })), 'app')
  })
})
