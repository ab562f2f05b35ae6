// `emporium analytics …`: argument parsing for query / raw / backfill, and the table and CSV printers. No I/O here:
// cli.ts opens the store and writes what these functions return.

import { parseArgs } from 'node:util'
import { csvCell } from '../core/csv.ts'
import { ValidationFailed } from '../core/errors.ts'
import { DAY_MS } from './events.ts'
import {
  type AnalyticsQuery,
  type AnalyticsResult,
  DIMENSIONS,
  type Dimension,
  type DimensionValue,
  MEASURES,
  type Measure,
  type RawQuery,
  type RawResult,
} from './query.ts'

export const ANALYTICS_HELP = `emporium analytics <query|raw|backfill> [options]

  query     Measures by dimensions over a time range
    --measure <m>     ${MEASURES.join(', ')} (repeat for several)
    --by <d>          group by ${DIMENSIONS.join(', ')} (repeat for several, in order)
    --from <day>      first day (YYYY-MM-DD, UTC) or an ISO-8601 instant; default 30 days before --to
    --to <day>        the day after the last (exclusive) or an instant; default tomorrow (today included)
    --filter d=v      keep rows whose dimension d is v (v1,v2 for several; d= for none); repeat for several
    --sort <key>      a measure or dimension, key:desc for descending (repeat for several)
    --limit <n>       at most n rows (default 1000)
    --format <f>      table (default) or csv
  raw "<statement>"   One read-only statement (SQL on DuckDB, CQL SELECT on Cassandra)
    --max-rows <n>    default 1000;  --timeout-ms <n>  default 5000;  --format table|csv
  backfill  Projects every order already in the commerce store (safe to repeat: records are keyed by id)

Money is printed in the shop currency's major unit (12.34); rates as fractions in CSV and percentages in tables.
Example: emporium analytics query --measure revenue --measure orders --by day --from 2026-08-01 --to 2026-11-01
`

export type Format = 'table' | 'csv'

export type AnalyticsCommand =
  | { command: 'query'; query: AnalyticsQuery; format: Format }
  | { command: 'raw'; raw: RawQuery; format: Format }
  | { command: 'backfill' }
  | { command: 'help' }

const usage = (field: string, reason: string) =>
  new ValidationFailed(`${field} ${reason}`).withFields({ [field]: reason })

