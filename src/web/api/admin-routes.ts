// The back-office API (staff and admin): catalog, stock, orders, refunds and user roles.
import type { FastifyInstance } from 'fastify'
import { publicUser } from '../../commerce/accounts.ts'
import type { CategoryInput, ProductInput } from '../../commerce/catalog.ts'
import { Fulfilment } from '../../commerce/fulfilment.ts'
import { type RefundStatus, ROLES, type Role } from '../../commerce/model.ts'
import { NotFound } from '../../core/errors.ts'
import { requirePermission } from '../plugins/auth.ts'
import type { ApiContext } from './context.ts'
import { presentOrder, presentProduct, presentRefund } from './present.ts'
import * as S from './schemas.ts'
import { errors } from './schemas.ts'

const categoryBody = {
  type: 'object',
  required: ['slug', 'name'],
  additionalProperties: false,
  properties: {
    slug: { type: 'string', minLength: 1, maxLength: 60 },
    name: { type: 'string', minLength: 1, maxLength: 80 },
    description: { type: 'string', maxLength: 1000 },
    position: { type: 'integer', minimum: 0, maximum: 10_000 },
  },
} as const

const productBody = {
  type: 'object',
  required: ['name', 'category', 'variants'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    slug: { type: 'string', minLength: 1, maxLength: 80 },
    description: { type: 'string', maxLength: 5000 },
    category: { type: 'string', minLength: 1, maxLength: 60 },
    featured: { type: 'boolean' },
    images: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 200 } },
    variants: {
      type: 'array',
      minItems: 1,
      maxItems: 50,
      items: {
        type: 'object',
        required: ['sku', 'name', 'price'],
        additionalProperties: false,
        properties: {
          sku: { type: 'string', minLength: 1, maxLength: 64 },
          name: { type: 'string', minLength: 1, maxLength: 120 },
          options: {
            type: 'object',
            maxProperties: 10,
            additionalProperties: { type: 'string', maxLength: 80 },
          },
          price: { type: 'integer', minimum: 0, maximum: 100_000_000 },
          stock: { type: 'integer', minimum: 0, maximum: 1_000_000_000 },
        },
      },
    },
  },
} as const

const noteBody = {
  type: 'object',
  additionalProperties: false,
  properties: { note: { type: 'string', maxLength: 1000 } },
} as const

