// Orders as analytics records: exact money splits, paid and refund times, refund-line ids, and the cancel refund.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Order, OrderLine, Refund } from '../commerce/model.ts'
import {
  allocate,
  CategorySlugs,
  moneyBackOf,
  orderLineFacts,
  orderPaidEvent,
  paymentFailedEvent,
  refundEvent,
  refundLineFacts,
} from './facts.ts'

const line = (sku: string, unitPrice: number, quantity: number, categoryId = 'cat_a'): OrderLine => ({
  sku,
  productId: `prd_${sku}`,
  productSlug: sku,
  categoryId,
  name: sku,
  variantName: 'One',
  quantity,
  unitPrice,
  lineTotal: unitPrice * quantity,
})

/** Three lines, 10 % coupon, 8 % tax, shipping: subtotal 10,000, discount 1,000, tax 720, shipping 599, total 10,319. */
function order(extra: Partial<Order> = {}): Order {
  return {
    id: 'ord_1',
    userId: 'usr_1',
    status: 'paid',
    idempotencyKey: 'key-00001',
    lines: [line('mug', 1999, 2, 'cat_kitchen'), line('tee', 3001, 1, 'cat_apparel'), line('cap', 1000, 3)],
    currency: 'USD',
    subtotal: 10_000,
    discount: 1000,
    shipping: 599,
    tax: 720,
    total: 10_319,
    couponCode: 'WELCOME10',
    shippingAddress: { name: 'A', line1: 'x', city: 'y', postalCode: '10115', country: 'DE' },
    payment: { chargeId: 'ch_1', status: 'succeeded', last4: '4242', brand: 'visa', amount: 10_319 },
    failureReason: null,
    history: [
      { from: null, to: 'pending', at: '2026-03-01T23:59:59.000Z', actor: 'usr_1', reason: 'checkout started' },
      { from: 'pending', to: 'paid', at: '2026-03-02T00:00:01.000Z', actor: 'usr_1', reason: 'payment captured' },
    ],
    channel: 'api',
    createdAt: '2026-03-01T23:59:59.000Z',
    updatedAt: '2026-03-02T00:00:01.000Z',
    ...extra,
  }
}

const slugs = (id: string) => ({ cat_kitchen: 'kitchen', cat_apparel: 'apparel' })[id] ?? id
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

describe('allocate', () => {
  it('splits in proportion, whole units that add up exactly, remainders to the largest fractions', () => {
    assert.deepEqual(allocate(100, [1, 1, 1]), [34, 33, 33])
    assert.deepEqual(allocate(10, [3, 3, 4]), [3, 3, 4])
    assert.deepEqual(allocate(10_319, [3998, 3001, 3000]), [4126, 3097, 3096])
    assert.deepEqual(allocate(0, [5, 7]), [0, 0])
    assert.deepEqual(allocate(5, [0, 0]), [3, 2], 'all-zero weights split evenly')
    assert.deepEqual(allocate(7, [0, 2]), [0, 7])
  })

  it('is exact for large amounts and many lines (no float drift)', () => {
    const weights = Array.from({ length: 97 }, (_, i) => 99_999_999 * ((i % 7) + 1))
    for (const total of [1, 999_999_937, 9_007_199_254_740_991]) {
      const parts = allocate(total, weights)
      assert.equal(
        parts.reduce((a, b) => BigInt(a) + BigInt(b), 0n),
        BigInt(total),
      )
      assert.ok(parts.every((p) => Number.isSafeInteger(p) && p >= 0))
    }
  })

  it('refuses what cannot be split', () => {
    assert.throws(() => allocate(-1, [1]), RangeError)
    assert.throws(() => allocate(1.5, [1]), RangeError)
    assert.throws(() => allocate(1, []), RangeError)
    assert.throws(() => allocate(1, [-1, 2]), RangeError)
  })
})

