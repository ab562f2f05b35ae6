// Server-side pricing: cart lines from catalog prices, coupon checks and order totals, all in minor units.
import { CouponExhausted, CouponExpired, CouponInvalid, CouponMinimum, UnknownSku } from '../core/errors.ts'
import { basisPointsOf, formatMoney } from '../core/money.ts'
import type { CartItem, Coupon, OrderLine, Totals, VariantInfo } from './model.ts'
import type { ShopSettings } from './settings.ts'

export interface PricedLine extends OrderLine {
  image: string | undefined
}

/** Prices each cart item from the catalog; the client's numbers are never used. */
export function priceLines(
  items: readonly CartItem[],
  variants: readonly VariantInfo[],
  opts: { strict: boolean },
): PricedLine[] {
  const bySku = new Map(variants.map((v) => [v.sku, v]))
  const lines: PricedLine[] = []
  for (const item of items) {
    const v = bySku.get(item.sku)
    if (!v) {
      if (opts.strict) throw new UnknownSku(item.sku)
      continue
    }
    lines.push({
      sku: v.sku,
      productId: v.productId,
      productSlug: v.productSlug,
      categoryId: v.categoryId,
      name: v.productName,
      variantName: v.name,
      image: v.image,
      quantity: item.quantity,
      unitPrice: v.price,
      lineTotal: v.price * item.quantity,
    })
  }
  return lines
}

export const subtotalOf = (lines: readonly { lineTotal: number }[]): number =>
  lines.reduce((sum, l) => sum + l.lineTotal, 0)

/** Throws the reason a coupon cannot apply to this subtotal now. */
export function assertCouponApplies(
  code: string,
  coupon: Coupon | null,
  subtotal: number,
  now: Date,
  currency: string,
): asserts coupon is Coupon {
  if (!coupon?.active) throw new CouponInvalid(code)
  if (coupon.expiresAt && Date.parse(coupon.expiresAt) <= now.getTime()) throw new CouponExpired(code)
  if (coupon.usageLimit !== null && coupon.usedCount >= coupon.usageLimit) throw new CouponExhausted(code)
  if (subtotal < coupon.minSubtotal)
    throw new CouponMinimum(code, formatMoney({ amount: coupon.minSubtotal, currency }))
}

export function discountFor(coupon: Coupon | null, subtotal: number): number {
  if (!coupon) return 0
  const raw = coupon.kind === 'percent' ? basisPointsOf(subtotal, coupon.value) : coupon.value
  return Math.max(0, Math.min(raw, subtotal))
}

export function computeTotals(subtotal: number, discount: number, settings: ShopSettings): Totals {
  const goods = subtotal - discount
  const shipping = subtotal === 0 || goods >= settings.freeShippingThreshold ? 0 : settings.shippingFlat
  const tax = basisPointsOf(goods, settings.taxRateBp)
  return { currency: settings.currency, subtotal, discount, shipping, tax, total: goods + shipping + tax }
}
