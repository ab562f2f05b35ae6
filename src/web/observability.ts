// The operators' console behind /admin/observability and /api/v1/ops: time windows, the explorer's parameters, the
// operations overview and the live tail, all read through the LogIndex, LogChannels and JobQueue ports, so they work
// on SQLite and in-process adapters as on the search engine and Redis.
import { ANALYTICS_QUEUE } from '../analytics/projector.ts'
import { ValidationFailed } from '../core/errors.ts'
import type { JobQueue, QueueCounts } from '../jobs/job-queue.ts'
import { INDEXED_FIELDS, resolveField } from '../log-index/fields.ts'
import type { HistogramBucket, LogIndex, LogQuery } from '../log-index/log-index.ts'
import { parseQuery } from '../log-index/query.ts'
import { MAX_RESULT_WINDOW } from '../log-index/resolve.ts'
import { parseTimestamp } from '../log-index/time.ts'
import { type EcsRecord, isLogCategory, LOG_CATEGORIES, type LogCategory } from '../logging/ecs.ts'
import { LOGS_QUEUE } from '../logging/route-logs.ts'
import { ChannelGroupMissing, channelOf, type LogChannels } from '../pipeline/channels/log-channels.ts'
import { DEAD_LETTER_CHANNEL } from '../pipeline/sinks/dead-letter.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** Relative windows offered in the range picker: "the last …" up to now. */
export const RANGE_PRESETS = {
  '15m': { ms: 15 * MINUTE, label: 'Last 15 minutes' },
  '1h': { ms: HOUR, label: 'Last hour' },
  '6h': { ms: 6 * HOUR, label: 'Last 6 hours' },
  '24h': { ms: DAY, label: 'Last 24 hours' },
  '7d': { ms: 7 * DAY, label: 'Last 7 days' },
  '30d': { ms: 30 * DAY, label: 'Last 30 days' },
} as const
export type RangePreset = keyof typeof RANGE_PRESETS
export const DEFAULT_RANGE: RangePreset = '1h'
/** The longest window a query may cover (retention keeps less than this anyway). */
export const MAX_WINDOW_MS = 400 * DAY

export const REFRESH_CHOICES = { off: 0, '5s': 5_000, '10s': 10_000, '30s': 30_000, '1m': 60_000 } as const
export type RefreshChoice = keyof typeof REFRESH_CHOICES

/** Histogram intervals, smallest first; the first that gives at most TARGET_BUCKETS buckets is used. */
const INTERVALS = [
  1_000,
  5_000,
  10_000,
  30_000,
  MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  30 * MINUTE,
  HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  7 * DAY,
]
export const TARGET_BUCKETS = 90

export interface TimeWindow {
  /** ISO, inclusive */
  from: string
  /** ISO, exclusive */
  to: string
  /** The preset it came from, or 'custom' for absolute dates. */
  range: RangePreset | 'custom'
}

type Raw = Record<string, unknown>

const first = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v)
const text = (v: unknown): string | undefined => {
  const s = first(v)
  if (typeof s === 'number' && Number.isFinite(s)) return String(s)
  return typeof s === 'string' && s.trim() !== '' ? s.trim() : undefined
}

/** A form's datetime-local value (`2026-11-27T03:15`, read as UTC) or any ISO-8601 instant / epoch ms. */
const instant = (raw: string, field: string): number => {
  const ms = parseTimestamp(raw)
  if (ms === undefined || raw.length > 40)
    throw new ValidationFailed(`${field} is not a date and time`).withFields({
      [field]: 'Use an ISO-8601 date and time such as 2026-11-27T03:15 (UTC) or 2026-11-27T03:15:00Z',
    })
  return ms
}

/**
 * The window of `range` (a preset) or of absolute `from`/`to`; with neither, the default preset. Absolute bounds win
 * when both are given and range is absent or 'custom'.
 */