/** A `YYYY-MM-DD` day as its 00:00 UTC instant; anything else is passed on for the query model to judge. */
const instantOf = (value: string): string => (/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00.000Z` : value)

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d{1,9}$/.test(value)) throw usage(`--${name}`, 'must be a whole number')
  return Number(value)
}

function format(value: string | undefined): Format {
  if (value === undefined || value === 'table' || value === 'csv') return value ?? 'table'
  throw usage('--format', 'must be table or csv')
}

/** Parses the arguments after `emporium analytics`; bad ones throw EMP_VALIDATION naming the option. */
export function parseAnalyticsArgs(argv: readonly string[], now = Date.now()): AnalyticsCommand {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') return { command: 'help' }
  if (sub === 'backfill') {
    if (rest.length > 0) throw usage('backfill', `takes no arguments (got ${rest[0]})`)
    return { command: 'backfill' }
  }
  if (sub === 'raw') {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: {
        'max-rows': { type: 'string' },
        'timeout-ms': { type: 'string' },
        format: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    })
    if (positionals.length !== 1) throw usage('statement', 'give one statement, quoted as one argument')
    const maxRows = positiveInt(values['max-rows'], 'max-rows')
    const timeoutMs = positiveInt(values['timeout-ms'], 'timeout-ms')
    return {
      command: 'raw',
      raw: {
        statement: positionals[0]!,
        ...(maxRows !== undefined ? { maxRows } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      },
      format: format(values.format),
    }
  }
  if (sub !== 'query') throw usage('command', `${sub} is not one of query, raw, backfill`)
  const { values, positionals } = parseArgs({
    args: [...rest],
    options: {
      measure: { type: 'string', multiple: true },
      by: { type: 'string', multiple: true },
      from: { type: 'string' },
      to: { type: 'string' },
      filter: { type: 'string', multiple: true },
      sort: { type: 'string', multiple: true },
      limit: { type: 'string' },
      format: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length > 0) throw usage('query', `unexpected argument ${positionals[0]}`)
  const split = (list: string[] | undefined) => (list ?? []).flatMap((v) => v.split(',')).map((v) => v.trim())
  const measures = split(values.measure)
  if (measures.length === 0) throw usage('--measure', `is required: one or more of ${MEASURES.join(', ')}`)
  const to = values.to ? instantOf(values.to) : new Date(Math.floor(now / DAY_MS) * DAY_MS + DAY_MS).toISOString()
  const toMs = Date.parse(to)
  const from = values.from
    ? instantOf(values.from)
    : new Date((Number.isNaN(toMs) ? now : toMs) - 30 * DAY_MS).toISOString()
  const filters: Partial<Record<Dimension, DimensionValue[]>> = {}
  for (const f of values.filter ?? []) {
    const eq = f.indexOf('=')
    if (eq <= 0) throw usage('--filter', `${f} must be dimension=value`)
    const key = f.slice(0, eq).trim() as Dimension
    const raw = f.slice(eq + 1)
    const list: DimensionValue[] = raw === '' ? [null] : raw.split(',').map((v) => v.trim())
    filters[key] = [...(filters[key] ?? []), ...list]
  }
  const limit = positiveInt(values.limit, 'limit')
  const query: AnalyticsQuery = {
    measures: measures as Measure[],
    dimensions: split(values.by) as Dimension[],
    from,
    to,
    ...(Object.keys(filters).length > 0 ? { filters } : {}),
    ...(values.sort?.length
      ? {
          sort: values.sort.map((k) => {
            const [by = '', direction = 'asc'] = k.split(':')
            if (direction !== 'asc' && direction !== 'desc')
              throw usage('--sort', `${k} must be key, key:asc or key:desc`)
            return { by: by as Measure, direction: direction as 'asc' | 'desc' }
          }),
        }
      : {}),
    ...(limit !== undefined ? { limit } : {}),
  }
  return { command: 'query', query, format: format(values.format) }
}

const MONEY: ReadonlySet<string> = new Set(['revenue', 'gross_revenue', 'refunds', 'average_order_value'])
const RATES: ReadonlySet<string> = new Set(['conversion_rate', 'refund_rate'])

/** Decimal places of a currency's minor unit (USD 2, JPY 0). */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
  } catch {
    return 2
  }
}

/** Minor units as an exact decimal string in the major unit: 123456 USD → "1234.56", -5 → "-0.05". */
export function majorUnits(amount: number, digits: number): string {
  if (digits === 0) return String(amount)
  const sign = amount < 0 ? '-' : ''
  const text = String(Math.abs(amount)).padStart(digits + 1, '0')
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`
}

type Cell = string | number | boolean | null | undefined | object

/** `digits` null: raw values as they are (a raw column named revenue is not known to be money). */
function cellText(column: string, value: Cell, digits: number | null, fmt: Format): string {
  if (value === null || value === undefined) return fmt === 'table' ? '-' : ''
  if (digits !== null && typeof value === 'number' && MONEY.has(column)) return majorUnits(value, digits)
  if (digits !== null && typeof value === 'number' && RATES.has(column))
    return fmt === 'table' ? `${(value * 100).toFixed(2)}%` : String(value)
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

function render(columns: string[], rows: Cell[][], fmt: Format, digits: number | null): string {
  const cells = rows.map((r) => columns.map((c, i) => cellText(c, r[i], digits, fmt)))
  if (fmt === 'csv') {
    // Numbers (money, rates, counts) are the program's own and stay numbers; any text that a spreadsheet would run
    // as a formula (= + - @ …) gets a leading ' (CSV injection), as in the page's export. Lines end with \n here.
    const csv = cells.map((r, ri) => r.map((v, i) => csvCell(typeof rows[ri]![i] === 'number' ? { decimal: v } : v)))
    return `${[columns.map((c) => csvCell(c)), ...csv].map((r) => r.join(',')).join('\n')}\n`
  }
  const numeric = columns.map((_, i) => rows.every((r) => r[i] === null || typeof r[i] === 'number'))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)))
  const line = (r: string[]) =>
    r
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return `${[line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')}\n`
}

export function formatQueryResult(result: AnalyticsResult, fmt: Format): string {
  const columns = [...result.dimensions, ...result.measures]
  const rows = result.rows.map((r) => columns.map((c) => r[c] ?? null))
  const out = render(columns, rows, fmt, minorDigits(result.currency))
  return fmt === 'table' && result.rows.length === 0 ? `${out}(no rows)\n` : out
}

export function formatRawResult(result: RawResult, fmt: Format): string {
  const out = render(result.columns, result.rows as Cell[][], fmt, null)
  if (fmt === 'csv') return out
  return `${out}(${result.rows.length} row${result.rows.length === 1 ? '' : 's'}${result.truncated ? ', truncated' : ''})\n`
}
