// Every error Emporium answers with is declared here once: machine code, HTTP status and message template.

export type FieldErrors = Record<string, string>

export class EmporiumError extends Error {
  readonly code: string
  readonly statusCode: number
  fields?: FieldErrors
  details?: Record<string, unknown>

  constructor(code: string, statusCode: number, message: string) {
    super(message)
    this.name = 'EmporiumError'
    this.code = code
    this.statusCode = statusCode
  }

  /** Adds per-field reasons (shown beside form controls and returned as `error.fields`). */
  withFields(fields: FieldErrors): this {
    this.fields = { ...this.fields, ...fields }
    return this
  }

  /** Adds machine-readable context (e.g. the order id of a declined payment). */
  withDetails(details: Record<string, unknown>): this {
    this.details = { ...this.details, ...details }
    return this
  }
}

export interface ErrorClass<A extends unknown[]> {
  new (...args: A): EmporiumError
  readonly code: string
  readonly statusCode: number
}

export const registry = new Map<string, number>()

export function defineError<A extends unknown[]>(
  code: string,
  statusCode: number,
  message: (...args: A) => string,
): ErrorClass<A> {
  if (registry.has(code)) throw new Error(`error code ${code} is declared twice`)
  registry.set(code, statusCode)
  const cls = class extends EmporiumError {
    static readonly code = code
    static readonly statusCode = statusCode
    constructor(...args: A) {
      super(code, statusCode, message(...args))
    }
  }
  Object.defineProperty(cls, 'name', { value: code })
  return cls
}

export const isEmporiumError = (e: unknown): e is EmporiumError => e instanceof EmporiumError

// Request shape
export const ValidationFailed = defineError(
  'EMP_VALIDATION',
  400,
  (what?: string) => what ?? 'The request is not valid',
)
export const MalformedJson = defineError('EMP_MALFORMED_JSON', 400, () => 'The request body is not valid JSON')
export const UnsupportedMediaType = defineError(
  'EMP_UNSUPPORTED_MEDIA_TYPE',
  415,
  (type: string) => `Content type ${type} is not supported; send application/json`,
)
export const BodyTooLarge = defineError(
  'EMP_BODY_TOO_LARGE',
  413,
  (limit: number) => `The request body is larger than ${limit} bytes`,
)
export const NotFound = defineError('EMP_NOT_FOUND', 404, (what: string) => `${what} was not found`)
export const RouteNotFound = defineError(
  'EMP_ROUTE_NOT_FOUND',
  404,
  (method: string, url: string) => `No route ${method} ${url}`,
)

// Identity and access
export const AuthRequired = defineError('EMP_AUTH_REQUIRED', 401, () => 'Sign in to do this')
export const Forbidden = defineError('EMP_FORBIDDEN', 403, () => 'Your account may not do this')
export const CsrfRejected = defineError(
  'EMP_CSRF',
  403,
  () => 'The request is missing a valid CSRF token (header x-csrf-token); reload the page and try again',
)
export const InvalidCredentials = defineError('EMP_INVALID_CREDENTIALS', 401, () => 'The e-mail or password is wrong')
export const AccountLocked = defineError(
  'EMP_ACCOUNT_LOCKED',
  429,
  (minutes: number) => `Too many failed sign-ins for this account; try again in ${minutes} minutes`,
)
export const RateLimited = defineError(
  'EMP_RATE_LIMITED',
  429,
  (seconds: number) => `Too many requests; retry in ${seconds} s`,
)
export const EmailTaken = defineError('EMP_EMAIL_TAKEN', 409, () => 'An account with this e-mail already exists')
export const WeakPassword = defineError('EMP_WEAK_PASSWORD', 422, (reason: string) => reason)
export const InvalidApiToken = defineError('EMP_INVALID_TOKEN', 401, () => 'The API token is unknown or revoked')

