// The composition root: builds every adapter from Config, assembles the shop and starts or stops its roles.
// The adapters of distributed engines are imported only when configured: their drivers (MongoDB, ioredis, BullMQ,
// OpenSearch, Cassandra) would add some 70 MB to an embedded process that never talks to them.
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'
import type { AnalyticsStore } from './analytics/analytics-store.ts'
import { AnalyticsEmitter } from './analytics/emitter.ts'
import {
  ANALYTICS_QUEUE,
  AnalyticsProjector,
  BACKFILL_JOB,
  PROJECT_EVENTS_JOB,
  ROLLUP_JOB,
} from './analytics/projector.ts'
import { shopAnalyticsEvents } from './analytics/shop-events.ts'
import { createArgon2Hasher, type PasswordHasher } from './commerce/passwords.ts'
import type { PaymentGateway } from './commerce/payments/payment-gateway.ts'
import { TestPaymentGateway } from './commerce/payments/test-gateway.ts'
import { type SeedReport, seedDemoShop } from './commerce/seed/seed.ts'
import { defaultShopSettings, type ShopSettings } from './commerce/settings.ts'
import { createShop, type Shop } from './commerce/shop.ts'
import type { CommerceStore } from './commerce/store/commerce-store.ts'
import { openSqliteCommerceStore } from './commerce/store/sqlite/sqlite-commerce-store.ts'
import { type Config, ConfigError } from './config.ts'
import { systemClock } from './core/clock.ts'
import { EngineUnavailable, isEmporiumError } from './core/errors.ts'
import { randomSecret } from './core/ids.ts'
import type { JobQueue } from './jobs/job-queue.ts'
import { openMemoryJobQueue } from './jobs/memory/memory-job-queue.ts'
import type { LogIndex } from './log-index/log-index.ts'
import { openSqliteLogIndex } from './log-index/sqlite/sqlite-log-index.ts'
import { LOG_CATEGORIES } from './logging/ecs.ts'
import { createAppLogger } from './logging/logger.ts'
import { enqueueLogBatch, LOGS_QUEUE, ROUTE_LOGS_JOB, routeLogsHandler } from './logging/route-logs.ts'
import type { LogShipper } from './logging/shipper.ts'
import { type MetricsRole, ProcessMetrics } from './metrics/metrics.ts'
import { type MetricsListener, startMetricsListener } from './metrics/metrics-listener.ts'
import type { LogChannels } from './pipeline/channels/log-channels.ts'
import { channelOf } from './pipeline/channels/log-channels.ts'
import { openMemoryLogChannels } from './pipeline/channels/memory/memory-log-channels.ts'
import { newMetrics } from './pipeline/component.ts'
import { buildPipeline, parsePipelineConfig } from './pipeline/pipeline-config.ts'
import { DEAD_LETTER_CHANNEL } from './pipeline/sinks/dead-letter.ts'
import type { LogChannelsSourceConfig } from './pipeline/sources/log-channels.ts'
import type { PipelineRunner } from './pipeline/topology.ts'
import { AnalyticsTracking } from './web/analytics-tracking.ts'
import type { ReadinessCheck } from './web/api/system-routes.ts'
import { OPS_QUEUES } from './web/observability.ts'
import { buildServer, closeServer, redactPaths } from './web/server.ts'
import type { SessionStore } from './web/session/session-store.ts'
import { openSqliteSessionStore } from './web/session/sqlite/sqlite-session-store.ts'

export interface Runtime {
  config: Config
  logger: Logger
  store: CommerceStore
  sessions: SessionStore
  gateway: PaymentGateway
  jobs: JobQueue
  channels: LogChannels
  /** Opened on first use: only the pipeline (and `start`) write to or read from it. */
  logIndex(): Promise<LogIndex>
  /** The log shipper's counters (shipped, spilled, replayed, dropped…), when this process ships its logs. */
  shipperStats(): ReturnType<LogShipper['stats']> | null
  /**
   * The AnalyticsStore, opened and migrated on first use. DuckDB is one file one process may open: `emporium web`
   * (with the projector in `emporium worker`) never opens it and answers analytics requests with 503.
   */
  analytics(): Promise<AnalyticsStore>
  /** Batches behaviour events into `analytics` jobs; never blocks or throws. */
  emitter: AnalyticsEmitter
  /** Product views, searches and the request context the shop's analytics hooks read. */
  tracking: AnalyticsTracking
  /** The `analytics` queue's worker side: events and order facts into the AnalyticsStore, backfill, rollups. */
  projector: AnalyticsProjector
  hasher: PasswordHasher
  settings: ShopSettings
  shop: Shop
  readiness: ReadinessCheck[]
  close(): Promise<void>
}

