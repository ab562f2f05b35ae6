// The commerce domain's records, shared by the services and every CommerceStore adapter.

export type Role = 'customer' | 'staff' | 'analyst' | 'admin'
export const ROLES: readonly Role[] = ['customer', 'staff', 'analyst', 'admin']

export interface Category {
  id: string
  slug: string
  name: string
  description: string
  position: number
}

export interface Variant {
  sku: string
  name: string
  /** e.g. { size: 'M', colour: 'Blue' } */
  options: Record<string, string>
  /** Minor units in the shop currency. */
  price: number
}

export interface Product {
  id: string
  slug: string
  name: string
  description: string
  categoryId: string
  images: string[]
  featured: boolean
  variants: Variant[]
  createdAt: string
  updatedAt: string
}

export interface Inventory {
  sku: string
  available: number
  reserved: number
}

export type ProductSort = 'relevance' | 'price_asc' | 'price_desc' | 'newest' | 'name'
export const PRODUCT_SORTS: readonly ProductSort[] = ['relevance', 'price_asc', 'price_desc', 'newest', 'name']

export interface ProductQuery {
  /** Free text over name and description; every word must match (prefix match). */
  q?: string
  categoryId?: string
  minPrice?: number
  maxPrice?: number
  inStock?: boolean
  featured?: boolean
  sort?: ProductSort
  page: number
  limit: number
}

export interface Page<T> {
  items: T[]
  total: number
  page: number
  limit: number
}

/** What checkout and the cart need to price a line. */
export interface VariantInfo extends Variant {
  productId: string
  productSlug: string
  productName: string
  categoryId: string
  image: string | undefined
}

export interface User {
  id: string
  email: string
  name: string
  passwordHash: string
  role: Role
  createdAt: string
  updatedAt: string
}

export interface ApiToken {
  id: string
  userId: string
  name: string
  /** SHA-256 of the secret, hex; the secret itself is shown once and never stored. */
  tokenHash: string
  /** The first characters of the secret, to help people tell their tokens apart. */
  prefix: string
  createdAt: string
  revokedAt: string | null
}

/**
 * A query an analyst saved under a name on the back office's analytics page. `query` is opaque to the store: the
 * page's own query string (measures, dimensions, filters, range, sort, limit), checked again whenever it runs.
 */
export interface SavedQuery {
  id: string
  userId: string
  /** Unique per user. */
  name: string
  query: string
  createdAt: string
  updatedAt: string
}

export interface CartItem {
  sku: string
  quantity: number
}

export interface Cart {
  id: string
  userId: string | null
  items: CartItem[]
  couponCode: string | null
  /** Optimistic concurrency: bumped by every save. */
  version: number
  updatedAt: string
}

export type CouponKind = 'percent' | 'fixed'

export interface Coupon {
  code: string
  kind: CouponKind
  /** percent: basis points (1000 = 10 %); fixed: minor units. */
  value: number
  minSubtotal: number
  expiresAt: string | null
  usageLimit: number | null
  usedCount: number
  active: boolean
  description: string
}

export type OrderStatus =
  | 'pending'
  | 'paid'
  | 'payment_failed'
  | 'shipped'
  | 'delivered'
  | 'cancelled'
  | 'refund_requested'
  | 'refunded'
  | 'refund_rejected'

export const ORDER_STATUSES: readonly OrderStatus[] = [
  'pending',
  'paid',
  'payment_failed',
  'shipped',
  'delivered',
  'cancelled',
  'refund_requested',
  'refunded',
  'refund_rejected',
]

export interface Address {
  name: string
  line1: string
  line2?: string | undefined
  city: string
  postalCode: string
  /** ISO 3166-1 alpha-2 */
  country: string
}

export interface OrderLine {
  sku: string
  productId: string
  productSlug: string
  categoryId: string
  name: string
  variantName: string
  quantity: number
  unitPrice: number
  lineTotal: number
}

export interface Totals {
  currency: string
  subtotal: number
  discount: number
  shipping: number
  tax: number
  total: number
}

export interface HistoryEntry {
  from: OrderStatus | null
  to: OrderStatus
  at: string
  /** user id, or 'system:<job>' for background work */
  actor: string
  reason: string
}

export interface PaymentSummary {
  chargeId: string
  status: 'succeeded' | 'refunded'
  last4: string | null
  brand: string | null
  amount: number
  refundId?: string | undefined
}

export interface Order extends Totals {
  id: string
  userId: string
  status: OrderStatus
  idempotencyKey: string
  lines: OrderLine[]
  couponCode: string | null
  shippingAddress: Address
  payment: PaymentSummary | null
  failureReason: string | null
  history: HistoryEntry[]
  /** Where the order was placed: 'web' (the storefront) or 'api'; absent on orders recorded before it was kept. */
  channel?: string
  createdAt: string
  updatedAt: string
}

export type RefundStatus = 'requested' | 'approved' | 'rejected'

export interface Refund {
  id: string
  orderId: string
  userId: string
  amount: number
  currency: string
  reason: string
  status: RefundStatus
  createdAt: string
  decidedAt: string | null
  decidedBy: string | null
  decisionNote: string | null
}
