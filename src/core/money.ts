// Money as an integer count of minor units plus an ISO 4217 currency code; never a float.
export interface Money {
  amount: number
  currency: string
}

export const money = (amount: number, currency: string): Money => {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`money amount must be a safe integer, got ${amount}`)
  return { amount, currency }
}

/** Rounds half away from zero, the usual rule for prices and tax. */
export const roundHalfUp = (value: number): number => Math.sign(value) * Math.round(Math.abs(value))

/** A share of an amount in basis points (1 bp = 0.01 %), rounded to the minor unit. */
export const basisPointsOf = (amount: number, basisPoints: number): number =>
  roundHalfUp((amount * basisPoints) / 10_000)

export const isCurrencyCode = (code: string): boolean => /^[A-Z]{3}$/.test(code)

/** Formats for people (pages, e-mails); amounts in the API stay integers. */
export const formatMoney = (m: Money, locale = 'en-US'): string =>
  new Intl.NumberFormat(locale, { style: 'currency', currency: m.currency }).format(m.amount / 100)