export function shopSettingsFrom(config: Config): ShopSettings {
  return {
    ...defaultShopSettings(),
    ...config.shop,
    recoverPendingAfterMs: config.recovery.pendingAfterMs,
  }
}

/** Opens the adapters the configuration names (embedded ones under DATA_DIR) and migrates them. */
export async function openRuntime(config: Config, logger?: Logger, role = 'start'): Promise<Runtime> {
  mkdirSync(config.dataDir, { recursive: true })
  // Logs go to stdout and, through the shipper, to the `logs` queue (opened below, so batches wait for it).
  let shipTo: JobQueue | null = null
  const appLogger =
    logger || !config.shipLogs
      ? null
      : createAppLogger({
          level: config.logLevel,
          redact: redactPaths,
          stdout: config.logStdout,
          service: 'emporium',
          spoolDir: join(config.dataDir, 'log-spool', role),
          send: (batch) =>
            shipTo ? enqueueLogBatch(shipTo)(batch) : Promise.reject(new Error('the job queue is not open yet')),
        })
  const log = logger ?? appLogger?.logger ?? pino({ level: config.logLevel, redact: redactPaths })
  if (appLogger) process.once('exit', () => appLogger.onExit())
  const store = config.mongodbUrl
    ? await (await import('./commerce/store/mongodb/mongodb-commerce-store.ts')).openMongoCommerceStore(
        config.mongodbUrl,
      )
    : openSqliteCommerceStore(join(config.dataDir, 'commerce.sqlite'))
  const sessions = config.redisUrl
    ? (await import('./web/session/redis/redis-session-store.ts')).openRedisSessionStore(config.redisUrl, {
        prefix: `${config.redisKeyPrefix}:sess:`,
      })
    : openSqliteSessionStore(join(config.dataDir, 'sessions.sqlite'))
  const jobs = config.redisUrl
    ? (await import('./jobs/bullmq/bullmq-job-queue.ts')).openBullmqJobQueue(config.redisUrl, {
        prefix: `${config.redisKeyPrefix}:jobs`,
        onError: (err) =>
          log.warn({ err: { message: err.message }, port: 'job-queue' }, 'job queue connection problem'),
      })
    : openMemoryJobQueue()
  shipTo = jobs
  const channels = config.redisUrl
    ? (await import('./pipeline/channels/redis/redis-log-channels.ts')).openRedisLogChannels(config.redisUrl, {
        maxLength: config.logChannelMaxLength,
        prefix: `${config.redisKeyPrefix}:`,
        onError: (err) =>
          log.warn({ err: { message: err.message }, port: 'log-channels' }, 'log channel connection problem'),
      })
    : openMemoryLogChannels({ maxLength: config.logChannelMaxLength })
  let logIndex: Promise<LogIndex> | null = null
  const openLogIndex = (): Promise<LogIndex> => {
    logIndex ??= (async () => {
      const index = config.searchEngine
        ? (await import('./log-index/search-engine/search-engine-log-index.ts')).openSearchEngineLogIndex({
            url: config.searchEngine.url,
            flavor: config.searchEngine.flavor,
            replicas: config.searchEngine.replicas,
            namespace: config.searchEngine.namespace,
          })
        : openSqliteLogIndex(join(config.dataDir, 'logs.sqlite'))
      await index.migrate()
      return index
    })().catch((e) => {
      logIndex = null
      throw e
    })
    return logIndex
  }
  let analyticsStore: Promise<AnalyticsStore> | null = null
  const embeddedAnalyticsHere = !role.startsWith('web-')
  const openAnalytics = (): Promise<AnalyticsStore> => {
    const a = config.analytics
    if (a.kind === 'duckdb' && !embeddedAnalyticsHere)
      return Promise.reject(
        new EngineUnavailable(
          'The analytics store (DuckDB is embedded in the worker; set CASSANDRA_CONTACT_POINTS to query it from web processes)',
        ),
      )
    analyticsStore ??= openAnalyticsStore(config).catch((e) => {
      analyticsStore = null
      throw e
    })
    return analyticsStore
  }
  const emitter = new AnalyticsEmitter({
    // Retried for about half an hour (backoff doubling to 10 min) before a batch is dead-lettered: a Cassandra restart
    // or a rolling upgrade loses nothing. Forgotten once projected: a thousand retained batches of 2,000 events would
    // hold some 600 MB in Redis (or the heap), and a batch projected twice changes nothing.
    send: (batch) =>
      jobs.enqueue(ANALYTICS_QUEUE, PROJECT_EVENTS_JOB, batch, {
        jobId: batch[0]?.id,
        attempts: 12,
        backoffMs: 1000,
        keepWhenDone: false,
      }),
    warn: (message, fields) => log.warn({ port: 'analytics', ...fields }, message),
  })
  const tracking = new AnalyticsTracking((event) => emitter.emit(event), config.shop.currency)
  const projector = new AnalyticsProjector({
    commerce: store,
    analytics: openAnalytics,
    log: (level, message, fields) => log[level]({ port: 'analytics', ...fields }, message),
  })
  // The test gateway keeps its charges beside the transactions: in DATA_DIR for the embedded shop, in MongoDB for a
  // distributed one, so that every web replica and the worker's recovery job see every charge.
  const gateway: PaymentGateway = config.mongodbUrl
    ? await (await import('./commerce/payments/mongodb-test-gateway.ts')).openMongoTestGateway(config.mongodbUrl, {
        latencyMs: config.testGatewayLatencyMs,
      })
    : new TestPaymentGateway({ path: join(config.dataDir, 'payments.sqlite'), latencyMs: config.testGatewayLatencyMs })
  await store.migrate()
  await sessions.migrate()
  const hasher = createArgon2Hasher(config.argon2)
  const settings = shopSettingsFrom(config)
  const shop = createShop({
    store,
    gateway,
    hasher,
    clock: systemClock,
    settings,
    accountPolicy: { maxFailedLogins: config.authAccountRateLimit, failedLoginWindowMs: config.authAccountWindowMs },
    events: shopAnalyticsEvents({
      emit: (event) => emitter.emit(event),
      context: () => tracking.context(),
      currency: config.shop.currency,
      variants: (skus) => store.getVariants(skus),
      categories: () => store.listCategories(),
      onError: (e) => log.warn({ port: 'analytics', err: { message: errorText(e) } }, 'an analytics event was lost'),
    }),
  })
  const readiness: ReadinessCheck[] = [
    { name: 'commerce-store', kind: store.kind, ping: () => store.ping() },
    { name: 'session-store', kind: sessions.kind, ping: () => sessions.ping() },
    { name: 'job-queue', kind: jobs.kind, ping: () => jobs.ping() },
    { name: 'payment-gateway', kind: gateway.kind, ping: () => gateway.ping() },
  ]
  if (config.analytics.kind === 'cassandra' || embeddedAnalyticsHere)
    readiness.push({
      name: 'analytics-store',
      kind: config.analytics.kind,
      ping: async () => (await openAnalytics()).ping(),
    })
  let closed = false
  return {
    config,
    logger: log,
    store,
    sessions,
    gateway,
    jobs,
    channels,
    logIndex: openLogIndex,
    shipperStats: () => (appLogger ? { ...appLogger.shipper.stats() } : null),
    analytics: openAnalytics,
    emitter,
    tracking,
    projector,
    hasher,
    settings,
    shop,
    readiness,
    async close() {
      if (closed) return
      closed = true
      await emitter.close(5000)
      await appLogger?.shipper.flush().catch(() => undefined)
      await jobs.close(10_000).catch(() => undefined)
      const index = logIndex ? await logIndex.catch(() => null) : null
      const analytics = analyticsStore ? await analyticsStore.catch(() => null) : null
      await Promise.allSettled([
        store.close(),
        sessions.close(),
        gateway.close(),
        channels.close(),
        index?.close(),
        analytics?.close(),
      ])
      await appLogger?.close().catch(() => undefined)
    },
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Opens and migrates the configured AnalyticsStore; an engine that cannot be reached is EMP_UNAVAILABLE. */
export async function openAnalyticsStore(config: Config): Promise<AnalyticsStore> {
  const a = config.analytics
  const opened =
    a.kind === 'cassandra'
      ? (await import('./analytics/cassandra/cassandra-analytics-store.ts')).openCassandraAnalyticsStore({
          contactPoints: a.contactPoints,
          localDataCenter: a.localDataCenter,
          keyspace: a.keyspace,
          replication: a.replication,
          currency: config.shop.currency,
          ...(a.credentials ? { credentials: a.credentials } : {}),
        })
      : await (await import('./analytics/duckdb/duckdb-analytics-store.ts'))
          .openDuckDbAnalyticsStore({
            path: a.path,
            currency: config.shop.currency,
            threads: a.threads,
            memoryLimit: `${a.memoryLimitMiB}MB`,
          })
          .catch((e: unknown) => {
            throw duckDbOpenError(e)
          })
  try {
    await opened.migrate()
  } catch (e) {
    await opened.close().catch(() => undefined)
    throw isEmporiumError(e) ? e : new EngineUnavailable(`The analytics store (${a.kind}: ${errorText(e)})`)
  }
  return opened
}

/** DuckDB takes an exclusive lock on its file: a second process gets a clear 503 that says what to do instead. */
export const DUCKDB_LOCKED = 'is open in another Emporium process'

function duckDbOpenError(e: unknown): Error {
  const message = errorText(e)
  const pid = /PID (\d+)/.exec(message)?.[1]
  if (/Could not set lock|Conflicting lock/i.test(message))
    return new EngineUnavailable(
      `The analytics store (DATA_DIR/analytics.duckdb ${DUCKDB_LOCKED}${pid ? `, pid ${pid}` : ''}; DuckDB allows one: query through that process's API, stop it, or use Cassandra)`,
    ).withDetails({ lockedBy: pid ? Number(pid) : null })
  return new EngineUnavailable(`The analytics store (duckdb: ${message.split('\n')[0]})`)
}

/** Creates the first admin from EMPORIUM_ADMIN_EMAIL / _PASSWORD, or with a generated password printed once. */
export async function ensureAdmin(rt: Runtime, print: (line: string) => void): Promise<void> {
  const { email, password } = rt.config.admin
  const existing = await rt.store.listUsers({ role: 'admin', page: 1, limit: 1 })
  if (existing.total > 0 && !email) return
  if (email && (await rt.store.getUserByEmail(email.toLowerCase()))) return
  const chosen = password ?? randomSecret(18)
  let admin: Awaited<ReturnType<typeof rt.shop.accounts.register>>
  try {
    admin = await rt.shop.accounts.register({
      email: email ?? 'admin@emporium.local',
      password: chosen,
      name: 'Administrator',
      role: 'admin',
    })
  } catch (e) {
    // Another process starting at the same moment created it first.
    if (isEmporiumError(e) && e.code === 'EMP_EMAIL_TAKEN') return
    throw e
  }
  if (password) print(`Created admin ${admin.email} with the password from EMPORIUM_ADMIN_PASSWORD.`)
  else
    print(
      `Created admin ${admin.email} with password ${chosen}\n  (shown once; set EMPORIUM_ADMIN_EMAIL and EMPORIUM_ADMIN_PASSWORD to choose your own).`,
    )
}

export async function seedIfEmpty(rt: Runtime, print: (line: string) => void): Promise<SeedReport | null> {
  const started = performance.now()
  const report = await seedDemoShop(rt.store, rt.hasher, rt.settings, {
    gateway: rt.gateway,
    onProgress: (step, done, total) => print(`  seeding ${step}: ${done}/${total}`),
  })
  if (report) {
    print(
      `Seeded the demo shop in ${Math.round(performance.now() - started)} ms: ${report.products} products (${report.variants} variants) in ${report.categories} categories, ${report.customers} customers, ${report.orders} past orders, ${report.coupons} coupons.`,
    )
    await projectSeededOrders(rt, print)
  }
  return report
}

/**
 * The seeded past orders into analytics, at once, so the first start already shows them; when this process cannot
 * open the store (Cassandra away, DuckDB held by a worker) a `backfill` job does it on a worker instead.
 */
async function projectSeededOrders(rt: Runtime, print: (line: string) => void): Promise<void> {
  const started = performance.now()
  try {
    const r = await rt.projector.backfill()
    print(
      `Projected ${r.orders} past orders into analytics (${rt.config.analytics.kind}) in ${Math.round(performance.now() - started)} ms: ${r.orderLines} order lines, ${r.refundLines} refund lines.`,
    )
  } catch (e) {
    await rt.jobs.enqueue(ANALYTICS_QUEUE, BACKFILL_JOB, {}, { jobId: 'seed-backfill' })
    rt.logger.warn({ port: 'analytics', err: { message: errorText(e) } }, 'analytics backfill queued for a worker')
    print(`Analytics could not be written from here (${errorText(e)}); a worker will project the past orders.`)
  }
}

/**
 * Waits (bounded) until a queue has nothing waiting or running: in-process jobs die with the process. Delayed jobs (a
 * schedule's next run, a retry's backoff) are not waited for.
 */
export async function drainQueue(jobs: JobQueue, queue: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const c = await jobs.counts(queue).catch(() => null)
    if (!c || c.waiting + c.active === 0) return true
    if (Date.now() >= until) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export const MAINTENANCE_QUEUE = 'maintenance'

/**
 * The worker role: consumes the maintenance queue (the checkout recovery job, session pruning) and schedules
 * its repeatable jobs. Schedules are keyed, so several workers make one schedule.
 */
export async function startWorkers(rt: Runtime): Promise<void> {
  const { config, shop, logger } = rt
  await rt.jobs.work(
    MAINTENANCE_QUEUE,
    {
      'recover-pending-orders': async () => {
        const r = await shop.checkout.recoverPendingOrders(new Date(Date.now() - config.recovery.pendingAfterMs))
        if (r.examined > 0) logger.info({ job: 'recover-pending-orders', ...r }, 'settled pending orders')
        if (r.errors > 0) throw new Error(`${r.errors} pending orders could not be settled; they are retried next run`)
      },
      'prune-sessions': async () => {
        const n = await rt.sessions.prune()
        if (n > 0) logger.info({ job: 'prune-sessions', removed: n }, 'pruned expired sessions')
      },
    },
    { concurrency: 1 },
  )
  // The Celery role: shipped log batches are redacted, classified and appended to their channels.
  await rt.jobs.work(
    LOGS_QUEUE,
    {
      [ROUTE_LOGS_JOB]: routeLogsHandler(rt.channels, {
        onInvalid: (count) =>
          logger.warn({ job: ROUTE_LOGS_JOB, invalid: count }, 'shipped batch held entries that are not records'),
      }),
    },
    { concurrency: 16 },
  )
  // The projector: behaviour events and order facts into the AnalyticsStore (DuckDB writes one batch at a time).
  await rt.jobs.work(ANALYTICS_QUEUE, rt.projector.handlers(), { concurrency: 4 })
  await rt.jobs.repeat(MAINTENANCE_QUEUE, 'recover-pending-orders', {}, config.recovery.intervalMs, 'checkout-recovery')
  await rt.jobs.repeat(MAINTENANCE_QUEUE, 'prune-sessions', {}, 3_600_000, 'session-pruning')
  // Cassandra answers whole days from rollups; today's and yesterday's are recomputed as their facts arrive.
  if (config.analytics.kind === 'cassandra')
    await rt.jobs.repeat(ANALYTICS_QUEUE, ROLLUP_JOB, {}, ANALYTICS_ROLLUP_EVERY_MS, 'analytics-rollup')
  else await rt.jobs.cancelRepeat(ANALYTICS_QUEUE, 'analytics-rollup')
  // Open the store now, so the first batch does not wait for it and a problem shows in the log at start.
  rt.analytics().catch((e) =>
    logger.warn({ port: 'analytics', err: { message: errorText(e) } }, 'the analytics store is not available yet'),
  )
}

export const ANALYTICS_ROLLUP_EVERY_MS = 5 * 60_000

export interface Started {
  rt: Runtime
  app: Awaited<ReturnType<typeof buildServer>> | null
  port: number
  /** The METRICS_PORT listener's real port; null when METRICS_PORT is unset. */
  metricsPort: number | null
  stop(): Promise<void>
}

/** What a role answers on /readyz: the engines it needs (the pipeline never touches the commerce store). */
async function roleReadiness(rt: Runtime, role: MetricsRole): Promise<ReadinessCheck[]> {
  const channels: ReadinessCheck = { name: 'log-channels', kind: rt.channels.kind, ping: () => rt.channels.ping() }
  if (role === 'worker') return [...rt.readiness, channels]
  if (role === 'pipeline') {
    const index = await rt.logIndex()
    return [channels, { name: 'log-index', kind: index.kind, ping: () => index.ping() }]
  }
  return rt.readiness
}

/**
 * The process's Prometheus metrics, and with METRICS_PORT their own listener (/metrics, /healthz, /readyz), whose
 * address is printed: operators and tests read the real port when METRICS_PORT is 0.
 */
async function observe(
  rt: Runtime,
  role: MetricsRole,
  print: (line: string) => void,
  runner?: PipelineRunner,
): Promise<{ metrics: ProcessMetrics; listener: MetricsListener | null }> {
  const { config } = rt
  const topology = pipelineTopology(config)
  const metrics = new ProcessMetrics({
    role,
    jobs: { queue: rt.jobs, names: OPS_QUEUES },
    channels: {
      channels: rt.channels,
      categories: LOG_CATEGORIES.map((category) => ({ category, channel: channelOf(category) })),
      group: (topology.source.config as LogChannelsSourceConfig).group,
      deadLetter: DEAD_LETTER_CHANNEL,
    },
    ...(rt.shipperStats() ? { shipper: () => rt.shipperStats() } : {}),
    ...(runner ? { pipeline: { metrics: () => runner.metrics, sinks: topology.sinks.map((s) => s.name) } } : {}),
  })
  if (!config.metrics) return { metrics, listener: null }
  const listener = await startMetricsListener({
    host: config.metrics.host,
    port: config.metrics.port,
    metrics,
    checks: await roleReadiness(rt, role),
    onError: (e) => rt.logger.warn({ role, err: { message: errorText(e) } }, 'a metrics scrape failed'),
  })
  const host = listener.host.includes(':') ? `[${listener.host}]` : listener.host
  print(`Emporium ${role} metrics on http://${host}:${listener.port}/metrics (also /healthz, /readyz)`)
  return { metrics, listener }
}

async function listen(rt: Runtime, print: (line: string) => void, metrics: ProcessMetrics) {
  const { config } = rt
  const app = await buildServer({
    config,
    shop: rt.shop,
    sessionStore: rt.sessions,
    readiness: rt.readiness,
    logger: rt.logger,
    tracking: rt.tracking,
    analytics: rt.analytics,
    ops: {
      logIndex: rt.logIndex,
      channels: rt.channels,
      jobs: rt.jobs,
      pipelineGroup: (pipelineTopology(config).source.config as LogChannelsSourceConfig).group,
    },
    metrics: { metrics, serve: !config.metrics },
  })
  await app.listen({ port: config.port, host: config.host })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  print(
    `Emporium is serving http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}  (API /api/v1, docs /docs)`,
  )
  return { app, port }
}

/** `emporium start`: every role in one process, with any mix of adapters. */
export async function startAll(config: Config, print: (line: string) => void = console.log): Promise<Started> {
  const startedAt = new Date()
  const rt = await openRuntime(config)
  if (config.seed === 'auto') await seedIfEmpty(rt, print)
  await ensureAdmin(rt, print)
  // With the embedded store (one `emporium start` per DATA_DIR), any order still pending from before this start
  // belongs to a checkout that died with the previous process: settle those at once instead of waiting for them
  // to age. A shared store may have other processes' checkouts in flight, so it waits for the age cut-off.
  if (rt.store.kind === 'sqlite') await rt.shop.checkout.recoverPendingOrders(startedAt)
  await startWorkers(rt)
  const runner = await startPipelineRunner(rt)
  const { metrics, listener } = await observe(rt, 'start', print, runner)
  const { app, port } = await listen(rt, print, metrics)
  return {
    rt,
    app,
    port,
    metricsPort: listener?.port ?? null,
    async stop() {
      await listener?.close()
      await closeServer(app, rt.config.shutdownGraceMs)
      // The in-process queue dies with the process: project what the last requests emitted first (bounded).
      await rt.emitter.flush()
      if (rt.jobs.kind === 'memory') await drainQueue(rt.jobs, ANALYTICS_QUEUE, 10_000)
      await runner.shutdown()
      await rt.close()
    },
  }
}

/** The log processor (the Logstash role): channels → transforms → the log index, from the topology file. */
export async function startPipelineRunner(rt: Runtime): Promise<PipelineRunner> {
  const { config, logger } = rt
  const topology = pipelineTopology(config)
  const runner = await buildPipeline(topology, {
    log: (level, message, fields) => logger[level]({ role: 'pipeline', ...fields }, message),
    metrics: newMetrics(),
    resources: { channels: rt.channels, logIndex: await rt.logIndex() },
  })
  runner.start()
  return runner
}

/** The pipeline's topology: the file PIPELINE_CONFIG names, or the built-in default. */
export function pipelineTopology(config: Config) {
  const raw = config.pipelineConfig ? JSON.parse(readFileSync(config.pipelineConfig, 'utf8')) : {}
  return parsePipelineConfig({
    ...raw,
    // The source follows the configured channels: Redis Streams when REDIS_URL is set, in-process otherwise.
    source: { ...(raw.source ?? {}), type: config.redisUrl ? 'redis-streams' : 'memory' },
  })
}

/** The distributed roles need a shared queue: refuse to split roles over in-process adapters. */
function requireDistributed(config: Config, role: string): void {
  if (!config.redisUrl)
    throw new ConfigError(
      'REDIS_URL',
      `to be set for \`emporium ${role}\` (roles in separate processes share the Redis queue and sessions); use \`emporium start\` for one process`,
      '',
    )
}

/** `emporium web`: HTTP only; stateless, any number of them behind a load balancer. */
export async function startWeb(config: Config, print: (line: string) => void = console.log): Promise<Started> {
  requireDistributed(config, 'web')
  const rt = await openRuntime(config, undefined, `web-${config.port}`)
  await ensureAdmin(rt, print)
  const { metrics, listener } = await observe(rt, 'web', print)
  const { app, port } = await listen(rt, print, metrics)
  return {
    rt,
    app,
    port,
    metricsPort: listener?.port ?? null,
    async stop() {
      await listener?.close()
      await closeServer(app, rt.config.shutdownGraceMs)
      await rt.close()
    },
  }
}

/** `emporium pipeline`: the log processor only; run several, they share the consumer group. */
export async function startPipeline(config: Config, print: (line: string) => void = console.log): Promise<Started> {
  requireDistributed(config, 'pipeline')
  const rt = await openRuntime(config, undefined, `pipeline-${process.pid}`)
  const runner = await startPipelineRunner(rt)
  print(`Emporium pipeline is indexing log channels into ${(await rt.logIndex()).kind}`)
  const { listener } = await observe(rt, 'pipeline', print, runner)
  return {
    rt,
    app: null,
    port: 0,
    metricsPort: listener?.port ?? null,
    async stop() {
      await listener?.close()
      await runner.shutdown()
      await rt.close()
    },
  }
}

/** `emporium worker`: queue consumers only. */
export async function startWorker(config: Config, print: (line: string) => void = console.log): Promise<Started> {
  requireDistributed(config, 'worker')
  const rt = await openRuntime(config, undefined, `worker-${process.pid}`)
  await startWorkers(rt)
  print(`Emporium worker is consuming ${MAINTENANCE_QUEUE} on ${rt.jobs.kind}`)
  const { listener } = await observe(rt, 'worker', print)
  return {
    rt,
    app: null,
    port: 0,
    metricsPort: listener?.port ?? null,
    async stop() {
      await listener?.close()
      await rt.close()
    },
  }
}
