#!/usr/bin/env node
// The image's HEALTHCHECK: GET /readyz (or the path given) on this process's own listener, the METRICS_PORT one that
// every role serves (else PORT), read through the app's config; exit 0 on a 200 within 4 s, else 1.
import { loadConfig } from '../../dist/config.js'

const path = process.argv[2] ?? '/readyz'
try {
  const config = loadConfig()
  // METRICS_PORT=0 picks a free port the check cannot know: then the HTTP port is asked (web and start serve it).
  const listener =
    config.metrics && config.metrics.port !== 0 ? config.metrics : { host: config.host, port: config.port }
  const wildcard = { '0.0.0.0': '127.0.0.1', '::': '::1' }
  const host = wildcard[listener.host] ?? listener.host
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${listener.port}${path}`
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) })
  if (res.status !== 200) {
    process.stderr.write(`healthcheck: ${url} answered ${res.status}\n`)
    process.exit(1)
  }
  process.exit(0)
} catch (e) {
  process.stderr.write(`healthcheck: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
}
