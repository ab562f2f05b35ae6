// Back office, observability (staff and admins): the log explorer and the operations dashboard. The explorer's table
// is rendered here from the URL (a shared link shows the same records); its histogram, the live tail and the
// operations charts are drawn in the browser (client/ops.ts) from the JSON of api/ops-routes.ts.
import type { FastifyInstance } from 'fastify'
import { type EmporiumError, EngineUnavailable, isEmporiumError } from '../../core/errors.ts'
import { getPath } from '../../log-index/fields.ts'
import { isRetryable, type LogPage } from '../../log-index/log-index.ts'
import { MAX_RESULT_WINDOW } from '../../log-index/resolve.ts'
import { type EcsRecord, LOG_CATEGORIES } from '../../logging/ecs.ts'
import {
  DEFAULT_COLUMNS,
  DEFAULT_RANGE,
  EXPLORER_COLUMNS,
  type ExplorerParams,
  filterOf,
  PAGE_SIZES,
  quoted,
  RANGE_PRESETS,
  REFRESH_CHOICES,
  readExplorerParams,
  resolveWindow,
  type TimeWindow,
} from '../observability.ts'
import { requirePermission } from '../plugins/auth.ts'
import { AdminPage, pageRoute } from './admin-shared.tsx'
import type { PagesContext } from './context.ts'
import { html, viewStateWithSession } from './render.tsx'

export const OBSERVABILITY_PATH = '/admin/observability'
const OPERATIONS_PATH = `${OBSERVABILITY_PATH}/operations`

const COLUMN_LABEL: Record<string, string> = {
  '@timestamp': 'Time (UTC)',
  'log.level': 'Level',
  'event.category': 'Category',
  'http.request.method': 'Method',
  'url.path': 'Path',
  'url.route': 'Route',
  'http.response.status_code': 'Status',
  'event.duration': 'Duration',
  'event.action': 'Action',
  'user.id': 'User',
  'client.ip': 'Client IP',
  'trace.id': 'Trace',
  'error.message': 'Error',
  message: 'Message',
}
const columnLabel = (c: string) => COLUMN_LABEL[c] ?? c

/** `2026-11-27T03:15:02.123Z` → `2026-11-27 03:15:02.123` */
const timeText = (iso: string) => iso.replace('T', ' ').replace(/Z$/, '')
/** For datetime-local inputs: `2026-11-27T03:15:02` (UTC). */
const inputTime = (iso: string) => iso.slice(0, 19)

