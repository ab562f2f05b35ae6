// Load generation with autocannon: each connection loops over its own steps, and latency and statuses are kept
// per kind of step (e.g. add-to-cart apart from checkout), which autocannon alone does not do.
import { createRequire } from 'node:module'
import autocannon from 'autocannon'

/**
 * autocannon decodes every response body into a string (\`body += chunk\`), read or not. With the product list's
 * 22 KiB bodies that made the load generator, not the shop, the bottleneck on 2 cores (the shop's main thread was a
 * third idle). A request marked BODY_UNREAD keeps its body only when the status is not 2xx (for the error samples).
 */
const BODY_UNREAD = Symbol('emporium.bench.bodyUnread')
interface Pending {
  req?: { [BODY_UNREAD]?: boolean }
  headers?: { statusCode?: number }
}
const PipelinedRequestsQueue = createRequire(import.meta.url)('autocannon/lib/pipelinedRequestsQueue.js') as {
  prototype: { peek(): Pending | undefined; addBody(data: Buffer): void }
}
const keepBody = PipelinedRequestsQueue.prototype.addBody
PipelinedRequestsQueue.prototype.addBody = function (data: Buffer) {
  const pending = this.peek()
  const status = pending?.headers?.statusCode
  if (pending?.req?.[BODY_UNREAD] && status !== undefined && status >= 200 && status < 300) return
  keepBody.call(this, data)
}

export interface Step {
  /** Groups latencies and statuses, e.g. 'add-to-cart' or 'checkout'. */
  kind: string
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** Called just before each send. */
  next(): { path: string; headers?: Record<string, string>; body?: string }
  /** Sees every response of this step. */
  onResponse?(status: number, body: string): void
}

export interface KindStats {
  sent: number
  responses: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
  statuses: Record<string, number>
  /** The first few distinct non-2xx answers, to tell why. */
  sampleErrors: string[]
}

export interface LoadResult {
  connections: number
  durationS: number
  responses: number
  reqPerS: number
  p50Ms: number
  p99Ms: number
  non2xx: number
  /** Connection errors and timeouts, as autocannon counts them. */
  errors: number
  timeouts: number
  kinds: Record<string, KindStats>
}

export interface LoadOptions {
  origin: string
  connections: number
  durationS: number
  /** The steps connection number `connection` (0, 1, …) sends in a loop. */
  stepsFor(connection: number): Step[]
}

/** Nearest-rank percentile of an ascending array. */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0)

interface KindState {
  sent: number
  latencies: number[]
  statuses: Map<number, number>
  sampleErrors: Set<string>
}

export function runLoad(o: LoadOptions): Promise<LoadResult> {
  const kinds = new Map<string, KindState>()
  const kindState = (kind: string): KindState => {
    let s = kinds.get(kind)
    if (!s) {
      s = { sent: 0, latencies: [], statuses: new Map(), sampleErrors: new Set() }
      kinds.set(kind, s)
    }
    return s
  }
  // With pipelining 1 a connection has one request in flight: the one it built last.
  const inFlight = new Map<autocannon.Client, string>()
  let nextConnection = 0

  const setupClient = (client: autocannon.Client) => {
    const steps = o.stepsFor(nextConnection++)
    client.setRequests(
      steps.map((step): autocannon.Request & Pending['req'] => ({
        [BODY_UNREAD]: !step.onResponse,
        method: step.method,
        setupRequest: (req) => {
          const { path, headers, body } = step.next()
          inFlight.set(client, step.kind)
          kindState(step.kind).sent++
          return {
            ...req,
            path,
            headers: { ...req.headers, ...headers },
            ...(body !== undefined ? { body } : {}),
          }
        },
        onResponse: (status, body) => {
          const s = kindState(step.kind)
          s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1)
          if ((status < 200 || status > 299) && s.sampleErrors.size < 3)
            s.sampleErrors.add(`${status} ${body.slice(0, 240)}`)
          step.onResponse?.(status, body)
        },
      })),
    )
  }

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: o.origin, connections: o.connections, duration: o.durationS, pipelining: 1, timeout: 10, setupClient },
      (err, result) => {
        if (err) return reject(err)
        try {
          resolve(summarize(o.connections, result, kinds))
        } catch (e) {
          reject(e)
        }
      },
    )
    instance.on('response', (client, _status, _bytes, responseTimeMs) => {
      kindState(inFlight.get(client) ?? 'unknown').latencies.push(responseTimeMs)
    })
  })
}

function summarize(connections: number, result: autocannon.Result, kinds: Map<string, KindState>): LoadResult {
  let all: number[] = []
  const byKind: Record<string, KindStats> = {}
  for (const [kind, s] of kinds) {
    s.latencies.sort((a, b) => a - b)
    all = all.concat(s.latencies)
    byKind[kind] = {
      sent: s.sent,
      responses: s.latencies.length,
      p50Ms: percentile(s.latencies, 50),
      p90Ms: percentile(s.latencies, 90),
      p99Ms: percentile(s.latencies, 99),
      maxMs: s.latencies.at(-1) ?? Number.NaN,
      statuses: Object.fromEntries([...s.statuses].map(([code, n]) => [String(code), n])),
      sampleErrors: [...s.sampleErrors],
    }
  }
  all.sort((a, b) => a - b)
  return {
    connections,
    durationS: result.duration,
    responses: all.length,
    reqPerS: all.length / result.duration,
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    kinds: byKind,
  }
}
