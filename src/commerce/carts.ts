// Carts: a guest cart tied to the session, a customer's cart tied to the account, merged at sign-in,
// priced on the server at every read.
import type { Clock } from '../core/clock.ts'
import {
  CartLimit,
  ConcurrentUpdate,
  InsufficientStock,
  isEmporiumError,
  NotFound,
  UnknownSku,
  ValidationFailed,
} from '../core/errors.ts'
import { newId } from '../core/ids.ts'
import type { Cart, Coupon, Inventory, VariantInfo } from './model.ts'
import { assertCouponApplies, computeTotals, discountFor, type PricedLine, priceLines, subtotalOf } from './pricing.ts'
import type { ShopSettings } from './settings.ts'
import type { CommerceStore } from './store/commerce-store.ts'
import { COUPON_RE, checkQuantity } from './validation.ts'

/**
 * Events the rest of the platform may listen to (analytics); never awaited. Merging a guest cart at sign-in and
 * emptying the cart after a paid order move units without a shopper's choice, so they report nothing.
 */
export interface CartEvents {
  /** Units of a SKU went into a cart (added, or its quantity raised); `variant` when the change read it. */
  cartItemAdded?(sku: string, quantity: number, variant: VariantInfo | undefined): void
  /** Units of a SKU left a cart (removed, or its quantity lowered). */
  cartItemRemoved?(sku: string, quantity: number): void
}

/** Which cart: the signed-in customer's, or the guest cart named in the session. */
export type CartRef = { userId: string } | { cartId: string | null }

interface CatalogRows {
  variants: VariantInfo[]
  stock: Inventory[]
}

export interface CartLineView extends PricedLine {
  available: number
}

export interface CartView {
  id: string | null
  items: CartLineView[]
  itemCount: number
  coupon: { code: string; applied: boolean; message: string | null } | null
  currency: string
  subtotal: number
  discount: number
  shipping: number
  tax: number
  total: number
}

export const normalizeCouponCode = (raw: string): string => {
  const code = raw.trim().toUpperCase()
  if (!COUPON_RE.test(code))
    throw new ValidationFailed('The coupon code is not valid').withFields({
      code: 'Letters, digits, dash or underscore',
    })
  return code
}

/** Rows a memo keeps per catalog version (past it the memo starts over). */
const MAX_MEMO_ROWS = 20_000

/**
 * Rows by SKU (variants, stock) for pricing carts, valid for one catalog version: every change to the catalog, a price
 * or stock (a reservation, a restock) bumps the version (the CommerceStore contract), and a new version empties the
 * memo. Checkout never prices or reserves from it: it reads the variants afresh and reserves stock atomically.
 */
export class SkuMemo<T extends { sku: string }> {
  private version: number | null = null
  private readonly bySku = new Map<string, T | null>()

  constructor(
    private readonly catalogVersion: () => Promise<number>,
    private readonly load: (skus: readonly string[]) => Promise<T[]>,
  ) {}

  async get(skus: readonly string[]): Promise<T[]> {
    const version = await this.catalogVersion()
    if (version !== this.version) {
      this.bySku.clear()
      this.version = version
    }
    const wanted = [...new Set(skus)]
    const missing = wanted.filter((sku) => !this.bySku.has(sku))
    if (missing.length > 0) {
      // Read after the version: the rows are at least as new as the version they are filed under.
      const rows = await this.load(missing)
      if (this.version === version) {
        if (this.bySku.size + missing.length > MAX_MEMO_ROWS) this.bySku.clear()
        const found = new Map(rows.map((r) => [r.sku, r]))
        for (const sku of missing) this.bySku.set(sku, found.get(sku) ?? null)
      }
      if (this.version !== version) return this.load(wanted)
    }
    const out: T[] = []
    for (const sku of wanted) {
      const v = this.bySku.get(sku)
      if (v) out.push(v)
    }
    return out
  }
}

export const variantMemo = (store: Pick<CommerceStore, 'catalogVersion' | 'getVariants'>): SkuMemo<VariantInfo> =>
  new SkuMemo(
    () => store.catalogVersion(),
    (skus) => store.getVariants(skus),
  )

export const stockMemo = (store: Pick<CommerceStore, 'catalogVersion' | 'getInventory'>): SkuMemo<Inventory> =>
  new SkuMemo(
    () => store.catalogVersion(),
    (skus) => store.getInventory(skus),
  )

