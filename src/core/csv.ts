// CSV for spreadsheets: RFC 4180 quoting, CRLF lines, and no cell a spreadsheet would run as a formula.

/** A decimal the program wrote itself (money in major units, "-12.50"): written as it is, like a number. */
export interface CsvDecimal {
  decimal: string
}

export type CsvValue = string | number | boolean | CsvDecimal | null | undefined

const DECIMAL = /^-?\d+(\.\d+)?$/

/**
 * Text a spreadsheet reads as a formula (CSV injection): it starts with = + - @, or with a tab or carriage return,
 * which some spreadsheets skip before looking at the next character.
 */
const FORMULA_START = /^[=+\-@\t\r]/

/**
 * One cell. Text that would start a formula gets a leading `'` (spreadsheets show it as text and hide the mark);
 * numbers and decimals are the program's own values and stay numbers, so -12.5 is written as it is (a "decimal"
 * that is not one is treated as text). Null is an empty cell.
 */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'object') return DECIMAL.test(value.decimal) ? value.decimal : csvCell(value.decimal)
  let text: string
  if (typeof value === 'number') text = Number.isFinite(value) ? String(value) : ''
  else if (typeof value === 'boolean') text = String(value)
  else text = FORMULA_START.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** A whole document: the header, then one line per row, each line ended by CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvCell).join(',')}\r\n`).join('')
}
