// The METRICS_PORT listener every role opens when it is set: /metrics for Prometheus, and /healthz and /readyz (the
// role's readiness checks) for Kubernetes probes. Plain node:http: nothing else is served, nothing else is parsed.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { checkReadiness, type ReadinessCheck } from '../web/api/system-routes.ts'
import type { ProcessMetrics } from './metrics.ts'

export interface MetricsListener {
  /** The port it listens on (the real one when METRICS_PORT was 0). */
  readonly port: number
  readonly host: string
  /** Stops listening and ends idle connections; safe twice. */
  close(): Promise<void>
}

export interface MetricsListenerOptions {
  host: string
  port: number
  metrics: ProcessMetrics
  checks: readonly ReadinessCheck[]
  /** Told when a scrape fails (never the listener itself). */
  onError?: (e: unknown) => void
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

export async function startMetricsListener(o: MetricsListenerOptions): Promise<MetricsListener> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?', 1)[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
      res.end('Method not allowed\n')
      return
    }
    if (path === '/metrics') {
      const text = await o.metrics.text()
      res.writeHead(200, { 'content-type': o.metrics.contentType, 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : text)
      return
    }
    if (path === '/healthz') return json(res, 200, { status: 'ok' })
    if (path === '/readyz') {
      const r = await checkReadiness(o.checks)
      return json(res, r.ok ? 200 : 503, { status: r.ok ? 'ready' : 'unavailable', checks: r.checks })
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
    res.end('Not found: this listener serves /metrics, /healthz and /readyz\n')
  }
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      o.onError?.(e)
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
      res.end('The metrics could not be collected\n')
    })
  })
  // A scrape is small and quick: a stuck client must not hold a socket for long.
  server.requestTimeout = 10_000
  server.headersTimeout = 5_000
  server.keepAliveTimeout = 65_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port, o.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  let closing: Promise<void> | null = null
  return {
    port,
    host: o.host,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
        // A scrape still being answered gets a moment; then its connection goes too.
        setTimeout(() => server.closeAllConnections(), 2000).unref()
      })
      return closing
    },
  }
}
