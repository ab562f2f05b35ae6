// The operators' JSON API (staff and admins, permission ops:read): log search, the volume histogram, the operations
// overview and the live tail as Server-Sent Events. The console's charts are drawn in the browser from these.
import { PassThrough } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { EngineUnavailable, RateLimited } from '../../core/errors.ts'
import { isRetryable, type LogIndex } from '../../log-index/log-index.ts'
import {
  explorerHistogram,
  filterOf,
  LogTail,
  type OpsSources,
  operationsOverview,
  RANGE_PRESETS,
  readExplorerParams,
  readLastEventId,
  readSections,
  resolveWindow,
  TAIL_POLL_MS,
} from '../observability.ts'
import { requirePermission } from '../plugins/auth.ts'
import { errors } from './schemas.ts'

/** Live tails one process serves at once; each polls the index once a second. */
export const MAX_TAILS = 20
/** A tail ends after this long; the browser's EventSource reconnects, which checks the session again. */
export const TAIL_MAX_MS = 15 * 60_000
const HEARTBEAT_MS = 15_000

const tags = ['operations']
const str = (maxLength: number, description: string) => ({ type: 'string', maxLength, description }) as const
const windowParams = {
  range: str(10, `A preset window up to now: ${Object.keys(RANGE_PRESETS).join(', ')} (default 1h), or custom`),
  from: str(40, 'Start (inclusive): ISO-8601, UTC when no zone is given; with range absent or custom'),
  to: str(40, 'End (exclusive); default now'),
} as const
const filterParams = {
  q: str(1000, 'Operator syntax, e.g. level:error AND url.path:/checkout* "timeout"'),
  category: {
    type: 'array',
    maxItems: 6,
    items: { type: 'string', maxLength: 20 },
    description: 'Data streams to search (repeat or comma-separate): access, app, audit, security, business, error',
  },
  ...windowParams,
} as const
const record = { type: 'object', additionalProperties: true } as const

/** The log index of this process, or 503 when it cannot be opened. */
async function indexOf(ops: OpsSources): Promise<LogIndex> {
  try {
    return await ops.logIndex()
  } catch (e) {
    throw new EngineUnavailable('The log index').withDetails({ reason: (e as Error).message })
  }
}

/** An engine that is down or overloaded answers 503 (retry later); anything else is a real failure. */
const unavailable = (e: unknown): never => {
  if (isRetryable(e)) throw new EngineUnavailable('The log index')
  throw e
}

