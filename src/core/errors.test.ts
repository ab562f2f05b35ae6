import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OutOfStock, registry } from './errors.ts'

describe('errors', () => {
  it('pins every declared code and its HTTP status', () => {
    assert.deepEqual(Object.fromEntries(registry), {
      EMP_VALIDATION: 400,
      EMP_MALFORMED_JSON: 400,
      EMP_UNSUPPORTED_MEDIA_TYPE: 415,
      EMP_BODY_TOO_LARGE: 413,
      EMP_NOT_FOUND: 404,
      EMP_ROUTE_NOT_FOUND: 404,
      EMP_AUTH_REQUIRED: 401,
      EMP_FORBIDDEN: 403,
      EMP_CSRF: 403,
      EMP_INVALID_CREDENTIALS: 401,
      EMP_ACCOUNT_LOCKED: 429,
      EMP_RATE_LIMITED: 429,
      EMP_EMAIL_TAKEN: 409,
      EMP_WEAK_PASSWORD: 422,
      EMP_INVALID_TOKEN: 401,
      EMP_SLUG_TAKEN: 409,
      EMP_SKU_TAKEN: 409,
      EMP_CATEGORY_IN_USE: 409,
      EMP_UNKNOWN_SKU: 422,
      EMP_OUT_OF_STOCK: 409,
      EMP_INSUFFICIENT_STOCK: 409,
      EMP_CART_EMPTY: 422,
      EMP_CART_LIMIT: 422,
      EMP_COUPON_INVALID: 422,
      EMP_COUPON_EXPIRED: 422,
      EMP_COUPON_MIN_SUBTOTAL: 422,
      EMP_COUPON_EXHAUSTED: 409,
      EMP_CONFLICT: 409,
      EMP_IDEMPOTENCY_KEY_REQUIRED: 400,
      EMP_CHECKOUT_IN_PROGRESS: 409,
      EMP_PAYMENT_DECLINED: 402,
      EMP_PAYMENT_UNAVAILABLE: 503,
      EMP_CHECKOUT_ABORTED: 409,
      EMP_INVALID_TRANSITION: 409,
      EMP_REFUND_EXISTS: 409,
      EMP_QUERY_REFUSED: 422,
      EMP_QUERY_TIMEOUT: 422,
      EMP_UNAVAILABLE: 503,
      EMP_INTERNAL: 500,
    })
  })

  it('builds messages from the template and carries fields and details', () => {
    const e = new OutOfStock('SKU-1').withDetails({ sku: 'SKU-1' }).withFields({ sku: 'gone' })
    assert.equal(e.message, 'SKU SKU-1 is out of stock')
    assert.equal(e.statusCode, 409)
    assert.deepEqual(e.details, { sku: 'SKU-1' })
    assert.deepEqual(e.fields, { sku: 'gone' })
  })
})