export function resolveWindow(raw: Raw, now = Date.now()): TimeWindow {
  const range = text(raw.range)
  const from = text(raw.from)
  const to = text(raw.to)
  if (range !== undefined && range !== 'custom') {
    if (!(range in RANGE_PRESETS))
      throw new ValidationFailed('range is not one of the offered windows').withFields({
        range: `Use one of ${Object.keys(RANGE_PRESETS).join(', ')} or custom`,
      })
    const preset = range as RangePreset
    return {
      from: new Date(now - RANGE_PRESETS[preset].ms).toISOString(),
      to: new Date(now).toISOString(),
      range: preset,
    }
  }
  if (from === undefined && to === undefined) {
    if (range === 'custom')
      throw new ValidationFailed('A custom range needs a start').withFields({ from: 'Give the start of the window' })
    return resolveWindow({ range: DEFAULT_RANGE }, now)
  }
  if (from === undefined) throw new ValidationFailed('from is missing').withFields({ from: 'Give the start' })
  const fromMs = instant(from, 'from')
  const toMs = to === undefined ? now : instant(to, 'to')
  if (toMs <= fromMs)
    throw new ValidationFailed('The window ends before it starts').withFields({ to: 'Must be after from' })
  if (toMs - fromMs > MAX_WINDOW_MS)
    throw new ValidationFailed('The window is too long').withFields({ to: 'At most 400 days after from' })
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), range: 'custom' }
}

/** The smallest interval that splits the window into at most `target` buckets. */
export function chooseInterval(window: Pick<TimeWindow, 'from' | 'to'>, target = TARGET_BUCKETS): number {
  const span = Date.parse(window.to) - Date.parse(window.from)
  return INTERVALS.find((i) => span / i <= target) ?? INTERVALS[INTERVALS.length - 1]!
}

/** Columns the explorer's table may show: every indexed field. */
export const EXPLORER_COLUMNS: readonly string[] = INDEXED_FIELDS.map((f) => f.path)
export const DEFAULT_COLUMNS: readonly string[] = [
  '@timestamp',
  'log.level',
  'event.category',
  'http.request.method',
  'url.path',
  'http.response.status_code',
  'event.duration',
  'message',
]
export const PAGE_SIZES = [25, 50, 100, 200] as const
export const DEFAULT_PAGE_SIZE = 50

export interface ExplorerParams {
  q: string
  window: TimeWindow
  categories: LogCategory[]
  sort: 'asc' | 'desc'
  page: number
  limit: number
  columns: string[]
  refresh: RefreshChoice
}

const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v])
    .filter((s): s is string => typeof s === 'string')
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean)

/** Reads and checks the explorer's URL parameters (they are what a shared link carries). Throws EMP_VALIDATION. */
export function readExplorerParams(raw: Raw, now = Date.now()): ExplorerParams {
  const q = text(raw.q) ?? ''
  parseQuery(q) // bad syntax: EMP_VALIDATION with fields.q and the position
  const categories = list(raw.category)
  const unknown = categories.find((c) => !isLogCategory(c))
  if (unknown !== undefined)
    throw new ValidationFailed('Unknown category').withFields({
      category: `${unknown.slice(0, 40)} is not one of ${LOG_CATEGORIES.join(', ')}`,
    })
  const columns = list(raw.cols)
  const badColumn = columns.find((c) => !resolveField(c))
  if (badColumn !== undefined)
    throw new ValidationFailed('Unknown column').withFields({
      cols: `${badColumn.slice(0, 60)} is not an indexed field`,
    })
  const sort = text(raw.sort) ?? 'desc'
  if (sort !== 'asc' && sort !== 'desc')
    throw new ValidationFailed('Unknown sort order').withFields({ sort: 'Use asc or desc' })
  const limit = Number(text(raw.limit) ?? DEFAULT_PAGE_SIZE)
  if (!(PAGE_SIZES as readonly number[]).includes(limit))
    throw new ValidationFailed('Unknown page size').withFields({ limit: `Use one of ${PAGE_SIZES.join(', ')}` })
  const pageText = text(raw.page) ?? '1'
  const page = /^\d{1,6}$/.test(pageText) ? Number(pageText) : Number.NaN
  if (!(page >= 1) || page * limit > MAX_RESULT_WINDOW)
    throw new ValidationFailed('The page is out of range').withFields({
      page: `Pages 1 to ${MAX_RESULT_WINDOW / limit} at ${limit} a page; narrow the query to see older records`,
    })
  const refresh = text(raw.refresh) ?? 'off'
  if (!(refresh in REFRESH_CHOICES))
    throw new ValidationFailed('Unknown refresh interval').withFields({
      refresh: `Use one of ${Object.keys(REFRESH_CHOICES).join(', ')}`,
    })
  return {
    q,
    window: resolveWindow(raw, now),
    categories: [...new Set(categories)] as LogCategory[],
    sort,
    page,
    limit,
    columns: columns.length ? [...new Set(columns.map((c) => resolveField(c)!.path))] : [...DEFAULT_COLUMNS],
    refresh: refresh as RefreshChoice,
  }
}

