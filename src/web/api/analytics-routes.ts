// The analytics API (analysts and admins): structured queries, funnels, cohorts and the read-only raw console over
// the AnalyticsStore. Request schemas check shapes only; the query model (analytics/query.ts) checks meaning and
// answers 400 EMP_VALIDATION with a reason per field and a machine code per problem (details.problems).
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AnalyticsStore } from '../../analytics/analytics-store.ts'
import {
  type AnalyticsQuery,
  type AnalyticsResult,
  type CohortQuery,
  DIMENSIONS,
  type FunnelQuery,
  MEASURES,
  type Measure,
  QUERY_LIMITS,
  type RawQuery,
} from '../../analytics/query.ts'
import { EngineUnavailable } from '../../core/errors.ts'
import { requirePermission } from '../plugins/auth.ts'
import type { ApiContext } from './context.ts'
import { errors } from './schemas.ts'

/** Measures that are amounts of money: answered as { amount, currency }. */
export const MONEY_MEASURES: ReadonlySet<Measure> = new Set([
  'revenue',
  'gross_revenue',
  'refunds',
  'average_order_value',
])

/** A store result as the API answers it: one object per row, money as { amount, currency } (or null). */
export function presentAnalyticsResult(result: AnalyticsResult) {
  return {
    currency: result.currency,
    dimensions: result.dimensions,
    measures: result.measures,
    rows: result.rows.map((row) => {
      const out: Record<string, unknown> = {}
      for (const d of result.dimensions) out[d] = row[d] ?? null
      for (const m of result.measures) {
        const v = row[m] ?? null
        out[m] = MONEY_MEASURES.has(m) && typeof v === 'number' ? { amount: v, currency: result.currency } : v
      }
      return out
    }),
  }
}

const range = {
  from: {
    type: 'string',
    maxLength: 40,
    description: 'Inclusive ISO-8601 instant with a zone, e.g. 2026-08-01T00:00:00Z',
  },
  to: { type: 'string', maxLength: 40, description: 'Exclusive ISO-8601 instant with a zone' },
} as const

const filterValues = {
  description: 'One value or a list (null: none, e.g. orders without a coupon)',
  anyOf: [
    { type: 'string', nullable: true, maxLength: 200 },
    {
      type: 'array',
      maxItems: QUERY_LIMITS.maxFilterValues,
      items: { type: 'string', nullable: true, maxLength: 200 },
    },
  ],
} as const

const queryBody = {
  type: 'object',
  required: ['measures', 'from', 'to'],
  additionalProperties: false,
  properties: {
    measures: {
      type: 'array',
      maxItems: MEASURES.length,
      items: { type: 'string', maxLength: 40 },
      description: `Any of ${MEASURES.join(', ')}`,
    },
    dimensions: {
      type: 'array',
      maxItems: DIMENSIONS.length,
      items: { type: 'string', maxLength: 40 },
      description: `Group by any of ${DIMENSIONS.join(', ')}, in this order`,
    },
    filters: {
      type: 'object',
      maxProperties: DIMENSIONS.length,
      additionalProperties: filterValues,
      description: 'dimension: value or [values]; day and week take YYYY-MM-DD, month YYYY-MM',
    },
    ...range,
    sort: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        required: ['by'],
        additionalProperties: false,
        properties: { by: { type: 'string', maxLength: 40 }, direction: { type: 'string', maxLength: 4 } },
      },
    },
    limit: { type: 'integer', description: `1 to ${QUERY_LIMITS.maxLimit}; default ${QUERY_LIMITS.defaultLimit}` },
  },
} as const

const queryReply = {
  type: 'object',
  properties: {
    currency: { type: 'string' },
    dimensions: { type: 'array', items: { type: 'string' } },
    measures: { type: 'array', items: { type: 'string' } },
    rows: {
      type: 'array',
      description: 'One object per group: a field per dimension and measure; money measures as { amount, currency }',
      items: { type: 'object', additionalProperties: true },
    },
  },
} as const

const funnelBody = {
  type: 'object',
  required: ['from', 'to'],
  additionalProperties: false,
  properties: {
    ...range,
    filters: {
      type: 'object',
      maxProperties: 2,
      additionalProperties: filterValues,
      description: 'country and channel only',
    },
  },
} as const

