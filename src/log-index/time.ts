// Timestamps as the search engines' `date` type reads them (strict_date_optional_time || epoch_millis), to epoch ms.

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/

/**
 * Epoch milliseconds of an ISO-8601 date-time (`2026-03-01`, `2026-03-01T12:00:05.123Z`, `…+02:00`; no zone means
 * UTC, fractions beyond milliseconds are truncated) or of epoch milliseconds (a number or a string of digits).
 * Undefined when the value is none of these, or names a day or time that does not exist.
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined
  if (typeof value !== 'string') return undefined
  if (/^-?\d{1,15}$/.test(value)) return Number(value)
  const m = ISO.exec(value)
  if (!m) return undefined
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(s)
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined
  const ms = Number(frac.padEnd(3, '0').slice(0, 3))
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms))
  date.setUTCFullYear(year, month - 1, day) // Date.UTC maps years 0-99 to 1900-1999
  if (date.getUTCDate() !== day) return undefined
  const local = date.getTime()
  let offset = 0
  if (zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '')
    const oh = Number(digits.slice(0, 2))
    const om = Number(digits.slice(2) || '0')
    if (oh > 23 || om > 59) return undefined
    offset = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000
  }
  return local - offset
}
