// The HTTP server: Fastify with strict validation, sessions, auth, rate limits, OpenAPI and the API routes.

import type { Socket } from 'node:net'
import compress from '@fastify/compress'
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { AnalyticsStore } from '../analytics/analytics-store.ts'
import type { Shop } from '../commerce/shop.ts'
import type { Config } from '../config.ts'
import { RateLimited } from '../core/errors.ts'
import { newEventId } from '../core/ids.ts'
import { AccessLogController, accessLogSerializers } from '../logging/access-log.ts'
import type { ProcessMetrics } from '../metrics/metrics.ts'
import type { AnalyticsTracking } from './analytics-tracking.ts'
import { adminRoutes } from './api/admin-routes.ts'
import { analyticsRoutes } from './api/analytics-routes.ts'
import { authRoutes } from './api/auth-routes.ts'
import { opsRoutes } from './api/ops-routes.ts'
import { shopRoutes } from './api/shop-routes.ts'
import { type ReadinessCheck, systemRoutes } from './api/system-routes.ts'
import { type AssetManifest, buildAssets } from './assets/assets.ts'
import { COMPRESS_THRESHOLD_BYTES, compressBodies } from './encoded-body.ts'
import type { OpsSources } from './observability.ts'
import { accountPages } from './pages/account.tsx'
import { adminPages } from './pages/admin.tsx'
import type { PagesContext } from './pages/context.ts'
import { renderErrorPage } from './pages/render.tsx'
import { seoRoutes } from './pages/seo.ts'
import { storefrontPages } from './pages/storefront.tsx'
import { authPlugin } from './plugins/auth.ts'
import { registerErrorHandling } from './plugins/errors.ts'
import { assertNoOperatorKeys } from './plugins/operator-keys.ts'
import { registerSecurityHeaders } from './plugins/security-headers.ts'
import { Sessions, sessionPlugin } from './plugins/session.ts'
import type { SessionStore } from './session/session-store.ts'

export interface ServerDeps {
  config: Config
  shop: Shop
  sessionStore: SessionStore
  readiness: readonly ReadinessCheck[]
  assets?: AssetManifest
  logger?: FastifyBaseLogger
  /** Records product views, searches and the request context of the shop's analytics hooks. */
  tracking?: AnalyticsTracking
  /** The AnalyticsStore behind /api/v1/analytics; absent: those routes answer 503. */
  analytics?: () => Promise<AnalyticsStore>
  /** What the operators' console reads (log index, channels, queues); absent: /admin/observability answers 503. */
  ops?: OpsSources
  /**
   * The process's Prometheus metrics: every answered request is observed in them. `serve`: /metrics on this app too
   * (when no METRICS_PORT listener serves it).
   */
  metrics?: { metrics: ProcessMetrics; serve: boolean }
}

/** Bodies are validated strictly (no coercion, no silently dropped fields); query strings and params are coerced. */
function validators() {
  const base = { allErrors: true, strict: false, useDefaults: true } as const
  const body = new Ajv({ ...base, coerceTypes: false, removeAdditional: false })
  const query = new Ajv({ ...base, coerceTypes: 'array', removeAdditional: false })
  for (const ajv of [body, query]) {
    addFormats.default(ajv)
  }
  return { body, query }
}

