#!/usr/bin/env node
// The `emporium` command: dispatches to start, seed, migrate, doctor, analytics and kibana.
import { parseArgs } from 'node:util'
import { ANALYTICS_HELP, formatQueryResult, formatRawResult, parseAnalyticsArgs } from './analytics/commands.ts'
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config.ts'
import { isEmporiumError } from './core/errors.ts'
import { KIBANA_HELP, kibanaCommand } from './dashboards/kibana-import.ts'
import {
  DUCKDB_LOCKED,
  ensureAdmin,
  openAnalyticsStore,
  openRuntime,
  seedIfEmpty,
  startAll,
  startPipeline,
  startWeb,
  startWorker,
} from './runtime.ts'
import { checkReadiness } from './web/api/system-routes.ts'

const HELP = `Emporium — an open-source e-commerce platform

Usage: emporium <command> [options]

Commands:
  start     Run every role (web, jobs) in one process; seeds the demo shop on first start
  web       HTTP only (distributed mode: needs REDIS_URL; run any number behind a load balancer)
  worker    Queue consumers only: log routing, analytics projection, checkout recovery, session pruning (needs REDIS_URL)
  pipeline  The log processor: log channels → transforms → the log index (distributed mode: needs REDIS_URL)
  seed      Seed the demo shop into an empty store (and its past orders into analytics)
  migrate   Create or update tables and indexes of every configured engine
  doctor    Show which adapter each port uses and whether its engine answers
  analytics query --measure revenue --by day --from 2026-08-01 --to 2026-11-01 [--filter country=US] [--format csv]
            Sales and behaviour measures by dimensions (emporium analytics --help for every option)
  analytics raw "<statement>"   One read-only statement on the analytics store
  analytics backfill            Project every order already in the commerce store into analytics
  kibana import --url http://localhost:5601 [--space <id>]
            Import the data view and dashboards into Kibana or OpenSearch Dashboards (emporium kibana --help)

Options:
  -h, --help    Show this help (also: emporium <command> --help)

Configuration is read from the environment:
${CONFIG_VARIABLES.map((v) => `  ${v.name.padEnd(26)} ${v.meaning} (default ${v.default})`).join('\n')}
`

const COMMAND_HELP: Record<string, string> = {
  start:
    'emporium start\n  Serves the shop on HOST:PORT with the embedded engines under DATA_DIR, seeding it when empty.',
  web: 'emporium web\n  Serves HTTP only. Needs REDIS_URL (sessions and queue) and usually MONGODB_URL; stateless, so run several.',
  worker:
    'emporium worker\n  Runs the background jobs (checkout recovery, session pruning) from the Redis queue. Needs REDIS_URL.',
  pipeline:
    'emporium pipeline\n  Reads the Redis log channels as a consumer group, transforms and indexes them (PIPELINE_CONFIG, OPENSEARCH_URL).',
  seed: 'emporium seed\n  Adds the demo catalog, customers, coupons and 90 days of past orders to an empty store.',
  migrate: 'emporium migrate\n  Creates or updates the tables and indexes of every configured engine. Safe to re-run.',
  doctor: 'emporium doctor\n  Prints each port, its adapter and whether its engine answers; exits 1 if one does not.',
  analytics: ANALYTICS_HELP.trimEnd(),
  kibana: KIBANA_HELP.trimEnd(),
}

