// How the Redis adapters (sessions, job queue, log channels) tell "Redis is away" from any other failure, and the
// one error they answer it with: EngineUnavailable('Redis'), which the web layer turns into 503.
import { EngineUnavailable } from './errors.ts'

const CONNECTION_ERROR =
  /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|Command timed out|max retries per request/i

/** ioredis and BullMQ failures that mean the connection, not the command: retry later, answer 503 meanwhile. */
export const isRedisConnectionError = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === 'MaxRetriesPerRequestError' ||
    error.name === 'ConnectionClosedError' ||
    CONNECTION_ERROR.test(error.message) ||
    CONNECTION_ERROR.test(String((error as { code?: unknown }).code ?? '')))

export const redisUnavailable = (cause: unknown): Error => {
  const error = new EngineUnavailable('Redis')
  error.cause = typeof cause === 'string' ? new Error(cause) : cause
  return error
}
