// The customer-facing API: catalog, cart, checkout and orders.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CartRef } from '../../commerce/carts.ts'
import type { Address, ProductSort } from '../../commerce/model.ts'
import { PRODUCT_SORTS } from '../../commerce/model.ts'
import { NotFound } from '../../core/errors.ts'
import { EncodedBody, sendEncoded } from '../encoded-body.ts'
import { requireUser } from '../plugins/auth.ts'
import { VersionedCache } from '../versioned-cache.ts'
import type { ApiContext } from './context.ts'
import { presentCart, presentOrder, presentProduct, presentRefund } from './present.ts'
import * as S from './schemas.ts'
import { errors } from './schemas.ts'

export interface ProductListQuery {
  q?: string
  category?: string
  minPrice?: number
  maxPrice?: number
  inStock?: boolean
  sort?: ProductSort
  page: number
  limit: number
}

export const productListQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    q: { type: 'string', maxLength: 200 },
    category: { type: 'string', maxLength: 80, pattern: '^[a-z0-9-]*$' },
    minPrice: { type: 'integer', minimum: 0, maximum: 100_000_000 },
    maxPrice: { type: 'integer', minimum: 0, maximum: 100_000_000 },
    inStock: { type: 'boolean' },
    sort: { type: 'string', enum: PRODUCT_SORTS },
    ...S.pagingQuery,
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 24 },
  },
} as const

