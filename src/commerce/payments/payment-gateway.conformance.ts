// What every PaymentGateway adapter must do, run against each: the embedded test gateway (SQLite) in the unit tests
// and the MongoDB one on the stack's engines. Two handles on the same backing stand for two processes (a web replica
// that charged and another, or the worker's recovery job, that refunds or looks the charge up).
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { EmporiumError } from '../../core/errors.ts'
import type { ChargeRequest, PaymentGateway } from './payment-gateway.ts'

export interface GatewayBacking {
  /** A new handle on the same charges (as another process would open). */
  open(): Promise<PaymentGateway>
  cleanup?(): Promise<void>
}

export interface GatewayConformanceOptions {
  /** Test names (as "suite › test") to skip, with the reason, for a backend that cannot do them. */
  skip?: { reason: string; tests: string[] }[]
  /** Skip the whole suite (the engine is not configured), with the reason. */
  skipAll?: string
}

const code = (c: string) => (e: unknown) => {
  assert.ok(e instanceof EmporiumError, `an EmporiumError, got ${String(e)}`)
  assert.equal(e.code, c)
  return true
}

export function describePaymentGatewayConformance(
  name: string,
  backing: () => Promise<GatewayBacking>,
  options: GatewayConformanceOptions = {},
): void {
  const skipOf = (title: string): string | undefined =>
    options.skip?.find((s) => s.tests.includes(title))?.reason ?? undefined

  describe(`PaymentGateway conformance: ${name}`, options.skipAll ? { skip: options.skipAll } : {}, () => {
    let b: GatewayBacking
    let a: PaymentGateway
    let other: PaymentGateway
    before(async () => {
      b = await backing()
      a = await b.open()
      other = await b.open()
    })
    after(async () => {
      await a?.close()
      await other?.close()
      await b?.cleanup?.()
    })

    const request = (over: Partial<ChargeRequest> = {}): ChargeRequest => ({
      idempotencyKey: `order_${randomUUID()}`,
      amount: 4_599,
      currency: 'USD',
      token: 'tok_visa',
      description: 'Order',
      ...over,
    })
    const test = (title: string, fn: () => Promise<void>) => {
      const reason = skipOf(title)
      it(title, reason ? { skip: reason } : {}, fn)
    }

    test('a test card succeeds with its brand and last four digits', async () => {
      const r = await a.charge(request({ token: 'tok_mastercard', amount: 1_234, currency: 'EUR' }))
      assert.equal(r.status, 'succeeded')
      assert.match(r.chargeId, /^ch_/)
      assert.deepEqual(
        {
          amount: r.amount,
          currency: r.currency,
          ...(r.status === 'succeeded' ? { brand: r.brand, last4: r.last4 } : {}),
        },
        { amount: 1_234, currency: 'EUR', brand: 'mastercard', last4: '4444' },
      )
    })

    test('declining tokens and unknown tokens are declined with a code and a message', async () => {
      for (const [token, declineCode] of [
        ['tok_chargeDeclined', 'card_declined'],
        ['tok_insufficientFunds', 'insufficient_funds'],
        ['tok_expiredCard', 'expired_card'],
        ['tok_nonsense', 'invalid_token'],
      ] as const) {
        const r = await a.charge(request({ token }))
        assert.equal(r.status, 'declined', token)
        if (r.status === 'declined') {
          assert.equal(r.declineCode, declineCode, token)
          assert.ok(r.message.length > 0, token)
        }
      }
    })

    test('a retry with the same key answers the first charge, from any handle', async () => {
      const req = request()
      const first = await a.charge(req)
      const again = await a.charge(req)
      const elsewhere = await other.charge(req)
      assert.equal(again.chargeId, first.chargeId)
      assert.equal(elsewhere.chargeId, first.chargeId)
      assert.deepEqual(await other.findCharge(req.idempotencyKey), first)
    })

    test('a declined charge stays declined on retry (a retry does not try the card again)', async () => {
      const req = request({ token: 'tok_chargeDeclined' })
      const first = await a.charge(req)
      const again = await other.charge({ ...req, token: 'tok_visa' })
      assert.equal(again.status, 'declined')
      assert.equal(again.chargeId, first.chargeId)
    })

    test('the same key with another amount or currency is refused, and the charge is unchanged', async () => {
      const req = request()
      const first = await a.charge(req)
      await assert.rejects(a.charge({ ...req, amount: req.amount + 1 }), code('EMP_GATEWAY_IDEMPOTENCY_MISMATCH'))
      await assert.rejects(other.charge({ ...req, currency: 'EUR' }), code('EMP_GATEWAY_IDEMPOTENCY_MISMATCH'))
      assert.deepEqual(await a.findCharge(req.idempotencyKey), first)
    })

    test('findCharge of a key the gateway never saw is null', async () => {
      assert.equal(await a.findCharge(`order_${randomUUID()}`), null)
    })

    test('concurrent charges with one key make one charge', async () => {
      const req = request()
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : other).charge(req)))
      assert.equal(new Set(results.map((r) => r.chargeId)).size, 1)
    })

    test('refunds: partial ones add up, one over what is left is refused, a retry counts once', async () => {
      const charge = await a.charge(request({ amount: 1_000 }))
      const r1 = await a.refund({ idempotencyKey: `rf_${randomUUID()}`, chargeId: charge.chargeId, amount: 400 })
      assert.match(r1.refundId, /^re_/)
      assert.deepEqual({ chargeId: r1.chargeId, amount: r1.amount }, { chargeId: charge.chargeId, amount: 400 })
      const key2 = `rf_${randomUUID()}`
      const r2 = await other.refund({ idempotencyKey: key2, chargeId: charge.chargeId, amount: 500 })
      const r2again = await a.refund({ idempotencyKey: key2, chargeId: charge.chargeId, amount: 500 })
      assert.equal(r2again.refundId, r2.refundId, 'a retried refund answers the first')
      await assert.rejects(
        a.refund({ idempotencyKey: `rf_${randomUUID()}`, chargeId: charge.chargeId, amount: 101 }),
        code('EMP_GATEWAY_OVER_REFUND'),
      )
      // The retry counted once: exactly 100 is left.
      const last = await other.refund({ idempotencyKey: `rf_${randomUUID()}`, chargeId: charge.chargeId, amount: 100 })
      assert.equal(last.amount, 100)
      await assert.rejects(
        a.refund({ idempotencyKey: `rf_${randomUUID()}`, chargeId: charge.chargeId, amount: 1 }),
        code('EMP_GATEWAY_OVER_REFUND'),
      )
    })

    test('a refund of a declined or unknown charge is refused', async () => {
      const declined = await a.charge(request({ token: 'tok_chargeDeclined' }))
      await assert.rejects(
        a.refund({ idempotencyKey: `rf_${randomUUID()}`, chargeId: declined.chargeId, amount: 1 }),
        code('EMP_GATEWAY_NO_CHARGE'),
      )
      await assert.rejects(
        other.refund({ idempotencyKey: `rf_${randomUUID()}`, chargeId: 'ch_unknown', amount: 1 }),
        code('EMP_GATEWAY_NO_CHARGE'),
      )
    })

    test('concurrent refunds never refund more than the charge', async () => {
      const charge = await a.charge(request({ amount: 1_000 }))
      const settled = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? a : other).refund({ idempotencyKey: `rf_${randomUUID()}`, chargeId: charge.chargeId, amount: 300 }),
        ),
      )
      const ok = settled.filter((s) => s.status === 'fulfilled')
      assert.equal(ok.length, 3, 'three refunds of 300 fit in 1,000')
      for (const s of settled)
        if (s.status === 'rejected') assert.equal((s.reason as EmporiumError).code, 'EMP_GATEWAY_OVER_REFUND')
    })

    test('concurrent retries of one refund count it once', async () => {
      const charge = await a.charge(request({ amount: 1_000 }))
      const key = `rf_${randomUUID()}`
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? a : other).refund({ idempotencyKey: key, chargeId: charge.chargeId, amount: 600 }),
        ),
      )
      assert.equal(new Set(results.map((r) => r.refundId)).size, 1)
      // 400 is left: 600 was taken once.
      await other.refund({ idempotencyKey: `rf_${randomUUID()}`, chargeId: charge.chargeId, amount: 400 })
    })

    test('ping answers while open; a closed handle is unavailable', async () => {
      await a.ping()
      const third = await b.open()
      await third.close()
      await assert.rejects(third.ping(), code('EMP_UNAVAILABLE'))
      await assert.rejects(third.findCharge('order_x'), code('EMP_UNAVAILABLE'))
    })
  })
}