export async function adminRoutes(app: FastifyInstance, { shop }: ApiContext) {
  const currency = shop.settings.currency
  const tags = ['admin']

  app.post<{ Body: CategoryInput }>(
    '/admin/categories',
    { schema: { tags, body: categoryBody, response: { 201: S.category, ...errors(400, 401, 403, 409) } } },
    async (req, reply) => {
      requirePermission(req, 'catalog:write')
      return reply.status(201).send(await shop.catalog.upsertCategory(req.body))
    },
  )

  app.put<{ Params: { slug: string }; Body: CategoryInput }>(
    '/admin/categories/:slug',
    { schema: { tags, body: categoryBody, response: { 200: S.category, ...errors(400, 401, 403, 404, 409) } } },
    async (req) => {
      requirePermission(req, 'catalog:write')
      const existing = await shop.catalog.getCategory(req.params.slug)
      if (!existing) throw new NotFound('Category')
      return shop.catalog.upsertCategory(req.body, existing.id)
    },
  )

  app.delete<{ Params: { slug: string } }>(
    '/admin/categories/:slug',
    { schema: { tags, response: { 204: { type: 'null' }, ...errors(401, 403, 404, 409) } } },
    async (req, reply) => {
      requirePermission(req, 'catalog:write')
      await shop.catalog.deleteCategory(req.params.slug)
      return reply.status(204).send()
    },
  )

  app.post<{ Body: ProductInput }>(
    '/admin/products',
    { schema: { tags, body: productBody, response: { 201: S.product, ...errors(400, 401, 403, 409, 422) } } },
    async (req, reply) => {
      const actor = requirePermission(req, 'catalog:write')
      const p = await shop.catalog.createProduct(req.body)
      req.log.info({ userId: actor.id, productId: p.id, audit: 'product.created' }, 'product created')
      return reply.status(201).send(presentProduct(p, currency))
    },
  )

  app.put<{ Params: { id: string }; Body: ProductInput }>(
    '/admin/products/:id',
    {
      schema: {
        tags,
        params: S.idParam,
        body: productBody,
        response: { 200: S.product, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      const actor = requirePermission(req, 'catalog:write')
      const p = await shop.catalog.updateProduct(req.params.id, req.body)
      req.log.info({ userId: actor.id, productId: p.id, audit: 'product.updated' }, 'product updated')
      return presentProduct(p, currency)
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/admin/products/:id',
    { schema: { tags, params: S.idParam, response: { 204: { type: 'null' }, ...errors(401, 403, 404) } } },
    async (req, reply) => {
      const actor = requirePermission(req, 'catalog:write')
      await shop.catalog.deleteProduct(req.params.id)
      req.log.info({ userId: actor.id, productId: req.params.id, audit: 'product.deleted' }, 'product deleted')
      return reply.status(204).send()
    },
  )

  app.put<{ Params: { sku: string }; Body: { available: number } }>(
    '/admin/inventory/:sku',
    {
      schema: {
        tags,
        summary: 'Set the sellable units of a SKU',
        params: S.skuParam,
        body: {
          type: 'object',
          required: ['available'],
          additionalProperties: false,
          properties: { available: { type: 'integer', minimum: 0, maximum: 1_000_000_000 } },
        },
        response: {
          200: {
            type: 'object',
            properties: { sku: { type: 'string' }, available: { type: 'integer' }, reserved: { type: 'integer' } },
          },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const actor = requirePermission(req, 'catalog:write')
      const inv = await shop.catalog.setStock(req.params.sku, req.body.available)
      req.log.info({ userId: actor.id, sku: inv.sku, available: inv.available, audit: 'stock.set' }, 'stock set')
      return inv
    },
  )

  app.get<{ Querystring: { status?: string; page: number; limit: number } }>(
    '/admin/orders',
    {
      schema: {
        tags,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { status: { type: 'string', maxLength: 32 }, ...S.pagingQuery },
        },
        response: { 200: S.page(S.order), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      requirePermission(req, 'orders:manage')
      const status = Fulfilment.checkStatus(req.query.status)
      const { items, total } = await shop.fulfilment.listOrders(status, req.query.page, req.query.limit)
      return { items: items.map(presentOrder), total, page: req.query.page, limit: req.query.limit }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/admin/orders/:id',
    { schema: { tags, params: S.idParam, response: { 200: S.order, ...errors(401, 403, 404) } } },
    async (req) => {
      requirePermission(req, 'orders:manage')
      return presentOrder(await shop.fulfilment.getOrder(req.params.id))
    },
  )

  for (const action of ['ship', 'deliver', 'cancel'] as const) {
    app.post<{ Params: { id: string }; Body: { note?: string } | undefined }>(
      `/admin/orders/:id/${action}`,
      {
        schema: {
          tags,
          params: S.idParam,
          body: noteBody,
          response: { 200: S.order, ...errors(400, 401, 403, 404, 409) },
        },
      },
      async (req) => {
        const actor = requirePermission(req, 'orders:manage')
        const note = req.body?.note ?? ''
        const order =
          action === 'ship'
            ? await shop.fulfilment.ship(actor, req.params.id, note)
            : action === 'deliver'
              ? await shop.fulfilment.deliver(actor, req.params.id, note)
              : await shop.fulfilment.cancel(actor, req.params.id, note)
        req.log.info({ userId: actor.id, orderId: order.id, audit: `order.${action}` }, `order ${order.status}`)
        return presentOrder(order)
      },
    )
  }

  app.get<{ Querystring: { status?: RefundStatus; page: number; limit: number } }>(
    '/admin/refunds',
    {
      schema: {
        tags,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { status: { type: 'string', enum: ['requested', 'approved', 'rejected'] }, ...S.pagingQuery },
        },
        response: { 200: S.page(S.refund), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      requirePermission(req, 'refunds:decide')
      const { items, total } = await shop.fulfilment.listRefunds(req.query.status, req.query.page, req.query.limit)
      return { items: items.map(presentRefund), total, page: req.query.page, limit: req.query.limit }
    },
  )

  for (const decision of ['approve', 'reject'] as const) {
    app.post<{ Params: { id: string }; Body: { note?: string } | undefined }>(
      `/admin/refunds/:id/${decision}`,
      {
        schema: {
          tags,
          params: S.idParam,
          body: noteBody,
          response: {
            200: { type: 'object', properties: { refund: S.refund, order: S.order } },
            ...errors(400, 401, 403, 404, 409),
          },
        },
      },
      async (req) => {
        const actor = requirePermission(req, 'refunds:decide')
        const note = req.body?.note ?? ''
        const { refund, order } =
          decision === 'approve'
            ? await shop.fulfilment.approveRefund(actor, req.params.id, note)
            : await shop.fulfilment.rejectRefund(actor, req.params.id, note)
        req.log.info({ userId: actor.id, refundId: refund.id, audit: `refund.${decision}` }, `refund ${refund.status}`)
        return { refund: presentRefund(refund), order: presentOrder(order) }
      },
    )
  }

  app.get<{ Querystring: { q?: string; role?: Role; page: number; limit: number } }>(
    '/admin/users',
    {
      schema: {
        tags,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            q: { type: 'string', maxLength: 100 },
            role: { type: 'string', enum: ROLES },
            ...S.pagingQuery,
          },
        },
        response: { 200: S.page(S.user), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      requirePermission(req, 'users:manage')
      const { q, role, page, limit } = req.query
      const { items, total } = await shop.store.listUsers({
        ...(q ? { q } : {}),
        ...(role ? { role } : {}),
        page,
        limit,
      })
      return { items: items.map(publicUser), total, page, limit }
    },
  )

  app.put<{ Params: { id: string }; Body: { role: Role } }>(
    '/admin/users/:id/role',
    {
      schema: {
        tags,
        params: S.idParam,
        body: {
          type: 'object',
          required: ['role'],
          additionalProperties: false,
          properties: { role: { type: 'string', enum: ROLES } },
        },
        response: { 200: S.user, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const actor = requirePermission(req, 'users:manage')
      const updated = await shop.accounts.setRole(actor, req.params.id, req.body.role)
      req.log.info(
        { userId: actor.id, target: updated.id, role: updated.role, audit: 'user.role_changed' },
        'role changed',
      )
      return publicUser(updated)
    },
  )
}
