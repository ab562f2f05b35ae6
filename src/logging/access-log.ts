// One access line per request for Fastify: method, url, route, status, bytes, duration, client ip and user agent.
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

/**
 * Fastify's default logs two lines per request ('incoming request' with the request, 'request completed' with the
 * status only). This logs one 'request completed' line holding both, so every access record is complete on its own.
 */
export class AccessLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return
    const fields = { req: request, res: reply, responseTime: reply.elapsedTime }
    if (error) reply.log.error({ ...fields, err: error }, 'request errored')
    else reply.log.info(fields, 'request completed')
  }
}
