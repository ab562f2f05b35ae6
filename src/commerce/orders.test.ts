import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ORDER_STATUSES } from './model.ts'
import { canTransition, isRefundable, ORDER_TRANSITIONS, sourcesOf } from './orders.ts'

describe('order state machine', () => {
  it('follows ARCHITECTURE.md: pending → paid → shipped → delivered', () => {
    assert.ok(canTransition('pending', 'paid'))
    assert.ok(canTransition('paid', 'shipped'))
    assert.ok(canTransition('shipped', 'delivered'))
    assert.ok(!canTransition('pending', 'shipped'))
    assert.ok(!canTransition('delivered', 'paid'))
  })

  it('only pending or paid orders can be cancelled', () => {
    assert.deepEqual(sourcesOf('cancelled').sort(), ['paid', 'pending'])
  })

  it('paid, shipped and delivered orders can ask for a refund, which ends refunded or rejected', () => {
    assert.deepEqual(ORDER_STATUSES.filter(isRefundable).sort(), ['delivered', 'paid', 'shipped'])
    assert.deepEqual([...ORDER_TRANSITIONS.refund_requested].sort(), ['refund_rejected', 'refunded'])
  })

  it('final states have no way out', () => {
    for (const s of ['payment_failed', 'cancelled', 'refunded'] as const) assert.deepEqual(ORDER_TRANSITIONS[s], [])
  })

  it('every status appears in the table', () => {
    assert.deepEqual(Object.keys(ORDER_TRANSITIONS).sort(), [...ORDER_STATUSES].sort())
  })
})