/** `emporium analytics …`: queries print a table or CSV; refusals print their reasons per field and exit 1. */
async function analyticsCommand(argv: string[]): Promise<number> {
  const parsed = parseAnalyticsArgs(argv)
  if (parsed.command === 'help') {
    process.stdout.write(ANALYTICS_HELP)
    return 0
  }
  const config = loadConfig()
  if (parsed.command === 'backfill') {
    const rt = await openRuntime(config)
    try {
      const started = performance.now()
      const tty = process.stderr.isTTY
      const r = await rt.projector.backfill({
        onPage: (done, total) => (tty ? process.stderr.write(`  orders ${done}/${total}\r`) : undefined),
      })
      if (tty) process.stderr.write('\n')
      console.log(
        `Projected ${r.orders} orders into analytics (${config.analytics.kind}) in ${Math.round(performance.now() - started)} ms: ${r.events} events, ${r.orderLines} order lines, ${r.refundLines} refund lines over ${r.days} days.`,
      )
      return 0
    } finally {
      await rt.close()
    }
  }
  const store = await openAnalyticsStore(config)
  try {
    if (parsed.command === 'query')
      process.stdout.write(formatQueryResult(await store.query(parsed.query), parsed.format))
    else process.stdout.write(formatRawResult(await store.raw(parsed.raw), parsed.format))
    return 0
  } finally {
    await store.close()
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'analytics') return analyticsCommand(argv.slice(1))
  if (argv[0] === 'kibana')
    return kibanaCommand(argv.slice(1), {
      auth: () => loadConfig().kibana.auth,
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    })
  const { values, positionals } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  })
  const [command, ...rest] = positionals
  if (!command) {
    process.stdout.write(HELP)
    return values.help ? 0 : 1
  }
  if (values.help) {
    const text = COMMAND_HELP[command]
    process.stdout.write(text ? `${text}\n` : HELP)
    return text ? 0 : 1
  }
  if (rest.length > 0) {
    process.stderr.write(`emporium ${command}: unexpected argument ${rest[0]}\n`)
    return 1
  }
  const config = loadConfig()
  switch (command) {
    case 'start':
    case 'web':
    case 'worker':
    case 'pipeline': {
      const role = { start: startAll, web: startWeb, worker: startWorker, pipeline: startPipeline }[command]
      const started = await role(config)
      let stopping = false
      const shutdown = async (signal: string) => {
        if (stopping) return
        stopping = true
        started.rt.logger.info({ signal, role: command }, 'shutting down')
        await started.stop()
        process.exit(0)
      }
      process.on('SIGINT', () => void shutdown('SIGINT'))
      process.on('SIGTERM', () => void shutdown('SIGTERM'))
      return -1
    }
    case 'seed': {
      const rt = await openRuntime(config)
      try {
        await ensureAdmin(rt, console.log)
        const report = await seedIfEmpty(rt, console.log)
        if (!report) console.log('The store already has products; nothing was seeded.')
      } finally {
        await rt.close()
      }
      return 0
    }
    case 'migrate': {
      const rt = await openRuntime(config)
      try {
        const analytics = await rt.analytics()
        // Opening the log index creates its tables, or the search engine's index template and data streams' settings.
        const logIndex = await rt.logIndex()
        console.log(
          `Migrated: commerce store (${rt.store.kind}), session store (${rt.sessions.kind}), job queue (${rt.jobs.kind}), analytics store (${analytics.kind}), log index (${logIndex.kind}).`,
        )
      } finally {
        await rt.close()
      }
      return 0
    }
    case 'doctor': {
      const rt = await openRuntime(config)
      try {
        const report = await checkReadiness(rt.readiness)
        console.log(`DATA_DIR ${config.dataDir}`)
        let ok = true
        for (const c of report.checks) {
          // DuckDB is one process's file: held by the running shop, it answers there (its API), not here.
          const busy = !c.ok && c.name === 'analytics-store' && c.error?.includes(DUCKDB_LOCKED)
          if (!c.ok && !busy) ok = false
          console.log(
            `${c.ok ? 'ok  ' : busy ? 'busy' : 'FAIL'}  ${c.name.padEnd(16)} ${c.kind.padEnd(9)} ${c.ok ? `${c.latencyMs} ms` : c.error}`,
          )
        }
        if (config.analytics.kind === 'cassandra') console.log(`analytics keyspace ${config.analytics.keyspace}`)
        return ok ? 0 : 1
      } finally {
        await rt.close()
      }
    }
    default:
      process.stderr.write(`emporium: unknown command ${command}\n\n${HELP}`)
      return 1
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (err) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`emporium: bad configuration: ${err.message}\n`)
      process.exit(2)
    }
    if (isEmporiumError(err) && err.statusCode < 500) {
      const fields = Object.entries(err.fields ?? {}).map(([f, r]) => `\n  ${f}: ${r}`)
      process.stderr.write(`emporium: ${err.message} (${err.code})${fields.join('')}\n`)
      process.exit(1)
    }
    if (isEmporiumError(err)) {
      process.stderr.write(`emporium: ${err.message}\n`)
      process.exit(1)
    }
    if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`emporium: ${err.message}\n\n${HELP}`)
      process.exit(1)
    }
    process.stderr.write(`emporium: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  },
)
