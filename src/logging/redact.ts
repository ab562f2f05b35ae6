// Removes personal data from log records: secrets by key name, bearer/API tokens, session ids, card numbers and e-mails.
import { createHash, createHmac } from 'node:crypto'
import type { EcsRecord } from './ecs.ts'

export const REDACTED = '[REDACTED]'
export const CARD = '[CARD]'

export interface RedactOptions {
  /**
   * HMAC key for e-mail hashes. Without one the hash is a plain SHA-256, which still correlates the same address
   * but lets someone who guesses an address confirm it; with a key it cannot be checked without the key.
   */
  emailKey?: string
  /** Hex characters of the hash kept after `email:` (default 16, i.e. 64 bits). */
  emailHashLength?: number
}

export type Redactor = (record: EcsRecord) => EcsRecord

// --- key names ---------------------------------------------------------------------------------------------

/** Key words that mark a value as secret wherever they appear as a word of the key (`newPassword`, `x-csrf-token`). */
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'passphrase',
  'passcode',
  'pass',
  'pwd',
  'secret',
  'secrets',
  'token',
  'tokens',
  'authorization',
  'auth',
  'cookie',
  'cookies',
  'csrf',
  'xsrf',
  'apikey',
  'sid',
  'session',
  'sessionid',
  'credential',
  'credentials',
  'cvc',
  'cvv',
  'otp',
  'pin',
  'ssn',
])
/** Run-together lower-case keys (`accesstoken`, `newpassword`) are caught by these prefixes and suffixes. */
const SECRET_AFFIXES = ['password', 'passwd', 'secret', 'token', 'cookie', 'csrf', 'xsrf', 'apikey', 'session']
const SECRET_PAIRS = new Set(['api key', 'private key', 'access key', 'signing key', 'encryption key'])
/** Secrets that are numbers, so a numeric value under these keys is redacted too (other numbers are counts, ids…). */
const NUMERIC_SECRET_WORDS = new Set(['password', 'passcode', 'pin', 'cvc', 'cvv', 'otp', 'ssn'])

/** A typed id (`tok_0193…`, `usr_…`) names a record; it is never the secret itself, so `tokenId` stays readable. */
const TYPED_ID = /^[a-z]{2,4}_[0-9a-f]{32}$/

const keyCache = new Map<string, 0 | 1 | 2>()

function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
}

/** 0: not sensitive, 1: secret text, 2: secret even when a number. */
function keySensitivity(key: string): 0 | 1 | 2 {
  const cached = keyCache.get(key)
  if (cached !== undefined) return cached
  const words = keyWords(key)
  let level: 0 | 1 | 2 = 0
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string
    const pairSecret = i > 0 && SECRET_PAIRS.has(`${words[i - 1]} ${w}`)
    if (SECRET_WORDS.has(w) || pairSecret || SECRET_AFFIXES.some((a) => w.startsWith(a) || w.endsWith(a))) {
      if (NUMERIC_SECRET_WORDS.has(w) || NUMERIC_SECRET_WORDS.has(w.replace(/s$/, ''))) {
        level = 2
        break
      }
      level = 1
    }
  }
  if (keyCache.size > 10_000) keyCache.clear()
  keyCache.set(key, level)
  return level
}

export const isSensitiveKey = (key: string): boolean => keySensitivity(key) > 0

// --- free text ---------------------------------------------------------------------------------------------

// A cheap test before the key=value pass: no secret word, no pass.
const SECRET_WORD_HINT =
  /bearer|basic|pass|pwd|secret|token|auth|cookie|csrf|xsrf|key|sid|session|credential|cvc|cvv|otp|pin|ssn/i
// `name=value`, `name: value`, `"name":"value"`: the name is checked with keySensitivity, so `bypass=1` survives.
const KEY_VALUE =
  /([A-Za-z0-9_.[\]-]{1,64})(["']?\s*[:=]\s*)(\[REDACTED\]|"[^"]{0,4096}"|'[^']{0,4096}'|(?:bearer\s+|basic\s+)?[^\s&;,"'}\])]{1,4096})/gi
const AUTH_SCHEME = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi
const API_TOKEN = /\bemp_[A-Za-z0-9_-]{20,}/g
const EMAIL = /[A-Za-z0-9._%+-]{1,64}(?:@|%40)(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b/g
// A run of 13+ digits, optionally grouped by single spaces or dashes (also URL-encoded: %20, +, %2D), not part of
// a word or a decimal number.
const DIGIT_RUN = /(?<![\w.%])\d(?:(?:[ -]|%20|%2[dD]|\+)?\d){12,}(?![\w])/g
const DIGIT_SEPARATOR = /( |-|%20|%2[dD]|\+)/
// Opaque high-entropy strings (session ids, CSRF tokens, JWT parts): 32+ base64url characters mixing cases and digits.
const OPAQUE = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,1024}(?![A-Za-z0-9_-])/g

export function luhnValid(digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (d < 0 || d > 9) return false
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}

/** Payment card numbers start with 2-6 (Mastercard 2-series, Amex/Diners/JCB, Visa, Mastercard/Maestro, Discover/UnionPay). */
const looksLikeCard = (digits: string): boolean =>
  digits.length >= 13 &&
  digits.length <= 19 &&
  digits.charCodeAt(0) >= 50 &&
  digits.charCodeAt(0) <= 54 &&
  luhnValid(digits)