/** The filter part of a LogQuery (query, window, categories). */
export const filterOf = (
  p: Pick<ExplorerParams, 'q' | 'window' | 'categories'>,
): Omit<LogQuery, 'page' | 'limit' | 'sort'> => ({
  ...(p.q ? { q: p.q } : {}),
  from: p.window.from,
  to: p.window.to,
  ...(p.categories.length ? { categories: p.categories } : {}),
})

export interface HistogramAnswer {
  from: string
  to: string
  intervalMs: number
  /** Levels that occur in the window, most severe first. */
  levels: string[]
  buckets: HistogramBucket[]
}

const LEVEL_ORDER = ['fatal', 'error', 'warn', 'info', 'debug', 'trace']

export async function explorerHistogram(index: LogIndex, p: ExplorerParams): Promise<HistogramAnswer> {
  const intervalMs = chooseInterval(p.window)
  const buckets = await index.histogram(filterOf(p), intervalMs)
  const seen = new Set<string>()
  for (const b of buckets) for (const level of Object.keys(b.counts)) seen.add(level)
  const levels = [...seen].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
  return { from: p.window.from, to: p.window.to, intervalMs, levels, buckets }
}

const rank = (level: string) => {
  const i = LEVEL_ORDER.indexOf(level)
  return i < 0 ? LEVEL_ORDER.length : i
}

// ---------------------------------------------------------------------------------------------------------------
// The operations overview

/** Where the overview reads from; each part may be missing in a process that does not have it. */
export interface OpsSources {
  logIndex: () => Promise<LogIndex>
  channels?: LogChannels
  jobs?: JobQueue
  /** The consumer group of the pipeline's source, whose lag and pending the dashboard shows. */
  pipelineGroup: string
}

export const OVERVIEW_SECTIONS = ['traffic', 'status', 'routes', 'security', 'pipeline'] as const
export type OverviewSection = (typeof OVERVIEW_SECTIONS)[number]
export const OPS_QUEUES = [LOGS_QUEUE, ANALYTICS_QUEUE, 'maintenance'] as const
/** Routes the latency table covers (the busiest ones); each costs one percentiles query. */
export const ROUTES_SHOWN = 15

export interface RouteLatency {
  route: string
  requests: number
  errors: number
  /** Milliseconds. */
  p50: number | null
  p95: number | null
  p99: number | null
}

export interface Overview {
  from: string
  to: string
  intervalMs: number
  traffic?: {
    /** Per bucket: requests answered, and those answered 5xx. */
    buckets: { at: string; requests: number; errors: number }[]
    requests: number
    errors: number
    /** Milliseconds, over every request of the window. */
    latency: { p50: number | null; p95: number | null; p99: number | null }
  }
  status?: { code: string; count: number }[]
  routes?: RouteLatency[]
  security?: { buckets: { at: string; count: number }[]; actions: { action: string; count: number }[]; total: number }
  pipeline?: {
    /** Records per bucket by their @timestamp: what reached the index. */
    indexed: { at: string; count: number }[]
    channels: { category: LogCategory; length: number; pending: number; lag: number }[] | null
    deadLetters: number | null
    queues: ({ queue: string } & QueueCounts)[] | null
  }
  /** A section that could not be read, with the reason (the rest of the overview still answers). */
  problems: { section: OverviewSection; message: string }[]
}