// Catalog, stock and cart
export const SlugTaken = defineError('EMP_SLUG_TAKEN', 409, (slug: string) => `The slug ${slug} is already used`)
export const SkuTaken = defineError('EMP_SKU_TAKEN', 409, (sku: string) => `The SKU ${sku} is already used`)
export const CategoryInUse = defineError(
  'EMP_CATEGORY_IN_USE',
  409,
  (slug: string) => `Category ${slug} still has products; move or delete them first`,
)
export const UnknownSku = defineError(
  'EMP_UNKNOWN_SKU',
  422,
  (sku: string) => `There is no product variant with SKU ${sku}`,
)
export const OutOfStock = defineError('EMP_OUT_OF_STOCK', 409, (sku: string) => `SKU ${sku} is out of stock`)
export const InsufficientStock = defineError(
  'EMP_INSUFFICIENT_STOCK',
  409,
  (sku: string, available: number) => `Only ${available} of SKU ${sku} are available`,
)
export const CartEmpty = defineError('EMP_CART_EMPTY', 422, () => 'The cart is empty')
export const CartLimit = defineError('EMP_CART_LIMIT', 422, (reason: string) => reason)
export const CouponInvalid = defineError('EMP_COUPON_INVALID', 422, (code: string) => `Coupon ${code} does not exist`)
export const CouponExpired = defineError('EMP_COUPON_EXPIRED', 422, (code: string) => `Coupon ${code} has expired`)
export const CouponMinimum = defineError(
  'EMP_COUPON_MIN_SUBTOTAL',
  422,
  (code: string, minimum: string) => `Coupon ${code} needs a subtotal of at least ${minimum}`,
)
export const CouponExhausted = defineError(
  'EMP_COUPON_EXHAUSTED',
  409,
  (code: string) => `Coupon ${code} has reached its usage limit`,
)
export const ConcurrentUpdate = defineError(
  'EMP_CONFLICT',
  409,
  (what: string) => `${what} was changed by another request; retry`,
)

// Checkout, payments and orders
export const IdempotencyKeyRequired = defineError(
  'EMP_IDEMPOTENCY_KEY_REQUIRED',
  400,
  () => 'Checkout needs an Idempotency-Key header of 8 to 200 characters [A-Za-z0-9_.:-]',
)
export const CheckoutInProgress = defineError(
  'EMP_CHECKOUT_IN_PROGRESS',
  409,
  () => 'A checkout with this Idempotency-Key is still in progress; retry shortly',
)
export const PaymentDeclined = defineError(
  'EMP_PAYMENT_DECLINED',
  402,
  (reason: string) => `The payment was declined: ${reason}`,
)
export const PaymentUnavailable = defineError(
  'EMP_PAYMENT_UNAVAILABLE',
  503,
  () => 'The payment provider did not answer; the order will be settled shortly, do not pay again',
)
export const CheckoutAborted = defineError(
  'EMP_CHECKOUT_ABORTED',
  409,
  () => 'The checkout was cancelled before it completed; nothing was charged',
)
export const InvalidTransition = defineError(
  'EMP_INVALID_TRANSITION',
  409,
  (from: string, to: string) => `An order that is ${from} cannot become ${to}`,
)
export const RefundExists = defineError(
  'EMP_REFUND_EXISTS',
  409,
  () => 'A refund has already been requested for this order',
)

// Analytics
export const QueryRefused = defineError(
  'EMP_QUERY_REFUSED',
  422,
  (reason: string) => `The console runs one read-only statement only: ${reason}`,
)
export const QueryTimeout = defineError(
  'EMP_QUERY_TIMEOUT',
  422,
  (ms: number) => `The query ran longer than ${ms} ms and was stopped; narrow it or raise the time limit`,
)

// Infrastructure
export const EngineUnavailable = defineError(
  'EMP_UNAVAILABLE',
  503,
  (engine: string) => `${engine} is not available; retry shortly`,
)
export const Internal = defineError('EMP_INTERNAL', 500, () => 'Something went wrong on our side; it has been logged')
