// The app's logger: pino with the access-log serializers, writing into the log shipper and a copy to stdout.
import pino, { type Logger } from 'pino'
import { accessLogSerializers, DIRECT_RECORDS, type DirectRecordWriter } from './access-log.ts'
import { LogShipper, type ShipperOptions } from './shipper.ts'

export interface AppLoggerOptions extends Omit<ShipperOptions, 'downstream'> {
  level: string
  /** pino redact paths (request headers and the like), applied before a line leaves pino. */
  redact?: string[]
  /** Copy every line to stdout, non-blocking (default true), so operators still see logs locally. */
  stdout?: boolean
}

export interface AppLogger {
  logger: Logger
  shipper: LogShipper
  /** Sends or spills what is buffered, closes the spool and flushes stdout. Safe twice. */
  close(): Promise<void>
  /** For `process.on('exit')`: keeps what is still in memory on disk and flushes stdout, synchronously. */
  onExit(): void
}

export function createAppLogger(options: AppLoggerOptions): AppLogger {
  const { level, redact, stdout = true, ...shipperOptions } = options
  const out = stdout ? pino.destination({ dest: 1, sync: false }) : null
  const shipper = new LogShipper({ ...shipperOptions, downstream: out })
  const logger = pino({ level, serializers: accessLogSerializers, ...(redact ? { redact } : {}) }, shipper)
  // Access records skip pino's serialization and the shipper's parse: one object per request, straight in. Children
  // (Fastify's per-request loggers) see it through their prototype.
  const direct: DirectRecordWriter = (obj) => {
    shipper.writeObject(obj)
    if (out) {
      try {
        out.write(`${JSON.stringify(obj)}\n`)
      } catch {
        // A broken stdout must not cost the shipped copy.
      }
    }
  }
  Object.defineProperty(logger, DIRECT_RECORDS, { value: direct })
  const flushStdout = () => {
    try {
      out?.flushSync()
    } catch {
      // stdout is gone (EPIPE, closed by the parent): the shipped copy is what counts.
    }
  }
  return {
    logger,
    shipper,
    async close() {
      await shipper.close()
      flushStdout()
    },
    onExit() {
      shipper.spillSync()
      flushStdout()
    },
  }
}
