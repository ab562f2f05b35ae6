// The distributed CommerceStore on MongoDB (official driver v6): one document per aggregate and every state change a
// single-document conditional update, so the checkout saga needs no transactions and the collections shard cleanly.

import {
  type AnyBulkWriteOperation,
  type Collection,
  type Db,
  type Filter,
  MongoClient,
  MongoClientClosedError,
  type MongoClientOptions,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  type Sort,
  type UpdateFilter,
} from 'mongodb'
import {
  CategoryInUse,
  ConcurrentUpdate,
  EmailTaken,
  EngineUnavailable,
  RefundExists,
  SkuTaken,
  SlugTaken,
  ValidationFailed,
} from '../../../core/errors.ts'
import type {
  ApiToken,
  Cart,
  CartItem,
  Category,
  Coupon,
  HistoryEntry,
  Inventory,
  Order,
  OrderStatus,
  Product,
  ProductQuery,
  Refund,
  SavedQuery,
  User,
  Variant,
  VariantInfo,
} from '../../model.ts'
import type {
  CommerceStore,
  OrderListQuery,
  OrderTransition,
  RefundListQuery,
  UserListQuery,
} from '../commerce-store.ts'
import { VersionMemo } from '../version-memo.ts'

// ── Stored documents ─────────────────────────────────────────────────────────────────────────────────────────────

interface CategoryDoc {
  _id: string
  slug: string
  name: string
  description: string
  position: number
}

/** Variant options are stored as pairs: option names are shop input and may contain '.' or start with '$'. */
interface VariantDoc {
  sku: string
  name: string
  options: { k: string; v: string }[]
  price: number
}

interface ProductDoc {
  _id: string
  slug: string
  name: string
  /** Lower-cased name, for the case-insensitive 'name' sort. */
  nameKey: string
  description: string
  categoryId: string
  images: string[]
  featured: boolean
  variants: VariantDoc[]
  /** Denormalized variant SKUs: a multikey unique index makes a SKU belong to one product. */
  skus: string[]
  minPrice: number
  /** Folded words of name and description; prefix search runs anchored regexes on this multikey index. */
  searchTerms: string[]
  createdAt: string
  updatedAt: string
}

interface HoldDoc {
  orderId: string
  qty: number
}

interface InventoryDoc {
  _id: string
  /** The product whose variant this SKU is, so that removing the variant never deletes another product's row. */
  productId: string | null
  available: number
  reserved: number
  /** At most one hold per order; reserved equals the sum of the holds' qty. */
  holds?: HoldDoc[]
}

interface RestockDoc {
  restockId: string
  sku: string
  qty: number
  at: Date
  /** False until the increment is known to have been applied (see restock()). */
  applied: boolean
}

interface MetaDoc {
  _id: string
  version: number
}

interface UserDoc {
  _id: string
  email: string
  /** Lower-cased e-mail, unique. */
  emailKey: string
  name: string
  passwordHash: string
  role: User['role']
  createdAt: string
  updatedAt: string
}

interface FailedLoginDoc {
  userId: string
  at: Date
}

interface ApiTokenDoc {
  _id: string
  userId: string
  name: string
  tokenHash: string
  prefix: string
  createdAt: string
  revokedAt: string | null
}

/** userId is absent (not null) for an anonymous cart, so that the sparse unique index skips it. */
interface CartDoc {
  _id: string
  userId?: string
  items: CartItem[]
  couponCode: string | null
  version: number
  updatedAt: string
}

interface CouponDoc {
  _id: string
  kind: Coupon['kind']
  value: number
  minSubtotal: number
  expiresAt: string | null
  usageLimit: number | null
  usedCount: number
  active: boolean
  description: string
  /** Orders holding a use: redeem and release are each one atomic update of this one document. */
  redemptions?: string[]
}

interface SavedQueryDoc {
  _id: string
  userId: string
  name: string
  query: string
  createdAt: string
  updatedAt: string
}

type OrderDoc = Omit<Order, 'id'> & { _id: string }
type RefundDoc = Omit<Refund, 'id'> & { _id: string }

interface Collections {
  meta: Collection<MetaDoc>
  categories: Collection<CategoryDoc>
  products: Collection<ProductDoc>
  inventory: Collection<InventoryDoc>
  restocks: Collection<RestockDoc>
  users: Collection<UserDoc>
  failedLogins: Collection<FailedLoginDoc>
  apiTokens: Collection<ApiTokenDoc>
  carts: Collection<CartDoc>
  coupons: Collection<CouponDoc>
  orders: Collection<OrderDoc>
  refunds: Collection<RefundDoc>
  savedQueries: Collection<SavedQueryDoc>
}

interface IndexSpec {
  collection: keyof Collections
  key: Record<string, 1 | -1>
  name: string
  unique?: boolean
  sparse?: boolean
  expireAfterSeconds?: number
}

/** Every index a query of this adapter relies on. Shard keys are an operator's decision: see docs/mongodb.md. */
export const INDEXES: readonly IndexSpec[] = [
  { collection: 'categories', key: { slug: 1 }, name: 'slug_unique', unique: true },
  { collection: 'categories', key: { position: 1, name: 1 }, name: 'position_name' },
  { collection: 'products', key: { slug: 1 }, name: 'slug_unique', unique: true },
  { collection: 'products', key: { skus: 1 }, name: 'skus_unique', unique: true },
  { collection: 'products', key: { categoryId: 1, createdAt: -1 }, name: 'category_created' },
  { collection: 'products', key: { searchTerms: 1 }, name: 'search_terms' },
  { collection: 'products', key: { minPrice: 1 }, name: 'min_price' },
  { collection: 'products', key: { createdAt: -1 }, name: 'created' },
  { collection: 'products', key: { featured: -1, createdAt: -1 }, name: 'featured_created' },
  { collection: 'products', key: { nameKey: 1 }, name: 'name_key' },
  { collection: 'products', key: { 'variants.price': 1 }, name: 'variant_price' },
  { collection: 'inventory', key: { 'holds.orderId': 1 }, name: 'hold_order' },
  { collection: 'inventory', key: { available: 1 }, name: 'available' },
  { collection: 'restocks', key: { restockId: 1, sku: 1 }, name: 'restock_unique', unique: true },
  { collection: 'users', key: { emailKey: 1 }, name: 'email_unique', unique: true },
  { collection: 'users', key: { role: 1, createdAt: -1 }, name: 'role_created' },
  { collection: 'users', key: { createdAt: -1 }, name: 'created' },
  { collection: 'failedLogins', key: { userId: 1, at: 1 }, name: 'user_at' },
  // Garbage collection only (windows are applied by the queries); servers without TTL indexes skip it.
  { collection: 'failedLogins', key: { at: 1 }, name: 'at_ttl', expireAfterSeconds: 30 * 24 * 3600 },
  { collection: 'apiTokens', key: { tokenHash: 1 }, name: 'token_hash_unique', unique: true },
  { collection: 'apiTokens', key: { userId: 1, createdAt: -1 }, name: 'user_created' },
  { collection: 'carts', key: { userId: 1 }, name: 'user_unique', unique: true, sparse: true },
  { collection: 'orders', key: { userId: 1, idempotencyKey: 1 }, name: 'user_idempotency_unique', unique: true },
  { collection: 'orders', key: { userId: 1, createdAt: -1 }, name: 'user_created' },
  { collection: 'orders', key: { status: 1, createdAt: -1 }, name: 'status_created' },
  { collection: 'orders', key: { createdAt: -1 }, name: 'created' },
  { collection: 'refunds', key: { orderId: 1 }, name: 'order_unique', unique: true },
  { collection: 'refunds', key: { status: 1, createdAt: -1 }, name: 'status_created' },
  { collection: 'refunds', key: { createdAt: -1 }, name: 'created' },
  { collection: 'savedQueries', key: { userId: 1, name: 1 }, name: 'user_name_unique', unique: true },
]