describe('order facts', () => {
  it('order lines carry the order total split by line totals, to the cent, with the order dimensions', () => {
    const facts = orderLineFacts(order(), slugs, 'sess-1')
    assert.deepEqual(
      facts.map((f) => [f.id, f.productId, f.category, f.quantity, f.revenue]),
      [
        ['ord_1:1', 'prd_mug', 'kitchen', 2, 4126],
        ['ord_1:2', 'prd_tee', 'apparel', 1, 3097],
        ['ord_1:3', 'prd_cap', 'cat_a', 3, 3096],
      ],
    )
    assert.equal(sum(facts.map((f) => f.revenue)), 10_319)
    for (const f of facts) {
      assert.equal(f.paidAt, '2026-03-02T00:00:01.000Z', 'the time it was paid, not placed')
      assert.equal(f.country, 'DE')
      assert.equal(f.coupon, 'WELCOME10')
      assert.equal(f.channel, 'api')
      assert.equal(f.customerId, 'usr_1')
      assert.equal(f.sessionId, 'sess-1')
    }
  })

  it('an order never paid has no lines and no order_paid event; a failed one has payment_failed', () => {
    const failed = order({
      status: 'payment_failed',
      history: [
        { from: null, to: 'pending', at: '2026-03-01T10:00:00.000Z', actor: 'usr_1', reason: '' },
        { from: 'pending', to: 'payment_failed', at: '2026-03-01T10:00:02.000Z', actor: 'usr_1', reason: 'declined' },
      ],
    })
    assert.deepEqual(orderLineFacts(failed, slugs), [])
    assert.equal(orderPaidEvent(failed), null)
    assert.deepEqual(paymentFailedEvent(failed, { sessionId: 's9', channel: 'web', customerId: 'usr_1' }), {
      id: 'payment_failed:ord_1',
      type: 'payment_failed',
      at: '2026-03-01T10:00:02.000Z',
      sessionId: 's9',
      customerId: 'usr_1',
      quantity: 6,
      value: 10_319,
      currency: 'USD',
      orderId: 'ord_1',
      country: 'DE',
      coupon: 'WELCOME10',
      channel: 'api',
    })
  })

  it('order_paid has a stable id, the paid time, and an order session outside a request', () => {
    const e = orderPaidEvent(order({ channel: undefined }))!
    assert.equal(e.id, 'order_paid:ord_1')
    assert.equal(e.at, '2026-03-02T00:00:01.000Z')
    assert.equal(e.sessionId, 'order:ord_1')
    assert.equal(e.channel, null)
    assert.equal(e.value, 10_319)
  })
})

describe('refund facts', () => {
  const approved: Refund = {
    id: 'ref_9',
    orderId: 'ord_1',
    userId: 'usr_1',
    amount: 10_319,
    currency: 'USD',
    reason: 'too small',
    status: 'approved',
    createdAt: '2026-03-05T09:00:00.000Z',
    decidedAt: '2026-03-06T12:00:00.000Z',
    decidedBy: 'usr_staff',
    decisionNote: null,
  }
  const refunded = order({ status: 'refunded', payment: { ...order().payment!, status: 'refunded' } })

  it('a full refund gives each line back exactly its revenue, on the refund day', () => {
    const back = moneyBackOf(refunded, approved)!
    assert.deepEqual(back, { refundId: 'ref_9', amount: 10_319, at: '2026-03-06T12:00:00.000Z' })
    const lines = refundLineFacts(refunded, back, slugs)
    assert.deepEqual(
      lines.map((l) => [l.id, l.amount, l.quantity, l.refundedAt]),
      [
        ['ref_9:1', 4126, 2, '2026-03-06T12:00:00.000Z'],
        ['ref_9:2', 3097, 1, '2026-03-06T12:00:00.000Z'],
        ['ref_9:3', 3096, 3, '2026-03-06T12:00:00.000Z'],
      ],
    )
    assert.equal(refundEvent(refunded, back).id, 'refund:ref_9')
  })

  it('a partial refund splits over the lines by revenue and adds up exactly', () => {
    const back = { refundId: 'ref_p', amount: 5000, at: '2026-03-07T00:00:00.000Z' }
    const lines = refundLineFacts(refunded, back, slugs)
    assert.equal(sum(lines.map((l) => l.amount)), 5000)
    assert.deepEqual(
      lines.map((l) => l.amount),
      [1999, 1501, 1500],
    )
    assert.ok(lines.every((l, i) => l.quantity <= refunded.lines[i]!.quantity))
  })

  it('requested or rejected refunds are no money back; a paid order cancelled by staff is', () => {
    assert.equal(moneyBackOf(refunded, { ...approved, status: 'requested', decidedAt: null }), null)
    assert.equal(moneyBackOf(refunded, { ...approved, status: 'rejected' }), null)
    const cancelled = order({
      status: 'cancelled',
      payment: { ...order().payment!, status: 'refunded', refundId: 're_1' },
      history: [
        ...order().history,
        { from: 'paid', to: 'cancelled', at: '2026-03-03T08:00:00.000Z', actor: 'usr_staff', reason: 'oos' },
      ],
    })
    assert.deepEqual(moneyBackOf(cancelled, null), {
      refundId: 'cancel_ord_1',
      amount: 10_319,
      at: '2026-03-03T08:00:00.000Z',
    })
    const pendingCancelled = order({
      status: 'cancelled',
      payment: null,
      history: [
        order().history[0]!,
        { from: 'pending', to: 'cancelled', at: '2026-03-01T23:59:59.500Z', actor: 'x', reason: '' },
      ],
    })
    assert.equal(moneyBackOf(pendingCancelled, null), null, 'nothing was charged')
  })
})

describe('CategorySlugs', () => {
  it('reads the catalog once per ttl, again for an unknown id only after 5 s', async () => {
    let reads = 0
    const c = new CategorySlugs(async () => {
      reads++
      return [{ id: 'cat_1', slug: 'kitchen', name: 'Kitchen', description: '', position: 1 }]
    })
    const first = await c.resolver(['cat_1'])
    assert.equal(first('cat_1'), 'kitchen')
    assert.equal(first('cat_gone'), 'cat_gone', 'an unknown id stands for itself')
    await c.resolver(['cat_gone'])
    assert.equal(reads, 1)
  })
})