export async function opsRoutes(app: FastifyInstance, { ops }: { ops?: OpsSources }) {
  const sources = (req: FastifyRequest): OpsSources => {
    requirePermission(req, 'ops:read')
    if (!ops) throw new EngineUnavailable('The log index')
    return ops
  }

  app.get(
    '/ops/logs',
    {
      schema: {
        tags,
        summary: 'Search the log index',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...filterParams,
            sort: { type: 'string', enum: ['asc', 'desc'] },
            page: { type: 'integer', minimum: 1, maximum: 10_000 },
            limit: { type: 'integer', enum: [25, 50, 100, 200] },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              total: { type: 'integer' },
              page: { type: 'integer' },
              limit: { type: 'integer' },
              from: { type: 'string' },
              to: { type: 'string' },
              items: { type: 'array', items: record },
            },
          },
          ...errors(400, 401, 403, 503),
        },
      },
    },
    async (req) => {
      const ops = sources(req)
      const p = readExplorerParams(req.query as Record<string, unknown>)
      const index = await indexOf(ops)
      const page = await index.search({ ...filterOf(p), sort: p.sort, page: p.page, limit: p.limit }).catch(unavailable)
      return {
        total: page.total,
        page: p.page,
        limit: p.limit,
        from: p.window.from,
        to: p.window.to,
        items: page.items,
      }
    },
  )

  app.get(
    '/ops/logs/histogram',
    {
      schema: {
        tags,
        summary: 'Log volume over time, split by level',
        querystring: { type: 'object', additionalProperties: false, properties: filterParams },
        response: {
          200: {
            type: 'object',
            properties: {
              from: { type: 'string' },
              to: { type: 'string' },
              intervalMs: { type: 'integer' },
              levels: { type: 'array', items: { type: 'string' } },
              buckets: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    at: { type: 'string' },
                    counts: { type: 'object', additionalProperties: { type: 'integer' } },
                  },
                },
              },
            },
          },
          ...errors(400, 401, 403, 503),
        },
      },
    },
    async (req) => {
      const ops = sources(req)
      const p = readExplorerParams(req.query as Record<string, unknown>)
      return await explorerHistogram(await indexOf(ops), p).catch(unavailable)
    },
  )

  app.get(
    '/ops/overview',
    {
      schema: {
        tags,
        summary: 'The operations dashboard: traffic, errors, latency by route, status codes, security, pipeline',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...windowParams,
            sections: str(80, 'Any of traffic, status, routes, security, pipeline, comma-separated (default all)'),
          },
        },
        response: { 200: { type: 'object', additionalProperties: true }, ...errors(400, 401, 403, 503) },
      },
    },
    async (req) => {
      const ops = sources(req)
      const query = req.query as Record<string, unknown>
      const window = resolveWindow(query)
      const sections = readSections(query.sections)
      await indexOf(ops)
      return await operationsOverview(ops, window, sections)
    },
  )

  let openTails = 0
  const closers = new Set<() => void>()
  app.addHook('preClose', (done) => {
    for (const close of closers) close()
    done()
  })

  app.get(
    '/ops/logs/tail',
    {
      compress: false,
      schema: {
        tags,
        summary: 'Live tail: new records matching the query as Server-Sent Events',
        description:
          'Events: `records` with `{ records, skipped }` (oldest first; skipped: matches the tail could not send), ' +
          '`problem` with `{ message }` when the index does not answer. A comment line keeps the connection alive. ' +
          "Each `records` event has an `id` (the newest record's time in ms); a client that reconnects with it as " +
          '`Last-Event-ID` resumes there (at most 2 minutes back), so records born in between are not lost. ' +
          'The stream ends after 15 minutes; EventSource reconnects.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { q: filterParams.q, category: filterParams.category },
        },
        produces: ['text/event-stream'],
        response: { ...errors(400, 401, 403, 429, 503) },
      },
    },
    async (req, reply) => {
      const ops = sources(req)
      const p = readExplorerParams(req.query as Record<string, unknown>)
      if (openTails >= MAX_TAILS) throw new RateLimited(5)
      const tail = new LogTail(
        await indexOf(ops),
        {
          ...(p.q ? { q: p.q } : {}),
          ...(p.categories.length ? { categories: p.categories } : {}),
        },
        Date.now(),
        readLastEventId(req.headers['last-event-id']),
      )
      const stream = new PassThrough()
      const startedAt = Date.now()
      let lastWrite = startedAt
      let timer: NodeJS.Timeout | undefined
      let closed = false
      const send = (chunk: string) => {
        lastWrite = Date.now()
        stream.write(chunk)
      }
      const close = () => {
        if (closed) return
        closed = true
        openTails--
        closers.delete(close)
        clearTimeout(timer)
        stream.end()
      }
      openTails++
      closers.add(close)
      reply.raw.once('close', close)
      // A client that goes away sends FIN, which only ends the socket's readable side; without this the tail would
      // notice at its next write (up to the 15 s heartbeat) and hold its place, and the server's close until then.
      const socket = req.raw.socket
      socket.once('end', close)
      reply.raw.once('close', () => socket.off('end', close))
      const tick = async () => {
        if (closed) return
        try {
          const polled = await tail.poll()
          if (closed) return
          if (polled.records.length || polled.skipped)
            send(`id: ${tail.cursor}\nevent: records\ndata: ${JSON.stringify(polled)}\n\n`)
          else if (Date.now() - lastWrite >= HEARTBEAT_MS) send(': keep-alive\n\n')
        } catch (e) {
          if (closed) return
          const message = isRetryable(e) ? 'The log index is not available; retrying' : 'The tail query failed'
          if (!isRetryable(e)) req.log.error({ err: e }, 'live tail poll failed')
          send(`event: problem\ndata: ${JSON.stringify({ message })}\n\n`)
        }
        if (Date.now() - startedAt >= TAIL_MAX_MS) return close()
        timer = setTimeout(tick, TAIL_POLL_MS)
      }
      send('retry: 3000\n\n')
      timer = setTimeout(tick, 0)
      return reply
        .type('text/event-stream; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('x-accel-buffering', 'no')
        .header('connection', 'close')
        .send(stream)
    },
  )
}
