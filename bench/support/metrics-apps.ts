// Two copies of the real shop app over one runtime (embedded engines, seeded), the same but for the Prometheus
// metrics hook: the A/B pair of bench/metrics.ts. `control` leaves the hook out of both (an A/A pair).
import pino from 'pino'
import { loadConfig } from '../../src/config.ts'
import { ProcessMetrics } from '../../src/metrics/metrics.ts'
import { openRuntime, seedIfEmpty } from '../../src/runtime.ts'
import { buildServer, redactPaths } from '../../src/web/server.ts'

export type BenchApp = Awaited<ReturnType<typeof buildServer>>

export async function openBenchApps(o: { control: boolean; env: Record<string, string | undefined> }) {
  const config = loadConfig(o.env)
  // Access lines are formatted as in production, and written to /dev/null.
  const logger = pino(
    { level: config.logLevel, redact: redactPaths },
    pino.destination({ dest: '/dev/null', sync: false }),
  )
  const rt = await openRuntime(config, logger)
  await seedIfEmpty(rt, () => {})
  const build = (withMetrics: boolean) => {
    const metrics = withMetrics ? new ProcessMetrics({ role: 'web' }) : undefined
    return buildServer({
      config,
      shop: rt.shop,
      sessionStore: rt.sessions,
      readiness: rt.readiness,
      logger: rt.logger,
      tracking: rt.tracking,
      analytics: rt.analytics,
      ...(metrics ? { metrics: { metrics, serve: true } } : {}),
    })
  }
  const off = await build(false)
  const on = await build(!o.control)
  return {
    off,
    on,
    async close() {
      await Promise.all([off.close(), on.close()])
      await rt.close()
    },
  }
}
