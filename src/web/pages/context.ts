// What every page handler is given: the shop, the asset paths and per-request helpers.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AnalyticsStore } from '../../analytics/analytics-store.ts'
import type { Shop } from '../../commerce/shop.ts'
import type { Config } from '../../config.ts'
import type { AnalyticsTracking } from '../analytics-tracking.ts'
import type { AssetManifest } from '../assets/assets.ts'
import type { OpsSources } from '../observability.ts'
import type { Sessions } from '../plugins/session.ts'

export interface PagesContext {
  shop: Shop
  sessions: Sessions
  config: Config
  assets: AssetManifest
  /** Product views and searches for analytics; absent: nothing is recorded. */
  tracking?: AnalyticsTracking
  /** The AnalyticsStore behind /admin/analytics, opened on first use; absent: that page says it is unavailable. */
  analytics?: () => Promise<AnalyticsStore>
  /** What the operators' console reads; absent: it answers 503. */
  ops?: OpsSources
}

export type Flash = { kind: 'info' | 'error'; text: string }

/** The per-request view state shared by the layout: who is signed in, the cart badge, the CSRF token, messages. */
export interface ViewState {
  user: { name: string; role: string } | null
  cartCount: number
  csrf: string
  flash: Flash[]
  path: string
  origin: string
  assets: AssetManifest['paths']
  categories: { slug: string; name: string }[]
}

export type Req = FastifyRequest
export type Reply = FastifyReply
