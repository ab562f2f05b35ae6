// The saga's compensation paths, driven through a scripted PaymentGateway (a test double above the port) on a
// real in-memory SQLite store.
import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import { ManualClock } from '../core/clock.ts'
import { newId } from '../core/ids.ts'
import type {
  ChargeRequest,
  ChargeResult,
  PaymentGateway,
  RefundRequest,
  RefundResult,
} from './payments/payment-gateway.ts'
import { defaultShopSettings } from './settings.ts'
import { createShop, type Shop } from './shop.ts'
import { openSqliteCommerceStore } from './store/sqlite/sqlite-commerce-store.ts'

class ScriptedGateway implements PaymentGateway {
  readonly kind = 'scripted'
  charges = new Map<string, ChargeResult>()
  refunds: RefundRequest[] = []
  /** What the next charge does: succeed, decline, throw before or after recording. */
  mode: 'succeed' | 'decline' | 'throw-before' | 'throw-after' = 'succeed'
  beforeCharge: (() => Promise<void>) | null = null

  async charge(req: ChargeRequest): Promise<ChargeResult> {
    if (this.beforeCharge) await this.beforeCharge()
    if (this.mode === 'throw-before') throw new Error('network down')
    const existing = this.charges.get(req.idempotencyKey)
    if (existing) return existing
    const result: ChargeResult =
      this.mode === 'decline'
        ? {
            status: 'declined',
            chargeId: newId('ch'),
            amount: req.amount,
            currency: req.currency,
            declineCode: 'card_declined',
            message: 'Declined',
          }
        : {
            status: 'succeeded',
            chargeId: newId('ch'),
            amount: req.amount,
            currency: req.currency,
            brand: 'visa',
            last4: '4242',
          }
    this.charges.set(req.idempotencyKey, result)
    if (this.mode === 'throw-after') throw new Error('timeout after the charge')
    return result
  }
  async findCharge(key: string) {
    return this.charges.get(key) ?? null
  }
  async refund(req: RefundRequest): Promise<RefundResult> {
    this.refunds.push(req)
    return { refundId: newId('re'), chargeId: req.chargeId, amount: req.amount }
  }
  async ping() {}
  async close() {}
}

const address = { name: 'A', line1: '1 Road', city: 'Town', postalCode: '12345', country: 'US' }

