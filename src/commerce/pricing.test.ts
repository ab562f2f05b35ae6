import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Coupon } from './model.ts'
import { assertCouponApplies, computeTotals, discountFor } from './pricing.ts'
import { defaultShopSettings } from './settings.ts'

const coupon = (over: Partial<Coupon> = {}): Coupon => ({
  code: 'C',
  kind: 'percent',
  value: 1000,
  minSubtotal: 0,
  expiresAt: null,
  usageLimit: null,
  usedCount: 0,
  active: true,
  description: '',
  ...over,
})

describe('pricing', () => {
  const settings = defaultShopSettings()

  it('computes totals in minor units: discount, flat shipping below the threshold, tax on goods after discount', () => {
    const t = computeTotals(4999, 500, settings)
    assert.deepEqual(t, {
      currency: 'USD',
      subtotal: 4999,
      discount: 500,
      shipping: 599,
      tax: 360,
      total: 4999 - 500 + 599 + 360,
    })
  })

  it('ships free at or above the threshold of goods after discount', () => {
    assert.equal(computeTotals(7500, 0, settings).shipping, 0)
    assert.equal(computeTotals(8000, 501, settings).shipping, 599)
  })

  it('an empty cart costs nothing', () => {
    assert.deepEqual(computeTotals(0, 0, settings), {
      currency: 'USD',
      subtotal: 0,
      discount: 0,
      shipping: 0,
      tax: 0,
      total: 0,
    })
  })

  it('rounds percentages half up to the cent', () => {
    assert.equal(discountFor(coupon({ value: 1000 }), 1005), 101) // 100.5 → 101
    assert.equal(discountFor(coupon({ value: 1000 }), 1004), 100)
    assert.equal(computeTotals(1250, 0, { ...settings, taxRateBp: 825 }).tax, 103) // 103.125 → 103
  })

  it('a fixed discount never exceeds the subtotal', () => {
    assert.equal(discountFor(coupon({ kind: 'fixed', value: 500 }), 300), 300)
    assert.equal(discountFor(coupon({ kind: 'fixed', value: 500 }), 3000), 500)
  })

  it('refuses unknown, inactive, expired, exhausted and below-minimum coupons with their own codes', () => {
    const now = new Date('2026-06-01T00:00:00Z')
    const codeOf = (fn: () => void) => {
      try {
        fn()
        return 'applies'
      } catch (e) {
        return (e as { code: string }).code
      }
    }
    assert.equal(
      codeOf(() => assertCouponApplies('X', null, 100, now, 'USD')),
      'EMP_COUPON_INVALID',
    )
    assert.equal(
      codeOf(() => assertCouponApplies('X', coupon({ active: false }), 100, now, 'USD')),
      'EMP_COUPON_INVALID',
    )
    assert.equal(
      codeOf(() => assertCouponApplies('X', coupon({ expiresAt: '2026-05-31T23:59:59Z' }), 100, now, 'USD')),
      'EMP_COUPON_EXPIRED',
    )
    assert.equal(
      codeOf(() => assertCouponApplies('X', coupon({ usageLimit: 3, usedCount: 3 }), 100, now, 'USD')),
      'EMP_COUPON_EXHAUSTED',
    )
    assert.equal(
      codeOf(() => assertCouponApplies('X', coupon({ minSubtotal: 3000 }), 2999, now, 'USD')),
      'EMP_COUPON_MIN_SUBTOTAL',
    )
    assert.equal(
      codeOf(() => assertCouponApplies('X', coupon({ minSubtotal: 3000 }), 3000, now, 'USD')),
      'applies',
    )
  })
})
