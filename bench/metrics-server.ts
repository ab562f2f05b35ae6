// The server of bench/metrics.ts: one process, one runtime, and the two copies of the shop app (with and without the
// Prometheus metrics hook) on two ports, so the process, its heap and its JIT are shared. BENCH_CONTROL=1: an A/A pair.
import { openBenchApps } from './support/metrics-apps.ts'

const apps = await openBenchApps({ control: process.env.BENCH_CONTROL === '1', env: process.env })
const origin = async (app: typeof apps.off) => {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
}
console.log(`listening off=${await origin(apps.off)} on=${await origin(apps.on)}`)

const stop = () => void apps.close().then(() => process.exit(0))
// The bench keeps our stdin open; when it goes away (even killed hard) we go too.
process.stdin.resume()
process.stdin.on('end', stop)
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, stop)
