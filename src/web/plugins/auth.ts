// Who is asking: a Bearer API token or the session's user; CSRF on every state change that rides on the cookie.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { type Accounts, can, type Permission } from '../../commerce/accounts.ts'
import type { User } from '../../commerce/model.ts'
import { AuthRequired, CsrfRejected, Forbidden } from '../../core/errors.ts'
import { sameToken } from './session.ts'

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null
    authMethod: 'token' | 'session' | null
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export const requireUser = (req: FastifyRequest): User => {
  if (!req.user) throw new AuthRequired()
  return req.user
}

export const requirePermission = (req: FastifyRequest, permission: Permission): User => {
  const user = requireUser(req)
  if (!can(user, permission)) throw new Forbidden()
  return user
}

/** The CSRF token a form or header must echo: from the header, or the `_csrf` field of a form body. */
const presentedCsrf = (req: FastifyRequest): string | undefined => {
  const header = req.headers['x-csrf-token']
  if (typeof header === 'string') return header
  const body = req.body as { _csrf?: unknown } | undefined
  return typeof body?._csrf === 'string' ? body._csrf : undefined
}

/**
 * Without a session there is no token to check, but a browser still tells where a request comes from: another
 * site's form must not sign a visitor in to an account of the attacker's (login CSRF).
 */
const isCrossSite = (req: FastifyRequest): boolean => {
  if (req.headers['sec-fetch-site'] === 'cross-site') return true
  const origin = req.headers.origin
  if (!origin) return false
  if (origin === 'null') return true
  try {
    return new URL(origin).host !== req.host
  } catch {
    return true
  }
}

export const authPlugin = fp<{ accounts: Accounts }>(
  async (app: FastifyInstance, { accounts }) => {
    app.decorateRequest('user', null)
    app.decorateRequest('authMethod', null)
    const authenticate = async (req: FastifyRequest): Promise<void> => {
      const authorization = req.headers.authorization
      if (authorization?.startsWith('Bearer ')) {
        req.user = await accounts.authenticateApiToken(authorization.slice(7).trim())
        req.authMethod = 'token'
        return
      }
      const session = req.sessionState
      if (!session && !SAFE_METHODS.has(req.method) && isCrossSite(req)) throw new CsrfRejected()
      if (session && !SAFE_METHODS.has(req.method)) {
        const token = presentedCsrf(req)
        if (!token || !sameToken(token, session.data.csrfToken)) throw new CsrfRejected()
      }
      if (session?.data.userId) {
        req.user = await accounts.getUser(session.data.userId)
        req.authMethod = req.user ? 'session' : null
      }
    }
    app.addHook('preValidation', (req, _reply, done) => {
      // An anonymous safe request (most catalog traffic) has nothing to check: no promise for it.
      if (!req.headers.authorization && !req.sessionState && SAFE_METHODS.has(req.method)) return done()
      authenticate(req).then(() => done(), done)
    })
  },
  { name: 'emporium-auth', dependencies: ['emporium-session'] },
)
