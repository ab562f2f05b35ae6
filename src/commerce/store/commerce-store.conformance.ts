// The CommerceStore conformance suite: one battery of behaviour every adapter must pass, with opt-outs recorded as data.

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe } from 'node:test'
import { newId } from '../../core/ids.ts'
import { type Capabilities, conformanceAreas } from '../../testing/conformance.ts'
import type {
  Address,
  ApiToken,
  Cart,
  Category,
  Coupon,
  HistoryEntry,
  Inventory,
  Order,
  OrderLine,
  Product,
  ProductQuery,
  Refund,
  SavedQuery,
  User,
  Variant,
} from '../model.ts'
import type { CommerceStore } from './commerce-store.ts'

export interface CommerceStoreHarness {
  name: string
  /** A fresh, empty, migrated store per test. */
  create: () => Promise<CommerceStore>
  /** Idempotent. */
  cleanup: (s: CommerceStore) => Promise<void>
  /** Opens a second, independent handle (connection/process-level client) to the SAME store as `s`, if the adapter can. */
  createPeer?: (s: CommerceStore) => Promise<CommerceStore>
  capabilities?: Capabilities
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures, reusable by other suites. Every builder returns a complete, valid record with unique ids, slugs,
// SKUs and e-mails; pass overrides for the fields a test cares about.

const BASE_TIME = Date.parse('2026-01-15T12:00:00.000Z')

/** An ISO instant offsetMs after a fixed base time, so that tests can order records without sleeping. */
export const isoAt = (offsetMs = 0): string => new Date(BASE_TIME + offsetMs).toISOString()

const unique = (): string => randomBytes(5).toString('hex')

export const makeCategory = (overrides: Partial<Category> = {}): Category => {
  const u = unique()
  return {
    id: newId('cat'),
    slug: `category-${u}`,
    name: `Category ${u}`,
    description: 'A test category',
    position: 0,
    ...overrides,
  }
}

export const makeVariant = (overrides: Partial<Variant> = {}): Variant => {
  const u = unique()
  return { sku: `SKU-${u.toUpperCase()}`, name: `Variant ${u}`, options: { size: 'M' }, price: 1999, ...overrides }
}

/** Give at least categoryId (of a category the store holds) in tests that write the product. */
export const makeProduct = (overrides: Partial<Product> = {}): Product => {
  const u = unique()
  return {
    id: newId('prd'),
    slug: `product-${u}`,
    name: `Product ${u}`,
    description: 'A plain test product',
    categoryId: 'cat_fixture',
    images: [`/images/${u}.jpg`],
    featured: false,
    variants: [makeVariant()],
    createdAt: isoAt(),
    updatedAt: isoAt(),
    ...overrides,
  }
}

export const makeUser = (overrides: Partial<User> = {}): User => {
  const u = unique()
  return {
    id: newId('usr'),
    email: `user-${u}@example.test`,
    name: `User ${u}`,
    passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$${u}`,
    role: 'customer',
    createdAt: isoAt(),
    updatedAt: isoAt(),
    ...overrides,
  }
}

export const makeApiToken = (overrides: Partial<ApiToken> = {}): ApiToken => {
  const hash = randomBytes(32).toString('hex')
  return {
    id: newId('tok'),
    userId: 'usr_fixture',
    name: 'CI token',
    tokenHash: hash,
    prefix: hash.slice(0, 8),
    createdAt: isoAt(),
    revokedAt: null,
    ...overrides,
  }
}

export const makeSavedQuery = (overrides: Partial<SavedQuery> = {}): SavedQuery => {
  const u = unique()
  return {
    id: newId('qry'),
    userId: 'usr_fixture',
    name: `Revenue ${u}`,
    query: `m=revenue&time=day&range=90d&u=${u}`,
    createdAt: isoAt(),
    updatedAt: isoAt(),
    ...overrides,
  }
}

export const makeCart = (overrides: Partial<Cart> = {}): Cart => ({
  id: newId('crt'),
  userId: null,
  items: [{ sku: 'SKU-A', quantity: 2 }],
  couponCode: null,
  version: 0,
  updatedAt: isoAt(),
  ...overrides,
})

export const makeCoupon = (overrides: Partial<Coupon> = {}): Coupon => ({
  code: `SAVE-${unique().toUpperCase()}`,
  kind: 'percent',
  value: 1000,
  minSubtotal: 0,
  expiresAt: null,
  usageLimit: null,
  usedCount: 0,
  active: true,
  description: 'Ten percent off',
  ...overrides,
})

export const makeAddress = (overrides: Partial<Address> = {}): Address => ({
  name: 'Ann Example',
  line1: '1 Test Street',
  city: 'Lisbon',
  postalCode: '1000-001',
  country: 'PT',
  ...overrides,
})

export const makeOrderLine = (overrides: Partial<OrderLine> = {}): OrderLine => {
  const quantity = overrides.quantity ?? 2
  const unitPrice = overrides.unitPrice ?? 1500
  return {
    sku: 'SKU-A',
    productId: 'prd_fixture',
    productSlug: 'product-fixture',
    categoryId: 'cat_fixture',
    name: 'Fixture product',
    variantName: 'Medium',
    quantity,
    unitPrice,
    lineTotal: quantity * unitPrice,
    ...overrides,
  }
}

/** Give at least userId (of a user the store holds) in tests that write the order. */
export const makeOrder = (overrides: Partial<Order> = {}): Order => {
  const createdAt = overrides.createdAt ?? isoAt()
  const lines = overrides.lines ?? [
    makeOrderLine({ sku: 'SKU-A', quantity: 2, unitPrice: 1500 }),
    makeOrderLine({ sku: 'SKU-B', quantity: 1, unitPrice: 2500, variantName: 'Large' }),
  ]
  const subtotal = lines.reduce((sum, l) => sum + l.lineTotal, 0)
  return {
    id: newId('ord'),
    userId: 'usr_fixture',
    status: 'pending',
    idempotencyKey: `idem-${unique()}`,
    lines,
    couponCode: null,
    shippingAddress: makeAddress(),
    payment: null,
    failureReason: null,
    history: [{ from: null, to: 'pending', at: createdAt, actor: 'usr_fixture', reason: 'checkout' }],
    currency: 'EUR',
    subtotal,
    discount: 0,
    shipping: 500,
    tax: 0,
    total: subtotal + 500,
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  }
}

/** Give at least orderId and userId (of an order and user the store holds) in tests that write the refund. */
export const makeRefund = (overrides: Partial<Refund> = {}): Refund => ({
  id: newId('ref'),
  orderId: 'ord_fixture',
  userId: 'usr_fixture',
  amount: 5500,
  currency: 'EUR',
  reason: 'Arrived damaged',
  status: 'requested',
  createdAt: isoAt(),
  decidedAt: null,
  decidedBy: null,
  decisionNote: null,
  ...overrides,
})

const ids = (items: readonly { id: string }[]): string[] => items.map((i) => i.id)
const sortedIds = (items: readonly { id: string }[]): string[] => ids(items).sort()
const bySku = (rows: Inventory[]): Inventory[] => [...rows].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))
const hasCode = (code: string) => (e: unknown) => (e as { code?: unknown })?.code === code

// ---------------------------------------------------------------------------------------------------------------

type Case = (name: string, fn: () => Promise<void>, opts?: { needsPeer?: boolean }) => void

export function describeCommerceStoreConformance(h: CommerceStoreHarness): void {
  const { area: registerArea, describeCapabilityCheck } = conformanceAreas(h.capabilities)
  const area = (areaName: string, body: (test: Case) => void): void =>
    registerArea(areaName, body, (opts: { needsPeer?: boolean } | undefined) =>
      opts?.needsPeer && !h.createPeer ? 'the harness cannot open a second handle (no createPeer)' : undefined,
    )

  describe(`CommerceStore › ${h.name}`, () => {
    let store: CommerceStore
    let peers: CommerceStore[] = []

    beforeEach(async () => {
      peers = []
      store = await h.create()
    })
    afterEach(async () => {
      for (const p of peers) await h.cleanup(p)
      if (store) await h.cleanup(store)
    })

    const openPeer = async (): Promise<CommerceStore> => {
      const peer = await h.createPeer!(store)
      peers.push(peer)
      return peer
    }
    const addCategory = async (overrides: Partial<Category> = {}): Promise<Category> => {
      const c = makeCategory(overrides)
      await store.upsertCategory(c)
      return c
    }
    const addProduct = async (overrides: Partial<Product> = {}): Promise<Product> => {
      const categoryId = overrides.categoryId ?? (await addCategory()).id
      const p = makeProduct({ ...overrides, categoryId })
      await store.createProduct(p)
      return p
    }
    /** A product with one SKU holding `available` units. */
    const addStockedSku = async (available: number): Promise<string> => {
      const p = await addProduct()
      const sku = p.variants[0]!.sku
      assert.equal(await store.setAvailable(sku, available), true)
      return sku
    }
    const inventoryOf = async (sku: string, s: CommerceStore = store): Promise<Inventory | undefined> =>
      (await s.getInventory([sku]))[0]
    const addUser = async (overrides: Partial<User> = {}): Promise<User> => {
      const u = makeUser(overrides)
      await store.createUser(u)
      return u
    }
    const addOrder = async (overrides: Partial<Order> = {}): Promise<Order> => {
      const userId = overrides.userId ?? (await addUser()).id
      const o = makeOrder({ ...overrides, userId })
      const res = await store.createOrderIfAbsent(o)
      assert.equal(res.created, true)
      return o
    }

    area('lifecycle', (test) => {
      test('kind names the adapter', async () => {
        assert.equal(typeof store.kind, 'string')
        assert.ok(store.kind.length > 0)
      })
      test('ping resolves', async () => {
        await store.ping()
      })
      test('a fresh store is empty', async () => {
        assert.deepEqual(await store.listCategories(), [])
        assert.equal(await store.countProducts(), 0)
        assert.equal(await store.countUsers(), 0)
        assert.equal(await store.countOrders(), 0)
        assert.deepEqual(await store.listCoupons(), [])
        assert.deepEqual(await store.listRefunds({ page: 1, limit: 10 }), { items: [], total: 0 })
      })
      test('migrate twice is safe and keeps data', async () => {
        await store.migrate()
        const p = await addProduct()
        const u = await addUser()
        await store.migrate()
        await store.migrate()
        assert.deepEqual(await store.getProductById(p.id), p)
        assert.deepEqual(await store.getUserById(u.id), u)
        assert.equal(await store.countProducts(), 1)
      })
    })

    area('categories', (test) => {
      test('upsert then get by id and by slug', async () => {
        const c = await addCategory({ slug: 'shirts', name: 'Shirts', description: 'All shirts', position: 2 })
        assert.deepEqual(await store.getCategoryById(c.id), c)
        assert.deepEqual(await store.getCategoryBySlug('shirts'), c)
        assert.equal(await store.getCategoryById('cat_missing'), null)
        assert.equal(await store.getCategoryBySlug('missing'), null)
      })
      test('upsert replaces the category with the same id', async () => {
        const c = await addCategory({ slug: 'old-slug', name: 'Old', position: 1 })
        const changed = { ...c, slug: 'new-slug', name: 'New', description: 'Changed', position: 5 }
        await store.upsertCategory(changed)
        assert.deepEqual(await store.getCategoryById(c.id), changed)
        assert.deepEqual(await store.getCategoryBySlug('new-slug'), changed)
        assert.equal(await store.getCategoryBySlug('old-slug'), null)
        assert.deepEqual(await store.listCategories(), [changed])
      })
      test('list is ordered by position', async () => {
        const c3 = await addCategory({ position: 3 })
        const c1 = await addCategory({ position: 1 })
        const c2 = await addCategory({ position: 2 })
        assert.deepEqual(await store.listCategories(), [c1, c2, c3])
      })
      test('delete removes it; false when it did not exist', async () => {
        const c = await addCategory()
        const other = await addCategory()
        assert.equal(await store.deleteCategory(c.id), true)
        assert.equal(await store.getCategoryById(c.id), null)
        assert.equal(await store.getCategoryBySlug(c.slug), null)
        assert.deepEqual(await store.listCategories(), [other])
        assert.equal(await store.deleteCategory(c.id), false)
        assert.equal(await store.deleteCategory('cat_missing'), false)
      })
      test('delete refuses with CategoryInUse while products reference it', async () => {
        const c = await addCategory()
        const p = await addProduct({ categoryId: c.id })
        await assert.rejects(store.deleteCategory(c.id), hasCode('EMP_CATEGORY_IN_USE'))
        assert.deepEqual(await store.getCategoryById(c.id), c)
        assert.equal(await store.deleteProduct(p.id), true)
        assert.equal(await store.deleteCategory(c.id), true)
        assert.equal(await store.getCategoryById(c.id), null)
      })
    })

    area('products', (test) => {
      test('create then get by id and by slug round-trips every field', async () => {
        const c = await addCategory()
        const p = makeProduct({
          categoryId: c.id,
          name: 'Linen Shirt',
          description: 'Cool in summer',
          images: ['/a.jpg', '/b.jpg'],
          featured: true,
          variants: [
            makeVariant({ name: 'Small White', options: { size: 'S', colour: 'White' }, price: 3900 }),
            makeVariant({ name: 'Large Blue', options: { size: 'L', colour: 'Blue' }, price: 4200 }),
          ],
          createdAt: isoAt(1000),
          updatedAt: isoAt(2000),
        })
        await store.createProduct(p)
        assert.deepEqual(await store.getProductById(p.id), p)
        assert.deepEqual(await store.getProductBySlug(p.slug), p)
        assert.equal(await store.getProductById('prd_missing'), null)
        assert.equal(await store.getProductBySlug('missing'), null)
      })
      test('create adds an inventory row with available 0 per variant', async () => {
        const p = await addProduct({ variants: [makeVariant(), makeVariant(), makeVariant()] })
        const skus = p.variants.map((v) => v.sku).sort()
        assert.deepEqual(
          bySku(await store.getInventory(skus)),
          skus.map((sku) => ({ sku, available: 0, reserved: 0 })),
        )
      })
      test('getInventory leaves out unknown SKUs', async () => {
        const p = await addProduct()
        const sku = p.variants[0]!.sku
        assert.deepEqual(await store.getInventory([sku, 'SKU-NOPE']), [{ sku, available: 0, reserved: 0 }])
        assert.deepEqual(await store.getInventory([]), [])
      })
      test('create throws SlugTaken and writes nothing', async () => {
        const p = await addProduct({ slug: 'taken' })
        const dup = makeProduct({ slug: 'taken', categoryId: p.categoryId })
        await assert.rejects(store.createProduct(dup), hasCode('EMP_SLUG_TAKEN'))
        assert.equal(await store.getProductById(dup.id), null)
        assert.deepEqual(await store.getProductBySlug('taken'), p)
        assert.deepEqual(await store.getInventory([dup.variants[0]!.sku]), [])
        assert.equal(await store.countProducts(), 1)
      })
      test('create throws SkuTaken for a SKU of another product and writes nothing', async () => {
        const a = await addProduct()
        const sku = a.variants[0]!.sku
        await store.setAvailable(sku, 7)
        const fresh = makeVariant()
        const b = makeProduct({ categoryId: a.categoryId, variants: [fresh, makeVariant({ sku })] })
        await assert.rejects(store.createProduct(b), hasCode('EMP_SKU_TAKEN'))
        assert.equal(await store.getProductById(b.id), null)
        assert.equal(await store.getProductBySlug(b.slug), null)
        assert.deepEqual(await store.getInventory([sku]), [{ sku, available: 7, reserved: 0 }])
        assert.deepEqual(await store.getInventory([fresh.sku]), [])
        const [info] = await store.getVariants([sku])
        assert.equal(info?.productId, a.id)
        assert.equal(await store.countProducts(), 1)
      })
      test('create throws SkuTaken for a SKU repeated within the product', async () => {
        const c = await addCategory()
        const v = makeVariant()
        const p = makeProduct({ categoryId: c.id, variants: [v, makeVariant({ sku: v.sku, name: 'Twin' })] })
        await assert.rejects(store.createProduct(p), hasCode('EMP_SKU_TAKEN'))
        assert.equal(await store.getProductById(p.id), null)
        assert.equal(await store.countProducts(), 0)
      })
      test('update replaces fields, adds and removes variants, keeps stock of kept variants', async () => {
        const c1 = await addCategory()
        const c2 = await addCategory()
        const keep = makeVariant({ price: 1000 })
        const drop = makeVariant({ price: 2000 })
        const p = await addProduct({ categoryId: c1.id, variants: [keep, drop] })
        await store.setAvailable(keep.sku, 5)
        const added = makeVariant({ price: 3000, options: { size: 'XL' } })
        const updated: Product = {
          ...p,
          name: 'Renamed',
          description: 'New words',
          categoryId: c2.id,
          images: [],
          featured: true,
          variants: [{ ...keep, price: 1100, name: 'Kept' }, added],
          updatedAt: isoAt(60_000),
        }
        assert.equal(await store.updateProduct(updated), true)
        assert.deepEqual(await store.getProductById(p.id), updated)
        assert.deepEqual(
          bySku(await store.getInventory([keep.sku, added.sku])),
          bySku([
            { sku: keep.sku, available: 5, reserved: 0 },
            { sku: added.sku, available: 0, reserved: 0 },
          ]),
        )
        const variants = await store.getVariants([keep.sku, drop.sku, added.sku])
        assert.deepEqual(variants.map((v) => v.sku).sort(), [keep.sku, added.sku].sort())
        assert.equal(variants.find((v) => v.sku === keep.sku)?.price, 1100)
        assert.equal(variants.find((v) => v.sku === keep.sku)?.categoryId, c2.id)
      })
      test('update changes the slug', async () => {
        const p = await addProduct({ slug: 'before' })
        const updated = { ...p, slug: 'after' }
        assert.equal(await store.updateProduct(updated), true)
        assert.equal(await store.getProductBySlug('before'), null)
        assert.deepEqual(await store.getProductBySlug('after'), updated)
      })
      test('update keeping its own slug and SKUs does not conflict with itself', async () => {
        const p = await addProduct()
        const updated = { ...p, name: 'Same slug, same SKUs' }
        assert.equal(await store.updateProduct(updated), true)
        assert.deepEqual(await store.getProductById(p.id), updated)
      })
      test('update throws SlugTaken on a slug of another product and changes nothing', async () => {
        const a = await addProduct({ slug: 'first' })
        const b = await addProduct({ slug: 'second', categoryId: a.categoryId })
        await assert.rejects(store.updateProduct({ ...b, slug: 'first', name: 'Clash' }), hasCode('EMP_SLUG_TAKEN'))
        assert.deepEqual(await store.getProductById(b.id), b)
        assert.deepEqual(await store.getProductBySlug('first'), a)
      })
      test('update throws SkuTaken on a SKU of another product and changes nothing', async () => {
        const a = await addProduct()
        const b = await addProduct({ categoryId: a.categoryId })
        const stolen = a.variants[0]!.sku
        await assert.rejects(
          store.updateProduct({ ...b, variants: [...b.variants, makeVariant({ sku: stolen })] }),
          hasCode('EMP_SKU_TAKEN'),
        )
        assert.deepEqual(await store.getProductById(b.id), b)
        const [info] = await store.getVariants([stolen])
        assert.equal(info?.productId, a.id)
      })
      test('update of an unknown product returns false and creates nothing', async () => {
        const c = await addCategory()
        const ghost = makeProduct({ categoryId: c.id })
        assert.equal(await store.updateProduct(ghost), false)
        assert.equal(await store.getProductById(ghost.id), null)
        assert.equal(await store.countProducts(), 0)
      })
      test('delete removes the product and its variants', async () => {
        const p = await addProduct({ slug: 'doomed' })
        const keep = await addProduct({ categoryId: p.categoryId })
        assert.equal(await store.deleteProduct(p.id), true)
        assert.equal(await store.getProductById(p.id), null)
        assert.equal(await store.getProductBySlug('doomed'), null)
        assert.deepEqual(await store.getVariants([p.variants[0]!.sku]), [])
        assert.equal(await store.countProducts(), 1)
        assert.deepEqual(await store.getProductById(keep.id), keep)
        assert.equal(await store.deleteProduct(p.id), false)
        assert.equal(await store.deleteProduct('prd_missing'), false)
      })
      test('a deleted product frees its slug', async () => {
        const p = await addProduct({ slug: 'reuse-me' })
        await store.deleteProduct(p.id)
        const again = await addProduct({ slug: 'reuse-me', categoryId: p.categoryId })
        assert.deepEqual(await store.getProductBySlug('reuse-me'), again)
      })
      test('countProducts counts', async () => {
        assert.equal(await store.countProducts(), 0)
        const c = await addCategory()
        const a = await addProduct({ categoryId: c.id })
        await addProduct({ categoryId: c.id })
        await addProduct({ categoryId: c.id })
        assert.equal(await store.countProducts(), 3)
        await store.deleteProduct(a.id)
        assert.equal(await store.countProducts(), 2)
      })
    })

    area('variants', (test) => {
      test('getVariants returns what checkout needs; unknown SKUs are absent', async () => {
        const c = await addCategory()
        const v1 = makeVariant({ name: 'Small', options: { size: 'S' }, price: 1200 })
        const v2 = makeVariant({ name: 'Large', options: { size: 'L', colour: 'Red' }, price: 1500 })
        const p = await addProduct({
          categoryId: c.id,
          name: 'Mug',
          images: ['/mug-1.jpg', '/mug-2.jpg'],
          variants: [v1, v2],
        })
        const found = await store.getVariants([v2.sku, 'SKU-UNKNOWN', v1.sku])
        const common = {
          productId: p.id,
          productSlug: p.slug,
          productName: 'Mug',
          categoryId: c.id,
          image: '/mug-1.jpg',
        }
        assert.deepEqual(
          [...found].sort((a, b) => a.price - b.price),
          [
            { ...v1, ...common },
            { ...v2, ...common },
          ],
        )
        assert.deepEqual(await store.getVariants([]), [])
        assert.deepEqual(await store.getVariants(['SKU-UNKNOWN']), [])
      })
      test('image is undefined for a product without images', async () => {
        const p = await addProduct({ images: [] })
        const [info] = await store.getVariants([p.variants[0]!.sku])
        assert.ok(info)
        assert.equal(info.image, undefined)
        assert.equal(info.productName, p.name)
      })
      test('getVariants reflects an update', async () => {
        const p = await addProduct({ name: 'Before' })
        const v = p.variants[0]!
        await store.updateProduct({ ...p, name: 'After', slug: 'after-slug', variants: [{ ...v, price: 777 }] })
        const [info] = await store.getVariants([v.sku])
        assert.equal(info?.productName, 'After')
        assert.equal(info?.productSlug, 'after-slug')
        assert.equal(info?.price, 777)
      })
    })

    area('search', (test) => {
      /** Four products with known words, prices, categories, stock, featured flags and creation times. */
      const seed = async () => {
        const catA = await addCategory({ position: 1 })
        const catB = await addCategory({ position: 2 })
        const p1 = makeProduct({
          name: 'Blue Cotton Shirt',
          description: 'A soft shirt made of organic cotton',
          categoryId: catA.id,
          featured: true,
          variants: [makeVariant({ price: 2000 }), makeVariant({ price: 6000 })],
          createdAt: isoAt(1000),
          updatedAt: isoAt(1000),
        })
        const p2 = makeProduct({
          name: 'Red Wool Sweater',
          description: 'Warm knitted wool for winter',
          categoryId: catA.id,
          variants: [makeVariant({ price: 5000 })],
          createdAt: isoAt(2000),
          updatedAt: isoAt(2000),
        })
        const p3 = makeProduct({
          name: 'Leather Boots',
          description: 'Sturdy boots for hiking and city walks',
          categoryId: catB.id,
          featured: true,
          variants: [makeVariant({ price: 12000 }), makeVariant({ price: 9000 })],
          createdAt: isoAt(3000),
          updatedAt: isoAt(3000),
        })
        const p4 = makeProduct({
          name: 'Cotton Socks',
          description: 'Three pairs of cotton socks',
          categoryId: catB.id,
          variants: [makeVariant({ price: 800 })],
          createdAt: isoAt(4000),
          updatedAt: isoAt(4000),
        })
        for (const p of [p1, p2, p3, p4]) await store.createProduct(p)
        await store.setAvailable(p1.variants[0]!.sku, 5)
        await store.setAvailable(p3.variants[1]!.sku, 3)
        return { catA, catB, p1, p2, p3, p4 }
      }
      const search = (query: Partial<ProductQuery>) => store.searchProducts({ page: 1, limit: 50, ...query })

      test('no filter returns everything', async () => {
        const { p1, p2, p3, p4 } = await seed()
        const res = await search({})
        assert.equal(res.total, 4)
        assert.deepEqual(sortedIds(res.items), [p1.id, p2.id, p3.id, p4.id].sort())
      })
      test('items are whole products', async () => {
        const { p1 } = await seed()
        const res = await search({ q: 'organic' })
        assert.deepEqual(res.items, [p1])
      })
      test('q matches words in name and description', async () => {
        const { p1, p4 } = await seed()
        const res = await search({ q: 'cotton' })
        assert.equal(res.total, 2)
        assert.deepEqual(sortedIds(res.items), [p1.id, p4.id].sort())
        assert.deepEqual(ids((await search({ q: 'organic' })).items), [p1.id])
      })
      test('q matches word prefixes, ignoring case', async () => {
        const { p1, p4, p3 } = await seed()
        assert.deepEqual(sortedIds((await search({ q: 'cott' })).items), [p1.id, p4.id].sort())
        assert.deepEqual(sortedIds((await search({ q: 'COTTON' })).items), [p1.id, p4.id].sort())
        assert.deepEqual(ids((await search({ q: 'Hik' })).items), [p3.id])
      })
      test('q requires every word (AND), across name and description', async () => {
        const { p1 } = await seed()
        assert.deepEqual(ids((await search({ q: 'cotton shirt' })).items), [p1.id])
        assert.deepEqual(ids((await search({ q: 'shirt organic' })).items), [p1.id])
        assert.deepEqual(await search({ q: 'cotton boots' }), { items: [], total: 0 })
        assert.deepEqual(await search({ q: 'zebra' }), { items: [], total: 0 })
      })
      test('q with query syntax is taken as plain words', async () => {
        const { p1, p4 } = await seed()
        const none = { items: [], total: 0 }
        assert.deepEqual(await search({ q: `'; DROP TABLE products; --` }), none)
        assert.deepEqual(await search({ q: 'cotton OR boots' }), none)
        assert.deepEqual(await search({ q: 'cotton NOT socks' }), none)
        assert.deepEqual(await search({ q: 'NEAR(cotton socks)' }), none)
        assert.deepEqual(await search({ q: '{$gt:""}' }), none)
        assert.deepEqual(await search({ q: '_otton' }), none)
        assert.deepEqual(sortedIds((await search({ q: '"cotton"' })).items), [p1.id, p4.id].sort())
        assert.equal(await store.countProducts(), 4)
      })
      test('q with stray syntax characters never throws', async () => {
        const { p1, p2, p3, p4 } = await seed()
        const all = new Set([p1.id, p2.id, p3.id, p4.id])
        const hostile = [
          '"',
          '*',
          'OR',
          'AND',
          'NOT',
          'NEAR(',
          '(',
          ')',
          '-',
          '^',
          ':',
          '\\',
          '%',
          '_',
          "'",
          '.*',
          '[',
          'name:cotton',
          'cotton"',
          'cott*',
          '"unbalanced',
          '$where',
          '{$gt:""}',
          `'; DROP TABLE products; --`,
          '\u0000',
          '   ',
          '😀 café',
        ]
        for (const q of hostile) {
          const res = await search({ q })
          assert.ok(Number.isInteger(res.total) && res.total >= 0 && res.total <= 4, `total for ${JSON.stringify(q)}`)
          assert.equal(res.items.length, res.total, `items for ${JSON.stringify(q)}`)
          for (const p of res.items) assert.ok(all.has(p.id))
        }
        assert.equal(await store.countProducts(), 4)
        assert.equal((await search({ q: 'cotton' })).total, 2)
      })
      test('categoryId filters', async () => {
        const { catA, catB, p1, p2, p3, p4 } = await seed()
        assert.deepEqual(sortedIds((await search({ categoryId: catA.id })).items), [p1.id, p2.id].sort())
        assert.deepEqual(sortedIds((await search({ categoryId: catB.id })).items), [p3.id, p4.id].sort())
        assert.deepEqual(ids((await search({ categoryId: catB.id, q: 'cotton' })).items), [p4.id])
        assert.deepEqual(await search({ categoryId: 'cat_missing' }), { items: [], total: 0 })
      })
      test('minPrice and maxPrice match when any variant is in range (inclusive)', async () => {
        const { p1, p2, p3, p4 } = await seed()
        assert.deepEqual(ids((await search({ minPrice: 5500, maxPrice: 7000 })).items), [p1.id])
        assert.deepEqual(ids((await search({ minPrice: 8500, maxPrice: 9500 })).items), [p3.id])
        assert.deepEqual(
          sortedIds((await search({ minPrice: 4000, maxPrice: 9500 })).items),
          [p1.id, p2.id, p3.id].sort(),
        )
        // p1 has 2000 and 6000, p3 has 9000 and 12000: spanning a range is not being in it
        assert.deepEqual(await search({ minPrice: 2100, maxPrice: 4900 }), { items: [], total: 0 })
        assert.deepEqual(await search({ minPrice: 10000, maxPrice: 11000 }), { items: [], total: 0 })
        assert.deepEqual(sortedIds((await search({ minPrice: 9000 })).items), [p3.id])
        assert.deepEqual(ids((await search({ maxPrice: 800 })).items), [p4.id])
        assert.deepEqual(sortedIds((await search({ minPrice: 5000, maxPrice: 5000 })).items), [p2.id])
      })
      test('inStock keeps products with any variant available', async () => {
        const { p1, p3 } = await seed()
        assert.deepEqual(sortedIds((await search({ inStock: true })).items), [p1.id, p3.id].sort())
        await store.setAvailable(p1.variants[0]!.sku, 0)
        assert.deepEqual(ids((await search({ inStock: true })).items), [p3.id])
      })
      test('reserved units are not in stock', async () => {
        const { p3 } = await seed()
        const sku = p3.variants[1]!.sku
        assert.equal(await store.reserveStock('ord_search', sku, 3), true)
        assert.equal((await search({ inStock: true, categoryId: p3.categoryId })).total, 0)
      })
      test('featured filters', async () => {
        const { p1, p3 } = await seed()
        assert.deepEqual(sortedIds((await search({ featured: true })).items), [p1.id, p3.id].sort())
      })
      test('filters combine', async () => {
        const { catA, p1 } = await seed()
        assert.deepEqual(
          ids((await search({ categoryId: catA.id, inStock: true, featured: true, q: 'shirt' })).items),
          [p1.id],
        )
        assert.deepEqual(await search({ categoryId: catA.id, minPrice: 9000 }), { items: [], total: 0 })
      })
      test('sort price_asc and price_desc use the lowest variant price', async () => {
        const { p1, p2, p3, p4 } = await seed()
        assert.deepEqual(ids((await search({ sort: 'price_asc' })).items), [p4.id, p1.id, p2.id, p3.id])
        assert.deepEqual(ids((await search({ sort: 'price_desc' })).items), [p3.id, p2.id, p1.id, p4.id])
      })
      test('sort newest is by createdAt descending', async () => {
        const { p1, p2, p3, p4 } = await seed()
        assert.deepEqual(ids((await search({ sort: 'newest' })).items), [p4.id, p3.id, p2.id, p1.id])
      })
      test('sort name is alphabetical', async () => {
        const { p1, p2, p3, p4 } = await seed()
        assert.deepEqual(ids((await search({ sort: 'name' })).items), [p1.id, p4.id, p3.id, p2.id])
      })
      test('sort relevance with q returns the matches', async () => {
        const { p1, p2, p3, p4 } = await seed()
        const res = await search({ q: 'cotton', sort: 'relevance' })
        assert.equal(res.total, 2)
        assert.deepEqual(sortedIds(res.items), [p1.id, p4.id].sort())
        const withoutQ = await search({ sort: 'relevance' })
        assert.deepEqual(sortedIds(withoutQ.items), [p1.id, p2.id, p3.id, p4.id].sort())
      })
      test('pages with page (from 1) and limit; total counts every match', async () => {
        const { catA, p1, p2, p3, p4 } = await seed()
        assert.deepEqual(await search({ sort: 'name', page: 1, limit: 2 }), { items: [p1, p4], total: 4 })
        assert.deepEqual(await search({ sort: 'name', page: 2, limit: 2 }), { items: [p3, p2], total: 4 })
        assert.deepEqual(await search({ sort: 'name', page: 3, limit: 2 }), { items: [], total: 4 })
        assert.deepEqual(ids((await search({ sort: 'price_asc', page: 2, limit: 3 })).items), [p3.id])
        const filtered = await search({ categoryId: catA.id, sort: 'name', page: 1, limit: 1 })
        assert.deepEqual(filtered, { items: [p1], total: 2 })
      })
      test('search sees updates and deletes', async () => {
        const { p1, p4 } = await seed()
        await store.updateProduct({ ...p4, name: 'Wool Socks', description: 'Three pairs of wool socks' })
        assert.deepEqual(ids((await search({ q: 'cotton' })).items), [p1.id])
        assert.deepEqual(ids((await search({ q: 'wool socks' })).items), [p4.id])
        await store.deleteProduct(p1.id)
        assert.deepEqual(await search({ q: 'cotton' }), { items: [], total: 0 })
        assert.equal((await search({})).total, 3)
      })
    })

    area('catalogVersion', (test) => {
      test('increases after every product and stock change', async () => {
        const c = await addCategory()
        let last = await store.catalogVersion()
        assert.equal(typeof last, 'number')
        const bumped = async (what: string) => {
          const now = await store.catalogVersion()
          assert.ok(now > last, `catalogVersion did not increase after ${what} (${last} → ${now})`)
          last = now
        }
        const p = makeProduct({ categoryId: c.id })
        const sku = p.variants[0]!.sku
        await store.createProduct(p)
        await bumped('createProduct')
        await store.updateProduct({ ...p, name: 'Changed' })
        await bumped('updateProduct')
        await store.setAvailable(sku, 10)
        await bumped('setAvailable')
        await store.reserveStock('ord_v1', sku, 2)
        await bumped('reserveStock')
        await store.releaseStock('ord_v1', sku)
        await bumped('releaseStock')
        await store.reserveStock('ord_v2', sku, 2)
        await bumped('reserveStock')
        await store.commitStock('ord_v2', sku)
        await bumped('commitStock')
        await store.restock('re_v1', sku, 1)
        await bumped('restock')
        await store.deleteProduct(p.id)
        await bumped('deleteProduct')
        assert.equal(await store.catalogVersion(), last, 'reads must not change the version')
      })
      test('increases after category changes', async () => {
        const v0 = await store.catalogVersion()
        const c = await addCategory()
        const v1 = await store.catalogVersion()
        assert.ok(v1 > v0, 'after upsertCategory')
        await store.deleteCategory(c.id)
        assert.ok((await store.catalogVersion()) > v1, 'after deleteCategory')
      })
    })

    area('inventory', (test) => {
      test('setAvailable sets the sellable count', async () => {
        const sku = await addStockedSku(12)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 12, reserved: 0 })
        assert.equal(await store.setAvailable(sku, 3), true)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 3, reserved: 0 })
        assert.equal(await store.setAvailable(sku, 0), true)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 0, reserved: 0 })
      })
      test('setAvailable leaves reserved units untouched', async () => {
        const sku = await addStockedSku(5)
        assert.equal(await store.reserveStock('ord_1', sku, 2), true)
        assert.equal(await store.setAvailable(sku, 10), true)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 10, reserved: 2 })
        assert.deepEqual(await store.listHolds('ord_1'), [{ sku, qty: 2 }])
      })
      test('setAvailable is false for an unknown SKU and creates nothing', async () => {
        assert.equal(await store.setAvailable('SKU-NOPE', 4), false)
        assert.deepEqual(await store.getInventory(['SKU-NOPE']), [])
      })
    })

    area('reserve', (test) => {
      test('moves qty from available to reserved under a hold', async () => {
        const sku = await addStockedSku(10)
        assert.equal(await store.reserveStock('ord_1', sku, 3), true)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 7, reserved: 3 })
        assert.deepEqual(await store.listHolds('ord_1'), [{ sku, qty: 3 }])
      })
      test('may take the last units', async () => {
        const sku = await addStockedSku(3)
        assert.equal(await store.reserveStock('ord_1', sku, 3), true)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 0, reserved: 3 })
      })
      test('false when insufficient, and nothing changes', async () => {
        const sku = await addStockedSku(2)
        assert.equal(await store.reserveStock('ord_1', sku, 3), false)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 2, reserved: 0 })
        assert.deepEqual(await store.listHolds('ord_1'), [])
      })
      test('false for an unknown SKU', async () => {
        assert.equal(await store.reserveStock('ord_1', 'SKU-NOPE', 1), false)
        assert.deepEqual(await store.listHolds('ord_1'), [])
      })
      test('is idempotent per (orderId, sku)', async () => {
        const sku = await addStockedSku(10)
        assert.equal(await store.reserveStock('ord_1', sku, 3), true)
        assert.equal(await store.reserveStock('ord_1', sku, 3), true)
        assert.equal(await store.reserveStock('ord_1', sku, 5), true)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 7, reserved: 3 })
        assert.deepEqual(await store.listHolds('ord_1'), [{ sku, qty: 3 }])
      })
      test('a retry is still true after the stock ran out', async () => {
        const sku = await addStockedSku(3)
        assert.equal(await store.reserveStock('ord_1', sku, 3), true)
        assert.equal(await store.reserveStock('ord_1', sku, 3), true)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 0, reserved: 3 })
        assert.equal(await store.reserveStock('ord_2', sku, 1), false)
      })
      test('holds are per order and per SKU', async () => {
        const a = await addStockedSku(10)
        const b = await addStockedSku(4)
        assert.equal(await store.reserveStock('ord_1', a, 3), true)
        assert.equal(await store.reserveStock('ord_1', b, 4), true)
        assert.equal(await store.reserveStock('ord_2', a, 2), true)
        assert.deepEqual(
          bySku(await store.getInventory([a, b])),
          bySku([
            { sku: a, available: 5, reserved: 5 },
            { sku: b, available: 0, reserved: 4 },
          ]),
        )
        const holds = (await store.listHolds('ord_1')).sort((x, y) => (x.sku < y.sku ? -1 : 1))
        assert.deepEqual(
          holds,
          [
            { sku: a, qty: 3 },
            { sku: b, qty: 4 },
          ].sort((x, y) => (x.sku < y.sku ? -1 : 1)),
        )
        assert.deepEqual(await store.listHolds('ord_2'), [{ sku: a, qty: 2 }])
        assert.deepEqual(await store.listHolds('ord_none'), [])
      })
      test('concurrent buyers', async () => {
        const sku = await addStockedSku(10)
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.reserveStock(`ord_race_${i}`, sku, 1)),
        )
        assert.equal(results.filter(Boolean).length, 10)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 0, reserved: 10 })
        let held = 0
        for (let i = 0; i < 50; i++) held += (await store.listHolds(`ord_race_${i}`)).reduce((s, x) => s + x.qty, 0)
        assert.equal(held, 10)
      })
      test('concurrent retries of one hold reserve once', async () => {
        const sku = await addStockedSku(10)
        const results = await Promise.all(Array.from({ length: 10 }, () => store.reserveStock('ord_retry', sku, 2)))
        assert.deepEqual(results, Array(10).fill(true))
        assert.deepEqual(await inventoryOf(sku), { sku, available: 8, reserved: 2 })
        assert.deepEqual(await store.listHolds('ord_retry'), [{ sku, qty: 2 }])
      })
      test(
        'concurrent buyers across two handles',
        async () => {
          const sku = await addStockedSku(10)
          const peer = await openPeer()
          const results = await Promise.all(
            Array.from({ length: 50 }, (_, i) => (i % 2 ? peer : store).reserveStock(`ord_race_${i}`, sku, 1)),
          )
          assert.equal(results.filter(Boolean).length, 10)
          assert.deepEqual(await inventoryOf(sku), { sku, available: 0, reserved: 10 })
          assert.deepEqual(await inventoryOf(sku, peer), { sku, available: 0, reserved: 10 })
        },
        { needsPeer: true },
      )
    })

    area('release', (test) => {
      test('returns the hold to available', async () => {
        const sku = await addStockedSku(10)
        await store.reserveStock('ord_1', sku, 3)
        assert.equal(await store.releaseStock('ord_1', sku), true)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 10, reserved: 0 })
        assert.deepEqual(await store.listHolds('ord_1'), [])
      })
      test('is idempotent', async () => {
        const sku = await addStockedSku(10)
        await store.reserveStock('ord_1', sku, 3)
        await store.releaseStock('ord_1', sku)
        await store.releaseStock('ord_1', sku)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 10, reserved: 0 })
      })
      test('concurrent releases return the units once', async () => {
        const sku = await addStockedSku(10)
        await store.reserveStock('ord_1', sku, 3)
        const results = await Promise.all(Array.from({ length: 10 }, () => store.releaseStock('ord_1', sku)))
        assert.ok(results.includes(true))
        assert.deepEqual(await inventoryOf(sku), { sku, available: 10, reserved: 0 })
      })
      test('false with no hold, and nothing changes', async () => {
        const sku = await addStockedSku(10)
        await store.reserveStock('ord_other', sku, 2)
        assert.equal(await store.releaseStock('ord_1', sku), false)
        assert.equal(await store.releaseStock('ord_other', 'SKU-NOPE'), false)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 8, reserved: 2 })
      })
      test('touches only its own order and SKU', async () => {
        const a = await addStockedSku(10)
        const b = await addStockedSku(10)
        await store.reserveStock('ord_1', a, 3)
        await store.reserveStock('ord_1', b, 1)
        await store.reserveStock('ord_2', a, 2)
        assert.equal(await store.releaseStock('ord_1', a), true)
        assert.deepEqual(
          bySku(await store.getInventory([a, b])),
          bySku([
            { sku: a, available: 8, reserved: 2 },
            { sku: b, available: 9, reserved: 1 },
          ]),
        )
        assert.deepEqual(await store.listHolds('ord_1'), [{ sku: b, qty: 1 }])
        assert.deepEqual(await store.listHolds('ord_2'), [{ sku: a, qty: 2 }])
      })
      test('after a commit gives nothing back', async () => {
        const sku = await addStockedSku(10)
        await store.reserveStock('ord_1', sku, 3)
        assert.equal(await store.commitStock('ord_1', sku), true)
        assert.equal(await store.releaseStock('ord_1', sku), false)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 7, reserved: 0 })
      })
    })

    area('commit', (test) => {
      test('turns the hold into a sale', async () => {
        const sku = await addStockedSku(10)
        await store.reserveStock('ord_1', sku, 3)
        assert.equal(await store.commitStock('ord_1', sku), true)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 7, reserved: 0 })
      })
      test('is idempotent', async () => {
        const sku = await addStockedSku(10)
        await store.reserveStock('ord_1', sku, 3)
        await store.reserveStock('ord_2', sku, 2)
        await store.commitStock('ord_1', sku)
        await store.commitStock('ord_1', sku)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 5, reserved: 2 })
      })
      test('concurrent commits count the sale once', async () => {
        const sku = await addStockedSku(10)
        await store.reserveStock('ord_1', sku, 3)
        await store.reserveStock('ord_2', sku, 2)
        const results = await Promise.all(Array.from({ length: 10 }, () => store.commitStock('ord_1', sku)))
        assert.ok(results.includes(true))
        assert.deepEqual(await inventoryOf(sku), { sku, available: 5, reserved: 2 })
      })
      test('false with no hold, and nothing changes', async () => {
        const sku = await addStockedSku(10)
        await store.reserveStock('ord_other', sku, 2)
        assert.equal(await store.commitStock('ord_1', sku), false)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 8, reserved: 2 })
      })
      test('false after a release, and nothing changes', async () => {
        const sku = await addStockedSku(10)
        await store.reserveStock('ord_1', sku, 3)
        await store.releaseStock('ord_1', sku)
        assert.equal(await store.commitStock('ord_1', sku), false)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 10, reserved: 0 })
      })
    })

    area('restock', (test) => {
      test('adds units to available, leaving reserved', async () => {
        const sku = await addStockedSku(4)
        await store.reserveStock('ord_1', sku, 1)
        assert.equal(await store.restock('re_1', sku, 2), true)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 5, reserved: 1 })
      })
      test('is idempotent per restockId', async () => {
        const sku = await addStockedSku(4)
        await store.restock('re_1', sku, 2)
        await store.restock('re_1', sku, 2)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 6, reserved: 0 })
        assert.equal(await store.restock('re_2', sku, 3), true)
        assert.deepEqual(await inventoryOf(sku), { sku, available: 9, reserved: 0 })
      })
      test('concurrent restocks with one id add once', async () => {
        const sku = await addStockedSku(4)
        await Promise.all(Array.from({ length: 10 }, () => store.restock('re_1', sku, 2)))
        assert.deepEqual(await inventoryOf(sku), { sku, available: 6, reserved: 0 })
      })
    })

    area('users', (test) => {
      test('create then get by id round-trips every field', async () => {
        const u = await addUser({ email: 'ann@x.com', name: 'Ann', role: 'staff' })
        assert.deepEqual(await store.getUserById(u.id), u)
        assert.deepEqual(await store.getUserByEmail('ann@x.com'), u)
        assert.equal(await store.getUserById('usr_missing'), null)
        assert.equal(await store.getUserByEmail('nobody@x.com'), null)
      })
      test('getUserByEmail ignores case', async () => {
        const u = await addUser({ email: 'ann@x.com' })
        assert.equal((await store.getUserByEmail('Ann@X.com'))?.id, u.id)
        assert.equal((await store.getUserByEmail('ANN@X.COM'))?.id, u.id)
        const mixed = await addUser({ email: 'Bob@Example.COM' })
        assert.equal((await store.getUserByEmail('bob@example.com'))?.id, mixed.id)
      })
      test('createUser throws EmailTaken regardless of case', async () => {
        const u = await addUser({ email: 'ann@x.com' })
        await assert.rejects(store.createUser(makeUser({ email: 'ann@x.com' })), hasCode('EMP_EMAIL_TAKEN'))
        await assert.rejects(store.createUser(makeUser({ email: 'ANN@X.Com' })), hasCode('EMP_EMAIL_TAKEN'))
        assert.equal(await store.countUsers(), 1)
        assert.deepEqual(await store.getUserByEmail('ann@x.com'), u)
      })
      test('updateUser patches the given fields and updatedAt', async () => {
        const u = await addUser({ name: 'Old Name', role: 'customer' })
        const at = isoAt(90_000)
        const renamed = await store.updateUser(u.id, { name: 'New Name' }, at)
        assert.deepEqual(renamed, { ...u, name: 'New Name', updatedAt: at })
        assert.deepEqual(await store.getUserById(u.id), renamed)
        const at2 = isoAt(120_000)
        const promoted = await store.updateUser(u.id, { role: 'admin', passwordHash: 'new-hash' }, at2)
        assert.deepEqual(promoted, { ...u, name: 'New Name', role: 'admin', passwordHash: 'new-hash', updatedAt: at2 })
        assert.deepEqual(await store.getUserById(u.id), promoted)
      })
      test('updateUser returns null for an unknown id', async () => {
        assert.equal(await store.updateUser('usr_missing', { name: 'X' }, isoAt()), null)
        assert.equal(await store.countUsers(), 0)
      })
      test('listUsers filters by q over email and name', async () => {
        const byName = await addUser({ email: 'aa@shop.test', name: 'Alice Archer' })
        const byEmail = await addUser({ email: 'alice.b@example.org', name: 'Bea Brown' })
        await addUser({ email: 'carl@shop.test', name: 'Carl Cook' })
        const res = await store.listUsers({ q: 'alice', page: 1, limit: 10 })
        assert.equal(res.total, 2)
        assert.deepEqual(sortedIds(res.items), [byName.id, byEmail.id].sort())
        assert.deepEqual(ids((await store.listUsers({ q: 'brown', page: 1, limit: 10 })).items), [byEmail.id])
        assert.deepEqual(await store.listUsers({ q: 'zed', page: 1, limit: 10 }), { items: [], total: 0 })
      })
      test('listUsers filters by role and combines with q', async () => {
        const s1 = await addUser({ role: 'staff', name: 'Sam Staff' })
        const s2 = await addUser({ role: 'staff', name: 'Sue Staff' })
        const a = await addUser({ role: 'admin', name: 'Sam Admin' })
        await addUser({ role: 'customer', name: 'Sam Customer' })
        const staff = await store.listUsers({ role: 'staff', page: 1, limit: 10 })
        assert.equal(staff.total, 2)
        assert.deepEqual(sortedIds(staff.items), [s1.id, s2.id].sort())
        assert.deepEqual(ids((await store.listUsers({ role: 'admin', page: 1, limit: 10 })).items), [a.id])
        assert.deepEqual(ids((await store.listUsers({ role: 'staff', q: 'sam', page: 1, limit: 10 })).items), [s1.id])
        assert.deepEqual(await store.listUsers({ role: 'analyst', page: 1, limit: 10 }), { items: [], total: 0 })
      })
      test('listUsers pages', async () => {
        const all: string[] = []
        for (let i = 0; i < 5; i++) all.push((await addUser({ createdAt: isoAt(i * 1000) })).id)
        const p1 = await store.listUsers({ page: 1, limit: 2 })
        const p2 = await store.listUsers({ page: 2, limit: 2 })
        const p3 = await store.listUsers({ page: 3, limit: 2 })
        const p4 = await store.listUsers({ page: 4, limit: 2 })
        assert.deepEqual([p1.total, p2.total, p3.total, p4.total], [5, 5, 5, 5])
        assert.deepEqual([p1.items.length, p2.items.length, p3.items.length, p4.items.length], [2, 2, 1, 0])
        assert.deepEqual([...ids(p1.items), ...ids(p2.items), ...ids(p3.items)].sort(), all.sort())
      })
      test('countUsers counts', async () => {
        assert.equal(await store.countUsers(), 0)
        await addUser()
        await addUser()
        assert.equal(await store.countUsers(), 2)
      })
    })

    area('failed logins', (test) => {
      const WINDOW = 60_000
      const t = (ms: number) => new Date(BASE_TIME + ms)
      test('recordFailedLogin counts within the window', async () => {
        const u = await addUser()
        assert.equal(await store.recordFailedLogin(u.id, t(0), WINDOW), 1)
        assert.equal(await store.recordFailedLogin(u.id, t(1000), WINDOW), 2)
        assert.equal(await store.recordFailedLogin(u.id, t(2000), WINDOW), 3)
      })
      test('failedLoginCount reads without adding', async () => {
        const u = await addUser()
        assert.equal(await store.failedLoginCount(u.id, t(0), WINDOW), 0)
        await store.recordFailedLogin(u.id, t(0), WINDOW)
        await store.recordFailedLogin(u.id, t(1000), WINDOW)
        assert.equal(await store.failedLoginCount(u.id, t(3000), WINDOW), 2)
        assert.equal(await store.failedLoginCount(u.id, t(3000), WINDOW), 2)
        assert.equal(await store.recordFailedLogin(u.id, t(4000), WINDOW), 3)
      })
      test('entries older than the window do not count', async () => {
        const u = await addUser()
        await store.recordFailedLogin(u.id, t(0), WINDOW)
        assert.equal(await store.recordFailedLogin(u.id, t(10_000), WINDOW), 2)
        // a read must apply the window itself, even before any write has pruned old entries
        assert.equal(await store.failedLoginCount(u.id, t(65_000), WINDOW), 1)
        assert.equal(await store.recordFailedLogin(u.id, t(65_000), WINDOW), 2)
        assert.equal(await store.failedLoginCount(u.id, t(71_000), WINDOW), 1)
        assert.equal(await store.failedLoginCount(u.id, t(200_000), WINDOW), 0)
        assert.equal(await store.recordFailedLogin(u.id, t(200_000), WINDOW), 1)
      })
      test('clearFailedLogins resets the count', async () => {
        const u = await addUser()
        await store.recordFailedLogin(u.id, t(0), WINDOW)
        await store.recordFailedLogin(u.id, t(1000), WINDOW)
        await store.clearFailedLogins(u.id)
        assert.equal(await store.failedLoginCount(u.id, t(2000), WINDOW), 0)
        assert.equal(await store.recordFailedLogin(u.id, t(3000), WINDOW), 1)
        await store.clearFailedLogins(u.id)
        await store.clearFailedLogins(u.id)
      })
      test('counts are per user', async () => {
        const a = await addUser()
        const b = await addUser()
        await store.recordFailedLogin(a.id, t(0), WINDOW)
        await store.recordFailedLogin(a.id, t(1000), WINDOW)
        assert.equal(await store.recordFailedLogin(b.id, t(1500), WINDOW), 1)
        await store.clearFailedLogins(b.id)
        assert.equal(await store.failedLoginCount(a.id, t(2000), WINDOW), 2)
      })
    })

    area('api tokens', (test) => {
      test('create then get by hash round-trips every field', async () => {
        const u = await addUser()
        const tok = makeApiToken({ userId: u.id, name: 'deploy' })
        await store.createApiToken(tok)
        assert.deepEqual(await store.getApiTokenByHash(tok.tokenHash), tok)
        assert.equal(await store.getApiTokenByHash('0'.repeat(64)), null)
      })
      test('the owner of an active token is found in one call; a revoked or unknown token finds nobody', async () => {
        const u = await addUser()
        const tok = makeApiToken({ userId: u.id })
        await store.createApiToken(tok)
        assert.deepEqual(await store.getUserByActiveTokenHash(tok.tokenHash), u)
        assert.equal(await store.getUserByActiveTokenHash('0'.repeat(64)), null)
        assert.equal(await store.revokeApiToken(u.id, tok.id, isoAt(5000)), true)
        assert.equal(await store.getUserByActiveTokenHash(tok.tokenHash), null)
      })
      test('list returns only the owner tokens', async () => {
        const u = await addUser()
        const other = await addUser()
        const t1 = makeApiToken({ userId: u.id, createdAt: isoAt(1000) })
        const t2 = makeApiToken({ userId: u.id, createdAt: isoAt(2000) })
        const t3 = makeApiToken({ userId: other.id })
        for (const tok of [t1, t2, t3]) await store.createApiToken(tok)
        const mine = await store.listApiTokens(u.id)
        assert.deepEqual(
          [...mine].sort((a, b) => (a.id < b.id ? -1 : 1)),
          [t1, t2].sort((a, b) => (a.id < b.id ? -1 : 1)),
        )
        assert.deepEqual(await store.listApiTokens('usr_missing'), [])
      })
      test('only the owner can revoke; revoking twice is false the second time', async () => {
        const owner = await addUser()
        const stranger = await addUser()
        const tok = makeApiToken({ userId: owner.id })
        await store.createApiToken(tok)
        assert.equal(await store.revokeApiToken(stranger.id, tok.id, isoAt(1000)), false)
        assert.equal((await store.getApiTokenByHash(tok.tokenHash))?.revokedAt, null)
        assert.equal(await store.revokeApiToken(owner.id, tok.id, isoAt(2000)), true)
        assert.deepEqual(await store.getApiTokenByHash(tok.tokenHash), { ...tok, revokedAt: isoAt(2000) })
        assert.equal(await store.revokeApiToken(owner.id, tok.id, isoAt(3000)), false)
        assert.equal((await store.getApiTokenByHash(tok.tokenHash))?.revokedAt, isoAt(2000))
        for (const listed of await store.listApiTokens(owner.id)) assert.equal(listed.revokedAt, isoAt(2000))
        assert.equal(await store.revokeApiToken(owner.id, 'tok_missing', isoAt(4000)), false)
      })
    })

    area('carts', (test) => {
      test('a new cart is saved with expected version null', async () => {
        const u = await addUser()
        const cart = makeCart({ userId: u.id, items: [{ sku: 'SKU-A', quantity: 1 }], couponCode: 'WELCOME' })
        assert.equal(await store.saveCart(cart, null), true)
        const stored = await store.getCart(cart.id)
        assert.ok(stored)
        assert.equal(typeof stored.version, 'number')
        assert.deepEqual(stored, { ...cart, version: stored.version })
        assert.deepEqual(await store.getCartByUserId(u.id), stored)
        assert.equal(await store.getCart('crt_missing'), null)
        assert.equal(await store.getCartByUserId('usr_missing'), null)
      })
      test('null expected fails when the cart exists, and nothing changes', async () => {
        const cart = makeCart()
        await store.saveCart(cart, null)
        const before = await store.getCart(cart.id)
        assert.equal(await store.saveCart({ ...cart, items: [] }, null), false)
        assert.deepEqual(await store.getCart(cart.id), before)
      })
      test('a save with the stored version wins and bumps it by one', async () => {
        const cart = makeCart({ items: [{ sku: 'SKU-A', quantity: 1 }] })
        await store.saveCart(cart, null)
        const v = (await store.getCart(cart.id))!.version
        const edited = { ...cart, version: v, items: [{ sku: 'SKU-A', quantity: 3 }], updatedAt: isoAt(5000) }
        assert.equal(await store.saveCart(edited, v), true)
        assert.deepEqual(await store.getCart(cart.id), { ...edited, version: v + 1 })
        const again = { ...edited, version: v + 1, couponCode: 'TEN' }
        assert.equal(await store.saveCart(again, v + 1), true)
        assert.deepEqual(await store.getCart(cart.id), { ...again, version: v + 2 })
      })
      test('a save with a stale version loses, and nothing changes', async () => {
        const cart = makeCart()
        await store.saveCart(cart, null)
        const v = (await store.getCart(cart.id))!.version
        await store.saveCart({ ...cart, version: v, items: [{ sku: 'SKU-B', quantity: 1 }] }, v)
        const before = await store.getCart(cart.id)
        assert.equal(await store.saveCart({ ...cart, version: v, items: [] }, v), false)
        assert.equal(await store.saveCart({ ...cart, version: v + 5, items: [] }, v + 5), false)
        assert.deepEqual(await store.getCart(cart.id), before)
        assert.equal(await store.saveCart(makeCart(), 3), false)
      })
      test('concurrent saves with one version: exactly one wins', async () => {
        const cart = makeCart()
        await store.saveCart(cart, null)
        const v = (await store.getCart(cart.id))!.version
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.saveCart({ ...cart, version: v, items: [{ sku: `SKU-${i}`, quantity: i + 1 }] }, v),
          ),
        )
        assert.equal(results.filter(Boolean).length, 1)
        const stored = await store.getCart(cart.id)
        assert.equal(stored?.version, v + 1)
        const winner = results.indexOf(true)
        assert.deepEqual(stored?.items, [{ sku: `SKU-${winner}`, quantity: winner + 1 }])
      })
      test('a cart can move from anonymous to a user', async () => {
        const u = await addUser()
        const cart = makeCart({ userId: null })
        await store.saveCart(cart, null)
        const v = (await store.getCart(cart.id))!.version
        assert.equal(await store.saveCart({ ...cart, version: v, userId: u.id }, v), true)
        assert.equal((await store.getCartByUserId(u.id))?.id, cart.id)
      })
      test('deleteCart removes it; deleting again is harmless', async () => {
        const u = await addUser()
        const cart = makeCart({ userId: u.id })
        await store.saveCart(cart, null)
        await store.deleteCart(cart.id)
        assert.equal(await store.getCart(cart.id), null)
        assert.equal(await store.getCartByUserId(u.id), null)
        await store.deleteCart(cart.id)
        await store.deleteCart('crt_missing')
        assert.equal(await store.saveCart(cart, null), true)
      })
    })

    area('coupons', (test) => {
      test('upsert then get round-trips every field', async () => {
        const c = makeCoupon({
          kind: 'fixed',
          value: 500,
          minSubtotal: 2000,
          expiresAt: isoAt(86_400_000),
          usageLimit: 3,
          description: 'Five off',
        })
        await store.upsertCoupon(c)
        assert.deepEqual(await store.getCoupon(c.code), c)
        assert.equal(await store.getCoupon('NOPE'), null)
      })
      test('upsert replaces the coupon with the same code', async () => {
        const c = makeCoupon({ value: 1000 })
        await store.upsertCoupon(c)
        const changed = { ...c, value: 1500, active: false, expiresAt: isoAt(1000), description: 'Changed' }
        await store.upsertCoupon(changed)
        assert.deepEqual(await store.getCoupon(c.code), changed)
        assert.deepEqual(await store.listCoupons(), [changed])
      })
      test('list returns every coupon', async () => {
        const a = makeCoupon()
        const b = makeCoupon({ kind: 'fixed', value: 300 })
        await store.upsertCoupon(a)
        await store.upsertCoupon(b)
        const listed = await store.listCoupons()
        assert.deepEqual(
          [...listed].sort((x, y) => (x.code < y.code ? -1 : 1)),
          [a, b].sort((x, y) => (x.code < y.code ? -1 : 1)),
        )
      })
      test('redeem respects the usage limit', async () => {
        const c = makeCoupon({ usageLimit: 2 })
        await store.upsertCoupon(c)
        assert.equal(await store.redeemCoupon(c.code, 'ord_1'), true)
        assert.equal(await store.redeemCoupon(c.code, 'ord_2'), true)
        assert.equal(await store.redeemCoupon(c.code, 'ord_3'), false)
        assert.equal((await store.getCoupon(c.code))?.usedCount, 2)
      })
      test('redeem is idempotent per orderId', async () => {
        const c = makeCoupon({ usageLimit: 2 })
        await store.upsertCoupon(c)
        assert.equal(await store.redeemCoupon(c.code, 'ord_1'), true)
        assert.equal(await store.redeemCoupon(c.code, 'ord_1'), true)
        assert.equal((await store.getCoupon(c.code))?.usedCount, 1)
        assert.equal(await store.redeemCoupon(c.code, 'ord_2'), true)
        assert.equal(await store.redeemCoupon(c.code, 'ord_1'), true)
        assert.equal((await store.getCoupon(c.code))?.usedCount, 2)
      })
      test('redeem is unlimited when usageLimit is null', async () => {
        const c = makeCoupon({ usageLimit: null })
        await store.upsertCoupon(c)
        for (let i = 0; i < 7; i++) assert.equal(await store.redeemCoupon(c.code, `ord_${i}`), true)
        assert.equal((await store.getCoupon(c.code))?.usedCount, 7)
      })
      test('redeem of an unknown coupon is false', async () => {
        assert.equal(await store.redeemCoupon('NOPE', 'ord_1'), false)
      })
      test('release gives the use back, idempotently', async () => {
        const c = makeCoupon({ usageLimit: 2 })
        await store.upsertCoupon(c)
        await store.redeemCoupon(c.code, 'ord_1')
        await store.redeemCoupon(c.code, 'ord_2')
        assert.equal(await store.releaseCoupon(c.code, 'ord_1'), true)
        assert.equal((await store.getCoupon(c.code))?.usedCount, 1)
        await store.releaseCoupon(c.code, 'ord_1')
        assert.equal((await store.getCoupon(c.code))?.usedCount, 1)
        assert.equal(await store.redeemCoupon(c.code, 'ord_3'), true)
        assert.equal((await store.getCoupon(c.code))?.usedCount, 2)
        assert.equal(await store.redeemCoupon(c.code, 'ord_4'), false)
      })
      test('release without a redemption changes nothing', async () => {
        const c = makeCoupon({ usageLimit: 5 })
        await store.upsertCoupon(c)
        await store.redeemCoupon(c.code, 'ord_1')
        assert.equal(await store.releaseCoupon(c.code, 'ord_never'), false)
        assert.equal(await store.releaseCoupon('NOPE', 'ord_1'), false)
        assert.equal((await store.getCoupon(c.code))?.usedCount, 1)
      })
      test('concurrent redemptions', async () => {
        const c = makeCoupon({ usageLimit: 5 })
        await store.upsertCoupon(c)
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.redeemCoupon(c.code, `ord_${i}`)))
        assert.equal(results.filter(Boolean).length, 5)
        assert.equal((await store.getCoupon(c.code))?.usedCount, 5)
      })
      test(
        'concurrent redemptions across two handles',
        async () => {
          const c = makeCoupon({ usageLimit: 5 })
          await store.upsertCoupon(c)
          const peer = await openPeer()
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) => (i % 2 ? peer : store).redeemCoupon(c.code, `ord_${i}`)),
          )
          assert.equal(results.filter(Boolean).length, 5)
          assert.equal((await peer.getCoupon(c.code))?.usedCount, 5)
        },
        { needsPeer: true },
      )
    })

    area('orders', (test) => {
      test('create round-trips every field (no line2, no payment)', async () => {
        const u = await addUser()
        const o = makeOrder({ userId: u.id })
        assert.equal('line2' in o.shippingAddress, false)
        assert.deepEqual(await store.createOrderIfAbsent(o), { order: o, created: true })
        assert.deepEqual(await store.getOrder(o.id), o)
        assert.equal(await store.getOrder('ord_missing'), null)
      })
      test('create round-trips every field (line2, payment, coupon, failure)', async () => {
        const u = await addUser()
        const o = makeOrder({
          userId: u.id,
          status: 'refunded',
          couponCode: 'SAVE10',
          shippingAddress: makeAddress({ line2: 'Flat 4', country: 'DE' }),
          payment: {
            chargeId: 'ch_1',
            status: 'refunded',
            last4: '4242',
            brand: 'visa',
            amount: 6000,
            refundId: 're_1',
          },
          failureReason: 'was declined once',
          discount: 550,
          tax: 1100,
          history: [
            { from: null, to: 'pending', at: isoAt(0), actor: u.id, reason: 'checkout' },
            { from: 'pending', to: 'paid', at: isoAt(1000), actor: 'system:checkout', reason: 'payment captured' },
          ],
          updatedAt: isoAt(1000),
        })
        await store.createOrderIfAbsent(o)
        assert.deepEqual(await store.getOrder(o.id), o)
        const plain = makeOrder({
          userId: u.id,
          payment: { chargeId: 'ch_2', status: 'succeeded', last4: null, brand: null, amount: 100 },
        })
        await store.createOrderIfAbsent(plain)
        assert.deepEqual(await store.getOrder(plain.id), plain)
      })
      test('a second create with the same (userId, idempotencyKey) returns the first order', async () => {
        const u = await addUser()
        const first = await addOrder({ userId: u.id, idempotencyKey: 'key-123456' })
        const second = makeOrder({ userId: u.id, idempotencyKey: 'key-123456', total: 1 })
        assert.deepEqual(await store.createOrderIfAbsent(second), { order: first, created: false })
        assert.equal(await store.getOrder(second.id), null)
        assert.equal(await store.countOrders(), 1)
      })
      test('the same key for another user is another order', async () => {
        const a = await addUser()
        const b = await addUser()
        const oa = makeOrder({ userId: a.id, idempotencyKey: 'shared-key-1' })
        const ob = makeOrder({ userId: b.id, idempotencyKey: 'shared-key-1' })
        assert.equal((await store.createOrderIfAbsent(oa)).created, true)
        assert.equal((await store.createOrderIfAbsent(ob)).created, true)
        assert.equal(await store.countOrders(), 2)
        assert.deepEqual(await store.getOrderByIdempotencyKey(a.id, 'shared-key-1'), oa)
        assert.deepEqual(await store.getOrderByIdempotencyKey(b.id, 'shared-key-1'), ob)
      })
      test('concurrent creates with one key make one order', async () => {
        const u = await addUser()
        const tries = Array.from({ length: 10 }, () => makeOrder({ userId: u.id, idempotencyKey: 'race-key-1' }))
        const results = await Promise.all(tries.map((o) => store.createOrderIfAbsent(o)))
        assert.equal(results.filter((r) => r.created).length, 1)
        const winner = results.find((r) => r.created)!.order
        for (const r of results) assert.deepEqual(r.order, winner)
        assert.equal(await store.countOrders(), 1)
      })
      test('getOrderByIdempotencyKey', async () => {
        const u = await addUser()
        const other = await addUser()
        const o = await addOrder({ userId: u.id, idempotencyKey: 'lookup-key' })
        assert.deepEqual(await store.getOrderByIdempotencyKey(u.id, 'lookup-key'), o)
        assert.equal(await store.getOrderByIdempotencyKey(other.id, 'lookup-key'), null)
        assert.equal(await store.getOrderByIdempotencyKey(u.id, 'other-key'), null)
      })
      test('listOrders by user, newest first, with paging and total', async () => {
        const u = await addUser()
        const other = await addUser()
        const o1 = await addOrder({ userId: u.id, createdAt: isoAt(1000) })
        const o2 = await addOrder({ userId: u.id, createdAt: isoAt(3000) })
        const o3 = await addOrder({ userId: u.id, createdAt: isoAt(2000) })
        const x1 = await addOrder({ userId: other.id, createdAt: isoAt(4000) })
        assert.deepEqual(await store.listOrders({ userId: u.id, page: 1, limit: 10 }), {
          items: [o2, o3, o1],
          total: 3,
        })
        assert.deepEqual(await store.listOrders({ userId: u.id, page: 1, limit: 2 }), { items: [o2, o3], total: 3 })
        assert.deepEqual(await store.listOrders({ userId: u.id, page: 2, limit: 2 }), { items: [o1], total: 3 })
        assert.deepEqual(await store.listOrders({ userId: u.id, page: 3, limit: 2 }), { items: [], total: 3 })
        assert.deepEqual(ids((await store.listOrders({ page: 1, limit: 10 })).items), [x1.id, o2.id, o3.id, o1.id])
        assert.deepEqual(await store.listOrders({ userId: 'usr_missing', page: 1, limit: 10 }), { items: [], total: 0 })
      })
      test('listOrders by status', async () => {
        const u = await addUser()
        const o1 = await addOrder({ userId: u.id, createdAt: isoAt(1000) })
        const o2 = await addOrder({ userId: u.id, createdAt: isoAt(2000) })
        const o3 = await addOrder({ userId: u.id, createdAt: isoAt(3000) })
        const entry = (at: number): HistoryEntry => ({
          from: 'pending',
          to: 'paid',
          at: isoAt(at),
          actor: 'system',
          reason: 'paid',
        })
        await store.transitionOrder(o1.id, { from: ['pending'], to: 'paid', entry: entry(5000) })
        await store.transitionOrder(o3.id, { from: ['pending'], to: 'paid', entry: entry(6000) })
        const paid = await store.listOrders({ status: 'paid', page: 1, limit: 10 })
        assert.equal(paid.total, 2)
        assert.deepEqual(ids(paid.items), [o3.id, o1.id])
        assert.equal(paid.items[0]?.status, 'paid')
        assert.deepEqual(ids((await store.listOrders({ status: 'pending', userId: u.id, page: 1, limit: 10 })).items), [
          o2.id,
        ])
        assert.deepEqual(await store.listOrders({ status: 'shipped', page: 1, limit: 10 }), { items: [], total: 0 })
      })
      test('transitionOrder moves from a listed state and appends history', async () => {
        const o = await addOrder()
        const entry: HistoryEntry = {
          from: 'pending',
          to: 'paid',
          at: isoAt(9000),
          actor: 'system:checkout',
          reason: 'captured',
        }
        const payment = {
          chargeId: 'ch_9',
          status: 'succeeded' as const,
          last4: '4242',
          brand: 'visa',
          amount: o.total,
        }
        const res = await store.transitionOrder(o.id, { from: ['pending'], to: 'paid', entry, payment })
        const expected: Order = {
          ...o,
          status: 'paid',
          payment,
          history: [...o.history, entry],
          updatedAt: entry.at,
        }
        assert.deepEqual(res, expected)
        assert.deepEqual(await store.getOrder(o.id), expected)
      })
      test('transitionOrder keeps the payment when none is given and sets failureReason when given', async () => {
        const o = await addOrder()
        const payment = { chargeId: 'ch_1', status: 'succeeded' as const, last4: null, brand: null, amount: o.total }
        const paid: HistoryEntry = { from: 'pending', to: 'paid', at: isoAt(1000), actor: 'system', reason: 'captured' }
        await store.transitionOrder(o.id, { from: ['pending'], to: 'paid', entry: paid, payment })
        const shipped: HistoryEntry = {
          from: 'paid',
          to: 'shipped',
          at: isoAt(2000),
          actor: 'usr_staff',
          reason: 'posted',
        }
        const res = await store.transitionOrder(o.id, { from: ['paid'], to: 'shipped', entry: shipped })
        assert.deepEqual(res?.payment, payment)
        assert.deepEqual(res?.history, [...o.history, paid, shipped])
        assert.equal(res?.failureReason, null)

        const f = await addOrder()
        const failed: HistoryEntry = {
          from: 'pending',
          to: 'payment_failed',
          at: isoAt(3000),
          actor: 'system',
          reason: 'declined',
        }
        const res2 = await store.transitionOrder(f.id, {
          from: ['pending'],
          to: 'payment_failed',
          entry: failed,
          failureReason: 'card_declined',
        })
        assert.deepEqual(res2, {
          ...f,
          status: 'payment_failed',
          failureReason: 'card_declined',
          history: [...f.history, failed],
          updatedAt: failed.at,
        })
        assert.deepEqual(await store.getOrder(f.id), res2)
      })
      test('transitionOrder accepts any of several from states', async () => {
        const o = await addOrder()
        const paid: HistoryEntry = { from: 'pending', to: 'paid', at: isoAt(1000), actor: 'system', reason: 'paid' }
        await store.transitionOrder(o.id, { from: ['pending'], to: 'paid', entry: paid })
        const cancel: HistoryEntry = {
          from: 'paid',
          to: 'cancelled',
          at: isoAt(2000),
          actor: 'usr_staff',
          reason: 'asked',
        }
        const res = await store.transitionOrder(o.id, { from: ['pending', 'paid'], to: 'cancelled', entry: cancel })
        assert.equal(res?.status, 'cancelled')
        assert.equal(res?.history.length, 3)
      })
      test('transitionOrder returns null and changes nothing when the state is not in from', async () => {
        const o = await addOrder()
        const entry: HistoryEntry = {
          from: 'paid',
          to: 'shipped',
          at: isoAt(5000),
          actor: 'usr_staff',
          reason: 'posted',
        }
        assert.equal(await store.transitionOrder(o.id, { from: ['paid', 'shipped'], to: 'shipped', entry }), null)
        assert.deepEqual(await store.getOrder(o.id), o)
        assert.equal(await store.transitionOrder('ord_missing', { from: ['pending'], to: 'paid', entry }), null)
      })
      test('concurrent transitions from pending: exactly one wins', async () => {
        const o = await addOrder()
        const attempts = Array.from({ length: 10 }, (_, i) => {
          const to = i % 2 ? ('paid' as const) : ('cancelled' as const)
          const entry: HistoryEntry = { from: 'pending', to, at: isoAt(1000 + i), actor: `actor_${i}`, reason: 'race' }
          return store.transitionOrder(o.id, { from: ['pending'], to, entry })
        })
        const results = await Promise.all(attempts)
        const winners = results.filter((r): r is Order => r !== null)
        assert.equal(winners.length, 1)
        const stored = await store.getOrder(o.id)
        assert.equal(stored?.status, winners[0]!.status)
        assert.equal(stored?.history.length, 2)
        assert.deepEqual(stored, winners[0])
      })
      test('listPendingOrders returns pending orders created before, oldest first', async () => {
        const u = await addUser()
        const p1 = await addOrder({ userId: u.id, createdAt: isoAt(3000) })
        const p2 = await addOrder({ userId: u.id, createdAt: isoAt(1000) })
        const p3 = await addOrder({ userId: u.id, createdAt: isoAt(2000) })
        const done = await addOrder({ userId: u.id, createdAt: isoAt(1500) })
        await addOrder({ userId: u.id, createdAt: isoAt(9000) })
        await store.transitionOrder(done.id, {
          from: ['pending'],
          to: 'paid',
          entry: { from: 'pending', to: 'paid', at: isoAt(1600), actor: 'system', reason: 'paid' },
        })
        assert.deepEqual(await store.listPendingOrders(isoAt(5000), 10), [p2, p3, p1])
        assert.deepEqual(ids(await store.listPendingOrders(isoAt(5000), 2)), [p2.id, p3.id])
        assert.deepEqual(ids(await store.listPendingOrders(isoAt(2500), 10)), [p2.id, p3.id])
        assert.deepEqual(await store.listPendingOrders(isoAt(500), 10), [])
      })
      test('countOrders counts', async () => {
        assert.equal(await store.countOrders(), 0)
        const u = await addUser()
        await addOrder({ userId: u.id })
        await addOrder({ userId: u.id })
        assert.equal(await store.countOrders(), 2)
      })
    })

    area('refunds', (test) => {
      const addRefund = async (overrides: Partial<Refund> = {}): Promise<Refund> => {
        const o = await addOrder()
        const r = makeRefund({ orderId: o.id, userId: o.userId, amount: o.total, ...overrides })
        await store.createRefund(r)
        return r
      }
      test('create then get by id and by order round-trips every field', async () => {
        const r = await addRefund({ reason: 'Too small', createdAt: isoAt(7000) })
        assert.deepEqual(await store.getRefund(r.id), r)
        assert.deepEqual(await store.getRefundByOrderId(r.orderId), r)
        assert.equal(await store.getRefund('ref_missing'), null)
        assert.equal(await store.getRefundByOrderId('ord_missing'), null)
      })
      test('a second refund for the same order throws RefundExists', async () => {
        const r = await addRefund()
        const again = makeRefund({ orderId: r.orderId, userId: r.userId })
        await assert.rejects(store.createRefund(again), hasCode('EMP_REFUND_EXISTS'))
        assert.equal(await store.getRefund(again.id), null)
        assert.deepEqual(await store.getRefundByOrderId(r.orderId), r)
        await store.decideRefund(r.id, { status: 'rejected', at: isoAt(1), by: 'usr_staff', note: null })
        await assert.rejects(
          store.createRefund(makeRefund({ orderId: r.orderId, userId: r.userId })),
          hasCode('EMP_REFUND_EXISTS'),
        )
      })
      test('listRefunds filters by status and pages', async () => {
        const all: Refund[] = []
        for (let i = 0; i < 5; i++) all.push(await addRefund({ createdAt: isoAt(i * 1000) }))
        await store.decideRefund(all[0]!.id, { status: 'approved', at: isoAt(9000), by: 'usr_staff', note: 'ok' })
        await store.decideRefund(all[1]!.id, { status: 'rejected', at: isoAt(9000), by: 'usr_staff', note: null })
        const requested = await store.listRefunds({ status: 'requested', page: 1, limit: 10 })
        assert.equal(requested.total, 3)
        assert.deepEqual(sortedIds(requested.items), ids(all.slice(2)).sort())
        assert.deepEqual(ids((await store.listRefunds({ status: 'approved', page: 1, limit: 10 })).items), [all[0]!.id])
        const p1 = await store.listRefunds({ page: 1, limit: 2 })
        const p2 = await store.listRefunds({ page: 2, limit: 2 })
        const p3 = await store.listRefunds({ page: 3, limit: 2 })
        assert.deepEqual([p1.total, p2.total, p3.total], [5, 5, 5])
        assert.deepEqual([...ids(p1.items), ...ids(p2.items), ...ids(p3.items)].sort(), ids(all).sort())
      })
      test('decideRefund decides once', async () => {
        const r = await addRefund()
        const decision = { status: 'approved' as const, at: isoAt(5000), by: 'usr_staff', note: 'fine' }
        const decided = await store.decideRefund(r.id, decision)
        const expected: Refund = {
          ...r,
          status: 'approved',
          decidedAt: isoAt(5000),
          decidedBy: 'usr_staff',
          decisionNote: 'fine',
        }
        assert.deepEqual(decided, expected)
        assert.deepEqual(await store.getRefund(r.id), expected)
        assert.equal(
          await store.decideRefund(r.id, { status: 'rejected', at: isoAt(6000), by: 'usr_other', note: null }),
          null,
        )
        assert.deepEqual(await store.getRefund(r.id), expected)
        assert.equal(await store.decideRefund('ref_missing', decision), null)
      })
      test('concurrent decisions: exactly one wins', async () => {
        const r = await addRefund()
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            store.decideRefund(r.id, {
              status: i % 2 ? 'approved' : 'rejected',
              at: isoAt(1000 + i),
              by: `usr_${i}`,
              note: null,
            }),
          ),
        )
        const winners = results.filter((x): x is Refund => x !== null)
        assert.equal(winners.length, 1)
        assert.deepEqual(await store.getRefund(r.id), winners[0])
      })
    })

    area('saved queries', (test) => {
      test('save then get round-trips every field; only the owner gets it', async () => {
        const u = await addUser()
        const other = await addUser()
        const q = makeSavedQuery({ userId: u.id, query: 'm=revenue&f.coupon=%3DHYPERLINK(%22x%22)&name=%C3%A9t%C3%A9' })
        assert.deepEqual(await store.saveQuery(q), q)
        assert.deepEqual(await store.getSavedQuery(u.id, q.id), q)
        assert.equal(await store.getSavedQuery(other.id, q.id), null)
        assert.equal(await store.getSavedQuery(u.id, 'sq_missing'), null)
      })
      test('saving a name the user has replaces its query, keeping id and createdAt', async () => {
        const u = await addUser()
        const first = makeSavedQuery({
          userId: u.id,
          name: 'Weekly revenue',
          createdAt: isoAt(1000),
          updatedAt: isoAt(1000),
        })
        await store.saveQuery(first)
        const again = makeSavedQuery({
          userId: u.id,
          name: 'Weekly revenue',
          query: 'm=orders&time=week',
          createdAt: isoAt(5000),
          updatedAt: isoAt(5000),
        })
        const stored = await store.saveQuery(again)
        assert.deepEqual(stored, { ...first, query: 'm=orders&time=week', updatedAt: isoAt(5000) })
        assert.deepEqual(await store.listSavedQueries(u.id), [stored])
        assert.equal(await store.getSavedQuery(u.id, again.id), null)
      })
      test('names are per user: two users may both have one name', async () => {
        const a = await addUser()
        const b = await addUser()
        const qa = await store.saveQuery(makeSavedQuery({ userId: a.id, name: 'Top products' }))
        const qb = await store.saveQuery(makeSavedQuery({ userId: b.id, name: 'Top products' }))
        assert.notEqual(qa.id, qb.id)
        assert.deepEqual(await store.listSavedQueries(a.id), [qa])
        assert.deepEqual(await store.listSavedQueries(b.id), [qb])
      })
      test('list gives only the owner queries, by name', async () => {
        const u = await addUser()
        const other = await addUser()
        const names = ['Refunds by month', 'AOV by country', 'Revenue by day']
        const saved: SavedQuery[] = []
        for (const name of names) saved.push(await store.saveQuery(makeSavedQuery({ userId: u.id, name })))
        await store.saveQuery(makeSavedQuery({ userId: other.id, name: 'Another analyst' }))
        assert.deepEqual(
          (await store.listSavedQueries(u.id)).map((q) => q.name),
          ['AOV by country', 'Refunds by month', 'Revenue by day'],
        )
        assert.deepEqual(await store.listSavedQueries('usr_missing'), [])
      })
      test('only the owner can delete; deleting twice is false the second time', async () => {
        const owner = await addUser()
        const stranger = await addUser()
        const q = await store.saveQuery(makeSavedQuery({ userId: owner.id }))
        assert.equal(await store.deleteSavedQuery(stranger.id, q.id), false)
        assert.deepEqual(await store.getSavedQuery(owner.id, q.id), q)
        assert.equal(await store.deleteSavedQuery(owner.id, q.id), true)
        assert.equal(await store.getSavedQuery(owner.id, q.id), null)
        assert.deepEqual(await store.listSavedQueries(owner.id), [])
        assert.equal(await store.deleteSavedQuery(owner.id, q.id), false)
        // The name is free again.
        const again = await store.saveQuery(makeSavedQuery({ userId: owner.id, name: q.name }))
        assert.deepEqual(await store.listSavedQueries(owner.id), [again])
      })
      test('concurrent saves of one name leave one query', async () => {
        const u = await addUser()
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            store.saveQuery(
              makeSavedQuery({ userId: u.id, name: 'Racy', query: `m=revenue&n=${i}`, updatedAt: isoAt(i * 1000) }),
            ),
          ),
        )
        const listed = await store.listSavedQueries(u.id)
        assert.equal(listed.length, 1)
        for (const r of results) assert.deepEqual([r.id, r.name, r.userId], [listed[0]!.id, 'Racy', u.id])
      })
    })

    describeCapabilityCheck()
  })
}