const CATALOG_META_ID = 'catalog'
/** A lost race on an array position (the positional hold filter) is retried this many times. */
const HOLD_RETRIES = 25
const COUPON_RETRIES = 10
const MAX_QUERY_WORDS = 12

// ── Pure helpers ─────────────────────────────────────────────────────────────────────────────────────────────────

/** Lower-cases, strips diacritics and splits into letter/digit words, as the SQLite FTS5 unicode61 tokenizer does. */
export function searchWords(text: string): string[] {
  const folded = String(text)
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
  return folded.match(/[\p{L}\p{N}]+/gu) ?? []
}

/** The distinct folded words of a product's name and description. */
export const searchTermsOf = (p: Pick<Product, 'name' | 'description'>): string[] =>
  [...new Set([...searchWords(p.name), ...searchWords(p.description)])].sort()

export const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The database named in a connection string's path, or 'emporium'. Works for multi-host and +srv strings. */
export function databaseNameOf(url: string): string {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]*)/.exec(url)
  const name = m?.[1] ? decodeURIComponent(m[1]) : ''
  return name || 'emporium'
}

/** Connection failures: the server could not be selected or the socket broke. */
export function isConnectionError(e: unknown): boolean {
  return (
    e instanceof MongoServerSelectionError ||
    e instanceof MongoNetworkError ||
    e instanceof MongoTopologyClosedError ||
    e instanceof MongoNotConnectedError ||
    e instanceof MongoClientClosedError
  )
}

const isDuplicateKey = (e: unknown): e is MongoServerError => e instanceof MongoServerError && e.code === 11000

/** The index a duplicate-key error names, when the server says (MongoDB and mongo-java-server do; FerretDB does not). */
function duplicateKeyIndex(e: MongoServerError): string | undefined {
  return /index: (\S+) dup key/.exec(e.message)?.[1]
}

/** The server refused an operator or option it does not implement (as opposed to bad data). */
const isUnsupported = (e: unknown): boolean =>
  e instanceof MongoServerError &&
  (e.code === 238 || e.codeName === 'NotImplemented' || (e.code === 2 && /unknown operator/i.test(e.message)))

const str = (v: unknown): string => String(v)
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))

function nonNegativeInt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new ValidationFailed(`${field} must be a non-negative integer`).withFields({ [field]: 'not an integer' })
  }
  return v
}

function positiveInt(v: unknown, field: string): number {
  const n = nonNegativeInt(v, field)
  if (n === 0) throw new ValidationFailed(`${field} must be positive`).withFields({ [field]: 'must be positive' })
  return n
}

const pageOf = (page: unknown, limit: unknown): { skip: number; limit: number } => {
  const l = typeof limit === 'number' && Number.isSafeInteger(limit) && limit > 0 ? limit : 0
  const p = typeof page === 'number' && Number.isSafeInteger(page) && page > 0 ? page : 1
  return { skip: (p - 1) * l, limit: l }
}

const minPrice = (variants: Variant[]): number => (variants.length ? Math.min(...variants.map((v) => v.price)) : 0)

function firstRepeated(values: readonly string[]): string | undefined {
  const seen = new Set<string>()
  for (const v of values) {
    if (seen.has(v)) return v
    seen.add(v)
  }
  return undefined
}

const toVariantDoc = (v: Variant): VariantDoc => ({
  sku: str(v.sku),
  name: str(v.name),
  options: Object.entries(v.options ?? {}).map(([k, value]) => ({ k: str(k), v: str(value) })),
  price: nonNegativeInt(v.price, 'price'),
})

const fromVariantDoc = (v: VariantDoc): Variant => ({
  sku: v.sku,
  name: v.name,
  options: Object.fromEntries(v.options.map(({ k, v: value }) => [k, value])),
  price: v.price,
})

function toProductDoc(p: Product): ProductDoc {
  const variants = p.variants.map(toVariantDoc)
  return {
    _id: str(p.id),
    slug: str(p.slug),
    name: str(p.name),
    nameKey: str(p.name).toLowerCase(),
    description: str(p.description),
    categoryId: str(p.categoryId),
    images: p.images.map(str),
    featured: p.featured === true,
    variants,
    skus: variants.map((v) => v.sku),
    minPrice: minPrice(p.variants),
    searchTerms: searchTermsOf(p),
    createdAt: str(p.createdAt),
    updatedAt: str(p.updatedAt),
  }
}

const fromProductDoc = (d: ProductDoc): Product => ({
  id: d._id,
  slug: d.slug,
  name: d.name,
  description: d.description,
  categoryId: d.categoryId,
  images: d.images,
  featured: d.featured,
  variants: d.variants.map(fromVariantDoc),
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
})

const fromCategoryDoc = (d: CategoryDoc): Category => ({
  id: d._id,
  slug: d.slug,
  name: d.name,
  description: d.description,
  position: d.position,
})

const fromUserDoc = (d: UserDoc): User => ({
  id: d._id,
  email: d.email,
  name: d.name,
  passwordHash: d.passwordHash,
  role: d.role,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
})

