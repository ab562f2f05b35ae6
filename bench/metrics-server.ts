// The server of bench/metrics.ts: the real shop app (embedded engines, seeded) with or without the Prometheus metrics
// hook, so the two differ in that hook only. BENCH_METRICS=on|off; logs are written (at info) to /dev/null.
import pino from 'pino'
import { loadConfig } from '../src/config.ts'
import { ProcessMetrics } from '../src/metrics/metrics.ts'
import { openRuntime, seedIfEmpty } from '../src/runtime.ts'
import { buildServer, redactPaths } from '../src/web/server.ts'

const withMetrics = process.env.BENCH_METRICS === 'on'
const config = loadConfig()
const logger = pino(
  { level: config.logLevel, redact: redactPaths },
  pino.destination({ dest: '/dev/null', sync: false }),
)
const rt = await openRuntime(config, logger)
await seedIfEmpty(rt, () => {})
const metrics = withMetrics ? new ProcessMetrics({ role: 'web' }) : undefined
const app = await buildServer({
  config,
  shop: rt.shop,
  sessionStore: rt.sessions,
  readiness: rt.readiness,
  logger: rt.logger,
  tracking: rt.tracking,
  analytics: rt.analytics,
  ...(metrics ? { metrics: { metrics, serve: true } } : {}),
})
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
const port = typeof address === 'object' && address ? address.port : 0
console.log(`metrics ${withMetrics ? 'on' : 'off'} listening on http://127.0.0.1:${port}`)

const stop = () =>
  void app
    .close()
    .then(() => rt.close())
    .then(() => process.exit(0))
// The bench keeps our stdin open; when it goes away (even killed hard) we go too.
process.stdin.resume()
process.stdin.on('end', stop)
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, stop)
