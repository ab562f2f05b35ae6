// Decides which channel a log record belongs to: error, security, audit, business, access or app.
import type { EcsRecord, LogCategory } from './ecs.ts'

/** Refusals that are about who may do what: a client probing credentials, tokens, CSRF or the rate limits. */
export const SECURITY_ERROR_CODES: ReadonlySet<string> = new Set([
  'EMP_CSRF',
  'EMP_INVALID_CREDENTIALS',
  'EMP_ACCOUNT_LOCKED',
  'EMP_INVALID_TOKEN',
  'EMP_AUTH_REQUIRED',
  'EMP_FORBIDDEN',
  'EMP_RATE_LIMITED',
])
const SECURITY_STATUSES: ReadonlySet<number> = new Set([401, 403, 429])
const SECURITY_ACTION =
  /(?:^|[._-])(?:login|signin|sign_in|auth\w*)[._-](?:fail(?:ed|ure)?|refused|denied|rejected)$|csrf/i

function hasError(error: EcsRecord['error']): boolean {
  if (!error) return false
  return Boolean(error.message || error.type || error.stack_trace || error.code)
}

/** Most specific first: an error is an error even on a security path; a marker outranks the access line it sits in. */
export function classify(record: EcsRecord): LogCategory {
  const level = record.log?.level
  if (level === 'error' || level === 'fatal' || hasError(record.error)) return 'error'

  const marked = record.event?.category
  const action = record.event?.action ?? ''
  const status = record.http?.response?.status_code
  const code = record.labels?.code
  if (
    marked === 'security' ||
    (status !== undefined && SECURITY_STATUSES.has(status)) ||
    (typeof code === 'string' && SECURITY_ERROR_CODES.has(code)) ||
    (action !== '' && SECURITY_ACTION.test(action))
  )
    return 'security'
  if (marked === 'audit') return 'audit'
  if (marked === 'business') return 'business'
  if (status !== undefined) return 'access'
  return 'app'
}