describe('checkout saga', () => {
  let shop: Shop
  let gateway: ScriptedGateway
  let clock: ManualClock
  let userId: string

  beforeEach(async () => {
    const store = openSqliteCommerceStore(':memory:')
    await store.migrate()
    gateway = new ScriptedGateway()
    clock = new ManualClock(new Date('2026-03-01T10:00:00Z'))
    shop = createShop({
      store,
      gateway,
      hasher: { hash: async (p) => `plain:${p}`, verify: async (h, p) => h === `plain:${p}` },
      clock,
      settings: defaultShopSettings(),
      accountPolicy: { maxFailedLogins: 3, failedLoginWindowMs: 900_000 },
    })
    await shop.catalog.upsertCategory({ slug: 'tools', name: 'Tools' })
    await shop.catalog.createProduct({
      name: 'Hammer',
      description: 'Drives nails',
      category: 'tools',
      variants: [
        { sku: 'HAM-1', name: 'Small', price: 1500, stock: 5 },
        { sku: 'HAM-2', name: 'Large', price: 2500, stock: 5 },
      ],
    })
    await store.upsertCoupon({
      code: 'ONCE',
      kind: 'fixed',
      value: 500,
      minSubtotal: 0,
      expiresAt: null,
      usageLimit: 1,
      usedCount: 0,
      active: true,
      description: '',
    })
    userId = (await shop.accounts.register({ email: 'saga@example.com', password: 'a long passphrase', name: 'S' })).id
    await shop.carts.addItem({ userId }, 'HAM-1', 2)
    await shop.carts.addItem({ userId }, 'HAM-2', 1)
  })

  const stock = async (sku: string) => (await shop.store.getInventory([sku]))[0]
  const checkout = (key = 'key-00000001') =>
    shop.checkout.checkout({ userId, idempotencyKey: key, shippingAddress: address, paymentToken: 'tok_visa' })

  it('a gateway that fails before charging leaves the order pending; recovery cancels it and frees the stock', async () => {
    gateway.mode = 'throw-before'
    await assert.rejects(checkout(), { code: 'EMP_PAYMENT_UNAVAILABLE' })
    assert.deepEqual(await stock('HAM-1'), { sku: 'HAM-1', available: 3, reserved: 2 })
    clock.advance(5 * 60_000)
    const r = await shop.checkout.recoverPendingOrders(clock.now())
    assert.deepEqual(r, { examined: 1, paid: 0, failed: 0, cancelled: 1, errors: 0 })
    assert.deepEqual(await stock('HAM-1'), { sku: 'HAM-1', available: 5, reserved: 0 })
    const { items } = await shop.store.listOrders({ userId, page: 1, limit: 5 })
    assert.equal(items[0]?.status, 'cancelled')
    assert.equal(items[0]?.history.at(-1)?.actor, 'system:checkout-recovery')
  })

  it('a gateway that charged but timed out: recovery finds the charge and completes the order', async () => {
    gateway.mode = 'throw-after'
    await assert.rejects(checkout(), { code: 'EMP_PAYMENT_UNAVAILABLE' })
    clock.advance(5 * 60_000)
    const r = await shop.checkout.recoverPendingOrders(clock.now())
    assert.equal(r.paid, 1)
    assert.deepEqual(await stock('HAM-1'), { sku: 'HAM-1', available: 3, reserved: 0 })
    assert.deepEqual(await stock('HAM-2'), { sku: 'HAM-2', available: 4, reserved: 0 })
    assert.deepEqual(
      await shop.store.listHolds((await shop.store.listOrders({ userId, page: 1, limit: 1 })).items[0]!.id),
      [],
    )
  })

  it('a retry with the same key while the order is young answers "in progress", later settles it', async () => {
    gateway.mode = 'throw-after'
    await assert.rejects(checkout(), { code: 'EMP_PAYMENT_UNAVAILABLE' })
    gateway.mode = 'succeed'
    await assert.rejects(checkout(), { code: 'EMP_CHECKOUT_IN_PROGRESS' })
    clock.advance(5 * 60_000)
    const { order, replayed } = await checkout()
    assert.equal(order.status, 'paid')
    assert.equal(replayed, true)
    assert.equal(gateway.charges.size, 1, 'charged once')
  })

  it('when recovery cancels an order mid-charge, the live checkout refunds the charge and returns the units', async () => {
    gateway.beforeCharge = async () => {
      gateway.beforeCharge = null
      clock.advance(5 * 60_000)
      await shop.checkout.recoverPendingOrders(clock.now())
    }
    await assert.rejects(checkout(), { code: 'EMP_CHECKOUT_ABORTED' })
    assert.equal(gateway.refunds.length, 1, 'the charge was voided')
    assert.deepEqual(await stock('HAM-1'), { sku: 'HAM-1', available: 5, reserved: 0 })
    assert.deepEqual(await stock('HAM-2'), { sku: 'HAM-2', available: 5, reserved: 0 })
  })

  it('recovery racing a live checkout never oversells: whoever wins the status change decides the holds', async () => {
    // Recovery's write of 'cancelled' is held back until the live checkout has charged and settled.
    let openGate = () => {}
    const gate = new Promise<void>((resolve) => {
      openGate = resolve
    })
    const store = shop.store
    const realTransition = store.transitionOrder.bind(store)
    store.transitionOrder = async (id, t) => {
      if (t.to === 'cancelled') await gate
      return realTransition(id, t)
    }
    let recovery: Promise<unknown> = Promise.resolve()
    gateway.beforeCharge = async () => {
      gateway.beforeCharge = null
      clock.advance(5 * 60_000)
      recovery = shop.checkout.recoverPendingOrders(clock.now())
      await new Promise((r) => setImmediate(r))
    }
    const { order } = await checkout()
    openGate()
    await recovery
    store.transitionOrder = realTransition
    assert.equal((await store.getOrder(order.id))?.status, 'paid')
    assert.deepEqual(await stock('HAM-1'), { sku: 'HAM-1', available: 3, reserved: 0 })
    assert.deepEqual(await stock('HAM-2'), { sku: 'HAM-2', available: 4, reserved: 0 })
    assert.equal(gateway.refunds.length, 0)
  })

  it('a decline gives back the coupon use as well as the stock', async () => {
    await shop.carts.applyCoupon({ userId }, 'once')
    gateway.mode = 'decline'
    await assert.rejects(checkout(), { code: 'EMP_PAYMENT_DECLINED' })
    assert.equal((await shop.store.getCoupon('ONCE'))?.usedCount, 0)
    assert.deepEqual(await stock('HAM-2'), { sku: 'HAM-2', available: 5, reserved: 0 })
    gateway.mode = 'succeed'
    const { order } = await checkout('key-00000002')
    assert.equal(order.discount, 500)
    assert.equal((await shop.store.getCoupon('ONCE'))?.usedCount, 1)
  })

  it('a line out of stock cancels the order and releases the lines reserved before it', async () => {
    await shop.catalog.setStock('HAM-2', 0)
    await assert.rejects(checkout(), { code: 'EMP_OUT_OF_STOCK' })
    assert.deepEqual(await stock('HAM-1'), { sku: 'HAM-1', available: 5, reserved: 0 })
    assert.equal(gateway.charges.size, 0, 'nothing charged')
    // The same key later answers with the same refusal, not a new attempt.
    await shop.catalog.setStock('HAM-2', 5)
    await assert.rejects(checkout(), { code: 'EMP_OUT_OF_STOCK' })
  })

  it('prices come from the catalog at checkout time, not from when the item was added', async () => {
    const p = (await shop.catalog.search({ page: 1, limit: 1 })).items[0]!
    await shop.catalog.updateProduct(p.id, {
      name: p.name,
      description: p.description,
      category: 'tools',
      variants: p.variants.map((v) => ({ sku: v.sku, name: v.name, price: v.price + 100 })),
    })
    const { order } = await checkout()
    assert.equal(order.subtotal, 1600 * 2 + 2600)
  })
})

