// The CommerceStore port: everything the shop keeps about catalog, stock, people, carts, orders and refunds.
// Adapters: sqlite/ (embedded) and mongodb/ (distributed). Every method is single-record atomic, so the
// checkout saga needs no multi-document transaction.
import type {
  ApiToken,
  Cart,
  Category,
  Coupon,
  HistoryEntry,
  Inventory,
  Order,
  OrderStatus,
  Page,
  PaymentSummary,
  Product,
  ProductQuery,
  Refund,
  RefundStatus,
  Role,
  SavedQuery,
  User,
  VariantInfo,
} from '../model.ts'

export interface OrderListQuery {
  userId?: string
  status?: OrderStatus
  page: number
  limit: number
}

export interface RefundListQuery {
  status?: RefundStatus
  page: number
  limit: number
}

export interface UserListQuery {
  q?: string
  role?: Role
  page: number
  limit: number
}

export interface OrderTransition {
  /** The transition happens only if the order is in one of these states (compare-and-set). */
  from: readonly OrderStatus[]
  to: OrderStatus
  entry: HistoryEntry
  payment?: PaymentSummary
  failureReason?: string
}

export interface CommerceStore {
  readonly kind: string

  /** Creates tables or collections and indexes; safe to run again. */
  migrate(): Promise<void>
  /** Resolves when the engine answers; rejects otherwise. */
  ping(): Promise<void>
  close(): Promise<void>

  // Catalog
  upsertCategory(category: Category): Promise<void>
  listCategories(): Promise<Category[]>
  getCategoryBySlug(slug: string): Promise<Category | null>
  getCategoryById(id: string): Promise<Category | null>
  /** Refuses (CategoryInUse) while products reference the category; false if it did not exist. */
  deleteCategory(id: string): Promise<boolean>
  /** Creates the product and an inventory row (available 0) per variant. Throws SlugTaken / SkuTaken. */
  createProduct(product: Product): Promise<void>
  /** Replaces the product; variants may be added (inventory 0) or removed. Throws SlugTaken / SkuTaken. */
  updateProduct(product: Product): Promise<boolean>
  deleteProduct(id: string): Promise<boolean>
  getProductById(id: string): Promise<Product | null>
  getProductBySlug(slug: string): Promise<Product | null>
  searchProducts(query: ProductQuery): Promise<{ items: Product[]; total: number }>
  /** The variants found, in any order; unknown SKUs are simply absent. */
  getVariants(skus: readonly string[]): Promise<VariantInfo[]>
  countProducts(): Promise<number>
  /** Monotonic number bumped by every change to catalog, prices or stock; caches key on it. A handle sees its
   *  own changes at once and other processes' changes within a fraction of a second. */
  catalogVersion(): Promise<number>

  // Inventory
  getInventory(skus: readonly string[]): Promise<Inventory[]>
  /** Sets the sellable count of a SKU (reserved units are untouched). False for an unknown SKU. */
  setAvailable(sku: string, available: number): Promise<boolean>
  /** Atomically moves qty from available to reserved if available >= qty, under a hold named by orderId.
   *  Idempotent: a second call for the same (orderId, sku) returns true and changes nothing. */
  reserveStock(orderId: string, sku: string, qty: number): Promise<boolean>
  /** Returns a hold's units to available. Idempotent; false when there was no hold. */
  releaseStock(orderId: string, sku: string): Promise<boolean>
  /** Turns a hold into a sale (reserved -= qty). Idempotent; false when there was no hold. */
  commitStock(orderId: string, sku: string): Promise<boolean>
  /** Adds units back to available (refunds, cancellations of paid orders). Keyed by reason to be idempotent. */
  restock(restockId: string, sku: string, qty: number): Promise<boolean>
  /** SKUs with a hold for this order. */
  listHolds(orderId: string): Promise<{ sku: string; qty: number }[]>