const funnelReply = {
  type: 'object',
  properties: {
    steps: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          step: { type: 'string' },
          sessions: { type: 'integer' },
          fromStart: { type: 'number', nullable: true },
          fromPrevious: { type: 'number', nullable: true },
        },
      },
    },
  },
} as const

const cohortsBody = {
  type: 'object',
  required: ['from', 'to'],
  additionalProperties: false,
  properties: {
    from: { type: 'string', maxLength: 40, description: 'First day of a month, 00:00 UTC' },
    to: {
      type: 'string',
      maxLength: 40,
      description: `First day of a later month (at most ${QUERY_LIMITS.maxCohortMonths})`,
    },
  },
} as const

const cohortsReply = {
  type: 'object',
  properties: {
    cohorts: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          cohort: { type: 'string' },
          customers: { type: 'integer' },
          active: { type: 'array', items: { type: 'integer' } },
          retention: { type: 'array', items: { type: 'number' } },
        },
      },
    },
  },
} as const

const rawBody = {
  type: 'object',
  required: ['query'],
  additionalProperties: false,
  properties: {
    query: {
      type: 'string',
      maxLength: QUERY_LIMITS.maxStatementLength,
      description: 'One read-only statement: SQL on DuckDB, a CQL SELECT on Cassandra',
    },
    timeoutMs: { type: 'integer', description: `1 to ${QUERY_LIMITS.maxRawTimeoutMs}; default 5000` },
    maxRows: { type: 'integer', description: `1 to ${QUERY_LIMITS.maxRawRows}; default 1000` },
  },
} as const

const rawReply = {
  type: 'object',
  properties: {
    columns: { type: 'array', items: { type: 'string' } },
    rows: { type: 'array', items: { type: 'array', items: {} } },
    truncated: { type: 'boolean' },
  },
} as const

export async function analyticsRoutes(app: FastifyInstance, { analytics }: ApiContext) {
  const tags = ['analytics']
  const store = async (req: FastifyRequest): Promise<AnalyticsStore> => {
    requirePermission(req, 'analytics:read')
    if (!analytics) throw new EngineUnavailable('The analytics store')
    return analytics()
  }

  app.post<{ Body: AnalyticsQuery }>(
    '/analytics/query',
    {
      schema: {
        tags,
        summary: 'Measures by dimensions over a time range (money in minor units)',
        body: queryBody,
        response: { 200: queryReply, ...errors(400, 401, 403, 503) },
      },
    },
    async (req) => presentAnalyticsResult(await (await store(req)).query(req.body)),
  )

  app.post<{ Body: FunnelQuery }>(
    '/analytics/funnel',
    {
      schema: {
        tags,
        summary: 'Sessions that reach view → cart → checkout → paid, in that order',
        body: funnelBody,
        response: { 200: funnelReply, ...errors(400, 401, 403, 503) },
      },
    },
    async (req) => (await store(req)).funnel(req.body),
  )

  app.post<{ Body: CohortQuery }>(
    '/analytics/cohorts',
    {
      schema: {
        tags,
        summary: 'Retention of customers by the month of their first paid order',
        body: cohortsBody,
        response: { 200: cohortsReply, ...errors(400, 401, 403, 503) },
      },
    },
    async (req) => (await store(req)).cohorts(req.body),
  )

  app.post<{ Body: { query: string; timeoutMs?: number; maxRows?: number } }>(
    '/analytics/raw',
    {
      config: { rateLimit: { max: 120, timeWindow: 60_000 } },
      schema: {
        tags,
        summary: 'The raw console: one read-only statement with a time and row limit, no file or network access',
        body: rawBody,
        response: { 200: rawReply, ...errors(400, 401, 403, 422, 429, 503) },
      },
    },
    async (req) => {
      const s = await store(req)
      const { query, timeoutMs, maxRows } = req.body
      const raw: RawQuery = { statement: query, timeoutMs, maxRows }
      // The statement may name customers: the audit line records who ran how much, not what.
      const audit = { userId: req.user?.id, audit: 'analytics.raw', statementLength: query.length }
      try {
        const result = await s.raw(raw)
        req.log.info({ ...audit, rows: result.rows.length }, 'raw analytics query')
        return result
      } catch (e) {
        req.log.info({ ...audit, refused: (e as { code?: string }).code ?? 'error' }, 'raw analytics query refused')
        throw e
      }
    },
  )
}
