import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { assertNoOperatorKeys, findOperatorKey } from './operator-keys.ts'

describe('operator keys', () => {
  it('finds $-prefixed, dotted and prototype keys at any depth', () => {
    assert.deepEqual(findOperatorKey({ email: { $gt: '' } }), { key: 'email.$gt', field: 'email' })
    assert.equal(findOperatorKey({ variants: [{ options: { 'size.x': 'M' } }] })?.key, 'variants.0.options.size.x')
    assert.equal(findOperatorKey(JSON.parse('{"a":{"__proto__":{"admin":true}}}'))?.field, 'a')
    assert.deepEqual(findOperatorKey({ $where: '1' }), { key: '$where', field: '$where' })
  })

  it('lets ordinary bodies through, including $ and dots inside values', () => {
    assert.equal(findOperatorKey({ q: '$gt a.b', items: [{ sku: 'A.B-1', options: { size: 'M' } }] }), null)
    assert.doesNotThrow(() => assertNoOperatorKeys(null))
  })

  it('names the field in the error', () => {
    assert.throws(
      () => assertNoOperatorKeys({ password: { $ne: null } }),
      (e: any) => e.code === 'EMP_VALIDATION' && e.fields['password.$ne'] === 'This field name is not allowed',
    )
  })
})
