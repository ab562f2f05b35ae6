import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { EcsRecord } from './ecs.ts'
import { createAppLogger } from './logger.ts'

describe('createAppLogger', () => {
  it('logs through the shipper as ECS, honouring level and pino redact paths', async () => {
    const batches: EcsRecord[][] = []
    const app = createAppLogger({
      level: 'info',
      service: 'emporium',
      serviceVersion: '0.1.0',
      redact: ['req.headers.authorization'],
      stdout: false,
      send: async (batch) => {
        batches.push(batch)
      },
    })
    app.logger.debug('not at this level')
    app.logger.info({ business: 'order.paid', orderId: 'ord_1', userId: 'usr_1' }, 'order paid')
    app.logger.warn({ req: { headers: { authorization: 'Bearer x' } } }, 'odd request')
    await app.close()
    await app.close()
    const records = batches.flat()
    assert.deepEqual(
      records.map((r) => r.message),
      ['order paid', 'odd request'],
    )
    assert.deepEqual(records[0]?.service, { name: 'emporium', version: '0.1.0' })
    assert.equal(records[0]?.event.category, 'business')
    assert.deepEqual(records[0]?.labels, { orderId: 'ord_1' })
    assert.equal(JSON.stringify(records[1]).includes('Bearer x'), false)
  })
})
