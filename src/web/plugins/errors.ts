// One error shape for every failure: { error: { code, message, fields? , details? } } with a fitting status.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  BodyTooLarge,
  EmporiumError,
  Internal,
  isEmporiumError,
  MalformedJson,
  RouteNotFound,
  UnsupportedMediaType,
  ValidationFailed,
} from '../../core/errors.ts'
import { recordServerError } from '../../logging/access-log.ts'

export interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string>; details?: Record<string, unknown> }
}

const fieldName = (instancePath: string, missing?: unknown, extra?: unknown): string => {
  const path = instancePath.replace(/^\//, '').replaceAll('/', '.')
  const leaf = typeof missing === 'string' ? missing : typeof extra === 'string' ? extra : ''
  return [path, leaf].filter(Boolean).join('.') || '(body)'
}

interface AjvIssue {
  instancePath: string
  keyword: string
  message?: string
  params: Record<string, unknown>
}

/** Turns schema validation issues into per-field reasons a person can act on. */
export function validationError(issues: readonly AjvIssue[], part: string): EmporiumError {
  const fields: Record<string, string> = {}
  for (const issue of issues) {
    const name = fieldName(issue.instancePath, issue.params.missingProperty, issue.params.additionalProperty)
    const reason =
      issue.keyword === 'additionalProperties'
        ? 'This field is not allowed'
        : issue.keyword === 'required'
          ? 'Required'
          : (issue.message ?? 'Invalid')
    fields[name] ??= reason
  }
  const summary = Object.entries(fields)
    .slice(0, 3)
    .map(([f, r]) => `${f}: ${r}`)
    .join('; ')
  return new ValidationFailed(`The request ${part} is not valid (${summary})`).withFields(fields)
}

export function toEmporiumError(
  err: unknown,
  context: { bodyLimit?: number; contentType?: string } = {},
): EmporiumError {
  if (isEmporiumError(err)) return err
  const e = err as FastifyError & { validation?: AjvIssue[]; validationContext?: string }
  if (e?.validation) return validationError(e.validation, e.validationContext ?? 'body')
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MalformedJson()
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new BodyTooLarge(context.bodyLimit ?? 0)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaType(
        (context.contentType ?? 'unknown').split(';')[0]?.trim().slice(0, 100) || 'unknown',
      )
  }
  if (e instanceof SyntaxError) return new MalformedJson()
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new EmporiumError(`EMP_HTTP_${e.statusCode}`, e.statusCode, e.message)
  }
  return new Internal()
}

export const errorBody = (e: EmporiumError): ErrorBody => ({
  error: {
    code: e.code,
    message: e.message,
    ...(e.fields ? { fields: e.fields } : {}),
    ...(e.details ? { details: e.details } : {}),
  },
})

export type ErrorPageRenderer = (req: FastifyRequest, reply: FastifyReply, error: EmporiumError) => unknown

export interface ErrorHandlingOptions {
  bodyLimit: number
  /** Seconds until a locked account may sign in again (the per-account window). */
  accountLockSeconds: number
  renderPage?: ErrorPageRenderer
}

export function registerErrorHandling(app: FastifyInstance, options: ErrorHandlingOptions): void {
  const { renderPage } = options
  app.setErrorHandler((err, req, reply) => {
    const contentType = req.headers['content-type']
    const e = toEmporiumError(err, { bodyLimit: options.bodyLimit, ...(contentType ? { contentType } : {}) })
    // An engine that is away is an operational state (readiness shows it), not a bug: warn without a stack.
    if (e.code === 'EMP_UNAVAILABLE') req.log.warn({ code: e.code, reason: e.message }, 'engine unavailable')
    // The access line of this request carries the error and its stack: one record for the request and its cause.
    else if (e.statusCode >= 500) recordServerError(req, err)
    else req.log.info({ code: e.code }, 'request refused')
    if (e.code === 'EMP_ACCOUNT_LOCKED') reply.header('retry-after', String(options.accountLockSeconds))
    else if (e.code === 'EMP_RATE_LIMITED' && !reply.hasHeader('retry-after')) reply.header('retry-after', '60')
    if (renderPage && !req.url.startsWith('/api/')) return renderPage(req, reply, e)
    return reply.status(e.statusCode).type('application/json; charset=utf-8').send(errorBody(e))
  })
  app.setNotFoundHandler((req, reply) => {
    const e = new RouteNotFound(req.method, req.url.split('?')[0] ?? req.url)
    if (renderPage && !req.url.startsWith('/api/')) return renderPage(req, reply, e)
    return reply.status(404).send(errorBody(e))
  })
}
