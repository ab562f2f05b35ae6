// `npx tsx bench/metrics.ts`: what the Prometheus metrics hook costs a request. Two copies of the real shop app in one
// server process (bench/metrics-server.ts), the same but for the onResponse hook that observes
// emporium_http_request_duration_seconds, are loaded one at a time in alternating rounds (so drift on a noisy machine
// hits both), on a cached API route and on /healthz; each round gives req/s and the server's CPU time per request
// (from /proc, steadier than req/s when other work shares the cores); plus the observation alone in a loop. --control
// runs the same with the hook in neither copy, to show the noise floor of this machine. Prints figures and ratios from
// this one run; never fails on timing.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ProcessMetrics } from '../src/metrics/metrics.ts'
import { runLoad } from './support/load.ts'
import { cpuSecondsOf, killAllNow, type ServerProcess, startServer } from './support/server-process.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const HELP = `npx tsx bench/metrics.ts [--duration S] [--rounds N] [--connections N] [--control]

  --duration S      seconds each measurement lasts (default 5), after a 1 s warm-up
  --rounds N        rounds; each measures both servers on both routes, alternating which goes first (default 3)
  --connections N   concurrent connections (default 20)
  --control         A/A run: the "on" copy runs without the hook too, so the ratios show the noise floor
`
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '20' },
    control: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  process.stdout.write(HELP)
  process.exit(0)
}
const durationS = Number(values.duration)
const rounds = Number(values.rounds)
const connections = Number(values.connections)

const ROUTES = { products: '/api/v1/products?limit=24', healthz: '/healthz' } as const
type Route = keyof typeof ROUTES
type Variant = 'off' | 'on'

/** The observation alone: ns per call, over a realistic spread of series. */
function observeLoop(): number {
  const m = new ProcessMetrics({ role: 'web' })
  const routes = ['/api/v1/products', '/api/v1/products/:slug', '/api/v1/cart', '/healthz', '/products/:slug']
  const n = 2_000_000
  for (let i = 0; i < 200_000; i++) m.observeRequest('GET', routes[i % 5], 200, 0.0012)
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i++) m.observeRequest('GET', routes[i % 5], i % 50 === 0 ? 404 : 200, (i % 97) / 10_000)
  return Number(process.hrtime.bigint() - started) / n
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

async function main() {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'emporium-bench-metrics-'))
  let server: ServerProcess | undefined
  try {
    server = await startServer({
      name: 'metrics-server',
      args: ['--import', 'tsx', 'bench/metrics-server.ts'],
      cwd: ROOT,
      env: {
        BENCH_CONTROL: values.control ? '1' : '0',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        LOG_SHIP: 'false',
        NODE_ENV: 'production',
        ARGON2_MEMORY_KIB: '1024',
        ARGON2_TIME_COST: '1',
      },
      ready: /^listening (off=\S+ on=\S+)$/,
      timeoutMs: 180_000,
    })
    const origins = Object.fromEntries(
      server.origin.split(' ').map((kv) => kv.split('=') as [Variant, string]),
    ) as Record<Variant, string>
    const pid = server.pid
    const results: Record<
      Route,
      Record<Variant, { reqPerS: number; cpuUsPerReq: number; p50Ms: number; p99Ms: number }[]>
    > = {
      products: { off: [], on: [] },
      healthz: { off: [], on: [] },
    }
    for (let round = 0; round < rounds; round++) {
      const order: Variant[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off']
      for (const route of Object.keys(ROUTES) as Route[])
        for (const variant of order) {
          const origin = origins[variant]
          const steps = () => [{ kind: route, method: 'GET' as const, next: () => ({ path: ROUTES[route] }) }]
          await runLoad({ origin, connections, durationS: 1, stepsFor: steps })
          const cpuBefore = cpuSecondsOf(pid)
          const r = await runLoad({ origin, connections, durationS, stepsFor: steps })
          const cpuUsPerReq = ((cpuSecondsOf(pid) - cpuBefore) * 1e6) / r.responses
          if (r.non2xx > 0 || r.errors > 0)
            throw new Error(`${variant} ${route}: ${r.non2xx} non-2xx, ${r.errors} errors`)
          results[route][variant].push({ reqPerS: r.reqPerS, cpuUsPerReq, p50Ms: r.p50Ms, p99Ms: r.p99Ms })
          console.log(
            `round ${round + 1} ${route.padEnd(8)} metrics ${variant.padEnd(3)} ${fmt(r.reqPerS).padStart(7)} req/s  ${fmt(cpuUsPerReq, 1).padStart(6)} µs CPU/req  p50 ${fmt(r.p50Ms, 2)} ms  p99 ${fmt(r.p99Ms, 2)} ms`,
          )
        }
    }
    await server.stop()
    const ns = observeLoop()
    const cpus = os.cpus()
    console.log(
      `\nmachine: ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, Node ${process.versions.node}, ${connections} connections, ${rounds} rounds of ${durationS} s${values.control ? '; CONTROL RUN: neither server has the hook' : ''}`,
    )
    for (const route of Object.keys(ROUTES) as Route[]) {
      const off = median(results[route].off.map((r) => r.reqPerS))
      const on = median(results[route].on.map((r) => r.reqPerS))
      const perRound = results[route].on.map((r, i) => r.reqPerS / (results[route].off[i]?.reqPerS ?? Number.NaN))
      console.log(
        `GET ${ROUTES[route].padEnd(26)} without hook ${fmt(off).padStart(7)} req/s, with hook ${fmt(on).padStart(7)} req/s: ratio ${fmt(on / off, 3)} (per round ${perRound.map((x) => fmt(x, 3)).join(', ')})`,
      )
      const offUs = median(results[route].off.map((r) => r.cpuUsPerReq))
      const onUs = median(results[route].on.map((r) => r.cpuUsPerReq))
      const cpuPerRound = results[route].on.map(
        (r, i) => r.cpuUsPerReq / (results[route].off[i]?.cpuUsPerReq ?? Number.NaN),
      )
      console.log(
        `    server CPU per request: without hook ${fmt(offUs, 1)} µs, with hook ${fmt(onUs, 1)} µs: ratio ${fmt(onUs / offUs, 3)} (per round ${cpuPerRound.map((x) => fmt(x, 3)).join(', ')})`,
      )
    }
    console.log(`observeRequest alone: ${fmt(ns, 0)} ns per call (2,000,000 calls over 5 routes × 2 statuses)`)
  } finally {
    await server?.stop()
    rmSync(dataDir, { recursive: true, force: true })
    killAllNow()
  }
}

await main()
