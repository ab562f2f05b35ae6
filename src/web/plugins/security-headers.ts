// Security headers (CSP without inline scripts, nosniff, frame and referrer policies) computed once with
// `helmet` and set on every response; @fastify/helmet would rebuild them for each request.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import helmet from 'helmet'

export function securityHeaders(options: { hsts: boolean }): Record<string, string> {
  const headers: Record<string, string> = {}
  const res = {
    setHeader: (name: string, value: string | number) => {
      headers[name.toLowerCase()] = String(value)
    },
    removeHeader: () => {},
  }
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        objectSrc: ["'none'"],
      },
    },
    crossOriginEmbedderPolicy: false,
    // With no-referrer, Chromium sends `Origin: null` on same-origin form posts, which the cross-site check refuses.
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    strictTransportSecurity: options.hsts ? { maxAge: 15_552_000 } : false,
  })({} as IncomingMessage, res as unknown as ServerResponse, () => {})
  return headers
}

/** What a JSON answer needs: no sniffing, no framing, no cross-origin reads; a CSP means nothing to JSON. */
const API_HEADERS: readonly (readonly [string, string])[] = [
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['referrer-policy', 'strict-origin-when-cross-origin'],
]

export function registerSecurityHeaders(app: FastifyInstance, options: { hsts: boolean }): void {
  const page = securityHeaders(options)
  const api: Record<string, string> = Object.fromEntries(API_HEADERS)
  if (page['strict-transport-security']) api['strict-transport-security'] = page['strict-transport-security']
  app.addHook('onRequest', (req, reply, done) => {
    reply.headers(req.url.startsWith('/api/') ? api : page)
    done()
  })
}
