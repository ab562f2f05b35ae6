// The engine-free parts of the analytics query model: defaults, ordering, rounding, funnel and cohort counting.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { averageOrderValue, CohortCounter, compareRows, compareText, FunnelCounter, resolveQuery } from './query.ts'

const range = { from: '2026-03-01T00:00:00Z', to: '2026-03-08T00:00:00Z' }

describe('query model', () => {
  it('resolves defaults: limit 1000, sort by the dimensions ascending, duplicates dropped', () => {
    const q = resolveQuery({ measures: ['revenue', 'revenue'], dimensions: ['country', 'day'], ...range })
    assert.deepEqual(q.measures, ['revenue'])
    assert.equal(q.limit, 1000)
    assert.deepEqual(q.sort, [
      { by: 'country', desc: false },
      { by: 'day', desc: false },
    ])
    assert.equal(q.fromMs, Date.UTC(2026, 2, 1))
    assert.equal(q.toMs, Date.UTC(2026, 2, 8))
  })

  it('an explicit sort comes first, then the remaining dimensions break ties', () => {
    const q = resolveQuery({
      measures: ['orders'],
      dimensions: ['country', 'day'],
      sort: [{ by: 'orders', direction: 'desc' }, { by: 'day' }],
      ...range,
    })
    assert.deepEqual(q.sort, [
      { by: 'orders', desc: true },
      { by: 'day', desc: false },
      { by: 'country', desc: false },
    ])
  })

  it('orders rows with nulls last in either direction', () => {
    const rows = [{ a: 2 }, { a: null }, { a: 1 }]
    assert.deepEqual([...rows].sort(compareRows([{ by: 'a' as never, desc: false }])), [
      { a: 1 },
      { a: 2 },
      { a: null },
    ])
    assert.deepEqual([...rows].sort(compareRows([{ by: 'a' as never, desc: true }])), [{ a: 2 }, { a: 1 }, { a: null }])
  })

  it('compares text by code point, as the engines do', () => {
    assert.ok(compareText('Z', 'a') < 0)
    assert.ok(compareText('\uFB01', '\u{1F600}') < 0) // UTF-16 order would put the emoji's surrogate first
    assert.equal(compareText('abc', 'abc'), 0)
    assert.ok(compareText('ab', 'abc') < 0)
  })

  it('rounds the average order value half up, in integers', () => {
    assert.equal(averageOrderValue(12897, 2), 6449)
    assert.equal(averageOrderValue(10, 4), 3)
    assert.equal(averageOrderValue(9, 4), 2)
    assert.equal(averageOrderValue(Number.MAX_SAFE_INTEGER, 2), 4503599627370496)
    assert.equal(averageOrderValue(100, 0), null)
  })

  it('counts a funnel step only at or after the previous step, per session', () => {
    const f = new FunnelCounter()
    f.add('a', 'product_view', 10)
    f.add('a', 'add_to_cart', 10)
    f.add('a', 'order_paid', 30)
    f.add('a', 'checkout_started', 20)
    f.add('b', 'add_to_cart', 5)
    f.add('b', 'product_view', 6)
    f.add('c', 'search', 1)
    assert.deepEqual(
      f.result().steps.map((s) => s.sessions),
      [2, 1, 1, 1],
    )
  })

  it('puts each customer in the cohort of the first month they paid, and counts them once per month', () => {
    const c = new CohortCounter()
    const at = (month: string, day = 1) => Date.parse(`${month}-${String(day).padStart(2, '0')}T00:00:00Z`)
    c.add('x', at('2026-02', 3))
    c.add('x', at('2026-02', 9))
    c.add('x', at('2026-04'))
    c.add('y', at('2026-03'))
    c.add('z', at('2026-01'))
    c.add('z', at('2026-03'))
    assert.deepEqual(c.result({ fromMs: at('2026-02'), toMs: at('2026-05') }), {
      cohorts: [
        { cohort: '2026-02', customers: 1, active: [1, 0, 1], retention: [1, 0, 1] },
        { cohort: '2026-03', customers: 1, active: [1, 0], retention: [1, 0] },
      ],
    })
  })
})