export async function shopRoutes(app: FastifyInstance, { shop, sessions, tracking }: ApiContext) {
  const currency = shop.settings.currency
  // Bodies kept as bytes (a hit is written as is: the list's 22 KiB were UTF-8 encoded and measured on every send),
  // with their br and gzip forms made once each.
  const listCache = new VersionedCache<EncodedBody>(8 * 1024 * 1024)
  const productCache = new VersionedCache<EncodedBody>(8 * 1024 * 1024)
  const sendJson = (req: FastifyRequest, reply: FastifyReply, body: EncodedBody) =>
    sendEncoded(req, reply, body, 'application/json; charset=utf-8')

  app.get<{ Querystring: ProductListQuery }>(
    '/products',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Search and browse products (prices in minor units)',
        querystring: productListQuerySchema,
        response: { 200: S.page(S.product), ...errors(400) },
      },
    },
    async (req, reply) => {
      const q = req.query
      if (q.q?.trim() && q.page === 1) tracking?.searched(req)
      const version = await shop.catalog.version()
      const key = JSON.stringify([q.q, q.category, q.minPrice, q.maxPrice, q.inStock, q.sort, q.page, q.limit])
      const cached = listCache.get(version, key)
      if (cached) return sendJson(req, reply, cached)
      const result = await shop.catalog.search({
        ...(q.q ? { q: q.q } : {}),
        ...(q.category ? { category: q.category } : {}),
        ...(q.minPrice !== undefined ? { minPrice: q.minPrice } : {}),
        ...(q.maxPrice !== undefined ? { maxPrice: q.maxPrice } : {}),
        ...(q.inStock !== undefined ? { inStock: q.inStock } : {}),
        sort: q.sort ?? (q.q ? 'relevance' : 'newest'),
        page: q.page,
        limit: q.limit,
      })
      const body = { ...result, items: result.items.map((p) => presentProduct(p, currency)) }
      const json = new EncodedBody(Buffer.from(reply.serialize(body) as string))
      listCache.set(version, key, json)
      return sendJson(req, reply, json)
    },
  )

  app.get<{ Params: { slug: string } }>(
    '/products/:slug',
    {
      schema: {
        tags: ['catalog'],
        params: {
          type: 'object',
          required: ['slug'],
          properties: { slug: { type: 'string', maxLength: 80, pattern: '^[a-z0-9-]+$' } },
        },
        response: { 200: S.product, ...errors(404) },
      },
    },
    async (req, reply) => {
      const slug = req.params.slug
      const version = await shop.catalog.version()
      let json = productCache.get(version, slug)
      if (!json) {
        const p = await shop.catalog.getBySlug(slug)
        if (!p) throw new NotFound('Product')
        tracking?.rememberProduct(slug, p)
        json = new EncodedBody(Buffer.from(reply.serialize(presentProduct(p, currency)) as string))
        productCache.set(version, slug, json)
      }
      tracking?.productViewed(req, slug, () => shop.catalog.getBySlug(slug))
      return sendJson(req, reply, json)
    },
  )

  app.get(
    '/categories',
    {
      schema: {
        tags: ['catalog'],
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: S.category } } } },
      },
    },
    async () => ({
      items: await shop.catalog.listCategories(),
    }),
  )

  // ── Cart ──
  const cartRef = (req: FastifyRequest): CartRef =>
    req.user ? { userId: req.user.id } : { cartId: req.sessionState?.data.cartId ?? null }

  /** A guest's first change creates the session that names the cart. */
  const afterChange = (req: FastifyRequest, cartId: string) => {
    if (!req.user && req.sessionState?.data.cartId !== cartId) sessions.update(req, { cartId })
  }
  const cartReply = { 200: S.cart, ...errors(400, 401, 403, 404, 409, 422) }

  app.get('/cart', { schema: { tags: ['cart'], response: { 200: S.cart } } }, async (req) =>
    presentCart(await shop.carts.view(cartRef(req))),
  )

  app.post<{ Body: { sku: string; quantity: number } }>(
    '/cart/items',
    {
      schema: {
        tags: ['cart'],
        summary: 'Add units of a SKU (prices always come from the catalog)',
        body: {
          type: 'object',
          required: ['sku', 'quantity'],
          additionalProperties: false,
          properties: {
            sku: { type: 'string', minLength: 1, maxLength: 64 },
            quantity: { type: 'integer', minimum: 1, maximum: shop.settings.maxLineQuantity },
          },
        },
        response: cartReply,
      },
    },
    async (req) => {
      const { cart, view } = await shop.carts.addItemAndPrice(cartRef(req), req.body.sku, req.body.quantity)
      afterChange(req, cart.id)
      return presentCart(view)
    },
  )

  app.patch<{ Params: { sku: string }; Body: { quantity: number } }>(
    '/cart/items/:sku',
    {
      schema: {
        tags: ['cart'],
        summary: 'Set the quantity of a line (0 removes it)',
        params: S.skuParam,
        body: {
          type: 'object',
          required: ['quantity'],
          additionalProperties: false,
          properties: { quantity: { type: 'integer', minimum: 0, maximum: shop.settings.maxLineQuantity } },
        },
        response: cartReply,
      },
    },
    async (req) => {
      const cart = await shop.carts.setQuantity(cartRef(req), req.params.sku, req.body.quantity)
      return presentCart(await shop.carts.price(cart))
    },
  )

  app.delete<{ Params: { sku: string } }>(
    '/cart/items/:sku',
    { schema: { tags: ['cart'], params: S.skuParam, response: cartReply } },
    async (req) => presentCart(await shop.carts.price(await shop.carts.removeItem(cartRef(req), req.params.sku))),
  )

  app.post<{ Body: { code: string } }>(
    '/cart/coupon',
    {
      schema: {
        tags: ['cart'],
        body: {
          type: 'object',
          required: ['code'],
          additionalProperties: false,
          properties: { code: { type: 'string', minLength: 1, maxLength: 32 } },
        },
        response: cartReply,
      },
    },
    async (req) => {
      const cart = await shop.carts.applyCoupon(cartRef(req), req.body.code)
      afterChange(req, cart.id)
      return presentCart(await shop.carts.price(cart))
    },
  )

  app.delete('/cart/coupon', { schema: { tags: ['cart'], response: cartReply } }, async (req) => {
    const cart = await shop.carts.removeCoupon(cartRef(req))
    afterChange(req, cart.id)
    return presentCart(await shop.carts.price(cart))
  })

  // ── Checkout and orders ──
  app.post<{ Body: { shippingAddress: Address; paymentToken: string } }>(
    '/checkout',
    {
      schema: {
        tags: ['checkout'],
        summary: 'Place the order for the cart; send an Idempotency-Key header so a retry never charges twice',
        headers: {
          type: 'object',
          properties: {
            'idempotency-key': { type: 'string', minLength: 8, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$' },
          },
        },
        body: {
          type: 'object',
          required: ['shippingAddress', 'paymentToken'],
          additionalProperties: false,
          properties: {
            shippingAddress: {
              type: 'object',
              required: ['name', 'line1', 'city', 'postalCode', 'country'],
              additionalProperties: false,
              properties: {
                name: { type: 'string', minLength: 1, maxLength: 100 },
                line1: { type: 'string', minLength: 1, maxLength: 200 },
                line2: { type: 'string', maxLength: 200 },
                city: { type: 'string', minLength: 1, maxLength: 100 },
                postalCode: { type: 'string', minLength: 2, maxLength: 16 },
                country: { type: 'string', minLength: 2, maxLength: 2 },
              },
            },
            paymentToken: { type: 'string', minLength: 5, maxLength: 68, pattern: '^tok_[A-Za-z0-9_]+$' },
          },
        },
        response: { 201: { type: 'object', properties: { order: S.order } }, ...errors(400, 401, 402, 409, 422, 503) },
      },
    },
    async (req, reply) => {
      const me = requireUser(req)
      const key = req.headers['idempotency-key']
      const { order, replayed } = await shop.checkout.checkout({
        userId: me.id,
        idempotencyKey: typeof key === 'string' ? key : undefined,
        shippingAddress: req.body.shippingAddress,
        paymentToken: req.body.paymentToken,
        channel: 'api',
      })
      if (replayed) reply.header('idempotent-replayed', 'true')
      else req.log.info({ userId: me.id, orderId: order.id, business: 'order.paid' }, 'order paid')
      return reply.status(201).send({ order: presentOrder(order) })
    },
  )

  app.get<{ Querystring: { page: number; limit: number } }>(
    '/orders',
    {
      schema: {
        tags: ['orders'],
        querystring: { type: 'object', additionalProperties: false, properties: S.pagingQuery },
        response: { 200: S.page(S.order), ...errors(401) },
      },
    },
    async (req) => {
      const me = requireUser(req)
      const { items, total } = await shop.fulfilment.listOwnOrders(me.id, req.query.page, req.query.limit)
      return { items: items.map(presentOrder), total, page: req.query.page, limit: req.query.limit }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/orders/:id',
    { schema: { tags: ['orders'], params: S.idParam, response: { 200: S.order, ...errors(401, 404) } } },
    async (req) => presentOrder(await shop.fulfilment.getOwnOrder(requireUser(req).id, req.params.id)),
  )

  app.post<{ Params: { id: string }; Body: { reason: string } }>(
    '/orders/:id/refund-requests',
    {
      schema: {
        tags: ['orders'],
        summary: 'Ask for a refund of a paid, shipped or delivered order',
        params: S.idParam,
        body: {
          type: 'object',
          required: ['reason'],
          additionalProperties: false,
          properties: { reason: { type: 'string', minLength: 1, maxLength: 1000 } },
        },
        response: { 201: S.refund, ...errors(400, 401, 404, 409) },
      },
    },
    async (req, reply) => {
      const me = requireUser(req)
      const refund = await shop.fulfilment.requestRefund(me.id, req.params.id, req.body.reason)
      req.log.info({ userId: me.id, orderId: refund.orderId, audit: 'refund.requested' }, 'refund requested')
      return reply.status(201).send(presentRefund(refund))
    },
  )
}