/** A request is a record with an HTTP status (the access line, or the error line of a request that failed). */
export const REQUESTS_QUERY = 'http.response.status_code:*'
export const SERVER_ERRORS_QUERY = 'http.response.status_code:>=500'

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)
const ms = (ns: number | null | undefined): number | null =>
  ns === null || ns === undefined ? null : Math.round(ns / 1000) / 1000
/** A keyword value inside a query phrase: backslashes and quotes escaped. */
export const quoted = (value: string) => `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`

export async function operationsOverview(
  sources: OpsSources,
  window: TimeWindow,
  sections: readonly OverviewSection[] = OVERVIEW_SECTIONS,
): Promise<Overview> {
  const intervalMs = chooseInterval(window)
  const base = { from: window.from, to: window.to }
  const out: Overview = { from: window.from, to: window.to, intervalMs, problems: [] }
  const wanted = new Set(sections)
  const index = await sources.logIndex()
  const part = async (section: OverviewSection, fn: () => Promise<void>) => {
    if (!wanted.has(section)) return
    try {
      await fn()
    } catch (e) {
      out.problems.push({ section, message: e instanceof Error ? e.message : String(e) })
    }
  }
  await Promise.all([
    part('traffic', async () => {
      const [all, errors, latency] = await Promise.all([
        index.histogram({ ...base, q: REQUESTS_QUERY }, intervalMs),
        index.histogram({ ...base, q: SERVER_ERRORS_QUERY }, intervalMs),
        index.percentiles({ ...base, q: REQUESTS_QUERY }, 'event.duration', [50, 95, 99]),
      ])
      const errorsAt = new Map(errors.map((b) => [b.at, sum(b.counts)]))
      const buckets = all.map((b) => ({ at: b.at, requests: sum(b.counts), errors: errorsAt.get(b.at) ?? 0 }))
      out.traffic = {
        buckets,
        requests: buckets.reduce((a, b) => a + b.requests, 0),
        errors: buckets.reduce((a, b) => a + b.errors, 0),
        latency: { p50: ms(latency['50']), p95: ms(latency['95']), p99: ms(latency['99']) },
      }
    }),
    part('status', async () => {
      const terms = await index.terms({ ...base, q: REQUESTS_QUERY }, 'http.response.status_code', 30)
      out.status = terms.map((t) => ({ code: t.key, count: t.count }))
    }),
    part('routes', async () => {
      const busiest = await index.terms({ ...base, q: REQUESTS_QUERY }, 'url.route', ROUTES_SHOWN)
      out.routes = await Promise.all(
        busiest.map(async ({ key: route, count }) => {
          const q = `url.route:${quoted(route)}`
          const [p, errors] = await Promise.all([
            index.percentiles({ ...base, q }, 'event.duration', [50, 95, 99]),
            index.count({ ...base, q: `${q} AND ${SERVER_ERRORS_QUERY}` }),
          ])
          return { route, requests: count, errors, p50: ms(p['50']), p95: ms(p['95']), p99: ms(p['99']) }
        }),
      )
    }),
    part('security', async () => {
      const filter = { ...base, categories: ['security' as const] }
      const [buckets, actions] = await Promise.all([
        index.histogram(filter, intervalMs),
        index.terms(filter, 'event.action', 20),
      ])
      const series = buckets.map((b) => ({ at: b.at, count: sum(b.counts) }))
      out.security = {
        buckets: series,
        actions: actions.map((a) => ({ action: a.key, count: a.count })),
        total: series.reduce((a, b) => a + b.count, 0),
      }
    }),
    part('pipeline', async () => {
      const indexed = (await index.histogram(base, intervalMs)).map((b) => ({ at: b.at, count: sum(b.counts) }))
      const { channels, jobs } = sources
      const [channelRows, deadLetters, queues] = await Promise.all([
        channels
          ? Promise.all(
              LOG_CATEGORIES.map(async (category) => {
                const info = await channels
                  .info(channelOf(category), sources.pipelineGroup)
                  .catch(async (e: unknown) => {
                    // No pipeline has created its group yet: everything the channel holds is waiting.
                    if (!(e instanceof ChannelGroupMissing)) throw e
                    const length = await channels.length(channelOf(category))
                    return { length, pending: 0, lag: length }
                  })
                return { category, ...info }
              }),
            )
          : Promise.resolve(null),
        channels ? channels.length(DEAD_LETTER_CHANNEL) : Promise.resolve(null),
        jobs
          ? Promise.all(OPS_QUEUES.map(async (queue) => ({ queue, ...(await jobs.counts(queue)) })))
          : Promise.resolve(null),
      ])
      out.pipeline = { indexed, channels: channelRows, deadLetters, queues }
    }),
  ])
  return out
}

