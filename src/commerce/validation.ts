// Domain-level input rules shared by the API, the pages and the CLI; each failure names its field.
import { ValidationFailed, WeakPassword } from '../core/errors.ts'

export const EMAIL_MAX = 254
export const PASSWORD_MIN = 10
export const PASSWORD_MAX = 256
const EMAIL_RE = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]{2,}$/

export const SLUG_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/
export const SKU_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
export const COUPON_RE = /^[A-Z0-9][A-Z0-9_-]{1,31}$/

export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase()
  if (email.length === 0 || email.length > EMAIL_MAX || !EMAIL_RE.test(email))
    throw new ValidationFailed('The e-mail address is not valid').withFields({ email: 'Enter a valid e-mail address' })
  return email
}

export function checkPassword(password: string, field = 'password', email?: string): void {
  if (password.length < PASSWORD_MIN)
    throw new WeakPassword(`Use at least ${PASSWORD_MIN} characters`).withFields({
      [field]: `Use at least ${PASSWORD_MIN} characters`,
    })
  if (password.length > PASSWORD_MAX)
    throw new WeakPassword(`Use at most ${PASSWORD_MAX} characters`).withFields({
      [field]: `Use at most ${PASSWORD_MAX} characters`,
    })
  if (new Set(password).size < 4 || (email && password.toLowerCase().includes(email.split('@')[0] ?? '\u0000')))
    throw new WeakPassword('This password is too easy to guess').withFields({
      [field]: 'Choose a less guessable password',
    })
}

export function cleanText(raw: string, field: string, max: number, opts: { min?: number } = {}): string {
  // Control characters other than newlines and tabs never belong in user text.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const text = raw.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').trim()
  const min = opts.min ?? 1
  if (text.length < min) throw new ValidationFailed(`${field} is required`).withFields({ [field]: 'Required' })
  if (text.length > max)
    throw new ValidationFailed(`${field} is too long`).withFields({ [field]: `At most ${max} characters` })
  return text
}

export function checkQuantity(quantity: number, max: number, field = 'quantity'): void {
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > max)
    throw new ValidationFailed(`${field} must be a whole number from 1 to ${max}`).withFields({
      [field]: `A whole number from 1 to ${max}`,
    })
}