const fromTokenDoc = (d: ApiTokenDoc): ApiToken => ({
  id: d._id,
  userId: d.userId,
  name: d.name,
  tokenHash: d.tokenHash,
  prefix: d.prefix,
  createdAt: d.createdAt,
  revokedAt: d.revokedAt ?? null,
})

const fromCartDoc = (d: CartDoc): Cart => ({
  id: d._id,
  userId: d.userId ?? null,
  items: d.items,
  couponCode: d.couponCode ?? null,
  version: d.version,
  updatedAt: d.updatedAt,
})

const fromCouponDoc = (d: CouponDoc): Coupon => ({
  code: d._id,
  kind: d.kind,
  value: d.value,
  minSubtotal: d.minSubtotal,
  expiresAt: d.expiresAt ?? null,
  usageLimit: d.usageLimit ?? null,
  usedCount: d.usedCount,
  active: d.active,
  description: d.description,
})

const fromSavedQueryDoc = (d: SavedQueryDoc): SavedQuery => ({
  id: d._id,
  userId: d.userId,
  name: d.name,
  query: d.query,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
})

const fromOrderDoc = ({ _id, ...rest }: OrderDoc): Order => ({ id: _id, ...rest })
const fromRefundDoc = ({ _id, ...rest }: RefundDoc): Refund => ({ id: _id, ...rest })

const toHistoryEntry = (h: HistoryEntry): HistoryEntry => ({
  from: h.from === null ? null : (str(h.from) as OrderStatus),
  to: str(h.to) as OrderStatus,
  at: str(h.at),
  actor: str(h.actor),
  reason: str(h.reason),
})

const COUPON_FIELDS = { redemptions: 0 } as const

// ── The store ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface MongoCommerceStoreOptions {
  /** Defaults to the connection string's path, else 'emporium'. */
  dbName?: string
  /** A client the caller owns (and closes); by default the store opens and closes its own. */
  client?: MongoClient
}

export class MongoCommerceStore implements CommerceStore {
  readonly kind = 'mongodb'
  readonly dbName: string
  private readonly db: Db
  private readonly c: Collections
  private closed = false
  /** Whether the server evaluates $elemMatch on sub-document fields; learnt from its first refusal. */
  private elemMatchOnDocuments = true

  constructor(
    private readonly client: MongoClient,
    dbName: string,
    private readonly ownsClient: boolean,
  ) {
    this.dbName = dbName
    this.db = client.db(dbName)
    const col = <T extends object>(name: string) => this.db.collection<T>(name)
    this.c = {
      meta: col<MetaDoc>('meta'),
      categories: col<CategoryDoc>('categories'),
      products: col<ProductDoc>('products'),
      inventory: col<InventoryDoc>('inventory'),
      restocks: col<RestockDoc>('restocks'),
      users: col<UserDoc>('users'),
      failedLogins: col<FailedLoginDoc>('failedLogins'),
      apiTokens: col<ApiTokenDoc>('apiTokens'),
      carts: col<CartDoc>('carts'),
      coupons: col<CouponDoc>('coupons'),
      orders: col<OrderDoc>('orders'),
      refunds: col<RefundDoc>('refunds'),
      savedQueries: col<SavedQueryDoc>('savedQueries'),
    }
  }

