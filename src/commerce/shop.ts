// The commerce domain assembled over its ports: what the web layer, the CLI and the jobs call.
import type { Clock } from '../core/clock.ts'
import { type AccountPolicy, Accounts } from './accounts.ts'
import { type CartEvents, Carts } from './carts.ts'
import { Catalog } from './catalog.ts'
import { Checkout, type CheckoutEvents } from './checkout.ts'
import { Fulfilment, type FulfilmentEvents } from './fulfilment.ts'
import type { PasswordHasher } from './passwords.ts'
import type { PaymentGateway } from './payments/payment-gateway.ts'
import type { ShopSettings } from './settings.ts'
import type { CommerceStore } from './store/commerce-store.ts'

export interface ShopDeps {
  store: CommerceStore
  gateway: PaymentGateway
  hasher: PasswordHasher
  clock: Clock
  settings: ShopSettings
  accountPolicy: AccountPolicy
  events?: CheckoutEvents & FulfilmentEvents & CartEvents
}

export interface Shop {
  store: CommerceStore
  gateway: PaymentGateway
  settings: ShopSettings
  clock: Clock
  accounts: Accounts
  catalog: Catalog
  carts: Carts
  checkout: Checkout
  fulfilment: Fulfilment
}

export function createShop(d: ShopDeps): Shop {
  const carts = new Carts(d.store, d.settings, d.clock, d.events)
  return {
    store: d.store,
    gateway: d.gateway,
    settings: d.settings,
    clock: d.clock,
    accounts: new Accounts(d.store, d.hasher, d.clock, d.accountPolicy),
    catalog: new Catalog(d.store, d.clock),
    carts,
    checkout: new Checkout(d.store, d.gateway, carts, d.settings, d.clock, d.events),
    fulfilment: new Fulfilment(d.store, d.gateway, d.clock, d.events),
  }
}