/** Masks every card number inside a run of grouped digits; a card followed by more digits (a CVV, an expiry) is found too. */
function maskDigitRun(run: string): string {
  if (run.length <= 19 && !DIGIT_SEPARATOR.test(run)) return looksLikeCard(run) ? CARD : run
  const parts = run.split(DIGIT_SEPARATOR)
  const groups: string[] = []
  const seps: string[] = []
  for (let i = 0; i < parts.length; i++) (i % 2 === 0 ? groups : seps).push(parts[i] as string)
  const out: string[] = []
  let i = 0
  while (i < groups.length) {
    let matchedEnd = -1
    let digits = ''
    for (let j = i; j < groups.length && digits.length < 19; j++) {
      digits += groups[j]
      if (looksLikeCard(digits)) matchedEnd = j
    }
    if (matchedEnd >= 0) {
      out.push(CARD)
      i = matchedEnd + 1
    } else {
      out.push(groups[i] as string)
      i++
    }
    if (i < groups.length) out.push(seps[i - 1] as string)
  }
  return out.join('')
}

function isOpaqueSecret(s: string): boolean {
  let upper = false
  let lower = false
  let digit = false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 65 && c <= 90) upper = true
    else if (c >= 97 && c <= 122) lower = true
    else if (c >= 48 && c <= 57) digit = true
    if (upper && lower && digit) return true
  }
  return false
}

/** Builds a redactor; the e-mail hash depends on the options, so build one per configuration and reuse it. */
export function createRedactor(options: RedactOptions = {}): Redactor {
  const hashLength = options.emailHashLength ?? 16
  const emailKey = options.emailKey
  const emailCache = new Map<string, string>()

  const hashEmail = (raw: string): string => {
    const address = raw.replace(/%40/i, '@').toLowerCase()
    let hashed = emailCache.get(address)
    if (hashed === undefined) {
      const h = emailKey ? createHmac('sha256', emailKey) : createHash('sha256')
      hashed = `email:${h.update(address).digest('hex').slice(0, hashLength)}`
      if (emailCache.size >= 4096) emailCache.clear()
      emailCache.set(address, hashed)
    }
    return hashed
  }

  const replaceKeyValue = (match: string, key: string, sep: string, value: string): string => {
    if (keySensitivity(key) === 0) return match
    const quote = value[0] === '"' || value[0] === "'" ? value[0] : ''
    const bare = quote ? value.slice(1, -1) : value
    if (TYPED_ID.test(bare) || bare === REDACTED) return match
    return `${key}${sep}${quote}${REDACTED}${quote}`
  }

  const redactText = (s: string): string => {
    if (s.length < 6) return s
    let out = s
    if (SECRET_WORD_HINT.test(out)) {
      out = out.replace(KEY_VALUE, replaceKeyValue)
      out = out.replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    }
    if (out.includes('emp_')) out = out.replace(API_TOKEN, REDACTED)
    if (out.includes('@') || out.includes('%40')) out = out.replace(EMAIL, hashEmail)
    if (out.length >= 13) out = out.replace(DIGIT_RUN, maskDigitRun)
    if (out.length >= 32) out = out.replace(OPAQUE, (m) => (isOpaqueSecret(m) ? REDACTED : m))
    return out
  }

  const redactNumber = (n: number): number | string =>
    Number.isInteger(n) && n >= 1e12 && looksLikeCard(String(n)) ? CARD : n

  /** Any value under a key: key name first, then its text. Objects and arrays are walked to any depth. */
  const redactValue = (key: string, value: unknown, depth: number): unknown => {
    const sensitivity = key ? keySensitivity(key) : 0
    if (typeof value === 'string') {
      if (sensitivity > 0 && !TYPED_ID.test(value)) return REDACTED
      return redactText(value)
    }
    if (typeof value === 'number') return sensitivity === 2 ? REDACTED : redactNumber(value)
    if (typeof value !== 'object' || value === null) return value
    if (sensitivity > 0) return REDACTED
    if (depth > 8) return REDACTED
    if (Array.isArray(value)) return value.map((v) => redactValue('', v, depth + 1))
    const out: Record<string, unknown> = {}
    for (const k in value) out[k] = redactValue(k, (value as Record<string, unknown>)[k], depth + 1)
    return out
  }

  const redactFields = <T extends object>(obj: T | undefined, fields: readonly (keyof T)[]): T | undefined => {
    if (!obj) return obj
    let copy: T | undefined
    for (const f of fields) {
      const v = obj[f]
      if (typeof v !== 'string') continue
      const r = redactText(v)
      if (r !== v) {
        copy ??= { ...obj }
        copy[f] = r as T[keyof T]
      }
    }
    return copy ?? obj
  }

  return (record: EcsRecord): EcsRecord => {
    const out: EcsRecord = { ...record }
    out.message = typeof record.message === 'string' ? redactText(record.message) : record.message
    if (record.url) out.url = redactFields(record.url, ['path', 'query'])
    if (record.error) out.error = redactFields(record.error, ['message', 'stack_trace'])
    if (record.user_agent) out.user_agent = redactFields(record.user_agent, ['original'])
    if (record.labels) {
      const labels: Record<string, string | number | boolean> = {}
      for (const k in record.labels) labels[k] = redactValue(k, record.labels[k], 1) as string | number | boolean
      out.labels = labels
    }
    // Fields outside the schema (a record from elsewhere) get the full walk; the schema's own ids and numbers are kept.
    for (const k in record) {
      if (!SCHEMA_KEYS.has(k))
        (out as unknown as Record<string, unknown>)[k] = redactValue(
          k,
          (record as unknown as Record<string, unknown>)[k],
          1,
        )
    }
    return out
  }
}

const SCHEMA_KEYS = new Set([
  '@timestamp',
  'message',
  'log',
  'event',
  'service',
  'host',
  'process',
  'http',
  'url',
  'user',
  'client',
  'user_agent',
  'trace',
  'error',
  'labels',
])

const defaultRedactor = createRedactor()

/** Redacts with the default options (unkeyed e-mail hashes). Pure: the record passed in is not changed. */
export const redactRecord: Redactor = (record) => defaultRedactor(record)