export const durationText = (ns: number): string => {
  const ms = ns / 1e6
  if (ms < 1) return `${Math.round(ns / 1000)} µs`
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`
  return `${(ms / 1000).toFixed(2)} s`
}

function cellText(record: EcsRecord, column: string): string {
  const v = getPath(record, column)
  if (v === undefined || v === null) return ''
  if (column === '@timestamp' && typeof v === 'string') return timeText(v)
  if (column === 'event.duration' && typeof v === 'number') return durationText(v)
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

/** The explorer's URL for these parameters, with some changed (a shared link, a page, a trace). */
export function explorerUrl(p: ExplorerParams, change: Partial<Record<string, string | string[]>> = {}): string {
  const s = new URLSearchParams()
  const put = (k: string, v: string | string[] | undefined) => {
    if (v === undefined) return
    for (const one of Array.isArray(v) ? v : [v]) if (one !== '') s.append(k, one)
  }
  const base: Record<string, string | string[] | undefined> = {
    q: p.q,
    range: p.window.range,
    ...(p.window.range === 'custom' ? { from: p.window.from, to: p.window.to } : {}),
    category: p.categories,
    cols: p.columns.join(',') === DEFAULT_COLUMNS.join(',') ? undefined : p.columns.join(','),
    sort: p.sort === 'desc' ? undefined : p.sort,
    limit: p.limit === 50 ? undefined : String(p.limit),
    refresh: p.refresh === 'off' ? undefined : p.refresh,
    page: p.page === 1 ? undefined : String(p.page),
  }
  for (const [k, v] of Object.entries({ ...base, ...change })) put(k, v)
  const query = s.toString()
  return query ? `${OBSERVABILITY_PATH}?${query}` : OBSERVABILITY_PATH
}

/** The same trace, an hour either side of the record. */
const traceUrl = (p: ExplorerParams, record: EcsRecord): string | null => {
  const trace = record.trace?.id
  if (!trace) return null
  const at = Date.parse(record['@timestamp'])
  return explorerUrl(
    { ...p, categories: [], page: 1, sort: 'asc' },
    {
      q: `trace.id:${quoted(trace)}`,
      range: 'custom',
      from: new Date(at - 3_600_000).toISOString(),
      to: new Date(at + 3_600_000).toISOString(),
    },
  )
}

function Tabs({ current }: { current: 'explorer' | 'operations' }) {
  return (
    <nav aria-label="Observability" class="ops-tabs">
      <a href={OBSERVABILITY_PATH} aria-current={current === 'explorer' ? 'page' : undefined}>
        Log explorer
      </a>
      <a href={OPERATIONS_PATH} aria-current={current === 'operations' ? 'page' : undefined}>
        Operations
      </a>
    </nav>
  )
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
/** Every special character as a reference, `>` included (the renderer leaves `>` raw, which is valid but ambiguous
 * to validators): log records and query syntax are full of `>=`. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!)

function Escaped(props: { text: string; as?: 'span' | 'code' | 'pre'; class?: string }) {
  const Tag = props.as ?? 'span'
  return <Tag class={props.class} dangerouslySetInnerHTML={{ __html: escapeHtml(props.text) }} />
}

function FieldError({ id, error }: { id: string; error: string | undefined }) {
  return error ? (
    <div class="error" id={`err-${id}`}>
      <Escaped text={error} />
    </div>
  ) : null
}
const invalid = (errors: Record<string, string>, name: string) =>
  errors[name] ? { 'aria-invalid': 'true' as const, 'aria-describedby': `err-${name}` } : {}

/** The range picker shared by both pages: a preset, or custom dates (UTC), and the auto-refresh interval. */
function RangeFields(props: { window: TimeWindow; refresh: string; errors: Record<string, string> }) {
  const { window, errors } = props
  return (
    <div class="filter-grid">
      <div class="field">
        <label for="ops-range">Time range</label>
        <select id="ops-range" name="range" data-ops-range {...invalid(errors, 'range')}>
          {Object.entries(RANGE_PRESETS).map(([key, preset]) => (
            <option value={key} selected={window.range === key}>
              {preset.label}
            </option>
          ))}
          <option value="custom" selected={window.range === 'custom'}>
            Custom (from – to)
          </option>
        </select>
        <FieldError id="range" error={errors.range} />
      </div>
      {(['from', 'to'] as const).map((bound) => (
        <div class="field">
          <label for={`ops-${bound}`}>{bound === 'from' ? 'From' : 'To'} (UTC)</label>
          <input
            id={`ops-${bound}`}
            type="datetime-local"
            step="1"
            name={bound}
            value={inputTime(window[bound])}
            {...{ [`data-ops-${bound}`]: true }}
            {...invalid(errors, bound)}
          />
          <FieldError id={bound} error={errors[bound]} />
        </div>
      ))}
      <div class="field">
        <label for="ops-refresh">Auto-refresh</label>
        <select id="ops-refresh" name="refresh" data-ops-refresh>
          {Object.keys(REFRESH_CHOICES).map((r) => (
            <option value={r} selected={props.refresh === r}>
              {r === 'off' ? 'Off' : `Every ${r}`}
            </option>
          ))}
        </select>
      </div>
    </div>
  )
}

/** The form's view of what the URL asked for, even when part of it was refused. */
function draftOf(query: Record<string, unknown>, now: number): ExplorerParams {
  const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 1000) : '')
  let window: TimeWindow
  try {
    window = resolveWindow(query, now)
  } catch {
    window = resolveWindow({ range: DEFAULT_RANGE }, now)
  }
  return {
    q: str(query.q),
    window,
    categories: [],
    sort: 'desc',
    page: 1,
    limit: 50,
    columns: [...DEFAULT_COLUMNS],
    refresh: 'off',
  }
}

function ExplorerForm({ p, errors }: { p: ExplorerParams; errors: Record<string, string> }) {
  return (
    <form method="get" action={OBSERVABILITY_PATH} class="card ops-form" data-ops-form>
      <div class="field">
        <label for="ops-q">Query</label>
        <input
          id="ops-q"
          class="mono"
          type="search"
          name="q"
          value={p.q}
          maxLength={1000}
          placeholder='level:error AND url.path:/checkout* "timeout"'
          autocomplete="off"
          spellcheck={false}
          {...(errors.q
            ? { 'aria-invalid': 'true' as const, 'aria-describedby': 'err-q ops-q-help' }
            : { 'aria-describedby': 'ops-q-help' })}
        />
        <FieldError id="q" error={errors.q} />
        <p class="hint" id="ops-q-help">
          Fields and values (<code>status:500</code>, <code>level:error</code>, <code>route:"/api/v1/checkout"</code>),
          ranges (<Escaped as="code" text="status:>=500" />, <code>duration:[1s TO *]</code>), <code>AND</code>,{' '}
          <code>OR</code>, <code>NOT</code>, prefixes (<code>path:/admin*</code>) and words or "phrases" in the message.
        </p>
      </div>
      <RangeFields window={p.window} refresh={p.refresh} errors={errors} />
      <fieldset>
        <legend>Categories (none ticked: all)</legend>
        <div class="check-grid">
          {LOG_CATEGORIES.map((c) => (
            <label class="radio">
              <input type="checkbox" name="category" value={c} checked={p.categories.includes(c)} /> {c}
            </label>
          ))}
        </div>
        <FieldError id="category" error={errors.category} />
      </fieldset>
      <details class="ops-columns">
        <summary>Columns ({p.columns.length})</summary>
        <div class="check-grid">
          {EXPLORER_COLUMNS.map((c) => (
            <label class="radio">
              <input type="checkbox" name="cols" value={c} checked={p.columns.includes(c)} /> {columnLabel(c)}
            </label>
          ))}
        </div>
        <FieldError id="cols" error={errors.cols} />
      </details>
      <div class="filter-grid">
        <div class="field">
          <label for="ops-sort">Order</label>
          <select id="ops-sort" name="sort">
            <option value="desc" selected={p.sort === 'desc'}>
              Newest first
            </option>
            <option value="asc" selected={p.sort === 'asc'}>
              Oldest first
            </option>
          </select>
        </div>
        <div class="field">
          <label for="ops-limit">Per page</label>
          <select id="ops-limit" name="limit">
            {PAGE_SIZES.map((n) => (
              <option value={String(n)} selected={p.limit === n}>
                {n}
              </option>
            ))}
          </select>
        </div>
      </div>
      <FieldError id="page" error={errors.page} />
      <button class="btn" type="submit">
        Search logs
      </button>
    </form>
  )
}

function Results({ p, page }: { p: ExplorerParams; page: LogPage }) {
  const pages = Math.max(1, Math.ceil(Math.min(page.total, MAX_RESULT_WINDOW) / p.limit))
  const cols = p.columns
  return (
    <>
      <p class="meta" data-ops-total={String(page.total)}>
        <strong>{page.total.toLocaleString('en-US')}</strong> {page.total === 1 ? 'record' : 'records'} from{' '}
        <time dateTime={p.window.from}>{timeText(p.window.from)}</time> to{' '}
        <time dateTime={p.window.to}>{timeText(p.window.to)}</time> UTC
        {page.total > MAX_RESULT_WINDOW ? ` (the first ${MAX_RESULT_WINDOW.toLocaleString('en-US')} can be paged)` : ''}
      </p>
      {page.items.length === 0 ? (
        <div class="card empty" data-ops-empty>
          <p>No records match this query in this window.</p>
          <p class="hint">Widen the time range, untick categories, or simplify the query.</p>
        </div>
      ) : (
        <div class="table-wrap scroll">
          <table class="ops-table">
            <caption class="visually-hidden">Log records, {p.sort === 'desc' ? 'newest' : 'oldest'} first</caption>
            <thead>
              <tr>
                {cols.map((c) => (
                  <th scope="col" class={c === 'event.duration' || c === 'http.response.status_code' ? 'num' : ''}>
                    {columnLabel(c)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {page.items.map((r) => {
                const trace = traceUrl(p, r)
                return (
                  <>
                    <tr class={`ops-row row-${r.log.level}`} data-event-id={r.event.id}>
                      {cols.map((c) => (
                        <td
                          class={
                            c === 'message' || c === 'error.message'
                              ? 'ops-message'
                              : c === 'event.duration' || c === 'http.response.status_code'
                                ? 'num'
                                : ''
                          }
                        >
                          {c === 'log.level' ? (
                            <span class={`level level-${r.log.level}`}>{r.log.level}</span>
                          ) : (
                            <Escaped text={cellText(r, c)} />
                          )}
                        </td>
                      ))}
                    </tr>
                    <tr class="ops-doc">
                      <td colspan={cols.length}>
                        <details>
                          <summary>
                            Document <code>{r.event.id}</code>
                          </summary>
                          {trace ? (
                            <p>
                              <a href={trace} data-trace-link>
                                Records of the same trace
                              </a>
                            </p>
                          ) : null}
                          <Escaped as="pre" class="ops-json" text={JSON.stringify(r, null, 2)} />
                        </details>
                      </td>
                    </tr>
                  </>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
      {pages > 1 ? (
        <nav class="pager" aria-label="Pages of records">
          {p.page > 1 ? (
            <a class="btn secondary small" rel="prev" href={explorerUrl(p, { page: String(p.page - 1) })}>
              Previous
            </a>
          ) : null}
          <span class="meta">
            Page {p.page} of {pages}
          </span>
          {p.page < pages ? (
            <a class="btn secondary small" rel="next" href={explorerUrl(p, { page: String(p.page + 1) })}>
              Next
            </a>
          ) : null}
        </nav>
      ) : null}
    </>
  )
}

const apiQuery = (p: ExplorerParams) => {
  const s = new URLSearchParams()
  if (p.q) s.set('q', p.q)
  s.set('range', p.window.range)
  if (p.window.range === 'custom') {
    s.set('from', p.window.from)
    s.set('to', p.window.to)
  }
  for (const c of p.categories) s.append('category', c)
  return s
}

function OperationsView({ window, refresh }: { window: TimeWindow; refresh: string }) {
  const s = new URLSearchParams({ range: window.range })
  if (window.range === 'custom') {
    s.set('from', window.from)
    s.set('to', window.to)
  }
  const chart = (id: string, title: string, description: string) => (
    <figure class="card ops-chart-card">
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <div class="ops-chart" data-ops-chart={id}>
        <canvas role="img" aria-label={description} />
      </div>
      <p class="hint" data-chart-status={id}>
        Loading…
      </p>
    </figure>
  )
  const table = (id: string, title: string, headings: string[], numeric: number[] = []) => (
    <section class="card ops-table-card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <div class="table-wrap scroll">
        <table class="ops-table">
          <thead>
            <tr>
              {headings.map((h, i) => (
                <th scope="col" class={numeric.includes(i) ? 'num' : ''}>
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody data-ops-table={id}>
            <tr>
              <td colspan={headings.length} class="meta">
                Loading…
              </td>
            </tr>
          </tbody>
        </table>
      </div>
    </section>
  )
  return (
    <div
      data-ops-overview={`/api/v1/ops/overview?${s}`}
      data-explorer={OBSERVABILITY_PATH}
      data-refresh-ms={String(REFRESH_CHOICES[refresh as keyof typeof REFRESH_CHOICES] ?? 0)}
      aria-busy="true"
    >
      <noscript>
        <p class="notice error">The operations dashboard draws its charts with JavaScript; turn it on to see them.</p>
      </noscript>
      <p class="notice error" data-ops-problem hidden />
      <div class="stats ops-stats">
        {[
          ['requests', 'Requests'],
          ['errorRate', 'Server errors (5xx)'],
          ['p50', 'Latency p50'],
          ['p95', 'Latency p95'],
          ['p99', 'Latency p99'],
          ['security', 'Security events'],
          ['deadLetters', 'Dead letters'],
        ].map(([key, label]) => (
          <div class="card stat">
            <strong data-ops-stat={key}>…</strong> {label}
          </div>
        ))}
      </div>
      <div class="ops-grid">
        {chart('requests', 'Request rate (per second)', 'Requests per second over the window')}
        {chart('errors', 'Error rate (% of requests answered 5xx)', 'Share of server errors over the window')}
        {chart('status', 'Status codes', 'Requests per HTTP status code')}
        {chart(
          'security',
          'Security events',
          'Failed sign-ins, rate-limit hits, CSRF rejections and denials over time',
        )}
        {chart('indexed', 'Pipeline throughput (records indexed per second)', 'Records that reached the log index')}
        {chart('backlog', 'Pipeline backlog per channel', 'Entries waiting (lag) and in flight (pending) per channel')}
      </div>
      {table(
        'routes',
        'Latency by route (busiest first)',
        ['Route', 'Requests', '5xx', 'p50', 'p95', 'p99'],
        [1, 2, 3, 4, 5],
      )}
      {table('slowest', 'Slowest routes (by p95)', ['Route', 'p95', 'p99', 'Requests'], [1, 2, 3])}
      <div class="ops-grid">
        {table('statuses', 'Status codes', ['Status', 'Requests'], [1])}
        {table('actions', 'Security events by kind', ['Event', 'Count'], [1])}
        {table('channels', 'Log channels', ['Channel', 'Held', 'Waiting (lag)', 'In flight (pending)'], [1, 2, 3])}
        {table(
          'queues',
          'Job queues',
          ['Queue', 'Waiting', 'Active', 'Delayed', 'Dead letters', 'Completed (kept)'],
          [1, 2, 3, 4, 5],
        )}
      </div>
    </div>
  )
}

export async function adminObservabilityPages(app: FastifyInstance, ctx: PagesContext) {
  const scripts = ['ops.js']

  app.get(OBSERVABILITY_PATH, pageRoute, async (req, reply) => {
    const user = requirePermission(req, 'ops:read')
    const view = await viewStateWithSession(ctx, req)
    const query = req.query as Record<string, unknown>
    const now = Date.now()
    let p: ExplorerParams
    let errors: Record<string, string> = {}
    let page: LogPage | null = null
    let problem: string | null = null
    try {
      p = readExplorerParams(query, now)
    } catch (e) {
      if (!isEmporiumError(e) || e.statusCode !== 400) throw e
      p = draftOf(query, now)
      errors = (e as EmporiumError).fields ?? { q: e.message }
    }
    if (!Object.keys(errors).length) {
      try {
        if (!ctx.ops) throw new EngineUnavailable('The log index')
        const index = await ctx.ops.logIndex()
        page = await index.search({ ...filterOf(p), sort: p.sort, page: p.page, limit: p.limit })
      } catch (e) {
        if (isEmporiumError(e) && e.statusCode === 400) errors = e.fields ?? { q: e.message }
        else if (isEmporiumError(e) || isRetryable(e))
          problem = 'The log index is not available right now; retry shortly.'
        else throw e
      }
    }
    const status = Object.keys(errors).length ? 400 : problem ? 503 : 200
    const histogramSrc = `/api/v1/ops/logs/histogram?${apiQuery(p)}`
    const tailQuery = new URLSearchParams()
    if (p.q) tailQuery.set('q', p.q)
    for (const c of p.categories) tailQuery.append('category', c)
    return html(
      reply,
      <AdminPage
        view={view}
        user={user}
        section={OBSERVABILITY_PATH}
        title="Log explorer"
        description="Search the shop's logs."
        scripts={scripts}
      >
        <Tabs current="explorer" />
        <ExplorerForm p={p} errors={errors} />
        {problem ? (
          <p class="notice error" role="alert">
            {problem}
          </p>
        ) : null}
        <section class="card ops-histogram" aria-labelledby="ops-histogram-title">
          <h2 id="ops-histogram-title">Volume by level</h2>
          <div
            class="ops-chart"
            data-ops-histogram={Object.keys(errors).length ? undefined : histogramSrc}
            data-explorer={explorerUrl(p, { range: undefined, from: undefined, to: undefined, page: undefined })}
          >
            <canvas role="img" aria-label="Number of log records over time, stacked by level" />
          </div>
          <p class="hint" data-chart-status="histogram">
            {Object.keys(errors).length ? 'Fix the query to see the histogram.' : 'Loading…'}
          </p>
          <p class="hint">Drag across the chart to zoom into that time.</p>
        </section>
        <section
          class="ops-results"
          aria-labelledby="ops-results-title"
          data-refresh-region="results"
          data-refresh-ms={String(REFRESH_CHOICES[p.refresh])}
        >
          <h2 id="ops-results-title">Records</h2>
          {page ? <Results p={p} page={page} /> : null}
        </section>
        <section
          class="card ops-tail"
          aria-labelledby="ops-tail-title"
          data-ops-tail={`/api/v1/ops/logs/tail?${tailQuery}`}
          hidden
        >
          <h2 id="ops-tail-title">Live tail</h2>
          <p class="hint">New records matching the query and categories above, as they are indexed.</p>
          <button class="btn secondary" type="button" data-tail-toggle>
            Start live tail
          </button>
          <p class="meta" role="status" data-tail-status />
          <div class="table-wrap scroll">
            <table class="ops-table">
              <thead>
                <tr>
                  <th scope="col">Time (UTC)</th>
                  <th scope="col">Level</th>
                  <th scope="col">Category</th>
                  <th scope="col" class="num">
                    Status
                  </th>
                  <th scope="col">Method</th>
                  <th scope="col">Path</th>
                  <th scope="col">Message</th>
                </tr>
              </thead>
              <tbody data-tail-rows />
            </table>
          </div>
        </section>
      </AdminPage>,
      status,
    )
  })

  app.get(OPERATIONS_PATH, pageRoute, async (req, reply) => {
    const user = requirePermission(req, 'ops:read')
    const view = await viewStateWithSession(ctx, req)
    const query = req.query as Record<string, unknown>
    let window: TimeWindow
    let errors: Record<string, string> = {}
    try {
      window = resolveWindow(query)
    } catch (e) {
      if (!isEmporiumError(e) || e.statusCode !== 400) throw e
      errors = e.fields ?? { range: e.message }
      window = resolveWindow({ range: DEFAULT_RANGE })
    }
    const refresh = typeof query.refresh === 'string' && query.refresh in REFRESH_CHOICES ? query.refresh : 'off'
    return html(
      reply,
      <AdminPage
        view={view}
        user={user}
        section={OBSERVABILITY_PATH}
        title="Operations"
        description="Traffic, errors, latency, security events and the log pipeline."
        scripts={scripts}
      >
        <Tabs current="operations" />
        <form method="get" action={OPERATIONS_PATH} class="card ops-form" data-ops-form>
          <RangeFields window={window} refresh={refresh} errors={errors} />
          <button class="btn" type="submit">
            Show
          </button>
        </form>
        <OperationsView window={window} refresh={refresh} />
      </AdminPage>,
      Object.keys(errors).length ? 400 : 200,
    )
  })
}
