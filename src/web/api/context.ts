// What the API routes are given: the shop, the session helper and the configuration.
import type { Shop } from '../../commerce/shop.ts'
import type { Config } from '../../config.ts'
import type { Sessions } from '../plugins/session.ts'

export interface ApiContext {
  shop: Shop
  sessions: Sessions
  config: Config
}
