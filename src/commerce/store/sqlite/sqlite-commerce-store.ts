// The embedded CommerceStore on SQLite (better-sqlite3, WAL): one file, safe across processes through
// IMMEDIATE transactions, with FTS5 for catalog search.

import {
  CategoryInUse,
  EmailTaken,
  EngineUnavailable,
  RefundExists,
  SkuTaken,
  SlugTaken,
} from '../../../core/errors.ts'
import { SqliteDatabase } from '../../../sqlite/database.ts'
import type {
  ApiToken,
  Cart,
  Category,
  Coupon,
  Inventory,
  Order,
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
import { SCHEMA } from './schema.ts'

type Row = Record<string, unknown>

interface ProductRow {
  rid: number
  id: string
  slug: string
  name: string
  description: string
  category_id: string
  images: string
  featured: number
  created_at: string
  updated_at: string
}

interface VariantRow {
  sku: string
  product_id: string
  name: string
  options: string
  price: number
}

/** Turns free text into an FTS5 query in which every word must match as a prefix; no FTS syntax gets through. */
export function toFtsQuery(q: string): string | null {
  const words = q.toLowerCase().match(/[\p{L}\p{N}]+/gu)
  if (!words || words.length === 0) return null
  return words
    .slice(0, 12)
    .map((w) => `"${w}"*`)
    .join(' ')
}

const isUniqueViolation = (e: unknown, column: string): boolean =>
  e instanceof Error && (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && e.message.includes(column)

const isPrimaryKeyViolation = (e: unknown): boolean =>
  e instanceof Error && (e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY'

export class SqliteCommerceStore implements CommerceStore {
  readonly kind = 'sqlite'
  private readonly sql: SqliteDatabase
  private closed = false

  constructor(readonly path: string) {
    this.sql = new SqliteDatabase(path)
  }

  private q(sql: string) {
    return this.sql.q(sql)
  }

  private tx<T>(fn: () => T): T {
    return this.sql.tx(fn)
  }

  private readonly version = new VersionMemo()

  private bumpCatalog(): void {
    this.q(`UPDATE meta SET value = value + 1 WHERE key = 'catalog_version'`).run()
    this.version.forget()
  }

  async migrate(): Promise<void> {
    this.sql.exec(SCHEMA)
  }

  async ping(): Promise<void> {
    if (this.closed) throw new EngineUnavailable('SQLite commerce store')
    this.q('SELECT 1').get()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.sql.close()
  }

  /** Writes the WAL into the main file; used by backups and tests. */
  checkpoint(): void {
    this.sql.db.pragma('wal_checkpoint(TRUNCATE)')
  }

  // ── Catalog ──────────────────────────────────────────────────────────────

  async upsertCategory(c: Category): Promise<void> {
    try {
      this.tx(() => {
        this.q(
          `INSERT INTO categories (id, slug, name, description, position) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, name = excluded.name,
           description = excluded.description, position = excluded.position`,
        ).run(c.id, c.slug, c.name, c.description, c.position)
        this.bumpCatalog()
      })
    } catch (e) {
      if (isUniqueViolation(e, 'categories.slug')) throw new SlugTaken(c.slug)
      throw e
    }
  }

  async listCategories(): Promise<Category[]> {
    return this.q('SELECT * FROM categories ORDER BY position, name').all() as Category[]
  }

  async getCategoryBySlug(slug: string): Promise<Category | null> {
    return (this.q('SELECT * FROM categories WHERE slug = ?').get(slug) as Category | undefined) ?? null
  }

  async getCategoryById(id: string): Promise<Category | null> {
    return (this.q('SELECT * FROM categories WHERE id = ?').get(id) as Category | undefined) ?? null
  }

  async deleteCategory(id: string): Promise<boolean> {
    return this.tx(() => {
      const c = this.q('SELECT slug FROM categories WHERE id = ?').get(id) as { slug: string } | undefined
      if (!c) return false
      if (this.q('SELECT 1 FROM products WHERE category_id = ? LIMIT 1').get(id)) throw new CategoryInUse(c.slug)
      this.q('DELETE FROM categories WHERE id = ?').run(id)
      this.bumpCatalog()
      return true
    })
  }

  private writeVariants(productId: string, variants: Variant[]): void {
    const insert = this.q(
      'INSERT INTO variants (sku, product_id, name, options, price, position) VALUES (?, ?, ?, ?, ?, ?)',
    )
    const stock = this.q('INSERT OR IGNORE INTO inventory (sku, available, reserved) VALUES (?, 0, 0)')
    variants.forEach((v, i) => {
      try {
        insert.run(v.sku, productId, v.name, JSON.stringify(v.options), v.price, i)
      } catch (e) {
        if (isPrimaryKeyViolation(e) || isUniqueViolation(e, 'variants.sku')) throw new SkuTaken(v.sku)
        throw e
      }
      stock.run(v.sku)
    })
  }

  async createProduct(p: Product): Promise<void> {
    this.tx(() => {
      try {
        this.q(
          `INSERT INTO products (id, slug, name, description, category_id, images, featured, min_price, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          p.id,
          p.slug,
          p.name,
          p.description,
          p.categoryId,
          JSON.stringify(p.images),
          p.featured ? 1 : 0,
          minPrice(p.variants),
          p.createdAt,
          p.updatedAt,
        )
      } catch (e) {
        if (isUniqueViolation(e, 'products.slug')) throw new SlugTaken(p.slug)
        throw e
      }
      this.writeVariants(p.id, p.variants)
      this.bumpCatalog()
    })
  }

  async updateProduct(p: Product): Promise<boolean> {
    return this.tx(() => {
      let changes: number
      try {
        changes = this.q(
          `UPDATE products SET slug = ?, name = ?, description = ?, category_id = ?, images = ?, featured = ?,
             min_price = ?, updated_at = ? WHERE id = ?`,
        ).run(
          p.slug,
          p.name,
          p.description,
          p.categoryId,
          JSON.stringify(p.images),
          p.featured ? 1 : 0,
          minPrice(p.variants),
          p.updatedAt,
          p.id,
        ).changes
      } catch (e) {
        if (isUniqueViolation(e, 'products.slug')) throw new SlugTaken(p.slug)
        throw e
      }
      if (changes === 0) return false
      const keep = new Set(p.variants.map((v) => v.sku))
      const old = this.q('SELECT sku FROM variants WHERE product_id = ?').all(p.id) as { sku: string }[]
      for (const { sku } of old) {
        if (!keep.has(sku)) this.q('DELETE FROM inventory WHERE sku = ? AND reserved = 0').run(sku)
      }
      this.q('DELETE FROM variants WHERE product_id = ?').run(p.id)
      this.writeVariants(p.id, p.variants)
      this.bumpCatalog()
      return true
    })
  }

  async deleteProduct(id: string): Promise<boolean> {
    return this.tx(() => {
      const skus = this.q('SELECT sku FROM variants WHERE product_id = ?').all(id) as { sku: string }[]
      const { changes } = this.q('DELETE FROM products WHERE id = ?').run(id)
      if (changes === 0) return false
      this.q('DELETE FROM variants WHERE product_id = ?').run(id)
      for (const { sku } of skus) this.q('DELETE FROM inventory WHERE sku = ? AND reserved = 0').run(sku)
      this.bumpCatalog()
      return true
    })
  }

  private hydrate(rows: ProductRow[]): Product[] {
    if (rows.length === 0) return []
    const ids = rows.map((r) => r.id)
    const variants = this.q(
      `SELECT * FROM variants WHERE product_id IN (${SqliteDatabase.placeholders(ids.length)}) ORDER BY position`,
    ).all(...ids) as VariantRow[]
    const byProduct = new Map<string, Variant[]>()
    for (const v of variants) {
      const list = byProduct.get(v.product_id) ?? []
      list.push({ sku: v.sku, name: v.name, options: JSON.parse(v.options), price: v.price })
      byProduct.set(v.product_id, list)
    }
    return rows.map((r) => ({
      id: r.id,
      slug: r.slug,
      name: r.name,
      description: r.description,
      categoryId: r.category_id,
      images: JSON.parse(r.images),
      featured: r.featured === 1,
      variants: byProduct.get(r.id) ?? [],
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }))
  }

  async getProductById(id: string): Promise<Product | null> {
    const row = this.q('SELECT * FROM products WHERE id = ?').get(id) as ProductRow | undefined
    return row ? (this.hydrate([row])[0] ?? null) : null
  }

  async getProductBySlug(slug: string): Promise<Product | null> {
    const row = this.q('SELECT * FROM products WHERE slug = ?').get(slug) as ProductRow | undefined
    return row ? (this.hydrate([row])[0] ?? null) : null
  }

  async searchProducts(query: ProductQuery): Promise<{ items: Product[]; total: number }> {
    const where: string[] = []
    const params: unknown[] = []
    let from = 'products p'
    const fts = query.q ? toFtsQuery(query.q) : null
    if (fts) {
      from = 'products_fts f JOIN products p ON p.rid = f.rowid'
      where.push('products_fts MATCH ?')
      params.push(fts)
    }
    if (query.categoryId) {
      where.push('p.category_id = ?')
      params.push(query.categoryId)
    }
    if (query.featured !== undefined) {
      where.push('p.featured = ?')
      params.push(query.featured ? 1 : 0)
    }
    if (query.minPrice !== undefined || query.maxPrice !== undefined) {
      where.push('EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.price >= ? AND v.price <= ?)')
      params.push(query.minPrice ?? 0, query.maxPrice ?? Number.MAX_SAFE_INTEGER)
    }
    if (query.inStock) {
      where.push(
        'EXISTS (SELECT 1 FROM variants v JOIN inventory i ON i.sku = v.sku WHERE v.product_id = p.id AND i.available > 0)',
      )
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : ''
    const sort = query.sort ?? 'relevance'
    const order =
      sort === 'price_asc'
        ? 'p.min_price ASC, p.rid ASC'
        : sort === 'price_desc'
          ? 'p.min_price DESC, p.rid ASC'
          : sort === 'newest'
            ? 'p.created_at DESC, p.rid DESC'
            : sort === 'name'
              ? 'p.name COLLATE NOCASE ASC, p.rid ASC'
              : fts
                ? 'bm25(products_fts, 10.0, 1.0) ASC, p.rid ASC'
                : 'p.featured DESC, p.created_at DESC, p.rid DESC'
    const total = (this.q(`SELECT count(*) AS n FROM ${from} ${whereSql}`).get(...params) as { n: number }).n
    const offset = (query.page - 1) * query.limit
    const rows = this.q(`SELECT p.* FROM ${from} ${whereSql} ORDER BY ${order} LIMIT ? OFFSET ?`).all(
      ...params,
      query.limit,
      offset,
    ) as ProductRow[]
    return { items: this.hydrate(rows), total }
  }

  async getVariants(skus: readonly string[]): Promise<VariantInfo[]> {
    if (skus.length === 0) return []
    const rows = this.q(
      `SELECT v.*, p.slug AS product_slug, p.name AS product_name, p.category_id, p.images
         FROM variants v JOIN products p ON p.id = v.product_id WHERE v.sku IN (${SqliteDatabase.placeholders(skus.length)})`,
    ).all(...skus) as (VariantRow & {
      product_slug: string
      product_name: string
      category_id: string
      images: string
    })[]
    return rows.map((r) => ({
      sku: r.sku,
      name: r.name,
      options: JSON.parse(r.options),
      price: r.price,
      productId: r.product_id,
      productSlug: r.product_slug,
      productName: r.product_name,
      categoryId: r.category_id,
      image: (JSON.parse(r.images) as string[])[0],
    }))
  }

  async countProducts(): Promise<number> {
    return (this.q('SELECT count(*) AS n FROM products').get() as { n: number }).n
  }

  async catalogVersion(): Promise<number> {
    return this.version.get(
      () => (this.q(`SELECT value FROM meta WHERE key = 'catalog_version'`).get() as { value: number }).value,
    )
  }

  // ── Inventory ────────────────────────────────────────────────────────────

  async getInventory(skus: readonly string[]): Promise<Inventory[]> {
    if (skus.length === 0) return []
    return this.q(
      `SELECT sku, available, reserved FROM inventory WHERE sku IN (${SqliteDatabase.placeholders(skus.length)})`,
    ).all(...skus) as Inventory[]
  }

  async setAvailable(sku: string, available: number): Promise<boolean> {
    return this.tx(() => {
      const { changes } = this.q('UPDATE inventory SET available = ? WHERE sku = ?').run(available, sku)
      if (changes > 0) this.bumpCatalog()
      return changes > 0
    })
  }

  async reserveStock(orderId: string, sku: string, qty: number): Promise<boolean> {
    return this.tx(() => {
      if (this.q('SELECT 1 FROM stock_holds WHERE order_id = ? AND sku = ?').get(orderId, sku)) return true
      const { changes } = this.q(
        'UPDATE inventory SET available = available - ?, reserved = reserved + ? WHERE sku = ? AND available >= ?',
      ).run(qty, qty, sku, qty)
      if (changes === 0) return false
      this.q('INSERT INTO stock_holds (order_id, sku, qty) VALUES (?, ?, ?)').run(orderId, sku, qty)
      this.bumpCatalog()
      return true
    })
  }

  private endHold(orderId: string, sku: string, returnToAvailable: boolean): boolean {
    return this.tx(() => {
      const hold = this.q('SELECT qty FROM stock_holds WHERE order_id = ? AND sku = ?').get(orderId, sku) as
        | { qty: number }
        | undefined
      if (!hold) return false
      this.q('DELETE FROM stock_holds WHERE order_id = ? AND sku = ?').run(orderId, sku)
      this.q(`UPDATE inventory SET reserved = reserved - ?, available = available + ? WHERE sku = ?`).run(
        hold.qty,
        returnToAvailable ? hold.qty : 0,
        sku,
      )
      this.bumpCatalog()
      return true
    })
  }

  async releaseStock(orderId: string, sku: string): Promise<boolean> {
    return this.endHold(orderId, sku, true)
  }

  async commitStock(orderId: string, sku: string): Promise<boolean> {
    return this.endHold(orderId, sku, false)
  }

  async restock(restockId: string, sku: string, qty: number): Promise<boolean> {
    return this.tx(() => {
      const { changes } = this.q('INSERT OR IGNORE INTO restocks (restock_id, sku, qty) VALUES (?, ?, ?)').run(
        restockId,
        sku,
        qty,
      )
      if (changes === 0) return false
      const updated = this.q('UPDATE inventory SET available = available + ? WHERE sku = ?').run(qty, sku).changes
      if (updated === 0) this.q('INSERT INTO inventory (sku, available, reserved) VALUES (?, ?, 0)').run(sku, qty)
      this.bumpCatalog()
      return true
    })
  }

  async listHolds(orderId: string): Promise<{ sku: string; qty: number }[]> {
    return this.q('SELECT sku, qty FROM stock_holds WHERE order_id = ? ORDER BY sku').all(orderId) as {
      sku: string
      qty: number
    }[]
  }

  // ── Users ────────────────────────────────────────────────────────────────

  async createUser(u: User): Promise<void> {
    try {
      this.q(
        `INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(u.id, u.email, u.name, u.passwordHash, u.role, u.createdAt, u.updatedAt)
    } catch (e) {
      if (isUniqueViolation(e, 'users.email')) throw new EmailTaken()
      throw e
    }
  }

  async getUserById(id: string): Promise<User | null> {
    const row = this.q('SELECT * FROM users WHERE id = ?').get(id) as Row | undefined
    return row ? toUser(row) : null
  }

  async getUserByEmail(email: string): Promise<User | null> {
    const row = this.q('SELECT * FROM users WHERE email = ?').get(email) as Row | undefined
    return row ? toUser(row) : null
  }

  async updateUser(
    id: string,
    patch: Partial<Pick<User, 'name' | 'passwordHash' | 'role'>>,
    at: string,
  ): Promise<User | null> {
    return this.tx(() => {
      const row = this.q('SELECT * FROM users WHERE id = ?').get(id) as Row | undefined
      if (!row) return null
      const u = { ...toUser(row), ...definedOnly(patch), updatedAt: at }
      this.q('UPDATE users SET name = ?, password_hash = ?, role = ?, updated_at = ? WHERE id = ?').run(
        u.name,
        u.passwordHash,
        u.role,
        u.updatedAt,
        id,
      )
      return u
    })
  }

  async listUsers(query: UserListQuery): Promise<{ items: User[]; total: number }> {
    const where: string[] = []
    const params: unknown[] = []
    if (query.q) {
      where.push(`(email LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\')`)
      const like = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      params.push(like, like)
    }
    if (query.role) {
      where.push('role = ?')
      params.push(query.role)
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : ''
    const total = (this.q(`SELECT count(*) AS n FROM users ${w}`).get(...params) as { n: number }).n
    const rows = this.q(`SELECT * FROM users ${w} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`).all(
      ...params,
      query.limit,
      (query.page - 1) * query.limit,
    ) as Row[]
    return { items: rows.map(toUser), total }
  }

  async countUsers(): Promise<number> {
    return (this.q('SELECT count(*) AS n FROM users').get() as { n: number }).n
  }

  async recordFailedLogin(userId: string, at: Date, windowMs: number): Promise<number> {
    return this.tx(() => {
      const now = at.getTime()
      this.q('DELETE FROM failed_logins WHERE user_id = ? AND at <= ?').run(userId, now - windowMs)
      this.q('INSERT INTO failed_logins (user_id, at) VALUES (?, ?)').run(userId, now)
      return (this.q('SELECT count(*) AS n FROM failed_logins WHERE user_id = ?').get(userId) as { n: number }).n
    })
  }

  async failedLoginCount(userId: string, at: Date, windowMs: number): Promise<number> {
    return (
      this.q('SELECT count(*) AS n FROM failed_logins WHERE user_id = ? AND at > ?').get(
        userId,
        at.getTime() - windowMs,
      ) as { n: number }
    ).n
  }

  async clearFailedLogins(userId: string): Promise<void> {
    this.q('DELETE FROM failed_logins WHERE user_id = ?').run(userId)
  }

  async createApiToken(t: ApiToken): Promise<void> {
    this.q(
      'INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(t.id, t.userId, t.name, t.tokenHash, t.prefix, t.createdAt, t.revokedAt)
  }

  async getApiTokenByHash(tokenHash: string): Promise<ApiToken | null> {
    const row = this.q('SELECT * FROM api_tokens WHERE token_hash = ?').get(tokenHash) as Row | undefined
    return row ? toToken(row) : null
  }

  async getUserByActiveTokenHash(tokenHash: string): Promise<User | null> {
    const row = this.q(
      'SELECT u.* FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND t.revoked_at IS NULL',
    ).get(tokenHash) as Row | undefined
    return row ? toUser(row) : null
  }

  async listApiTokens(userId: string): Promise<ApiToken[]> {
    return (
      this.q('SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC').all(userId) as Row[]
    ).map(toToken)
  }

  async revokeApiToken(userId: string, tokenId: string, at: string): Promise<boolean> {
    const { changes } = this.q(
      'UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL',
    ).run(at, tokenId, userId)
    return changes > 0
  }

  // ── Carts ────────────────────────────────────────────────────────────────

  async getCart(id: string): Promise<Cart | null> {
    const row = this.q('SELECT * FROM carts WHERE id = ?').get(id) as Row | undefined
    return row ? toCart(row) : null
  }

  async getCartByUserId(userId: string): Promise<Cart | null> {
    const row = this.q('SELECT * FROM carts WHERE user_id = ?').get(userId) as Row | undefined
    return row ? toCart(row) : null
  }

  async saveCart(cart: Cart, expectedVersion: number | null): Promise<boolean> {
    const items = JSON.stringify(cart.items)
    if (expectedVersion === null) {
      try {
        const { changes } = this.q(
          `INSERT INTO carts (id, user_id, items, coupon_code, version, updated_at) VALUES (?, ?, ?, ?, 1, ?)
           ON CONFLICT (id) DO NOTHING`,
        ).run(cart.id, cart.userId, items, cart.couponCode, cart.updatedAt)
        return changes > 0
      } catch (e) {
        if (isUniqueViolation(e, 'carts.user_id')) return false
        throw e
      }
    }
    try {
      const { changes } = this.q(
        `UPDATE carts SET user_id = ?, items = ?, coupon_code = ?, version = version + 1, updated_at = ?
         WHERE id = ? AND version = ?`,
      ).run(cart.userId, items, cart.couponCode, cart.updatedAt, cart.id, expectedVersion)
      return changes > 0
    } catch (e) {
      if (isUniqueViolation(e, 'carts.user_id')) return false
      throw e
    }
  }

  async deleteCart(id: string): Promise<void> {
    this.q('DELETE FROM carts WHERE id = ?').run(id)
  }

  // ── Coupons ──────────────────────────────────────────────────────────────

  async upsertCoupon(c: Coupon): Promise<void> {
    this.q(
      `INSERT INTO coupons (code, kind, value, min_subtotal, expires_at, usage_limit, used_count, active, description)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, value = excluded.value, min_subtotal = excluded.min_subtotal,
         expires_at = excluded.expires_at, usage_limit = excluded.usage_limit, active = excluded.active,
         description = excluded.description`,
    ).run(
      c.code,
      c.kind,
      c.value,
      c.minSubtotal,
      c.expiresAt,
      c.usageLimit,
      c.usedCount,
      c.active ? 1 : 0,
      c.description,
    )
  }

  async getCoupon(code: string): Promise<Coupon | null> {
    const row = this.q('SELECT * FROM coupons WHERE code = ?').get(code) as Row | undefined
    return row ? toCoupon(row) : null
  }

  async listCoupons(): Promise<Coupon[]> {
    return (this.q('SELECT * FROM coupons ORDER BY code').all() as Row[]).map(toCoupon)
  }

  async redeemCoupon(code: string, orderId: string): Promise<boolean> {
    return this.tx(() => {
      if (this.q('SELECT 1 FROM coupon_redemptions WHERE code = ? AND order_id = ?').get(code, orderId)) return true
      const { changes } = this.q(
        `UPDATE coupons SET used_count = used_count + 1
         WHERE code = ? AND (usage_limit IS NULL OR used_count < usage_limit)`,
      ).run(code)
      if (changes === 0) return false
      this.q('INSERT INTO coupon_redemptions (code, order_id) VALUES (?, ?)').run(code, orderId)
      return true
    })
  }

  async releaseCoupon(code: string, orderId: string): Promise<boolean> {
    return this.tx(() => {
      const { changes } = this.q('DELETE FROM coupon_redemptions WHERE code = ? AND order_id = ?').run(code, orderId)
      if (changes === 0) return false
      this.q('UPDATE coupons SET used_count = used_count - 1 WHERE code = ? AND used_count > 0').run(code)
      return true
    })
  }

  // ── Orders ───────────────────────────────────────────────────────────────

  async createOrderIfAbsent(order: Order): Promise<{ order: Order; created: boolean }> {
    return this.tx(() => {
      const { changes } = this.q(
        `INSERT INTO orders (id, user_id, status, idempotency_key, doc, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, idempotency_key) DO NOTHING`,
      ).run(order.id, order.userId, order.status, order.idempotencyKey, JSON.stringify(order), order.createdAt)
      if (changes > 0) return { order, created: true }
      const row = this.q('SELECT doc FROM orders WHERE user_id = ? AND idempotency_key = ?').get(
        order.userId,
        order.idempotencyKey,
      ) as { doc: string }
      return { order: JSON.parse(row.doc) as Order, created: false }
    })
  }

  async getOrder(id: string): Promise<Order | null> {
    const row = this.q('SELECT doc FROM orders WHERE id = ?').get(id) as { doc: string } | undefined
    return row ? (JSON.parse(row.doc) as Order) : null
  }

  async getOrderByIdempotencyKey(userId: string, key: string): Promise<Order | null> {
    const row = this.q('SELECT doc FROM orders WHERE user_id = ? AND idempotency_key = ?').get(userId, key) as
      | { doc: string }
      | undefined
    return row ? (JSON.parse(row.doc) as Order) : null
  }

  async listOrders(query: OrderListQuery): Promise<{ items: Order[]; total: number }> {
    const where: string[] = []
    const params: unknown[] = []
    if (query.userId) {
      where.push('user_id = ?')
      params.push(query.userId)
    }
    if (query.status) {
      where.push('status = ?')
      params.push(query.status)
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : ''
    const total = (this.q(`SELECT count(*) AS n FROM orders ${w}`).get(...params) as { n: number }).n
    const rows = this.q(`SELECT doc FROM orders ${w} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`).all(
      ...params,
      query.limit,
      (query.page - 1) * query.limit,
    ) as { doc: string }[]
    return { items: rows.map((r) => JSON.parse(r.doc) as Order), total }
  }

  async transitionOrder(id: string, t: OrderTransition): Promise<Order | null> {
    return this.tx(() => {
      const row = this.q('SELECT doc FROM orders WHERE id = ?').get(id) as { doc: string } | undefined
      if (!row) return null
      const order = JSON.parse(row.doc) as Order
      if (!t.from.includes(order.status)) return null
      const next: Order = {
        ...order,
        status: t.to,
        history: [...order.history, t.entry],
        updatedAt: t.entry.at,
        ...(t.payment ? { payment: t.payment } : {}),
        ...(t.failureReason !== undefined ? { failureReason: t.failureReason } : {}),
      }
      this.q('UPDATE orders SET status = ?, doc = ? WHERE id = ?').run(next.status, JSON.stringify(next), id)
      return next
    })
  }

  async listPendingOrders(createdBefore: string, limit: number): Promise<Order[]> {
    const rows = this.q(
      `SELECT doc FROM orders WHERE status = 'pending' AND created_at < ? ORDER BY created_at ASC, id ASC LIMIT ?`,
    ).all(createdBefore, limit) as { doc: string }[]
    return rows.map((r) => JSON.parse(r.doc) as Order)
  }

  async countOrders(): Promise<number> {
    return (this.q('SELECT count(*) AS n FROM orders').get() as { n: number }).n
  }

  // ── Refunds ──────────────────────────────────────────────────────────────

  async createRefund(r: Refund): Promise<void> {
    try {
      this.q('INSERT INTO refunds (id, order_id, status, doc, created_at) VALUES (?, ?, ?, ?, ?)').run(
        r.id,
        r.orderId,
        r.status,
        JSON.stringify(r),
        r.createdAt,
      )
    } catch (e) {
      if (isUniqueViolation(e, 'refunds.order_id')) throw new RefundExists()
      throw e
    }
  }

  async getRefund(id: string): Promise<Refund | null> {
    const row = this.q('SELECT doc FROM refunds WHERE id = ?').get(id) as { doc: string } | undefined
    return row ? (JSON.parse(row.doc) as Refund) : null
  }

  async getRefundByOrderId(orderId: string): Promise<Refund | null> {
    const row = this.q('SELECT doc FROM refunds WHERE order_id = ?').get(orderId) as { doc: string } | undefined
    return row ? (JSON.parse(row.doc) as Refund) : null
  }

  async listRefunds(query: RefundListQuery): Promise<{ items: Refund[]; total: number }> {
    const w = query.status ? 'WHERE status = ?' : ''
    const params = query.status ? [query.status] : []
    const total = (this.q(`SELECT count(*) AS n FROM refunds ${w}`).get(...params) as { n: number }).n
    const rows = this.q(`SELECT doc FROM refunds ${w} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`).all(
      ...params,
      query.limit,
      (query.page - 1) * query.limit,
    ) as { doc: string }[]
    return { items: rows.map((r) => JSON.parse(r.doc) as Refund), total }
  }

  async decideRefund(
    id: string,
    d: { status: 'approved' | 'rejected'; at: string; by: string; note: string | null },
  ): Promise<Refund | null> {
    return this.tx(() => {
      const row = this.q('SELECT doc FROM refunds WHERE id = ?').get(id) as { doc: string } | undefined
      if (!row) return null
      const refund = JSON.parse(row.doc) as Refund
      if (refund.status !== 'requested') return null
      const next: Refund = { ...refund, status: d.status, decidedAt: d.at, decidedBy: d.by, decisionNote: d.note }
      this.q('UPDATE refunds SET status = ?, doc = ? WHERE id = ?').run(next.status, JSON.stringify(next), id)
      return next
    })
  }

  // ── Saved analytics queries ──────────────────────────────────────────────

  async saveQuery(s: SavedQuery): Promise<SavedQuery> {
    const row = this.q(
      `INSERT INTO saved_queries (id, user_id, name, query, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query, updated_at = excluded.updated_at
       RETURNING *`,
    ).get(s.id, s.userId, s.name, s.query, s.createdAt, s.updatedAt) as Row
    return toSavedQuery(row)
  }

  async listSavedQueries(userId: string): Promise<SavedQuery[]> {
    return (this.q('SELECT * FROM saved_queries WHERE user_id = ? ORDER BY name, id').all(userId) as Row[]).map(
      toSavedQuery,
    )
  }

  async getSavedQuery(userId: string, id: string): Promise<SavedQuery | null> {
    const row = this.q('SELECT * FROM saved_queries WHERE id = ? AND user_id = ?').get(id, userId) as Row | undefined
    return row ? toSavedQuery(row) : null
  }

  async deleteSavedQuery(userId: string, id: string): Promise<boolean> {
    return this.q('DELETE FROM saved_queries WHERE id = ? AND user_id = ?').run(id, userId).changes > 0
  }
}

const minPrice = (variants: Variant[]): number => (variants.length ? Math.min(...variants.map((v) => v.price)) : 0)

const definedOnly = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>

const toUser = (r: Row): User => ({
  id: r.id as string,
  email: r.email as string,
  name: r.name as string,
  passwordHash: r.password_hash as string,
  role: r.role as User['role'],
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
})

const toToken = (r: Row): ApiToken => ({
  id: r.id as string,
  userId: r.user_id as string,
  name: r.name as string,
  tokenHash: r.token_hash as string,
  prefix: r.prefix as string,
  createdAt: r.created_at as string,
  revokedAt: (r.revoked_at as string | null) ?? null,
})

const toSavedQuery = (r: Row): SavedQuery => ({
  id: r.id as string,
  userId: r.user_id as string,
  name: r.name as string,
  query: r.query as string,
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
})

const toCart = (r: Row): Cart => ({
  id: r.id as string,
  userId: (r.user_id as string | null) ?? null,
  items: JSON.parse(r.items as string),
  couponCode: (r.coupon_code as string | null) ?? null,
  version: r.version as number,
  updatedAt: r.updated_at as string,
})

const toCoupon = (r: Row): Coupon => ({
  code: r.code as string,
  kind: r.kind as Coupon['kind'],
  value: r.value as number,
  minSubtotal: r.min_subtotal as number,
  expiresAt: (r.expires_at as string | null) ?? null,
  usageLimit: (r.usage_limit as number | null) ?? null,
  usedCount: r.used_count as number,
  active: r.active === 1,
  description: r.description as string,
})

export function openSqliteCommerceStore(path: string): SqliteCommerceStore {
  return new SqliteCommerceStore(path)
}