  async migrate(): Promise<void> {
    const existing = new Set((await this.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name))
    for (const name of Object.keys(this.c)) {
      if (existing.has(name)) continue
      try {
        await this.db.createCollection(name)
      } catch (e) {
        if (e instanceof MongoServerError && e.code === 48) continue // 48: NamespaceExists (a concurrent migrate)
        // Another process migrating at the same moment made it first; not every server says so with code 48
        // (mongo-java-server answers "Unknown error: Document with key '<db>.<name>' already existed").
        const made = await this.db.listCollections({ name }, { nameOnly: true }).toArray()
        if (made.length === 0) throw e
      }
    }
    for (const spec of INDEXES) {
      const { collection, key, ...options } = spec
      try {
        await this.c[collection].createIndex(key, options)
      } catch (e) {
        if (spec.expireAfterSeconds !== undefined && isUnsupported(e)) {
          await this.c[collection].createIndex(key, { name: spec.name }) // no TTL on this server: pruned on write
          continue
        }
        throw e
      }
    }
    try {
      await this.c.meta.updateOne({ _id: CATALOG_META_ID }, { $setOnInsert: { version: 1 } }, { upsert: true })
    } catch (e) {
      // Two upserts at once may both try the insert; the loser's E11000 means the document is there.
      if (!isDuplicateKey(e)) throw e
    }
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.ownsClient) await this.client.close()
  }

  private readonly version = new VersionMemo()

  private async bumpCatalog(): Promise<void> {
    try {
      await this.c.meta.updateOne({ _id: CATALOG_META_ID }, { $inc: { version: 1 } }, { upsert: true })
    } catch (e) {
      if (!isDuplicateKey(e)) throw e
      await this.c.meta.updateOne({ _id: CATALOG_META_ID }, { $inc: { version: 1 } }) // lost an upsert race
    } finally {
      this.version.forget()
    }
  }

  // ── Catalog ──────────────────────────────────────────────────────────────────────────────────────────────────

  async upsertCategory(category: Category): Promise<void> {
    const id = str(category.id)
    const doc = {
      slug: str(category.slug),
      name: str(category.name),
      description: str(category.description),
      position: Number(category.position),
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await this.c.categories.replaceOne({ _id: id }, doc, { upsert: true })
        break
      } catch (e) {
        if (!isDuplicateKey(e)) throw e
        if (await this.c.categories.findOne({ slug: doc.slug, _id: { $ne: id } }, { projection: { _id: 1 } })) {
          throw new SlugTaken(doc.slug)
        }
        if (attempt > 0) throw e // not the slug: an upsert race on _id, retried once
      }
    }
    await this.bumpCatalog()
  }

  async listCategories(): Promise<Category[]> {
    return (await this.c.categories.find({}).sort({ position: 1, name: 1, _id: 1 }).toArray()).map(fromCategoryDoc)
  }

  async getCategoryBySlug(slug: string): Promise<Category | null> {
    const d = await this.c.categories.findOne({ slug: str(slug) })
    return d ? fromCategoryDoc(d) : null
  }

  async getCategoryById(id: string): Promise<Category | null> {
    const d = await this.c.categories.findOne({ _id: str(id) })
    return d ? fromCategoryDoc(d) : null
  }

  async deleteCategory(id: string): Promise<boolean> {
    const category = await this.c.categories.findOne({ _id: str(id) })
    if (!category) return false
    if (await this.c.products.findOne({ categoryId: category._id }, { projection: { _id: 1 } })) {
      throw new CategoryInUse(category.slug)
    }
    const { deletedCount } = await this.c.categories.deleteOne({ _id: category._id })
    if (deletedCount === 0) return false
    await this.bumpCatalog()
    return true
  }

  /** Maps a duplicate key on a product write to SlugTaken or SkuTaken, asking the data when the server is vague. */
  private async productConflict(e: MongoServerError, doc: ProductDoc): Promise<Error> {
    const index = duplicateKeyIndex(e)
    if (index === 'slug_unique') return new SlugTaken(doc.slug)
    if (index === undefined || index === 'skus_unique') {
      const others = { _id: { $ne: doc._id } }
      if (
        index === undefined &&
        (await this.c.products.findOne({ slug: doc.slug, ...others }, { projection: { _id: 1 } }))
      ) {
        return new SlugTaken(doc.slug)
      }
      const owner = await this.c.products.findOne({ skus: { $in: doc.skus }, ...others }, { projection: { skus: 1 } })
      if (owner) return new SkuTaken(doc.skus.find((s) => owner.skus.includes(s)) ?? doc.skus[0] ?? '')
      if (index === 'skus_unique') return new SkuTaken(doc.skus[0] ?? '')
    }
    return e
  }

  /** An inventory row (available 0) per SKU that has none; existing rows are adopted by the product. */
  private async ensureInventory(productId: string, skus: readonly string[]): Promise<void> {
    if (skus.length === 0) return
    const ops: AnyBulkWriteOperation<InventoryDoc>[] = skus.map((sku) => ({
      updateOne: {
        filter: { _id: sku },
        update: { $set: { productId }, $setOnInsert: { available: 0, reserved: 0, holds: [] } },
        upsert: true,
      },
    }))
    try {
      await this.c.inventory.bulkWrite(ops, { ordered: false })
    } catch (e) {
      if (!isDuplicateKey(e)) throw e
      await this.c.inventory.bulkWrite(ops, { ordered: false }) // concurrent upserts of one SKU: the retry updates
    }
  }

  async createProduct(product: Product): Promise<void> {
    const doc = toProductDoc(product)
    const repeated = firstRepeated(doc.skus)
    if (repeated !== undefined) throw new SkuTaken(repeated) // a multikey unique index allows repeats within one document
    try {
      await this.c.products.insertOne(doc)
    } catch (e) {
      if (isDuplicateKey(e)) throw await this.productConflict(e, doc)
      throw e
    }
    await this.ensureInventory(doc._id, doc.skus)
    await this.bumpCatalog()
  }

  async updateProduct(product: Product): Promise<boolean> {
    const { _id, ...replacement } = toProductDoc(product)
    const repeated = firstRepeated(replacement.skus)
    if (repeated !== undefined) throw new SkuTaken(repeated)
    let before: ProductDoc | null
    try {
      before = await this.c.products.findOneAndReplace({ _id }, replacement, { returnDocument: 'before' })
    } catch (e) {
      if (isDuplicateKey(e)) throw await this.productConflict(e, { _id, ...replacement })
      throw e
    }
    if (!before) return false
    const kept = new Set(replacement.skus)
    const removed = before.skus.filter((s) => !kept.has(s))
    if (removed.length) await this.c.inventory.deleteMany({ _id: { $in: removed }, reserved: 0, productId: _id })
    await this.ensureInventory(_id, replacement.skus)
    await this.bumpCatalog()
    return true
  }

  async deleteProduct(id: string): Promise<boolean> {
    const before = await this.c.products.findOneAndDelete({ _id: str(id) })
    if (!before) return false
    if (before.skus.length) {
      await this.c.inventory.deleteMany({ _id: { $in: before.skus }, reserved: 0, productId: before._id })
    }
    await this.bumpCatalog()
    return true
  }

  async getProductById(id: string): Promise<Product | null> {
    const d = await this.c.products.findOne({ _id: str(id) })
    return d ? fromProductDoc(d) : null
  }

  async getProductBySlug(slug: string): Promise<Product | null> {
    const d = await this.c.products.findOne({ slug: str(slug) })
    return d ? fromProductDoc(d) : null
  }

  async searchProducts(query: ProductQuery): Promise<{ items: Product[]; total: number }> {
    const and: Filter<ProductDoc>[] = []
    const words = query.q ? searchWords(query.q).slice(0, MAX_QUERY_WORDS) : []
    for (const w of words) and.push({ searchTerms: { $regex: `^${escapeRegex(w)}` } })
    if (query.categoryId !== undefined && query.categoryId !== '') and.push({ categoryId: str(query.categoryId) })
    if (query.featured !== undefined) and.push({ featured: query.featured === true })
    if (query.minPrice !== undefined || query.maxPrice !== undefined) {
      const range = {
        $gte: query.minPrice === undefined ? 0 : nonNegativeInt(query.minPrice, 'minPrice'),
        $lte: query.maxPrice === undefined ? Number.MAX_SAFE_INTEGER : nonNegativeInt(query.maxPrice, 'maxPrice'),
      }
      // One variant must be in range: $elemMatch, not two conditions that two different variants could meet.
      and.push({ variants: { $elemMatch: { price: range } } })
    }
    if (query.inStock) {
      const inStock = await this.c.inventory.find({ available: { $gt: 0 } }, { projection: { _id: 1 } }).toArray()
      if (inStock.length === 0) return { items: [], total: 0 }
      and.push({ skus: { $in: inStock.map((i) => i._id) } })
    }
    const filter: Filter<ProductDoc> = and.length ? { $and: and } : {}
    const sortBy = query.sort ?? 'relevance'
    const sort: Sort =
      sortBy === 'price_asc'
        ? { minPrice: 1, _id: 1 }
        : sortBy === 'price_desc'
          ? { minPrice: -1, _id: 1 }
          : sortBy === 'newest'
            ? { createdAt: -1, _id: -1 }
            : sortBy === 'name'
              ? { nameKey: 1, _id: 1 }
              : // relevance: no portable text score (FerretDB has no $text), so featured and newest first
                { featured: -1, createdAt: -1, _id: -1 }
    const { skip, limit } = pageOf(query.page, query.limit)
    const total = await this.c.products.countDocuments(filter)
    if (limit === 0 || skip >= total) return { items: [], total }
    const docs = await this.c.products.find(filter).sort(sort).skip(skip).limit(limit).toArray()
    return { items: docs.map(fromProductDoc), total }
  }

  async getVariants(skus: readonly string[]): Promise<VariantInfo[]> {
    if (skus.length === 0) return []
    const wanted = new Set(skus.map(str))
    const docs = await this.c.products.find({ skus: { $in: [...wanted] } }).toArray()
    const out: VariantInfo[] = []
    for (const d of docs) {
      for (const v of d.variants) {
        if (!wanted.has(v.sku)) continue
        out.push({
          ...fromVariantDoc(v),
          productId: d._id,
          productSlug: d.slug,
          productName: d.name,
          categoryId: d.categoryId,
          image: d.images[0],
        })
      }
    }
    return out
  }

  async countProducts(): Promise<number> {
    return this.c.products.countDocuments({})
  }

  async catalogVersion(): Promise<number> {
    return this.version.get(async () => (await this.c.meta.findOne({ _id: CATALOG_META_ID }))?.version ?? 0)
  }

  // ── Inventory ────────────────────────────────────────────────────────────────────────────────────────────────

  async getInventory(skus: readonly string[]): Promise<Inventory[]> {
    if (skus.length === 0) return []
    const docs = await this.c.inventory
      .find({ _id: { $in: skus.map(str) } }, { projection: { available: 1, reserved: 1 } })
      .toArray()
    return docs.map((d) => ({ sku: d._id, available: d.available, reserved: d.reserved }))
  }

  async setAvailable(sku: string, available: number): Promise<boolean> {
    const id = str(sku)
    const n = nonNegativeInt(available, 'available')
    const { matchedCount } = await this.c.inventory.updateOne({ _id: id }, { $set: { available: n } })
    if (matchedCount === 0) {
      // A product write interrupted before its inventory rows: heal the row of a SKU that a product does own.
      const owner = await this.c.products.findOne({ skus: id }, { projection: { _id: 1 } })
      if (!owner) return false
      await this.c.inventory.updateOne(
        { _id: id },
        { $set: { available: n, productId: owner._id }, $setOnInsert: { reserved: 0, holds: [] } },
        { upsert: true },
      )
    }
    await this.bumpCatalog()
    return true
  }

  async reserveStock(orderId: string, sku: string, qty: number): Promise<boolean> {
    const order = str(orderId)
    const id = str(sku)
    const n = positiveInt(qty, 'qty')
    const { modifiedCount } = await this.c.inventory.updateOne(
      { _id: id, available: { $gte: n }, 'holds.orderId': { $ne: order } },
      { $inc: { available: -n, reserved: n }, $push: { holds: { orderId: order, qty: n } } },
    )
    if (modifiedCount === 1) {
      await this.bumpCatalog()
      return true
    }
    // Nothing matched: either too little stock, or this hold already exists (a retry), which is success.
    return (await this.c.inventory.countDocuments({ _id: id, 'holds.orderId': order }, { limit: 1 })) > 0
  }

  /** Removes a hold and moves its units out of reserved (back to available on release). One atomic update. */
  private async endHold(orderId: string, sku: string, returnToAvailable: boolean): Promise<boolean> {
    const order = str(orderId)
    const id = str(sku)
    for (let attempt = 0; attempt < HOLD_RETRIES; attempt++) {
      const doc = await this.c.inventory.findOne({ _id: id, 'holds.orderId': order }, { projection: { holds: 1 } })
      const holds = doc?.holds ?? []
      const index = holds.findIndex((h) => h.orderId === order)
      const hold = holds[index]
      if (!hold) return false
      const update: UpdateFilter<InventoryDoc> = {
        $pull: { holds: { orderId: order, qty: hold.qty } },
        $inc: { reserved: -hold.qty, available: returnToAvailable ? hold.qty : 0 },
      }
      let modified: number
      if (this.elemMatchOnDocuments) {
        try {
          modified = (
            await this.c.inventory.updateOne(
              { _id: id, holds: { $elemMatch: { orderId: order, qty: hold.qty } } },
              update,
            )
          ).modifiedCount
        } catch (e) {
          if (!isUnsupported(e)) throw e
          this.elemMatchOnDocuments = false
          continue
        }
      } else {
        // For servers without $elemMatch on documents (FerretDB 1.x): the exact hold at the position just read.
        const at = `holds.${index}`
        const filter = { _id: id, [`${at}.orderId`]: order, [`${at}.qty`]: hold.qty } as Filter<InventoryDoc>
        modified = (await this.c.inventory.updateOne(filter, update)).modifiedCount
      }
      if (modified === 1) {
        await this.bumpCatalog()
        return true
      }
      // Someone else ended this hold, or the array moved under us: read again.
    }
    throw new ConcurrentUpdate(`The stock hold of ${order} on ${id}`)
  }

  async releaseStock(orderId: string, sku: string): Promise<boolean> {
    return this.endHold(orderId, sku, true)
  }

  async commitStock(orderId: string, sku: string): Promise<boolean> {
    return this.endHold(orderId, sku, false)
  }

  /**
   * The marker is written first, so a restock id is applied at most once. A crash between the two writes leaves a
   * marker with applied: false and the units not added: under-counted stock, never oversold (docs/mongodb.md).
   */
  async restock(restockId: string, sku: string, qty: number): Promise<boolean> {
    const marker: RestockDoc = {
      restockId: str(restockId),
      sku: str(sku),
      qty: positiveInt(qty, 'qty'),
      at: new Date(),
      applied: false,
    }
    try {
      await this.c.restocks.insertOne(marker)
    } catch (e) {
      if (isDuplicateKey(e)) return false
      throw e
    }
    await this.c.inventory.updateOne(
      { _id: marker.sku },
      { $inc: { available: marker.qty }, $setOnInsert: { reserved: 0, productId: null, holds: [] } },
      { upsert: true },
    )
    await this.c.restocks.updateOne({ restockId: marker.restockId, sku: marker.sku }, { $set: { applied: true } })
    await this.bumpCatalog()
    return true
  }

  async listHolds(orderId: string): Promise<{ sku: string; qty: number }[]> {
    const order = str(orderId)
    const docs = await this.c.inventory.find({ 'holds.orderId': order }, { projection: { holds: 1 } }).toArray()
    const out: { sku: string; qty: number }[] = []
    for (const d of docs) for (const h of d.holds ?? []) if (h.orderId === order) out.push({ sku: d._id, qty: h.qty })
    return out.sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))
  }

  // ── Users and API tokens ─────────────────────────────────────────────────────────────────────────────────────

  async createUser(user: User): Promise<void> {
    const doc: UserDoc = {
      _id: str(user.id),
      email: str(user.email),
      emailKey: str(user.email).toLowerCase(),
      name: str(user.name),
      passwordHash: str(user.passwordHash),
      role: str(user.role) as User['role'],
      createdAt: str(user.createdAt),
      updatedAt: str(user.updatedAt),
    }
    try {
      await this.c.users.insertOne(doc)
    } catch (e) {
      if (!isDuplicateKey(e)) throw e
      const index = duplicateKeyIndex(e)
      if (index === 'email_unique') throw new EmailTaken()
      if (index === undefined && (await this.c.users.findOne({ emailKey: doc.emailKey }, { projection: { _id: 1 } }))) {
        throw new EmailTaken()
      }
      throw e
    }
  }

  async getUserById(id: string): Promise<User | null> {
    const d = await this.c.users.findOne({ _id: str(id) })
    return d ? fromUserDoc(d) : null
  }

  async getUserByEmail(email: string): Promise<User | null> {
    const d = await this.c.users.findOne({ emailKey: str(email).toLowerCase() })
    return d ? fromUserDoc(d) : null
  }

  async updateUser(
    id: string,
    patch: Partial<Pick<User, 'name' | 'passwordHash' | 'role'>>,
    at: string,
  ): Promise<User | null> {
    const set: Partial<UserDoc> = { updatedAt: str(at) }
    if (patch.name !== undefined) set.name = str(patch.name)
    if (patch.passwordHash !== undefined) set.passwordHash = str(patch.passwordHash)
    if (patch.role !== undefined) set.role = str(patch.role) as User['role']
    const d = await this.c.users.findOneAndUpdate({ _id: str(id) }, { $set: set }, { returnDocument: 'after' })
    return d ? fromUserDoc(d) : null
  }

  async listUsers(query: UserListQuery): Promise<{ items: User[]; total: number }> {
    const and: Filter<UserDoc>[] = []
    if (query.q) {
      const contains = { $regex: escapeRegex(str(query.q)), $options: 'i' }
      and.push({ $or: [{ email: contains }, { name: contains }] })
    }
    if (query.role) and.push({ role: str(query.role) as User['role'] })
    const filter: Filter<UserDoc> = and.length ? { $and: and } : {}
    const { skip, limit } = pageOf(query.page, query.limit)
    const total = await this.c.users.countDocuments(filter)
    if (limit === 0 || skip >= total) return { items: [], total }
    const docs = await this.c.users.find(filter).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).toArray()
    return { items: docs.map(fromUserDoc), total }
  }

  async countUsers(): Promise<number> {
    return this.c.users.countDocuments({})
  }

  async recordFailedLogin(userId: string, at: Date, windowMs: number): Promise<number> {
    const user = str(userId)
    const now = at.getTime()
    const windowStart = new Date(now - nonNegativeInt(windowMs, 'windowMs'))
    await this.c.failedLogins.deleteMany({ userId: user, at: { $lte: windowStart } })
    await this.c.failedLogins.insertOne({ userId: user, at: new Date(now) })
    return this.c.failedLogins.countDocuments({ userId: user, at: { $gt: windowStart } })
  }

  async failedLoginCount(userId: string, at: Date, windowMs: number): Promise<number> {
    const windowStart = new Date(at.getTime() - nonNegativeInt(windowMs, 'windowMs'))
    return this.c.failedLogins.countDocuments({ userId: str(userId), at: { $gt: windowStart } })
  }

  async clearFailedLogins(userId: string): Promise<void> {
    await this.c.failedLogins.deleteMany({ userId: str(userId) })
  }

  async createApiToken(token: ApiToken): Promise<void> {
    await this.c.apiTokens.insertOne({
      _id: str(token.id),
      userId: str(token.userId),
      name: str(token.name),
      tokenHash: str(token.tokenHash),
      prefix: str(token.prefix),
      createdAt: str(token.createdAt),
      revokedAt: strOrNull(token.revokedAt),
    })
  }

  async getApiTokenByHash(tokenHash: string): Promise<ApiToken | null> {
    const d = await this.c.apiTokens.findOne({ tokenHash: str(tokenHash) })
    return d ? fromTokenDoc(d) : null
  }

  async getUserByActiveTokenHash(tokenHash: string): Promise<User | null> {
    const token = await this.getApiTokenByHash(tokenHash)
    return token && !token.revokedAt ? this.getUserById(token.userId) : null
  }

  async listApiTokens(userId: string): Promise<ApiToken[]> {
    const docs = await this.c.apiTokens
      .find({ userId: str(userId) })
      .sort({ createdAt: -1, _id: -1 })
      .toArray()
    return docs.map(fromTokenDoc)
  }

  async revokeApiToken(userId: string, tokenId: string, at: string): Promise<boolean> {
    const { modifiedCount } = await this.c.apiTokens.updateOne(
      { _id: str(tokenId), userId: str(userId), revokedAt: null },
      { $set: { revokedAt: str(at) } },
    )
    return modifiedCount === 1
  }

  // ── Carts ────────────────────────────────────────────────────────────────────────────────────────────────────

  async getCart(id: string): Promise<Cart | null> {
    const d = await this.c.carts.findOne({ _id: str(id) })
    return d ? fromCartDoc(d) : null
  }

  async getCartByUserId(userId: string): Promise<Cart | null> {
    const d = await this.c.carts.findOne({ userId: str(userId) })
    return d ? fromCartDoc(d) : null
  }

  async saveCart(cart: Cart, expectedVersion: number | null): Promise<boolean> {
    const id = str(cart.id)
    const userId = cart.userId === null || cart.userId === undefined ? undefined : str(cart.userId)
    const fields = {
      items: cart.items.map((i) => ({ sku: str(i.sku), quantity: Number(i.quantity) })),
      couponCode: strOrNull(cart.couponCode),
      updatedAt: str(cart.updatedAt),
    }
    try {
      if (expectedVersion === null) {
        await this.c.carts.insertOne({ _id: id, ...(userId === undefined ? {} : { userId }), ...fields, version: 1 })
        return true
      }
      const version = nonNegativeInt(expectedVersion, 'expectedVersion')
      const update: UpdateFilter<CartDoc> =
        userId === undefined
          ? { $set: fields, $unset: { userId: '' }, $inc: { version: 1 } }
          : { $set: { ...fields, userId }, $inc: { version: 1 } }
      const { matchedCount } = await this.c.carts.updateOne({ _id: id, version }, update)
      return matchedCount === 1
    } catch (e) {
      if (isDuplicateKey(e)) return false // the cart exists already, or the user has another cart
      throw e
    }
  }

  async deleteCart(id: string): Promise<void> {
    await this.c.carts.deleteOne({ _id: str(id) })
  }

  // ── Coupons ──────────────────────────────────────────────────────────────────────────────────────────────────

  async upsertCoupon(coupon: Coupon): Promise<void> {
    const code = str(coupon.code)
    const update: UpdateFilter<CouponDoc> = {
      $set: {
        kind: str(coupon.kind) as Coupon['kind'],
        value: Number(coupon.value),
        minSubtotal: Number(coupon.minSubtotal),
        expiresAt: strOrNull(coupon.expiresAt),
        usageLimit: coupon.usageLimit === null ? null : nonNegativeInt(coupon.usageLimit, 'usageLimit'),
        active: coupon.active === true,
        description: str(coupon.description),
      },
      // Like the SQLite adapter, an upsert never rewrites the count of uses.
      $setOnInsert: { usedCount: nonNegativeInt(coupon.usedCount, 'usedCount'), redemptions: [] },
    }
    try {
      await this.c.coupons.updateOne({ _id: code }, update, { upsert: true })
    } catch (e) {
      if (!isDuplicateKey(e)) throw e
      await this.c.coupons.updateOne({ _id: code }, update, { upsert: true }) // lost an upsert race: now it updates
    }
  }

  async getCoupon(code: string): Promise<Coupon | null> {
    const d = await this.c.coupons.findOne({ _id: str(code) }, { projection: COUPON_FIELDS })
    return d ? fromCouponDoc(d) : null
  }

  async listCoupons(): Promise<Coupon[]> {
    const docs = await this.c.coupons.find({}, { projection: COUPON_FIELDS }).sort({ _id: 1 }).toArray()
    return docs.map(fromCouponDoc)
  }

  /**
   * One conditional update of the coupon document: not yet redeemed by this order, and under the limit that was read
   * (a changed limit re-reads). Count and redemption change together, so no interleaving can over-redeem.
   */
  async redeemCoupon(code: string, orderId: string): Promise<boolean> {
    const id = str(code)
    const order = str(orderId)
    for (let attempt = 0; attempt < COUPON_RETRIES; attempt++) {
      const coupon = await this.c.coupons.findOne({ _id: id }, { projection: { usageLimit: 1 } })
      if (!coupon) return false
      const limit = coupon.usageLimit ?? null
      const filter: Filter<CouponDoc> =
        limit === null
          ? { _id: id, usageLimit: null, redemptions: { $ne: order } }
          : { _id: id, usageLimit: limit, usedCount: { $lt: limit }, redemptions: { $ne: order } }
      const { modifiedCount } = await this.c.coupons.updateOne(filter, {
        $inc: { usedCount: 1 },
        $push: { redemptions: order },
      })
      if (modifiedCount === 1) return true
      const now = await this.c.coupons.findOne({ _id: id }, { projection: { usageLimit: 1, usedCount: 1 } })
      if (!now) return false
      if ((await this.c.coupons.countDocuments({ _id: id, redemptions: order }, { limit: 1 })) > 0) return true
      if ((now.usageLimit ?? null) === limit) return false // exhausted
    }
    throw new ConcurrentUpdate(`Coupon ${id}`)
  }

  async releaseCoupon(code: string, orderId: string): Promise<boolean> {
    const order = str(orderId)
    const { modifiedCount } = await this.c.coupons.updateOne(
      { _id: str(code), redemptions: order },
      { $pull: { redemptions: order }, $inc: { usedCount: -1 } },
    )
    return modifiedCount === 1
  }

  // ── Orders ───────────────────────────────────────────────────────────────────────────────────────────────────

  async createOrderIfAbsent(order: Order): Promise<{ order: Order; created: boolean }> {
    const { id, ...rest } = order
    const doc: OrderDoc = {
      ...rest,
      _id: str(id),
      userId: str(order.userId),
      idempotencyKey: str(order.idempotencyKey),
      status: str(order.status) as OrderStatus,
      createdAt: str(order.createdAt),
    }
    try {
      await this.c.orders.insertOne(doc)
      return { order, created: true }
    } catch (e) {
      if (!isDuplicateKey(e)) throw e
      const existing = await this.c.orders.findOne({ userId: doc.userId, idempotencyKey: doc.idempotencyKey })
      if (!existing) throw e
      return { order: fromOrderDoc(existing), created: false }
    }
  }

  async getOrder(id: string): Promise<Order | null> {
    const d = await this.c.orders.findOne({ _id: str(id) })
    return d ? fromOrderDoc(d) : null
  }

  async getOrderByIdempotencyKey(userId: string, key: string): Promise<Order | null> {
    const d = await this.c.orders.findOne({ userId: str(userId), idempotencyKey: str(key) })
    return d ? fromOrderDoc(d) : null
  }

  async listOrders(query: OrderListQuery): Promise<{ items: Order[]; total: number }> {
    const filter: Filter<OrderDoc> = {}
    if (query.userId) filter.userId = str(query.userId)
    if (query.status) filter.status = str(query.status) as OrderStatus
    const { skip, limit } = pageOf(query.page, query.limit)
    const total = await this.c.orders.countDocuments(filter)
    if (limit === 0 || skip >= total) return { items: [], total }
    const docs = await this.c.orders.find(filter).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).toArray()
    return { items: docs.map(fromOrderDoc), total }
  }

  async transitionOrder(id: string, transition: OrderTransition): Promise<Order | null> {
    const entry = toHistoryEntry(transition.entry)
    const set: Partial<OrderDoc> = { status: str(transition.to) as OrderStatus, updatedAt: entry.at }
    if (transition.payment) set.payment = transition.payment
    if (transition.failureReason !== undefined) set.failureReason = transition.failureReason
    const d = await this.c.orders.findOneAndUpdate(
      { _id: str(id), status: { $in: transition.from.map((s) => str(s) as OrderStatus) } },
      { $set: set, $push: { history: entry } },
      { returnDocument: 'after' },
    )
    return d ? fromOrderDoc(d) : null
  }

  async listPendingOrders(createdBefore: string, limit: number): Promise<Order[]> {
    const n = nonNegativeInt(limit, 'limit')
    if (n === 0) return []
    const docs = await this.c.orders
      .find({ status: 'pending', createdAt: { $lt: str(createdBefore) } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(n)
      .toArray()
    return docs.map(fromOrderDoc)
  }

  async countOrders(): Promise<number> {
    return this.c.orders.countDocuments({})
  }

  // ── Refunds ──────────────────────────────────────────────────────────────────────────────────────────────────

  async createRefund(refund: Refund): Promise<void> {
    const { id, ...rest } = refund
    const doc: RefundDoc = { ...rest, _id: str(id), orderId: str(refund.orderId), status: refund.status }
    try {
      await this.c.refunds.insertOne(doc)
    } catch (e) {
      if (!isDuplicateKey(e)) throw e
      const index = duplicateKeyIndex(e)
      if (index === 'order_unique') throw new RefundExists()
      if (index === undefined && (await this.c.refunds.findOne({ orderId: doc.orderId }, { projection: { _id: 1 } }))) {
        throw new RefundExists()
      }
      throw e
    }
  }

  async getRefund(id: string): Promise<Refund | null> {
    const d = await this.c.refunds.findOne({ _id: str(id) })
    return d ? fromRefundDoc(d) : null
  }

  async getRefundByOrderId(orderId: string): Promise<Refund | null> {
    const d = await this.c.refunds.findOne({ orderId: str(orderId) })
    return d ? fromRefundDoc(d) : null
  }

  async listRefunds(query: RefundListQuery): Promise<{ items: Refund[]; total: number }> {
    const filter: Filter<RefundDoc> = query.status ? { status: str(query.status) as Refund['status'] } : {}
    const { skip, limit } = pageOf(query.page, query.limit)
    const total = await this.c.refunds.countDocuments(filter)
    if (limit === 0 || skip >= total) return { items: [], total }
    const docs = await this.c.refunds.find(filter).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).toArray()
    return { items: docs.map(fromRefundDoc), total }
  }

  async decideRefund(
    id: string,
    decision: { status: 'approved' | 'rejected'; at: string; by: string; note: string | null },
  ): Promise<Refund | null> {
    const d = await this.c.refunds.findOneAndUpdate(
      { _id: str(id), status: 'requested' },
      {
        $set: {
          status: decision.status === 'approved' ? 'approved' : 'rejected',
          decidedAt: str(decision.at),
          decidedBy: str(decision.by),
          decisionNote: strOrNull(decision.note),
        },
      },
      { returnDocument: 'after' },
    )
    return d ? fromRefundDoc(d) : null
  }

  // ── Saved analytics queries ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Update, else insert, else (a concurrent save of the same name won the insert) update: plain updateOne and
   * insertOne, because FerretDB answers a unique violation inside an upsert with InternalError instead of E11000.
   */
  async saveQuery(query: SavedQuery): Promise<SavedQuery> {
    const key = { userId: str(query.userId), name: str(query.name) }
    const change = { $set: { query: str(query.query), updatedAt: str(query.updatedAt) } }
    if ((await this.c.savedQueries.updateOne(key, change)).matchedCount === 0) {
      try {
        await this.c.savedQueries.insertOne({
          _id: str(query.id),
          ...key,
          query: str(query.query),
          createdAt: str(query.createdAt),
          updatedAt: str(query.updatedAt),
        })
      } catch (e) {
        if (!isDuplicateKey(e)) throw e
        await this.c.savedQueries.updateOne(key, change)
      }
    }
    const d = await this.c.savedQueries.findOne(key)
    if (!d) throw new ConcurrentUpdate(`The saved query ${key.name}`) // deleted between the save and this read
    return fromSavedQueryDoc(d)
  }

  async listSavedQueries(userId: string): Promise<SavedQuery[]> {
    const docs = await this.c.savedQueries
      .find({ userId: str(userId) })
      .sort({ name: 1, _id: 1 })
      .toArray()
    return docs.map(fromSavedQueryDoc)
  }

  async getSavedQuery(userId: string, id: string): Promise<SavedQuery | null> {
    const d = await this.c.savedQueries.findOne({ _id: str(id), userId: str(userId) })
    return d ? fromSavedQueryDoc(d) : null
  }

  async deleteSavedQuery(userId: string, id: string): Promise<boolean> {
    const { deletedCount } = await this.c.savedQueries.deleteOne({ _id: str(id), userId: str(userId) })
    return deletedCount === 1
  }
}

