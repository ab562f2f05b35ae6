// What the web layer tells analytics: who (the session's public id, never its secret) and where (web pages or the
// API), product views and searches, and a request context that the shop's domain hooks (cart, checkout) read while
// they run inside a request. Emitting never waits and never throws into the request.
import { AsyncLocalStorage } from 'node:async_hooks'
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AnalyticsEvent } from '../analytics/events.ts'
import type { TrackingContext } from '../analytics/facts.ts'
import { newEventId } from '../core/ids.ts'
import { analyticsSessionIdOf } from './plugins/session.ts'

export type Channel = 'web' | 'api'

export const channelOf = (req: FastifyRequest): Channel => (req.url.startsWith('/api/') ? 'api' : 'web')

/**
 * The session as analytics sees it: the cookie session's public id; for a Bearer token, a labelled hash of the token
 * (not the hash the token is stored under); a request with neither is a session of its own.
 */
export function analyticsSessionId(req: FastifyRequest): string {
  if (req.sessionState) return analyticsSessionIdOf(req.sessionState)
  const authorization = req.headers.authorization
  if (authorization?.startsWith('Bearer '))
    return `t-${createHash('sha256')
      .update(`analytics-token:${authorization.slice(7).trim()}`)
      .digest('base64url')
      .slice(0, 22)}`
  return `anon-${newEventId()}`
}

/** What a product view records about the product. */
export interface ViewedProduct {
  productId: string
  category: string | null
  /** The lowest variant price, in minor units. */
  price: number
}

/** The fields of a catalog product a view needs (ProductView has them). */
export interface ProductLike {
  id: string
  category: { slug: string } | null
  variants: { price: number }[]
}

export const viewedProduct = (p: ProductLike): ViewedProduct => ({
  productId: p.id,
  category: p.category?.slug ?? null,
  price: p.variants.length > 0 ? Math.min(...p.variants.map((v) => v.price)) : 0,
})

/** Most products remembered by slug for views served from a page or response cache (then forgotten at once). */
const MAX_REMEMBERED = 20_000

export class AnalyticsTracking {
  private readonly requests = new AsyncLocalStorage<FastifyRequest>()
  /** By slug: what a view of a page served from a cache (without reading the product) records. */
  private readonly products = new Map<string, ViewedProduct>()

  constructor(
    private readonly emit: (event: AnalyticsEvent) => void,
    private readonly currency: string,
  ) {}

  /** The session and channel of the request the caller runs in (for domain hooks); undefined outside requests. */
  context(): TrackingContext | undefined {
    const req = this.requests.getStore()
    return req
      ? { sessionId: analyticsSessionId(req), channel: channelOf(req), customerId: req.user?.id ?? null }
      : undefined
  }

  /** Makes the request reachable from the domain hooks of every request that may change state. */
  register(app: FastifyInstance): void {
    app.addHook('onRequest', (req, _reply, done) => {
      // Reads emit nothing from the domain: no context for them (the hot path stays as it was).
      if (req.method === 'GET' || req.method === 'HEAD') return done()
      this.requests.run(req, done)
    })
  }

  /** Notes a product that was read to render its page, for later views served from a cache. */
  rememberProduct(slug: string, product: ProductLike): void {
    if (this.products.size >= MAX_REMEMBERED) this.products.clear()
    this.products.set(slug, viewedProduct(product))
  }

  /**
   * A view of the product at `slug`. When its page came from a cache and the product is not remembered, `load` reads it
   * in the background (the request does not wait); a product that is gone records nothing.
   */
  productViewed(req: FastifyRequest, slug: string, load: () => Promise<ProductLike | null>): void {
    const known = this.products.get(slug)
    if (known) {
      this.recordView(req, known)
      return
    }
    const at = new Date().toISOString()
    load().then(
      (product) => {
        if (!product) return
        this.rememberProduct(slug, product)
        this.recordView(req, viewedProduct(product), at)
      },
      () => undefined,
    )
  }

  private recordView(req: FastifyRequest, product: ViewedProduct, at?: string): void {
    this.record(
      req,
      { type: 'product_view', productId: product.productId, category: product.category, value: product.price },
      at,
    )
  }

  searched(req: FastifyRequest): void {
    this.record(req, { type: 'search' })
  }

  private record(
    req: FastifyRequest,
    fields: Pick<AnalyticsEvent, 'type'> & Partial<Pick<AnalyticsEvent, 'productId' | 'category' | 'value'>>,
    at = new Date().toISOString(),
  ): void {
    try {
      this.emit({
        id: newEventId(),
        at,
        sessionId: analyticsSessionId(req),
        customerId: req.user?.id ?? null,
        currency: this.currency,
        channel: channelOf(req),
        ...fields,
      })
    } catch {
      // The emitter never throws; this guards the request against a future one that would.
    }
  }
}
