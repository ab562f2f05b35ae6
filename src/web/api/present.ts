// Domain records → API representations: money as { amount, currency }, no internal fields.
import type { CartView } from '../../commerce/carts.ts'
import type { ProductView } from '../../commerce/catalog.ts'
import type { Order, Refund } from '../../commerce/model.ts'
import type { Money } from '../../core/money.ts'

const m = (amount: number, currency: string): Money => ({ amount, currency })

export function presentProduct(p: ProductView, currency: string) {
  const prices = p.variants.map((v) => v.price)
  return {
    id: p.id,
    slug: p.slug,
    name: p.name,
    description: p.description,
    category: p.category,
    images: p.images,
    featured: p.featured,
    price: m(prices.length ? Math.min(...prices) : 0, currency),
    inStock: p.variants.some((v) => v.available > 0),
    variants: p.variants.map((v) => ({
      sku: v.sku,
      name: v.name,
      options: v.options,
      price: m(v.price, currency),
      available: v.available,
    })),
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  }
}

export function presentCart(c: CartView) {
  const cur = c.currency
  return {
    id: c.id,
    items: c.items.map((l) => ({
      sku: l.sku,
      quantity: l.quantity,
      name: l.name,
      variantName: l.variantName,
      productSlug: l.productSlug,
      image: l.image,
      available: l.available,
      unitPrice: m(l.unitPrice, cur),
      lineTotal: m(l.lineTotal, cur),
    })),
    itemCount: c.itemCount,
    coupon: c.coupon,
    subtotal: m(c.subtotal, cur),
    discount: m(c.discount, cur),
    shipping: m(c.shipping, cur),
    tax: m(c.tax, cur),
    total: m(c.total, cur),
  }
}

export function presentOrder(o: Order) {
  const cur = o.currency
  return {
    id: o.id,
    userId: o.userId,
    status: o.status,
    lines: o.lines.map((l) => ({
      sku: l.sku,
      productSlug: l.productSlug,
      name: l.name,
      variantName: l.variantName,
      quantity: l.quantity,
      unitPrice: m(l.unitPrice, cur),
      lineTotal: m(l.lineTotal, cur),
    })),
    couponCode: o.couponCode,
    subtotal: m(o.subtotal, cur),
    discount: m(o.discount, cur),
    shipping: m(o.shipping, cur),
    tax: m(o.tax, cur),
    total: m(o.total, cur),
    shippingAddress: o.shippingAddress,
    payment: o.payment
      ? { status: o.payment.status, brand: o.payment.brand, last4: o.payment.last4, amount: m(o.payment.amount, cur) }
      : null,
    failureReason: o.failureReason,
    history: o.history,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  }
}

export function presentRefund(r: Refund) {
  return { ...r, amount: m(r.amount, r.currency) }
}
