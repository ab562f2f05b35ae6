// Shop-wide commercial settings (currency, tax, shipping, cart limits), built from Config.
export interface ShopSettings {
  currency: string
  /** Tax on goods after discount, in basis points (825 = 8.25 %). Shipping is not taxed. */
  taxRateBp: number
  shippingFlat: number
  /** Goods after discount at or above this amount ship free. */
  freeShippingThreshold: number
  maxLineQuantity: number
  maxCartLines: number
  /** A pending order older than this is settled by the recovery job. */
  recoverPendingAfterMs: number
}

export const defaultShopSettings = (): ShopSettings => ({
  currency: 'USD',
  taxRateBp: 800,
  shippingFlat: 599,
  freeShippingThreshold: 7500,
  maxLineQuantity: 99,
  maxCartLines: 50,
  recoverPendingAfterMs: 120_000,
})
