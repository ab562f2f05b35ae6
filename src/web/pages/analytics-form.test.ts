// The analytics page's builder: defaults, presets, the query it asks the store, and a reason beside each bad field.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { resolveQuery } from '../../analytics/query.ts'
import { describeQuery, formFieldOf, formParams, paramsOf, readForm, toQuery } from './analytics-form.ts'

const TODAY = '2026-11-26'

describe('readForm', () => {
  it('opens on revenue and orders by day over the last 30 days, today included', () => {
    const { form, query, errors } = readForm({}, TODAY)
    assert.deepEqual(errors, {})
    assert.deepEqual(query, {
      measures: ['revenue', 'orders'],
      dimensions: ['day'],
      from: '2026-10-28T00:00:00Z',
      to: '2026-11-27T00:00:00Z',
      limit: 1000,
    })
    assert.equal(form.range, '30d')
  })

  it('turns a preset into its dates, whatever dates came with it', () => {
    const { form, query } = readForm({ m: 'revenue', time: 'day', range: '90d', from: '2020-01-01', to: 'x' }, TODAY)
    assert.deepEqual([form.from, form.to], ['2026-08-29', '2026-11-26'])
    assert.equal(query?.from, '2026-08-29T00:00:00Z')
    assert.equal(query?.to, '2026-11-27T00:00:00Z')
  })

  it('reads custom dates with the last day included, and every other field', () => {
    const { query, errors } = readForm(
      {
        m: ['orders', 'revenue'],
        time: 'week',
        by: ['country', 'coupon'],
        f_country: 'us, gb',
        f_coupon: 'WELCOME10, (none)',
        range: 'custom',
        from: '2026-09-01',
        to: '2026-09-30',
        sort: 'revenue',
        dir: 'desc',
        limit: '50',
      },
      TODAY,
    )
    assert.deepEqual(errors, {})
    assert.deepEqual(query, {
      measures: ['revenue', 'orders'],
      dimensions: ['week', 'country', 'coupon'],
      filters: { country: ['US', 'GB'], coupon: ['WELCOME10', null] },
      from: '2026-09-01T00:00:00Z',
      to: '2026-10-01T00:00:00Z',
      sort: [{ by: 'revenue', direction: 'desc' }],
      limit: 50,
    })
    assert.doesNotThrow(() => resolveQuery(query!), 'the store accepts what the form asks')
  })

  it('gives a reason beside each bad field and asks nothing of the store', () => {
    const { query, errors } = readForm(
      {
        m: 'profit',
        time: 'hour',
        by: 'shoe_size',
        range: 'custom',
        from: '2026-13-01',
        to: '',
        sort: 'units',
        limit: '0',
        f_country: ' , ',
      },
      TODAY,
    )
    assert.equal(query, null)
    assert.deepEqual(Object.keys(errors).sort(), ['by', 'f_country', 'from', 'limit', 'measures', 'sort', 'time', 'to'])
    assert.match(errors.measures!, /profit is not a measure/)
    assert.match(errors.from!, /YYYY-MM-DD/)
    assert.match(errors.limit!, /1 to 10000/)
    assert.match(errors.sort!, /asks for/)
  })

  it('needs a measure, a last day not before the first, and at most 366 days', () => {
    assert.match(readForm({ time: 'day', range: '7d' }, TODAY).errors.measures!, /at least one/)
    const backwards = readForm({ m: 'revenue', range: 'custom', from: '2026-09-10', to: '2026-09-01' }, TODAY)
    assert.match(backwards.errors.to!, /before the first/)
    const long = readForm({ m: 'revenue', range: 'custom', from: '2025-01-01', to: '2026-01-02' }, TODAY)
    assert.match(long.errors.to!, /366 days/)
    assert.deepEqual(
      readForm({ m: 'revenue', range: 'custom', from: '2025-01-01', to: '2026-01-01' }, TODAY).errors,
      {},
    )
  })
})

describe('formParams', () => {
  it('round-trips through a query string, keeping a preset relative', () => {
    const read = readForm(
      { m: ['revenue', 'units'], by: 'product', f_category: 'books', range: '7d', sort: 'units', dir: 'desc' },
      TODAY,
    )
    const search = formParams(read.form).toString()
    assert.equal(search, 'm=revenue&m=units&by=product&f_category=books&range=7d&sort=units&dir=desc')
    const later = readForm(paramsOf(search), '2026-12-31')
    assert.equal(later.form.to, '2026-12-31', 'a saved "last 7 days" means the last 7 days when it runs')
    assert.deepEqual(later.form.measures, read.form.measures)
  })

  it('keeps custom dates and a non-default limit', () => {
    const read = readForm({ m: 'orders', range: 'custom', from: '2026-01-01', to: '2026-01-31', limit: '20' }, TODAY)
    assert.equal(formParams(read.form).toString(), 'm=orders&range=custom&from=2026-01-01&to=2026-01-31&limit=20')
    assert.deepEqual(toQuery(read.form).limit, 20)
  })
})

describe('formFieldOf', () => {
  it('puts a problem the store reports beside the field that caused it', () => {
    const { form } = readForm({ m: 'revenue', time: 'day', by: 'country', range: '7d' }, TODAY)
    assert.equal(formFieldOf('measures[1]', form), 'measures')
    assert.equal(formFieldOf('filters.country', form), 'f_country')
    assert.equal(formFieldOf('dimensions[0]', form), 'time')
    assert.equal(formFieldOf('dimensions[1]', form), 'by')
    assert.equal(formFieldOf('sort[0].by', form), 'sort')
    assert.equal(formFieldOf('to', form), 'range', 'a preset has no date fields to mark')
    assert.equal(formFieldOf('something', form), 'query')
  })
})

describe('describeQuery', () => {
  it('names the measures and the groups', () => {
    assert.equal(describeQuery(readForm({}, TODAY).form), 'Revenue and orders by day')
    assert.equal(
      describeQuery(
        readForm({ m: ['units', 'refunds', 'orders'], by: ['category', 'country'], range: '7d' }, TODAY).form,
      ),
      'Refunds, orders and units by category and country',
    )
    assert.equal(describeQuery(readForm({ m: 'sessions', range: '7d' }, TODAY).form), 'Sessions')
  })
})
