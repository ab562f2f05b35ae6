// The demo shop: a deterministic catalog of 500+ products, stock, coupons, customers and 90 days of past orders.
import { createHash } from 'node:crypto'
import { placeholderImages, slugify } from '../catalog.ts'
import type { Category, Coupon, Order, OrderLine, OrderStatus, Product, User, Variant } from '../model.ts'
import type { PasswordHasher } from '../passwords.ts'
import type { PaymentGateway } from '../payments/payment-gateway.ts'
import { computeTotals, discountFor } from '../pricing.ts'
import type { ShopSettings } from '../settings.ts'
import type { CommerceStore } from '../store/commerce-store.ts'
import { ADJECTIVES, DEMO_CATEGORIES, MATERIALS } from './demo-catalog.ts'

export const DEMO_CUSTOMER = { email: 'demo@emporium.test', password: 'demo-shopper-2026', name: 'Dana Demo' }

export interface SeedOptions {
  products?: number
  customers?: number
  pastOrders?: number
  now?: Date
  onProgress?: (step: string, done: number, total: number) => void
  /** When given, past orders are charged (and refunded) through it, so staff can later refund or cancel them. */
  gateway?: PaymentGateway
}

/** A small deterministic PRNG (mulberry32) so every seed run builds the same shop. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const stableId = (prefix: string, key: string) =>
  `${prefix}_demo${createHash('sha1').update(key).digest('hex').slice(0, 24)}`

const FIRST = [
  'Ada',
  'Ben',
  'Chloé',
  'Dev',
  'Elif',
  'Farah',
  'Gus',
  'Hana',
  'Ivan',
  'Jun',
  'Kofi',
  'Lena',
  'Mateo',
  'Noor',
]
const LAST = ['Okafor', 'Park', 'Quinn', 'Rossi', 'Sato', 'Tran', 'Uddin', 'Varga', 'Weber', 'Xu', 'Yilmaz', 'Zhang']
const CITIES: [string, string, string][] = [
  ['Portland', '97205', 'US'],
  ['Austin', '78701', 'US'],
  ['Toronto', 'M5V 2T6', 'CA'],
  ['Berlin', '10115', 'DE'],
  ['Lyon', '69002', 'FR'],
  ['Leeds', 'LS1 4AP', 'GB'],
  ['Madrid', '28013', 'ES'],
  ['Utrecht', '3511 AB', 'NL'],
]

export interface SeedReport {
  categories: number
  products: number
  variants: number
  customers: number
  orders: number
  coupons: number
}

/** Seeds an empty store. Safe to call on a seeded store: it does nothing when products exist. */
export async function seedDemoShop(
  store: CommerceStore,
  hasher: PasswordHasher,
  settings: ShopSettings,
  options: SeedOptions = {},
): Promise<SeedReport | null> {
  if ((await store.countProducts()) > 0) return null
  const rand = prng(20261126)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const now = options.now ?? new Date()
  const productTarget = options.products ?? 520
  const progress = options.onProgress ?? (() => {})
  const report: SeedReport = { categories: 0, products: 0, variants: 0, customers: 0, orders: 0, coupons: 0 }

  const categories: Category[] = DEMO_CATEGORIES.map((c, i) => ({
    id: stableId('cat', c.slug),
    slug: c.slug,
    name: c.name,
    description: c.description,
    position: (i + 1) * 10,
  }))
  for (const c of categories) await store.upsertCategory(c)
  report.categories = categories.length

  const products: Product[] = []
  const slugs = new Set<string>()
  let attempt = 0
  while (products.length < productTarget && attempt < productTarget * 10) {
    attempt++
    const ci = products.length % DEMO_CATEGORIES.length
    const dc = DEMO_CATEGORIES[ci]!
    const name = `${pick(ADJECTIVES)} ${pick(MATERIALS)} ${pick(dc.nouns)}`
    const slug = slugify(name)
    if (slugs.has(slug)) continue
    slugs.add(slug)
    const base = Math.round((dc.price[0] + rand() * (dc.price[1] - dc.price[0])) / 100) * 100 - 1
    const optionLists = Object.entries(dc.options)
    const [first, second] = optionLists
    const combos: Record<string, string>[] = []
    const firstValues = first ? first[1].filter(() => rand() < 0.8) : []
    const secondValues = second ? second[1].filter(() => rand() < 0.6).slice(0, 3) : []
    for (const a of firstValues.length ? firstValues : (first?.[1].slice(0, 1) ?? [])) {
      if (secondValues.length && second) for (const b of secondValues) combos.push({ [first![0]]: a, [second[0]]: b })
      else combos.push(first ? { [first[0]]: a } : {})
    }
    const variants: Variant[] = combos.slice(0, 12).map((options, vi) => {
      const label = Object.values(options).join(' / ') || 'Standard'
      const premium = Object.values(options).some((v) =>
        ['XL', 'Hardcover', 'Pro', 'Deluxe', 'Large', '250 ml'].includes(v),
      )
      return {
        sku: `${dc.slug.slice(0, 3).toUpperCase()}-${String(products.length + 1).padStart(4, '0')}-${String(vi + 1).padStart(2, '0')}`,
        name: label,
        options,
        price: premium ? base + 500 : base,
      }
    })
    const created = new Date(now.getTime() - Math.floor(rand() * 365) * 86_400_000 - Math.floor(rand() * 86_400_000))
    products.push({
      id: stableId('prd', slug),
      slug,
      name,
      description: `The ${name.toLowerCase()} is ${pick(['built for daily use', 'designed in small batches', 'made from responsibly sourced materials', 'a customer favourite', 'tested for years of wear'])}. ${pick(['Easy to care for.', 'Backed by a two-year warranty.', 'Ships in plastic-free packaging.', 'Pairs well with the rest of the range.'])}`,
      categoryId: categories[ci]!.id,
      images: placeholderImages(slug),
      featured: rand() < 0.06,
      variants,
      createdAt: created.toISOString(),
      updatedAt: created.toISOString(),
    })
  }
  for (const [i, p] of products.entries()) {
    await store.createProduct(p)
    for (const v of p.variants) {
      const r = rand()
      await store.setAvailable(
        v.sku,
        r < 0.07 ? 0 : r < 0.15 ? Math.floor(rand() * 4) + 1 : Math.floor(rand() * 200) + 10,
      )
    }
    report.variants += p.variants.length
    if (i % 50 === 49 || i === products.length - 1) progress('products', i + 1, products.length)
  }
  report.products = products.length

  const coupons: Coupon[] = [
    {
      code: 'WELCOME10',
      kind: 'percent',
      value: 1000,
      minSubtotal: 0,
      expiresAt: null,
      usageLimit: null,
      usedCount: 0,
      active: true,
      description: '10 % off your order',
    },
    {
      code: 'SAVE5',
      kind: 'fixed',
      value: 500,
      minSubtotal: 3000,
      expiresAt: null,
      usageLimit: null,
      usedCount: 0,
      active: true,
      description: '$5 off orders of $30 or more',
    },
    {
      code: 'SPRING25',
      kind: 'percent',
      value: 2500,
      minSubtotal: 10000,
      expiresAt: null,
      usageLimit: 100,
      usedCount: 0,
      active: true,
      description: '25 % off orders of $100 or more, first 100 uses',
    },
    {
      code: 'EXPIRED15',
      kind: 'percent',
      value: 1500,
      minSubtotal: 0,
      expiresAt: new Date(now.getTime() - 30 * 86_400_000).toISOString(),
      usageLimit: null,
      usedCount: 0,
      active: true,
      description: 'An expired campaign',
    },
    {
      code: 'VIP20',
      kind: 'percent',
      value: 2000,
      minSubtotal: 5000,
      expiresAt: new Date(now.getTime() + 180 * 86_400_000).toISOString(),
      usageLimit: 500,
      usedCount: 0,
      active: true,
      description: '20 % off orders of $50 or more',
    },
  ]
  for (const c of coupons) await store.upsertCoupon(c)
  report.coupons = coupons.length

  // One hash shared by the demo customers keeps seeding fast; each still signs in with argon2id.
  const passwordHash = await hasher.hash(DEMO_CUSTOMER.password)
  const customers: User[] = []
  const customerCount = options.customers ?? 60
  for (let i = 0; i < customerCount; i++) {
    const first = i === 0 ? 'Dana' : pick(FIRST)
    const last = i === 0 ? 'Demo' : pick(LAST)
    const email = i === 0 ? DEMO_CUSTOMER.email : `${slugify(first)}.${slugify(last)}.${i}@customers.emporium.test`
    const created = new Date(now.getTime() - (120 - Math.floor(rand() * 30)) * 86_400_000).toISOString()
    const u: User = {
      id: stableId('usr', email),
      email,
      name: `${first} ${last}`,
      passwordHash,
      role: 'customer',
      createdAt: created,
      updatedAt: created,
    }
    await store.createUser(u)
    customers.push(u)
  }
  report.customers = customers.length

  const gateway = options.gateway
  const pastCharge = async (orderId: string, amount: number, currency: string, status: OrderStatus) => {
    if (!gateway) return stableId('ch', orderId)
    const charge = await gateway.charge({
      idempotencyKey: orderId,
      amount,
      currency,
      token: 'tok_visa',
      description: 'demo order',
    })
    if (status === 'refunded' || status === 'cancelled')
      await gateway.refund({ idempotencyKey: `seed_${orderId}`, chargeId: charge.chargeId, amount })
    return charge.chargeId
  }
  const orderTarget = options.pastOrders ?? 360
  for (let i = 0; i < orderTarget; i++) {
    const customer = customers[i % 7 === 0 ? 0 : Math.floor(rand() * customers.length)]!
    const daysAgo = Math.floor(rand() ** 1.3 * 90)
    const placed = new Date(now.getTime() - daysAgo * 86_400_000 - Math.floor(rand() * 86_400_000))
    const lines: OrderLine[] = []
    const lineCount = 1 + Math.floor(rand() * 3)
    for (let l = 0; l < lineCount; l++) {
      const p = products[Math.floor(rand() ** 2 * products.length)]!
      const v = pick(p.variants)
      if (lines.some((x) => x.sku === v.sku)) continue
      const quantity = 1 + Math.floor(rand() * 2)
      lines.push({
        sku: v.sku,
        productId: p.id,
        productSlug: p.slug,
        categoryId: p.categoryId,
        name: p.name,
        variantName: v.name,
        quantity,
        unitPrice: v.price,
        lineTotal: v.price * quantity,
      })
    }
    const subtotal = lines.reduce((s, l) => s + l.lineTotal, 0)
    const coupon = rand() < 0.15 ? coupons[0]! : null
    const totals = computeTotals(subtotal, discountFor(coupon, subtotal), settings)
    const age = now.getTime() - placed.getTime()
    const r = rand()
    const status: OrderStatus =
      r < 0.04
        ? 'refunded'
        : r < 0.06
          ? 'cancelled'
          : age > 7 * 86_400_000
            ? 'delivered'
            : age > 2 * 86_400_000
              ? 'shipped'
              : 'paid'
    const at = (ms: number) => new Date(placed.getTime() + ms).toISOString()
    const history: Order['history'] = [
      { from: null, to: 'pending', at: at(0), actor: customer.id, reason: 'checkout started' },
      { from: 'pending', to: 'paid', at: at(1500), actor: customer.id, reason: 'payment captured' },
    ]
    const step = (from: OrderStatus, to: OrderStatus, ms: number, reason: string, actor = 'system:seed') =>
      history.push({ from, to, at: at(ms), actor, reason })
    if (status === 'shipped' || status === 'delivered' || status === 'refunded')
      step('paid', 'shipped', 86_400_000, 'shipped')
    if (status === 'delivered' || status === 'refunded') step('shipped', 'delivered', 3 * 86_400_000, 'delivered')
    if (status === 'refunded') {
      step('delivered', 'refund_requested', 4 * 86_400_000, 'Does not fit', customer.id)
      step('refund_requested', 'refunded', 5 * 86_400_000, 'refund approved')
    }
    if (status === 'cancelled') step('paid', 'cancelled', 3_600_000, 'cancelled at the customer’s request')
    const [city, postalCode, country] = pick(CITIES)
    const id = stableId('ord', `past-${i}`)
    const order: Order = {
      id,
      userId: customer.id,
      status,
      idempotencyKey: `seed-${i}`,
      lines,
      ...totals,
      couponCode: coupon?.code ?? null,
      shippingAddress: { name: customer.name, line1: `${10 + i} Market Street`, city, postalCode, country },
      payment: {
        chargeId: await pastCharge(id, totals.total, totals.currency, status),
        status: status === 'refunded' || status === 'cancelled' ? 'refunded' : 'succeeded',
        brand: 'visa',
        last4: '4242',
        amount: totals.total,
      },
      failureReason: null,
      history: history.filter((h) => Date.parse(h.at) <= now.getTime()),
      createdAt: placed.toISOString(),
      updatedAt: history.at(-1)!.at,
    }
    order.status = order.history.at(-1)!.to
    await store.createOrderIfAbsent(order)
    if (order.status === 'refunded') {
      const requested = order.history.find((h) => h.to === 'refund_requested')!
      const decided = order.history.find((h) => h.to === 'refunded')!
      await store.createRefund({
        id: stableId('ref', id),
        orderId: id,
        userId: customer.id,
        amount: totals.total,
        currency: totals.currency,
        reason: requested.reason,
        status: 'approved',
        createdAt: requested.at,
        decidedAt: decided.at,
        decidedBy: decided.actor,
        decisionNote: null,
      })
    }
    if (i % 60 === 59 || i === orderTarget - 1) progress('past orders', i + 1, orderTarget)
  }
  report.orders = orderTarget
  return report
}