// Every public method answers EngineUnavailable (503) when the server cannot be reached, and refuses after close().
for (const name of Object.getOwnPropertyNames(MongoCommerceStore.prototype)) {
  if (name === 'constructor' || name === 'close') continue
  const descriptor = Object.getOwnPropertyDescriptor(MongoCommerceStore.prototype, name)
  const method: unknown = descriptor?.value
  if (typeof method !== 'function') continue
  Object.defineProperty(MongoCommerceStore.prototype, name, {
    ...descriptor,
    value: async function (this: MongoCommerceStore, ...args: unknown[]) {
      if ((this as unknown as { closed: boolean }).closed) throw new EngineUnavailable('MongoDB')
      try {
        return await method.apply(this, args)
      } catch (e) {
        throw isConnectionError(e) ? unavailable('MongoDB', e) : e
      }
    },
  })
}

/**
 * Opens the store. The driver reconnects by itself after an outage; meanwhile calls fail within about
 * serverSelectionTimeoutMS with EngineUnavailable, and no driver event or rejection escapes unhandled.
 */
export async function openMongoCommerceStore(
  url: string,
  options: MongoCommerceStoreOptions = {},
): Promise<MongoCommerceStore> {
  const ownsClient = options.client === undefined
  const client =
    options.client ??
    (await connectMongo(url, 'MongoDB', {
      appName: 'emporium',
      // undefined fields are left out, as JSON would (an absent address line2 stays absent)
      ignoreUndefined: true,
    }))
  return new MongoCommerceStore(client, options.dbName ?? databaseNameOf(url), ownsClient)
}

/** A connection failure as EngineUnavailable (503) naming the engine, with the driver's error as its cause. */
export function unavailable(engine: string, cause: unknown): InstanceType<typeof EngineUnavailable> {
  const e = new EngineUnavailable(engine)
  e.cause = cause
  return e
}

/**
 * A connected client with short timeouts; a server that cannot be reached is EngineUnavailable. Topology errors are
 * swallowed as events and surface through the failing operation instead.
 */
export async function connectMongo(url: string, engine: string, options: MongoClientOptions): Promise<MongoClient> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 3000,
    connectTimeoutMS: 3000,
    socketTimeoutMS: 30_000,
    ...options,
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
  } catch (e) {
    await client.close().catch(() => undefined)
    throw isConnectionError(e) ? unavailable(engine, e) : e
  }
  return client
}