  // Users and API tokens
  /** Throws EmailTaken when the (case-folded) e-mail exists. */
  createUser(user: User): Promise<void>
  getUserById(id: string): Promise<User | null>
  getUserByEmail(email: string): Promise<User | null>
  updateUser(id: string, patch: Partial<Pick<User, 'name' | 'passwordHash' | 'role'>>, at: string): Promise<User | null>
  listUsers(query: UserListQuery): Promise<{ items: User[]; total: number }>
  countUsers(): Promise<number>
  /** Counts a failed sign-in inside a sliding window; returns the count in the current window. */
  recordFailedLogin(userId: string, at: Date, windowMs: number): Promise<number>
  failedLoginCount(userId: string, at: Date, windowMs: number): Promise<number>
  clearFailedLogins(userId: string): Promise<void>
  createApiToken(token: ApiToken): Promise<void>
  getApiTokenByHash(tokenHash: string): Promise<ApiToken | null>
  /** The owner of an unrevoked token, in one read where the engine can join; null for unknown or revoked. */
  getUserByActiveTokenHash(tokenHash: string): Promise<User | null>
  listApiTokens(userId: string): Promise<ApiToken[]>
  /** Only the owner's token is revoked; false when none matched. */
  revokeApiToken(userId: string, tokenId: string, at: string): Promise<boolean>

  // Carts
  getCart(id: string): Promise<Cart | null>
  getCartByUserId(userId: string): Promise<Cart | null>
  /** Saves if the stored version equals expectedVersion (null: the cart must not exist yet); the
   *  stored version becomes expectedVersion + 1. False on a lost race. */
  saveCart(cart: Cart, expectedVersion: number | null): Promise<boolean>
  deleteCart(id: string): Promise<void>

  // Coupons
  upsertCoupon(coupon: Coupon): Promise<void>
  getCoupon(code: string): Promise<Coupon | null>
  listCoupons(): Promise<Coupon[]>
  /** Atomically counts one use for orderId if the usage limit allows. Idempotent per orderId. */
  redeemCoupon(code: string, orderId: string): Promise<boolean>
  /** Gives back the use counted for orderId. Idempotent. */
  releaseCoupon(code: string, orderId: string): Promise<boolean>

  // Orders
  /** Inserts unless an order with the same (userId, idempotencyKey) exists; returns the stored one. */
  createOrderIfAbsent(order: Order): Promise<{ order: Order; created: boolean }>
  getOrder(id: string): Promise<Order | null>
  getOrderByIdempotencyKey(userId: string, key: string): Promise<Order | null>
  listOrders(query: OrderListQuery): Promise<{ items: Order[]; total: number }>
  /** Compare-and-set of the status, appending the history entry. Null when the order was not in `from`. */
  transitionOrder(id: string, transition: OrderTransition): Promise<Order | null>
  /** Pending orders created before the given instant, oldest first. */
  listPendingOrders(createdBefore: string, limit: number): Promise<Order[]>
  countOrders(): Promise<number>

  // Refunds
  /** Throws RefundExists when the order already has a refund. */
  createRefund(refund: Refund): Promise<void>
  getRefund(id: string): Promise<Refund | null>
  getRefundByOrderId(orderId: string): Promise<Refund | null>
  listRefunds(query: RefundListQuery): Promise<{ items: Refund[]; total: number }>
  /** Compare-and-set from 'requested'; null when already decided. */
  decideRefund(
    id: string,
    decision: { status: 'approved' | 'rejected'; at: string; by: string; note: string | null },
  ): Promise<Refund | null>

  // Saved analytics queries (each user sees and changes only their own)
  /**
   * Saves under (userId, name): a new name adds the record as given; a name the user already has keeps its id and
   * createdAt and takes the new query and updatedAt. Returns what is stored.
   */
  saveQuery(query: SavedQuery): Promise<SavedQuery>
  /** The user's saved queries by name. */
  listSavedQueries(userId: string): Promise<SavedQuery[]>
  /** Null unless the query exists and belongs to the user. */
  getSavedQuery(userId: string, id: string): Promise<SavedQuery | null>
  /** Only the owner's query is deleted; false when none matched. */
  deleteSavedQuery(userId: string, id: string): Promise<boolean>
}

export type { Page }
