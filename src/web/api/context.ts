// What the API routes are given: the shop, the session helper, the configuration and analytics.
import type { AnalyticsStore } from '../../analytics/analytics-store.ts'
import type { Shop } from '../../commerce/shop.ts'
import type { Config } from '../../config.ts'
import type { AnalyticsTracking } from '../analytics-tracking.ts'
import type { OpsSources } from '../observability.ts'
import type { Sessions } from '../plugins/session.ts'

export interface ApiContext {
  shop: Shop
  sessions: Sessions
  config: Config
  /** Product views and searches for analytics; absent: nothing is recorded. */
  tracking?: AnalyticsTracking
  /** The AnalyticsStore, opened on first use; absent: the analytics routes answer 503. */
  analytics?: () => Promise<AnalyticsStore>
  /** What the operators' console reads; absent: it answers 503. */
  ops?: OpsSources
}