describe('accounts', () => {
  it('locks an account after repeated failures, then the right password is refused too', async () => {
    const store = openSqliteCommerceStore(':memory:')
    await store.migrate()
    const clock = new ManualClock()
    const shop = createShop({
      store,
      gateway: new ScriptedGateway(),
      hasher: { hash: async (p) => `plain:${p}`, verify: async (h, p) => h === `plain:${p}` },
      clock,
      settings: defaultShopSettings(),
      accountPolicy: { maxFailedLogins: 3, failedLoginWindowMs: 900_000 },
    })
    await shop.accounts.register({ email: 'lock@example.com', password: 'the right passphrase', name: 'L' })
    for (let i = 0; i < 2; i++)
      await assert.rejects(shop.accounts.login({ email: 'lock@example.com', password: 'wrong' }), {
        code: 'EMP_INVALID_CREDENTIALS',
      })
    await assert.rejects(shop.accounts.login({ email: 'lock@example.com', password: 'wrong' }), {
      code: 'EMP_ACCOUNT_LOCKED',
    })
    await assert.rejects(shop.accounts.login({ email: 'lock@example.com', password: 'the right passphrase' }), {
      code: 'EMP_ACCOUNT_LOCKED',
    })
    clock.advance(16 * 60_000)
    const u = await shop.accounts.login({ email: 'LOCK@example.com', password: 'the right passphrase' })
    assert.equal(u.email, 'lock@example.com')
  })
})