export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
]

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config, shop } = deps
  const app = Fastify({
    ...(deps.logger
      ? { loggerInstance: deps.logger }
      : { logger: { level: config.logLevel, redact: redactPaths, serializers: accessLogSerializers as never } }),
    // One complete access line per request (method, route, status, duration, bytes, client, user agent).
    logController: new AccessLogController(),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    genReqId: () => newEventId(),
    requestIdHeader: false,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  })
  trackUnusedConnections(app)
  const ajv = validators()
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart !== 'body') return ajv.query.compile(schema as object)
    // A missing (or JSON null) body is checked as an empty object, so it gets per-field reasons ("sku: Required") and a
    // body whose fields are all optional (an admin note) may be left out.
    const validate = ajv.body.compile(schema as object)
    const check = (data: unknown) => {
      const ok = validate(data ?? {})
      check.errors = validate.errors
      return ok
    }
    check.errors = validate.errors
    return check
  })

  const assets = deps.assets ?? (await buildAssets())
  const sessions = new Sessions({
    store: deps.sessionStore,
    ttlMs: config.sessionTtlMs,
    cookieSecure: config.cookieSecure,
  })
  const pages: PagesContext = {
    shop,
    sessions,
    config,
    assets,
    ...(deps.tracking ? { tracking: deps.tracking } : {}),
    ...(deps.analytics ? { analytics: deps.analytics } : {}),
    ...(deps.ops ? { ops: deps.ops } : {}),
  }
  registerErrorHandling(app, {
    bodyLimit: config.bodyLimit,
    accountLockSeconds: Math.ceil(config.authAccountWindowMs / 1000),
    renderPage: (req, reply, e) => renderErrorPage(pages, req, reply, e),
  })
  // Callback-style hooks on the hot path: no promise per request.
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
    done(null, payload)
  })
  const metrics = deps.metrics?.metrics
  if (metrics)
    // The route pattern (never the raw URL) keeps the series bounded; elapsedTime is what the access line reports.
    app.addHook('onResponse', (req, reply, done) => {
      metrics.observeRequest(req.method, req.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000)
      done()
    })

  registerSecurityHeaders(app, { hsts: config.cookieSecure !== 'never' })
  // Bodies made in memory are compressed by compressBodies (one call, no stream); @fastify/compress handles streams.
  compressBodies(app)
  await app.register(compress, {
    threshold: COMPRESS_THRESHOLD_BYTES,
    encodings: ['br', 'gzip'],
    brotliOptions: { params: { 1: 4 } },
  })
  await app.register(cookie)
  deps.tracking?.register(app)
  await app.register(sessionPlugin, { sessions })
  await app.register(rateLimit, {
    global: false,
    keyGenerator: (req) => req.ip,
    errorResponseBuilder: (req, context) => {
      req.log.warn({ security: 'rate_limited', route: req.routeOptions.url }, 'rate limit hit')
      return new RateLimited(Math.ceil(context.ttl / 1000))
    },
  })
  await app.register(authPlugin, { accounts: shop.accounts })

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Emporium API',
        version: '1',
        description:
          'REST API of the Emporium shop. Money is `{ amount, currency }` in minor units. Requests authenticated by the ' +
          'session cookie that change state must send the `x-csrf-token` header (from `GET /auth/session`); requests with ' +
          '`Authorization: Bearer <token>` need none. Errors: `{ error: { code, message, fields? } }`.',
      },
      servers: [{ url: '/api/v1' }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'emp_sid' },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
    },
    transform: ({ schema, url }) => ({ schema: schema as never, url: url.replace(/^\/api\/v1/, '') }),
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' }, staticCSP: true })

  const context = {
    shop,
    sessions,
    config,
    ...(deps.tracking ? { tracking: deps.tracking } : {}),
    ...(deps.analytics ? { analytics: deps.analytics } : {}),
    ...(deps.ops ? { ops: deps.ops } : {}),
  }
  await app.register(
    async (api) => {
      // The JSON API takes JSON only: a cross-site HTML form (urlencoded or text/plain) cannot reach it.
      api.removeContentTypeParser(['text/plain'])
      api.addHook('preHandler', (req, _reply, done) => {
        if (req.body === undefined || req.body === null) return done()
        try {
          assertNoOperatorKeys(req.body)
          done()
        } catch (e) {
          done(e as Error)
        }
      })
      await api.register(authRoutes, context)
      await api.register(shopRoutes, context)
      await api.register(adminRoutes, context)
      await api.register(analyticsRoutes, context)
      await api.register(opsRoutes, context)
    },
    { prefix: '/api/v1' },
  )
  await app.register(systemRoutes, {
    checks: deps.readiness,
    ...(deps.metrics?.serve ? { metrics: deps.metrics.metrics } : {}),
  })
  app.get<{ Params: { file: string } }>('/assets/:file', { schema: { hide: true } }, async (req, reply) => {
    const asset = assets.files.get(`/assets/${req.params.file}`)
    if (!asset) return reply.status(404).type('text/plain').send('Not found')
    return reply.type(asset.type).header('cache-control', 'public, max-age=31536000, immutable').send(asset.body)
  })
  await app.register(async (site) => {
    await site.register(formbody, { bodyLimit: 64 * 1024 })
    await site.register(seoRoutes, pages)
    await site.register(storefrontPages, pages)
    await site.register(accountPages, pages)
    await site.register(adminPages, pages)
  })
  return app
}

/** Per server: the connections that have not sent a request yet. */
const unusedConnections = new WeakMap<FastifyInstance, Set<Socket>>()

function trackUnusedConnections(app: FastifyInstance): void {
  const unused = new Set<Socket>()
  unusedConnections.set(app, unused)
  app.server.on('connection', (socket: Socket) => {
    unused.add(socket)
    socket.once('close', () => unused.delete(socket))
  })
  app.server.on('request', (req: { socket: Socket }) => unused.delete(req.socket))
}

/**
 * Stops a server the way a rolling deploy needs. It takes no new connections; idle keep-alive connections and those
 * that never sent a request are cut at once; requests in flight get `graceMs` to finish, then whatever is left is cut.
 * Node counts a connection that has not sent its first request (a browser's or fetch's pre-connect) as active, so
 * without this one such socket held the close until the headers timeout, some 70 s: past a container's stop timeout.
 */
export async function closeServer(app: FastifyInstance, graceMs: number): Promise<void> {
  const closing = app.close()
  const cutUnused = () => {
    // A socket that has sent bytes holds a request Node has not parsed yet: it belongs to the grace period.
    for (const socket of unusedConnections.get(app) ?? []) if (socket.bytesRead === 0) socket.destroy()
  }
  // app.close() runs its preClose hooks first and closes the listener after them; cut once it stopped listening.
  const poll = setInterval(() => {
    if (!app.server.listening) {
      clearInterval(poll)
      cutUnused()
    }
  }, 10)
  const deadline = setTimeout(() => app.server.closeAllConnections(), graceMs)
  try {
    await closing
  } finally {
    clearInterval(poll)
    clearTimeout(deadline)
  }
}
