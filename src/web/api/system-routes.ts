// Liveness, readiness (every port's engine), /metrics (when no METRICS_PORT listener serves it) and the generated
// product images.
import type { FastifyInstance } from 'fastify'
import type { ProcessMetrics } from '../../metrics/metrics.ts'
import { productPlaceholderSvg } from '../images.ts'

export interface ReadinessCheck {
  name: string
  kind: string
  ping: () => Promise<void>
}

export async function checkReadiness(checks: readonly ReadinessCheck[], timeoutMs = 2000) {
  const results = await Promise.all(
    checks.map(async (c) => {
      const started = performance.now()
      try {
        await Promise.race([
          c.ping(),
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref(),
          ),
        ])
        return { name: c.name, kind: c.kind, ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 }
      } catch (e) {
        return { name: c.name, kind: c.kind, ok: false, error: (e as Error).message }
      }
    }),
  )
  return { ok: results.every((r) => r.ok), checks: results }
}

export async function systemRoutes(
  app: FastifyInstance,
  { checks, metrics }: { checks: readonly ReadinessCheck[]; metrics?: ProcessMetrics },
) {
  app.get('/healthz', { logLevel: 'warn', schema: { hide: true } }, async () => ({ status: 'ok' }))

  if (metrics)
    app.get('/metrics', { logLevel: 'warn', schema: { hide: true } }, async (_req, reply) => {
      const text = await metrics.text()
      return reply.type(metrics.contentType).header('cache-control', 'no-store').send(text)
    })

  app.get('/readyz', { logLevel: 'warn', schema: { hide: true } }, async (_req, reply) => {
    const r = await checkReadiness(checks)
    return reply.status(r.ok ? 200 : 503).send({ status: r.ok ? 'ready' : 'unavailable', checks: r.checks })
  })

  app.get<{ Params: { file: string } }>('/images/products/:file', { schema: { hide: true } }, async (req, reply) => {
    const m = /^([a-z0-9-]{1,80})-(\d)\.svg$/.exec(req.params.file)
    if (!m) return reply.status(404).type('text/plain').send('Not found')
    return reply
      .type('image/svg+xml')
      .header('cache-control', 'public, max-age=86400, immutable')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(productPlaceholderSvg(m[1] as string, Number(m[2])))
  })
}
