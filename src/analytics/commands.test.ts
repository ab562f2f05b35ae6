// `emporium analytics` arguments and printers: days become UTC instants, repeated options, filters, exact money text.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { EmporiumError } from '../core/errors.ts'
import { formatQueryResult, formatRawResult, majorUnits, parseAnalyticsArgs } from './commands.ts'

const NOW = Date.parse('2026-11-26T15:00:00Z')

describe('parseAnalyticsArgs', () => {
  it('a query with repeated measures and dimensions, filters, sort and csv', () => {
    const parsed = parseAnalyticsArgs(
      [
        'query',
        '--measure',
        'revenue',
        '--measure',
        'orders,units',
        '--by',
        'day',
        '--by',
        'country',
        '--from',
        '2026-08-01',
        '--to',
        '2026-11-01',
        '--filter',
        'country=US,DE',
        '--filter',
        'coupon=',
        '--sort',
        'revenue:desc',
        '--limit',
        '20',
        '--format',
        'csv',
      ],
      NOW,
    )
    assert.deepEqual(parsed, {
      command: 'query',
      format: 'csv',
      query: {
        measures: ['revenue', 'orders', 'units'],
        dimensions: ['day', 'country'],
        from: '2026-08-01T00:00:00.000Z',
        to: '2026-11-01T00:00:00.000Z',
        filters: { country: ['US', 'DE'], coupon: [null] },
        sort: [{ by: 'revenue', direction: 'desc' }],
        limit: 20,
      },
    })
  })

  it('defaults to the 30 days up to and including today, as a table', () => {
    const parsed = parseAnalyticsArgs(['query', '--measure', 'revenue'], NOW)
    assert.deepEqual(parsed, {
      command: 'query',
      format: 'table',
      query: {
        measures: ['revenue'],
        dimensions: [],
        from: '2026-10-28T00:00:00.000Z',
        to: '2026-11-27T00:00:00.000Z',
      },
    })
  })

  it('raw takes one statement and its limits; backfill and help take nothing', () => {
    assert.deepEqual(parseAnalyticsArgs(['raw', 'SELECT 1', '--max-rows', '5', '--timeout-ms', '900']), {
      command: 'raw',
      raw: { statement: 'SELECT 1', maxRows: 5, timeoutMs: 900 },
      format: 'table',
    })
    assert.deepEqual(parseAnalyticsArgs(['backfill']), { command: 'backfill' })
    assert.deepEqual(parseAnalyticsArgs([]), { command: 'help' })
    assert.deepEqual(parseAnalyticsArgs(['--help']), { command: 'help' })
  })

  it('refuses bad arguments naming the option', () => {
    const refuses = (argv: string[], field: string) =>
      assert.throws(
        () => parseAnalyticsArgs(argv, NOW),
        (e: unknown) => e instanceof EmporiumError && e.code === 'EMP_VALIDATION' && !!e.fields?.[field],
        `${argv.join(' ')} → ${field}`,
      )
    refuses(['query'], '--measure')
    refuses(['query', '--measure', 'revenue', '--format', 'xml'], '--format')
    refuses(['query', '--measure', 'revenue', '--filter', 'US'], '--filter')
    refuses(['query', '--measure', 'revenue', '--limit', 'ten'], '--limit')
    refuses(['query', '--measure', 'revenue', '--sort', 'revenue:down'], '--sort')
    refuses(['raw'], 'statement')
    refuses(['raw', 'SELECT 1', 'SELECT 2'], 'statement')
    refuses(['drop'], 'command')
    refuses(['backfill', 'now'], 'backfill')
    assert.throws(() => parseAnalyticsArgs(['query', '--measure', 'revenue', '--colour', 'red']), /colour/)
  })
})

describe('printers', () => {
  const result = {
    currency: 'USD',
    dimensions: ['day' as const, 'coupon' as const],
    measures: ['revenue' as const, 'orders' as const, 'refund_rate' as const, 'average_order_value' as const],
    rows: [
      {
        day: '2026-08-01',
        coupon: 'WELCOME10',
        revenue: 123456,
        orders: 3,
        refund_rate: 0.125,
        average_order_value: 41152,
      },
      { day: '2026-08-02', coupon: null, revenue: -5, orders: 0, refund_rate: null, average_order_value: null },
    ],
  }

  it('money in major units exactly, for any currency exponent', () => {
    assert.equal(majorUnits(123456, 2), '1234.56')
    assert.equal(majorUnits(-5, 2), '-0.05')
    assert.equal(majorUnits(7, 0), '7')
    assert.equal(majorUnits(1, 3), '0.001')
  })

  it('a table with aligned columns, rates as percentages and - for none', () => {
    assert.equal(
      formatQueryResult(result, 'table'),
      [
        'day         coupon     revenue  orders  refund_rate  average_order_value',
        '----------  ---------  -------  ------  -----------  -------------------',
        '2026-08-01  WELCOME10  1234.56       3       12.50%               411.52',
        '2026-08-02  -            -0.05       0            -                    -',
        '',
      ].join('\n'),
    )
  })

  it('csv with a header, empty cells for none and quoting where needed', () => {
    assert.equal(
      formatQueryResult(result, 'csv'),
      'day,coupon,revenue,orders,refund_rate,average_order_value\n2026-08-01,WELCOME10,1234.56,3,0.125,411.52\n2026-08-02,,-0.05,0,,\n',
    )
    assert.equal(
      formatRawResult({ columns: ['note', 'revenue'], rows: [['a, "b"', 1999]], truncated: true }, 'csv'),
      'note,revenue\n"a, ""b""",1999\n',
      'raw values are printed as they are',
    )
    assert.match(formatRawResult({ columns: ['n'], rows: [[1]], truncated: true }, 'table'), /\(1 row, truncated\)\n$/)
    assert.equal(
      formatRawResult({ columns: ['category', 'value'], rows: [['=HYPERLINK("x")', -5]], truncated: false }, 'csv'),
      'category,value\n"\'=HYPERLINK(""x"")",-5\n',
      'text that would run as a formula is made inert; a negative number stays a number',
    )
  })
})
