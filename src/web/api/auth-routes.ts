// /auth and /me: registration, sign-in (rate-limited per client, throttled per account), sessions, tokens.
import type { FastifyInstance } from 'fastify'
import { publicUser } from '../../commerce/accounts.ts'
import { requireUser } from '../plugins/auth.ts'
import type { ApiContext } from './context.ts'
import { errors, idParam, user } from './schemas.ts'

const credentials = {
  type: 'object',
  required: ['email', 'password'],
  additionalProperties: false,
  properties: {
    email: { type: 'string', minLength: 3, maxLength: 254 },
    password: { type: 'string', minLength: 1, maxLength: 256 },
  },
} as const

const sessionReply = {
  type: 'object',
  properties: { user: { ...user, nullable: true }, csrfToken: { type: 'string' } },
} as const

export async function authRoutes(app: FastifyInstance, { shop, sessions, config }: ApiContext) {
  const authLimit = { rateLimit: { max: config.authRateLimit, timeWindow: 60_000 } }

  app.post<{ Body: { email: string; password: string; name: string } }>(
    '/auth/register',
    {
      config: authLimit,
      schema: {
        tags: ['auth'],
        summary: 'Create a customer account and sign in',
        body: {
          ...credentials,
          required: ['email', 'password', 'name'],
          properties: { ...credentials.properties, name: { type: 'string', minLength: 1, maxLength: 100 } },
        },
        response: { 201: sessionReply, ...errors(400, 409, 422, 429) },
      },
    },
    async (req, reply) => {
      const created = await shop.accounts.register(req.body)
      const guestCart = req.sessionState?.data.cartId ?? null
      await shop.carts.mergeGuestCart(guestCart, created.id)
      const s = await sessions.rotate(req, { userId: created.id, cartId: null })
      req.log.info({ userId: created.id, audit: 'user.registered' }, 'account created')
      return reply.status(201).send({ user: publicUser(created), csrfToken: s.data.csrfToken })
    },
  )

  app.post<{ Body: { email: string; password: string } }>(
    '/auth/login',
    {
      config: authLimit,
      schema: {
        tags: ['auth'],
        summary: 'Sign in; the guest cart is merged into the account',
        body: credentials,
        response: { 200: sessionReply, ...errors(400, 401, 429) },
      },
    },
    async (req) => {
      let signedIn: Awaited<ReturnType<typeof shop.accounts.login>>
      try {
        signedIn = await shop.accounts.login(req.body)
      } catch (e) {
        req.log.warn({ security: 'login.failed', code: (e as { code?: string }).code }, 'sign-in refused')
        throw e
      }
      await shop.carts.mergeGuestCart(req.sessionState?.data.cartId ?? null, signedIn.id)
      const s = await sessions.rotate(req, { userId: signedIn.id, cartId: null })
      req.log.info({ userId: signedIn.id, audit: 'user.login' }, 'signed in')
      return { user: publicUser(signedIn), csrfToken: s.data.csrfToken }
    },
  )

  app.post(
    '/auth/logout',
    { schema: { tags: ['auth'], summary: 'Sign out', response: { 204: { type: 'null' } } } },
    async (req, reply) => {
      await sessions.destroy(req, reply)
      return reply.status(204).send()
    },
  )

  app.get(
    '/auth/session',
    {
      schema: {
        tags: ['auth'],
        summary: 'The current user (or null) and the CSRF token to send as x-csrf-token',
        response: { 200: sessionReply },
      },
    },
    async (req) => {
      const s = sessions.ensure(req)
      return { user: req.user ? publicUser(req.user) : null, csrfToken: s.data.csrfToken }
    },
  )

  app.get('/me', { schema: { tags: ['account'], response: { 200: user, ...errors(401) } } }, async (req) =>
    publicUser(requireUser(req)),
  )

  app.put<{ Body: { currentPassword: string; newPassword: string } }>(
    '/me/password',
    {
      config: authLimit,
      schema: {
        tags: ['account'],
        summary: 'Change the password; every other session of the account ends',
        body: {
          type: 'object',
          required: ['currentPassword', 'newPassword'],
          additionalProperties: false,
          properties: {
            currentPassword: { type: 'string', minLength: 1, maxLength: 256 },
            newPassword: { type: 'string', minLength: 1, maxLength: 256 },
          },
        },
        response: { 204: { type: 'null' }, ...errors(400, 401, 422) },
      },
    },
    async (req, reply) => {
      const me = requireUser(req)
      await shop.accounts.changePassword(me.id, req.body.currentPassword, req.body.newPassword)
      await sessions.destroyOthers(me.id, req)
      req.log.info({ userId: me.id, audit: 'user.password_changed' }, 'password changed')
      return reply.status(204).send()
    },
  )

  const token = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      prefix: { type: 'string' },
      createdAt: { type: 'string' },
      revokedAt: { type: 'string', nullable: true },
      secret: { type: 'string' },
    },
  } as const

  app.get(
    '/me/tokens',
    {
      schema: {
        tags: ['account'],
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: token } } } },
      },
    },
    async (req) => ({
      items: await shop.accounts.listApiTokens(requireUser(req).id),
    }),
  )

  app.post<{ Body: { name: string } }>(
    '/me/tokens',
    {
      schema: {
        tags: ['account'],
        summary: 'Create a personal API token; the secret is shown only in this response',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 80 } },
        },
        response: { 201: token, ...errors(400, 401) },
      },
    },
    async (req, reply) => {
      const me = requireUser(req)
      const { token: created, secret } = await shop.accounts.createApiToken(me.id, req.body.name)
      req.log.info({ userId: me.id, tokenId: created.id, audit: 'token.created' }, 'API token created')
      return reply.status(201).send({ ...created, secret })
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/me/tokens/:id',
    { schema: { tags: ['account'], params: idParam, response: { 204: { type: 'null' }, ...errors(401, 404) } } },
    async (req, reply) => {
      const me = requireUser(req)
      await shop.accounts.revokeApiToken(me.id, req.params.id)
      req.log.info({ userId: me.id, tokenId: req.params.id, audit: 'token.revoked' }, 'API token revoked')
      return reply.status(204).send()
    },
  )
}
