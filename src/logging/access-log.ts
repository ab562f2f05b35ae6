// One access line per request for Fastify: method, url, route, status, bytes, duration, client ip and user agent.
import { hostname } from 'node:os'
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify'

/** pino serializers for Fastify's `req` and `res`; they carry what toEcs maps to http.*, url.*, client.* and user_agent.*. */
export const accessLogSerializers = {
  req: (req: FastifyRequest) => ({
    method: req.method,
    url: req.url,
    route: req.routeOptions?.url,
    remoteAddress: req.ip,
    userAgent: req.headers?.['user-agent'],
  }),
  res: (reply: FastifyReply) => {
    const length = Number(reply.getHeader?.('content-length'))
    return Number.isFinite(length) ? { statusCode: reply.statusCode, bytes: length } : { statusCode: reply.statusCode }
  },
}

const SERVER_ERROR = Symbol.for('emporium.log.serverError')

/**
 * Marks the error behind a 5xx answer: the request's access line then carries it (level error, with the stack), so
 * one record holds the request and why it failed. Error handlers call this instead of logging a second line.
 */
export function recordServerError(request: FastifyRequest, error: unknown): void {
  ;(request as unknown as { [SERVER_ERROR]?: unknown })[SERVER_ERROR] = error
}

/** Where a logger that ships (createAppLogger) takes pino-shaped objects directly; absent on a plain pino logger. */
export const DIRECT_RECORDS = Symbol.for('emporium.log.directRecords')
export type DirectRecordWriter = (obj: Record<string, unknown>) => void

const PID = process.pid
const HOSTNAME = hostname()

/**
 * Fastify's default logs two lines per request ('incoming request' with the request, 'request completed' with the
 * status only). This logs one 'request completed' line holding both, so every access record is complete on its own.
 */
export class AccessLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return
    const userId = (request as { user?: { id?: string } | null }).user?.id
    const failure = error ?? (request as unknown as { [SERVER_ERROR]?: unknown })[SERVER_ERROR]
    if (failure) {
      reply.log.error(
        { req: request, res: reply, responseTime: reply.elapsedTime, userId, err: failure },
        'request failed',
      )
      return
    }
    const log = reply.log as FastifyReply['log'] & { [DIRECT_RECORDS]?: DirectRecordWriter; levelVal?: number }
    const direct = log[DIRECT_RECORDS]
    if (direct && (log.levelVal ?? 30) <= 30) {
      // The same object pino would have written (its level, time, pid, hostname and reqId binding included).
      direct({
        level: 30,
        time: Date.now(),
        pid: PID,
        hostname: HOSTNAME,
        reqId: request.id,
        req: accessLogSerializers.req(request),
        res: accessLogSerializers.res(reply),
        responseTime: reply.elapsedTime,
        ...(userId ? { userId } : {}),
        msg: 'request completed',
      })
      return
    }
    reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime, userId }, 'request completed')
  }
}
