// Synthetic application logs through the real shipping path: pino → LogShipper (disk spool when Redis is away) →
// the BullMQ `logs` queue, exactly as a web or worker process ships its own. Every record carries its sequence number
// (label `seq`) and the logger name given, so a test can count what reached the index.
// As a process: LOGGEN_COUNT=… LOGGEN_LOGGER=… REDIS_URL=… REDIS_KEY_PREFIX=… LOGGEN_SPOOL=dir \
//   node --import tsx test/support/log-generator.ts   → prints `loggen done {json stats}` and exits.
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { openBullmqJobQueue } from '../../src/jobs/bullmq/bullmq-job-queue.ts'
import { createAppLogger } from '../../src/logging/logger.ts'
import { enqueueLogBatch } from '../../src/logging/route-logs.ts'

export interface GenerateOptions {
  redisUrl: string
  /** REDIS_KEY_PREFIX of the processes that consume the queue. */
  keyPrefix: string
  count: number
  /** Becomes log.logger on every record. */
  logger: string
  spoolDir: string
  /** Lines per second; 0 = as fast as the event loop allows (in turns of `perTurn`). */
  ratePerSecond?: number
  perTurn?: number
  /** How long to wait for the spool to be replayed before giving up (default 180 s). */
  drainTimeoutMs?: number
}

export interface GenerateReport {
  count: number
  emitMs: number
  /** Until the shipper had handed everything to the queue. */
  shippedMs: number
  stats: Record<string, unknown>
}

/** A realistic mix: info, warn, error with a stack, audit and business markers (so every channel gets some). */
export function emit(logger: import('pino').Logger, seq: number): void {
  switch (seq % 10) {
    case 6:
      logger.warn({ seq, sku: `SKU-${seq % 97}` }, 'inventory running low')
      break
    case 7:
      logger.error(
        { seq, err: { type: 'TimeoutError', message: 'upstream timed out', stack: 'TimeoutError: upstream\n  at x' } },
        'synthetic failure',
      )
      break
    case 8:
      logger.info({ seq, audit: 'synthetic.audit' }, 'synthetic audit record')
      break
    case 9:
      logger.info({ seq, business: 'synthetic.business', value: seq % 5000 }, 'synthetic business event')
      break
    default:
      logger.info({ seq, step: seq % 6 }, 'synthetic application record')
  }
}

export async function generateLogs(options: GenerateOptions): Promise<GenerateReport> {
  const jobs = openBullmqJobQueue(options.redisUrl, { prefix: `${options.keyPrefix}:jobs` })
  const app = createAppLogger({
    level: 'info',
    stdout: false,
    service: 'emporium',
    spoolDir: options.spoolDir,
    send: enqueueLogBatch(jobs),
  })
  const logger = app.logger.child({ name: options.logger })
  const perTurn = options.perTurn ?? 200
  const t0 = performance.now()
  if (options.ratePerSecond && options.ratePerSecond > 0) {
    for (let i = 0; i < options.count; i++) {
      emit(logger, i)
      const due = t0 + ((i + 1) * 1000) / options.ratePerSecond
      const wait = due - performance.now()
      if (wait > 1) await sleep(wait)
    }
  } else {
    for (let i = 0; i < options.count; i++) {
      emit(logger, i)
      if (i % perTurn === perTurn - 1) {
        await new Promise((r) => setImmediate(r))
        // A bulk producer heeds backpressure: the shipper bounds its memory and would drop (and count) past it.
        while (app.shipper.stats().buffered > 4000) await sleep(5)
      }
    }
  }
  const emitMs = performance.now() - t0
  await app.shipper.flush()
  // What went to the disk spool while the queue was away is replayed in the background: wait for the last of it.
  const drainUntil = Date.now() + (options.drainTimeoutMs ?? 180_000)
  for (;;) {
    const st = app.shipper.stats()
    if (st.replayed + st.dropped >= st.spilled && st.buffered === 0 && st.inFlight === 0) break
    if (Date.now() > drainUntil) break
    await sleep(100)
  }
  const shippedMs = performance.now() - t0
  const stats = { ...app.shipper.stats() } as unknown as Record<string, unknown>
  await app.close()
  await jobs.close(5000)
  return { count: options.count, emitMs, shippedMs, stats }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const need = (name: string) => {
    const v = process.env[name]
    if (!v) throw new Error(`${name} is required`)
    return v
  }
  const report = await generateLogs({
    redisUrl: need('REDIS_URL'),
    keyPrefix: need('REDIS_KEY_PREFIX'),
    count: Number(need('LOGGEN_COUNT')),
    logger: need('LOGGEN_LOGGER'),
    spoolDir: need('LOGGEN_SPOOL'),
    ratePerSecond: Number(process.env.LOGGEN_RATE ?? 0),
  })
  console.log(`loggen done ${JSON.stringify(report)}`)
  process.exit(0)
}