/** Reads `sections=traffic,routes` (absent: all). */
export function readSections(raw: unknown): OverviewSection[] {
  const names = list(raw)
  if (!names.length) return [...OVERVIEW_SECTIONS]
  const bad = names.find((n) => !(OVERVIEW_SECTIONS as readonly string[]).includes(n))
  if (bad !== undefined)
    throw new ValidationFailed('Unknown section').withFields({
      sections: `${bad.slice(0, 40)} is not one of ${OVERVIEW_SECTIONS.join(', ')}`,
    })
  return [...new Set(names)] as OverviewSection[]
}

// ---------------------------------------------------------------------------------------------------------------
// The live tail

/** Records indexed this late after their @timestamp still reach a tail; later ones are only in the explorer. */
export const TAIL_LOOKBACK_MS = 2 * MINUTE
/** The most records one poll sends; beyond it a tail shows the newest and says how many it skipped. */
export const TAIL_BATCH = 100
export const TAIL_POLL_MS = 1000

export interface TailPoll {
  records: EcsRecord[]
  /** Matches in the look-back window that were not sent (the tail could not keep up). */
  skipped: number
}

/**
 * Follows the index for new records matching a filter: each poll searches the look-back window, newest first, and
 * returns the records it has not returned before, oldest first. Records born before the tail started are not sent.
 *
 * A tail that resumes (an EventSource reconnecting with `Last-Event-ID`) starts at the newest record its previous
 * connection sent, so nothing born in between is lost; the browser drops the records it already shows by event id.
 */
export class LogTail {
  private readonly seen = new Map<string, number>()
  private readonly startedAt: number
  /** The @timestamp (ms) of the newest record sent; what a reconnecting browser sends back as Last-Event-ID. */
  private newest: number

  constructor(
    private readonly index: LogIndex,
    private readonly filter: { q?: string; categories?: LogCategory[] },
    now = Date.now(),
    resumeFrom?: number,
  ) {
    this.startedAt =
      resumeFrom === undefined || !Number.isFinite(resumeFrom)
        ? now
        : Math.min(now, Math.max(now - TAIL_LOOKBACK_MS, resumeFrom))
    this.newest = this.startedAt
  }

  /** The cursor to send as the SSE `id:` of a batch; see {@link readLastEventId}. */
  get cursor(): string {
    return String(this.newest)
  }

  async poll(now = Date.now()): Promise<TailPoll> {
    const from = Math.max(this.startedAt, now - TAIL_LOOKBACK_MS)
    const page = await this.index.search({
      ...this.filter,
      from: new Date(from).toISOString(),
      // Clocks of other hosts may run ahead: a record stamped a little in the future still shows.
      to: new Date(now + MINUTE).toISOString(),
      sort: 'desc',
      page: 1,
      limit: TAIL_BATCH,
    })
    const fresh = page.items.filter((r) => !this.seen.has(r.event.id))
    for (const r of fresh) {
      const at = Date.parse(r['@timestamp'])
      this.seen.set(r.event.id, at)
      if (at > this.newest) this.newest = at
    }
    for (const [id, at] of this.seen) if (at < from) this.seen.delete(id)
    const unseenInWindow = page.total - this.seen.size
    return { records: fresh.reverse(), skipped: Math.max(0, unseenInWindow) }
  }
}

/**
 * The resume point of a reconnecting tail from its `Last-Event-ID` header: milliseconds since the epoch as this
 * server wrote them. Anything else (absent, malformed, several values) starts a fresh tail; the look-back window
 * bounds how far back a resume reaches, so a forged value cannot ask for more than two minutes of records.
 */
export function readLastEventId(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string' || !/^\d{1,15}$/.test(header)) return undefined
  return Number(header)
}