export class Carts {
  private readonly variants: SkuMemo<VariantInfo>
  private readonly stock: SkuMemo<Inventory>

  constructor(
    private readonly store: CommerceStore,
    private readonly settings: ShopSettings,
    private readonly clock: Clock,
    private readonly events: CartEvents = {},
  ) {
    this.variants = variantMemo(store)
    this.stock = stockMemo(store)
  }

  async load(ref: CartRef): Promise<Cart | null> {
    if ('userId' in ref) return this.store.getCartByUserId(ref.userId)
    return ref.cartId ? this.store.getCart(ref.cartId) : null
  }

  private emptyCart(ref: CartRef): Cart {
    return {
      id: newId('crt'),
      userId: 'userId' in ref ? ref.userId : null,
      items: [],
      couponCode: null,
      version: 0,
      updatedAt: this.clock.now().toISOString(),
    }
  }

  /** Read-modify-write with optimistic concurrency; retries a few times on a lost race. */
  private async mutate(ref: CartRef, change: (cart: Cart) => Promise<void> | void): Promise<Cart> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = (await this.load(ref)) ?? this.emptyCart(ref)
      const expected = current.version === 0 ? null : current.version
      const next: Cart = { ...current, items: current.items.map((i) => ({ ...i })) }
      await change(next)
      next.updatedAt = this.clock.now().toISOString()
      if (await this.store.saveCart(next, expected)) return { ...next, version: (expected ?? 0) + 1 }
    }
    throw new ConcurrentUpdate('The cart')
  }

  async view(ref: CartRef): Promise<CartView> {
    return this.price(await this.load(ref))
  }

  /** Prices a cart; `known` may carry catalog rows already read for these SKUs (no second read). */
  async price(cart: Cart | null, known?: CatalogRows): Promise<CartView> {
    const empty = computeTotals(0, 0, this.settings)
    if (!cart) return { id: null, items: [], itemCount: 0, coupon: null, ...empty }
    const skus = cart.items.map((i) => i.sku)
    const { variants, stock } = known ?? (await this.catalogRows(skus))
    const available = new Map(stock.map((s) => [s.sku, s.available]))
    const lines = priceLines(cart.items, variants, { strict: false }).map((l) => ({
      ...l,
      available: available.get(l.sku) ?? 0,
    }))
    const subtotal = subtotalOf(lines)
    let coupon: CartView['coupon'] = null
    let applied: Coupon | null = null
    if (cart.couponCode) {
      const found = await this.store.getCoupon(cart.couponCode)
      try {
        assertCouponApplies(cart.couponCode, found, subtotal, this.clock.now(), this.settings.currency)
        applied = found
        coupon = { code: cart.couponCode, applied: true, message: found.description || null }
      } catch (e) {
        if (!isEmporiumError(e)) throw e
        coupon = { code: cart.couponCode, applied: false, message: e.message }
      }
    }
    const totals = computeTotals(subtotal, discountFor(applied, subtotal), this.settings)
    return {
      id: cart.id,
      items: lines,
      itemCount: lines.reduce((n, l) => n + l.quantity, 0),
      coupon,
      ...totals,
    }
  }

  private async catalogRows(skus: readonly string[]): Promise<CatalogRows> {
    const [variants, stock] = await Promise.all([this.variants.get(skus), this.stock.get(skus)])
    return { variants, stock }
  }

  private checkStock(rows: CatalogRows, sku: string, quantity: number): void {
    if (!rows.variants.some((v) => v.sku === sku)) throw new UnknownSku(sku).withFields({ sku: 'Unknown SKU' })
    const available = rows.stock.find((s) => s.sku === sku)?.available ?? 0
    if (quantity > available) throw new InsufficientStock(sku, available).withDetails({ sku, available })
  }

  async addItem(ref: CartRef, sku: string, quantity: number): Promise<Cart> {
    return (await this.addItemWithRows(ref, sku, quantity)).cart
  }

  /** Adds to the cart and prices it from the same catalog read (the API answers with the priced cart). */
  async addItemAndPrice(ref: CartRef, sku: string, quantity: number): Promise<{ cart: Cart; view: CartView }> {
    const { cart, rows } = await this.addItemWithRows(ref, sku, quantity)
    return { cart, view: await this.price(cart, rows) }
  }

  private async addItemWithRows(
    ref: CartRef,
    sku: string,
    quantity: number,
  ): Promise<{ cart: Cart; rows: CatalogRows }> {
    checkQuantity(quantity, this.settings.maxLineQuantity)
    let rows: CatalogRows = { variants: [], stock: [] }
    const cart = await this.mutate(ref, async (cart) => {
      const line = cart.items.find((i) => i.sku === sku)
      const wanted = (line?.quantity ?? 0) + quantity
      if (wanted > this.settings.maxLineQuantity)
        throw new CartLimit(`At most ${this.settings.maxLineQuantity} of one item per order`).withFields({
          quantity: `At most ${this.settings.maxLineQuantity} in total`,
        })
      if (!line && cart.items.length >= this.settings.maxCartLines)
        throw new CartLimit(`At most ${this.settings.maxCartLines} different items per cart`)
      rows = await this.catalogRows([...cart.items.map((i) => i.sku), ...(line ? [] : [sku])])
      this.checkStock(rows, sku, wanted)
      if (line) line.quantity = wanted
      else cart.items.push({ sku, quantity })
    })
    this.events.cartItemAdded?.(
      sku,
      quantity,
      rows.variants.find((v) => v.sku === sku),
    )
    return { cart, rows }
  }

  async setQuantity(ref: CartRef, sku: string, quantity: number): Promise<Cart> {
    if (quantity !== 0) checkQuantity(quantity, this.settings.maxLineQuantity)
    let before = 0
    let rows: CatalogRows | undefined
    const saved = await this.mutate(ref, async (cart) => {
      const line = cart.items.find((i) => i.sku === sku)
      if (!line) throw new NotFound(`Cart item ${sku}`)
      before = line.quantity
      if (quantity === 0) cart.items = cart.items.filter((i) => i.sku !== sku)
      else {
        if (quantity > line.quantity) {
          rows = await this.catalogRows([sku])
          this.checkStock(rows, sku, quantity)
        }
        line.quantity = quantity
      }
    })
    if (quantity > before)
      this.events.cartItemAdded?.(
        sku,
        quantity - before,
        rows?.variants.find((v) => v.sku === sku),
      )
    else if (quantity < before) this.events.cartItemRemoved?.(sku, before - quantity)
    return saved
  }

  async removeItem(ref: CartRef, sku: string): Promise<Cart> {
    return this.setQuantity(ref, sku, 0)
  }

  async applyCoupon(ref: CartRef, rawCode: string): Promise<Cart> {
    const code = normalizeCouponCode(rawCode)
    return this.mutate(ref, async (cart) => {
      const view = await this.price(cart)
      const coupon = await this.store.getCoupon(code)
      try {
        assertCouponApplies(code, coupon, view.subtotal, this.clock.now(), this.settings.currency)
      } catch (e) {
        throw isEmporiumError(e) ? e.withFields({ code: e.message }) : e
      }
      cart.couponCode = code
    })
  }

  async removeCoupon(ref: CartRef): Promise<Cart> {
    return this.mutate(ref, (cart) => {
      cart.couponCode = null
    })
  }

  /** Empties the customer's cart after a paid order. */
  async clear(userId: string): Promise<void> {
    await this.mutate({ userId }, (cart) => {
      cart.items = []
      cart.couponCode = null
    })
  }

  /** At sign-in: moves the guest cart's items into the customer's cart (quantities add up, capped). */
  async mergeGuestCart(guestCartId: string | null, userId: string): Promise<void> {
    if (!guestCartId) return
    const guest = await this.store.getCart(guestCartId)
    if (!guest || guest.userId) return
    if (guest.items.length > 0 || guest.couponCode) {
      await this.mutate({ userId }, (cart) => {
        for (const item of guest.items) {
          const line = cart.items.find((i) => i.sku === item.sku)
          if (line) line.quantity = Math.min(this.settings.maxLineQuantity, line.quantity + item.quantity)
          else if (cart.items.length < this.settings.maxCartLines) cart.items.push({ ...item })
        }
        cart.couponCode ??= guest.couponCode
      })
    }
    await this.store.deleteCart(guest.id)
  }
}
