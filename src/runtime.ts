// The composition root: builds every adapter from Config, assembles the shop and starts or stops its roles.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'
import { createArgon2Hasher, type PasswordHasher } from './commerce/passwords.ts'
import type { PaymentGateway } from './commerce/payments/payment-gateway.ts'
import { TestPaymentGateway } from './commerce/payments/test-gateway.ts'
import { type SeedReport, seedDemoShop } from './commerce/seed/seed.ts'
import { defaultShopSettings, type ShopSettings } from './commerce/settings.ts'
import { createShop, type Shop } from './commerce/shop.ts'
import type { CommerceStore } from './commerce/store/commerce-store.ts'
import { openSqliteCommerceStore } from './commerce/store/sqlite/sqlite-commerce-store.ts'
import type { Config } from './config.ts'
import { systemClock } from './core/clock.ts'
import { isEmporiumError } from './core/errors.ts'
import { randomSecret } from './core/ids.ts'
import type { ReadinessCheck } from './web/api/system-routes.ts'
import { buildServer, redactPaths } from './web/server.ts'
import type { SessionStore } from './web/session/session-store.ts'
import { openSqliteSessionStore } from './web/session/sqlite/sqlite-session-store.ts'

export interface Runtime {
  config: Config
  logger: Logger
  store: CommerceStore
  sessions: SessionStore
  gateway: PaymentGateway
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
export async function openRuntime(config: Config, logger?: Logger): Promise<Runtime> {
  const log = logger ?? pino({ level: config.logLevel, redact: redactPaths })
  mkdirSync(config.dataDir, { recursive: true })
  const store = openSqliteCommerceStore(join(config.dataDir, 'commerce.sqlite'))
  const sessions = openSqliteSessionStore(join(config.dataDir, 'sessions.sqlite'))
  const gateway = new TestPaymentGateway({
    path: join(config.dataDir, 'payments.sqlite'),
    latencyMs: config.testGatewayLatencyMs,
  })
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
  })
  const readiness: ReadinessCheck[] = [
    { name: 'commerce-store', kind: store.kind, ping: () => store.ping() },
    { name: 'session-store', kind: sessions.kind, ping: () => sessions.ping() },
    { name: 'payment-gateway', kind: gateway.kind, ping: () => gateway.ping() },
  ]
  let closed = false
  return {
    config,
    logger: log,
    store,
    sessions,
    gateway,
    hasher,
    settings,
    shop,
    readiness,
    async close() {
      if (closed) return
      closed = true
      await Promise.allSettled([store.close(), sessions.close(), gateway.close()])
    },
  }
}

/** Creates the first admin from EMPORIUM_ADMIN_EMAIL / _PASSWORD, or with a generated password printed once. */
export async function ensureAdmin(rt: Runtime, print: (line: string) => void): Promise<void> {
  const { email, password } = rt.config.admin
  const existing = await rt.store.listUsers({ role: 'admin', page: 1, limit: 1 })
  if (existing.total > 0 && !email) return
  if (email && (await rt.store.getUserByEmail(email.toLowerCase()))) return
  const chosen = password ?? randomSecret(18)
  const admin = await rt.shop.accounts.register({
    email: email ?? 'admin@emporium.local',
    password: chosen,
    name: 'Administrator',
    role: 'admin',
  })
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
  if (report)
    print(
      `Seeded the demo shop in ${Math.round(performance.now() - started)} ms: ${report.products} products (${report.variants} variants) in ${report.categories} categories, ${report.customers} customers, ${report.orders} past orders, ${report.coupons} coupons.`,
    )
  return report
}

/** The checkout recovery job: settles pending orders older than the configured age, on a timer. */
export function startRecoveryJob(rt: Runtime): { stop(): void; runNow(before?: Date): Promise<void> } {
  let running = false
  const runNow = async (before?: Date) => {
    if (running) return
    running = true
    try {
      const cutoff = before ?? new Date(Date.now() - rt.config.recovery.pendingAfterMs)
      const r = await rt.shop.checkout.recoverPendingOrders(cutoff)
      if (r.examined > 0) rt.logger.info({ job: 'checkout-recovery', ...r }, 'settled pending orders')
    } catch (err) {
      if (!isEmporiumError(err) || err.statusCode >= 500)
        rt.logger.error({ err, job: 'checkout-recovery' }, 'recovery failed')
    } finally {
      running = false
    }
  }
  const timer = setInterval(() => void runNow(), rt.config.recovery.intervalMs)
  timer.unref()
  return { stop: () => clearInterval(timer), runNow }
}

/** `emporium start`: every role in one process. */
export async function startAll(config: Config, print: (line: string) => void = console.log) {
  const startedAt = new Date()
  const rt = await openRuntime(config)
  if (config.seed === 'auto') await seedIfEmpty(rt, print)
  await ensureAdmin(rt, print)
  // With the embedded store (one `emporium start` per DATA_DIR), any order still pending from before this start
  // belongs to a checkout that died with the previous process: settle those at once instead of waiting for them
  // to age. A shared store may have other processes' checkouts in flight, so it waits for the age cut-off.
  const recovery = startRecoveryJob(rt)
  if (rt.store.kind === 'sqlite') await recovery.runNow(startedAt)
  const app = await buildServer({
    config,
    shop: rt.shop,
    sessionStore: rt.sessions,
    readiness: rt.readiness,
    logger: rt.logger,
  })
  const pruner = setInterval(() => void rt.sessions.prune().catch(() => undefined), 3_600_000)
  pruner.unref()
  await app.listen({ port: config.port, host: config.host })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  print(
    `Emporium is serving http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}  (API /api/v1, docs /docs)`,
  )
  const stop = async () => {
    recovery.stop()
    clearInterval(pruner)
    await app.close()
    await rt.close()
  }
  return { app, rt, port, stop }
}
