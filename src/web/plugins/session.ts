// Server-side sessions over the SessionStore port: an opaque cookie, stored under its SHA-256, created
// lazily, rotated at sign-in and saved once per request when changed.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { randomSecret } from '../../core/ids.ts'
import type { SessionData, SessionStore } from '../session/session-store.ts'

export const SESSION_COOKIE = 'emp_sid'

interface SessionState {
  secret: string
  data: SessionData
  dirty: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    sessionState: SessionState | null
  }
}

const storeKey = (secret: string): string => createHash('sha256').update(secret).digest('base64url')

/**
 * The session as analytics names it: its public analyticsId, or (for a session made before that was kept) a hash of
 * the secret under a label of its own, which is neither the secret nor the session store's key.
 */
export const analyticsSessionIdOf = (state: { secret: string; data: SessionData }): string =>
  state.data.analyticsId ??
  `h-${createHash('sha256').update(`analytics-session:${state.secret}`).digest('base64url').slice(0, 22)}`

export const sameToken = (a: string, b: string): boolean => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export interface SessionOptions {
  store: SessionStore
  ttlMs: number
  cookieSecure: 'auto' | 'always' | 'never'
}

export class Sessions {
  constructor(private readonly options: SessionOptions) {}

  /** The session of this request, creating it (and its cookie) when there is none. */
  ensure(req: FastifyRequest): SessionState {
    if (req.sessionState) return req.sessionState
    req.sessionState = {
      secret: randomSecret(32),
      data: {
        userId: null,
        csrfToken: randomSecret(24),
        cartId: null,
        createdAt: new Date().toISOString(),
        analyticsId: randomSecret(16),
      },
      dirty: true,
    }
    return req.sessionState
  }

  update(req: FastifyRequest, patch: Partial<SessionData>): SessionState {
    const s = this.ensure(req)
    s.data = { ...s.data, ...patch }
    s.dirty = true
    return s
  }

  /** New id and CSRF token at a privilege change (sign-in), so a planted session id is worthless. */
  async rotate(req: FastifyRequest, patch: Partial<SessionData>): Promise<SessionState> {
    const old = req.sessionState
    if (old) await this.options.store.destroy(storeKey(old.secret))
    req.sessionState = {
      secret: randomSecret(32),
      data: {
        ...(old?.data ?? { cartId: null, createdAt: new Date().toISOString() }),
        userId: null,
        csrfToken: randomSecret(24),
        createdAt: new Date().toISOString(),
        analyticsId: old?.data.analyticsId ?? randomSecret(16),
        ...patch,
      },
      dirty: true,
    }
    return req.sessionState
  }

  async destroy(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (req.sessionState) await this.options.store.destroy(storeKey(req.sessionState.secret))
    req.sessionState = null
    reply.clearCookie(SESSION_COOKIE, { path: '/' })
  }

  destroyOthers(userId: string, req: FastifyRequest): Promise<number> {
    return this.options.store.destroyByUser(userId, req.sessionState ? storeKey(req.sessionState.secret) : undefined)
  }

  async load(req: FastifyRequest): Promise<void> {
    const secret = req.cookies[SESSION_COOKIE]
    if (!secret || secret.length > 100) return
    const data = await this.options.store.get(storeKey(secret))
    if (!data) return
    // Rolling expiry: push it back when a tenth of the lifetime has passed since the last push.
    const touched = Date.parse(data.touchedAt ?? data.createdAt)
    const stale = !(Date.now() - touched < this.options.ttlMs / 10)
    req.sessionState = { secret, data: stale ? { ...data, touchedAt: new Date().toISOString() } : data, dirty: stale }
  }

  async save(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const s = req.sessionState
    if (!s?.dirty) return
    await this.options.store.set(storeKey(s.secret), s.data, this.options.ttlMs)
    s.dirty = false
    const secure =
      this.options.cookieSecure === 'always' || (this.options.cookieSecure === 'auto' && req.protocol === 'https')
    // Written as a header here because @fastify/cookie flushes reply.setCookie() in an onSend hook that ran already.
    reply.header(
      'set-cookie',
      reply.server.serializeCookie(SESSION_COOKIE, s.secret, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure,
        maxAge: Math.floor(this.options.ttlMs / 1000),
      }),
    )
  }
}

export const sessionPlugin = fp<{ sessions: Sessions }>(
  async (app: FastifyInstance, { sessions }) => {
    app.decorateRequest('sessionState', null)
    // Most requests carry no session (crawlers, API clients with tokens): those take no promise at all.
    app.addHook('onRequest', (req, _reply, done) => {
      if (!req.cookies[SESSION_COOKIE]) return done()
      sessions.load(req).then(() => done(), done)
    })
    app.addHook('onSend', (req, reply, payload, done) => {
      if (!req.sessionState?.dirty) return done(null, payload)
      sessions.save(req, reply).then(() => done(null, payload), done)
    })
  },
  { name: 'emporium-session', dependencies: ['@fastify/cookie'] },
)
