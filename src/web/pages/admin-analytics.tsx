// Back office, analytics (analysts and admins): a query builder with a chart and a table, CSV export, saved queries
// per user, the funnel and cohort retention of the chosen range, and the read-only raw console. Everything goes through
// the AnalyticsStore the JSON API uses (api/analytics-routes.ts), with the same permission and the same checks.
import type { FastifyInstance } from 'fastify'
import type { AnalyticsStore } from '../../analytics/analytics-store.ts'
import { majorUnits, minorDigits } from '../../analytics/commands.ts'
import { DAY_MS, dayOf, daysBetween, monthOf, parseDay, weekOf } from '../../analytics/events.ts'
import {
  type AnalyticsResult,
  type AnalyticsRow,
  type CohortResult,
  DIMENSIONS,
  type Dimension,
  type DimensionValue,
  type FunnelResult,
  type FunnelStep,
  MEASURES,
  type Measure,
  QUERY_LIMITS,
  type RawResult,
  type RawValue,
} from '../../analytics/query.ts'
import type { SavedQuery } from '../../commerce/model.ts'
import { cleanText } from '../../commerce/validation.ts'
import { toCsv } from '../../core/csv.ts'
import { type EmporiumError, EngineUnavailable, isEmporiumError, NotFound } from '../../core/errors.ts'
import { newId } from '../../core/ids.ts'
import { MONEY_MEASURES } from '../api/analytics-routes.ts'
import { requirePermission } from '../plugins/auth.ts'
import { AdminPage, dateOnly, ID_RE, pageRoute } from './admin-shared.tsx'
import { Chart, type ChartDatum } from './analytics-chart.tsx'
import {
  type AnalyticsForm,
  DIMENSION_LABEL,
  describeQuery,
  formFieldOf,
  formParams,
  GROUPS,
  MEASURE_LABEL,
  NONE,
  type Params,
  paramsOf,
  RANGE_LABEL,
  RANGE_PRESETS,
  type RangeChoice,
  type ReadForm,
  readForm,
  TIME_BUCKETS,
  type TimeBucket,
} from './analytics-form.ts'
import { CsrfInput, money } from './components.tsx'
import type { PagesContext, Reply, Req, ViewState } from './context.ts'
import { type FormBody, field, flash, html, viewStateWithSession } from './render.tsx'

const PATH = '/admin/analytics'
/** Saved queries an analyst may keep. */
export const MAX_SAVED_QUERIES = 50
const NAME_MAX = 80
/** Rows the raw console shows; more are reported as truncated. */
const RAW_ROWS = 500
const RAW_TIMEOUT_MS = 10_000
/** Product names looked up for a result (the catalog is read one product at a time). */
const NAMED_PRODUCTS = 500

const RATES: ReadonlySet<Measure> = new Set(['conversion_rate', 'refund_rate'])
/** Measures whose missing time bucket means zero (sums and counts), unlike averages and rates. */
const ZERO_WHEN_ABSENT: ReadonlySet<Measure> = new Set([
  'revenue',
  'gross_revenue',
  'refunds',
  'orders',
  'units',
  'sessions',
])

const STEP_LABEL: Record<FunnelStep, string> = {
  product_view: 'Viewed a product',
  add_to_cart: 'Added to cart',
  checkout_started: 'Started checkout',
  order_paid: 'Paid',
}

const percent = (v: number | null): string => (v === null ? '—' : `${(v * 100).toFixed(1)}%`)
const count = (v: number): string => v.toLocaleString('en-US')

/** How a measure's value reads: money with the store's currency, rates as percentages, counts with separators. */
export const measureText = (m: Measure, currency: string) => (v: number | null | undefined) =>
  v === null || v === undefined
    ? '—'
    : MONEY_MEASURES.has(m)
      ? money(v, currency)
      : RATES.has(m)
        ? percent(v)
        : count(v)

/** Names of what the dimension values point at: products by id, categories by slug. */
interface Names {
  product: Map<string, string>
  category: Map<string, string>
}

const dimensionText = (d: Dimension, v: DimensionValue | undefined, names: Names): string => {
  if (v === null || v === undefined) return d === 'coupon' ? '(no coupon)' : '(none)'
  if (d === 'product') return names.product.get(v) ?? v
  if (d === 'category') return names.category.get(v) ?? v
  if (d === 'week') return `Week of ${v}`
  return v
}

/** Every bucket the range touches, in order: the x axis of a time chart. */
export function timeBuckets(bucket: TimeBucket, fromMs: number, toMs: number): string[] {
  const keyOf = bucket === 'day' ? (ms: number) => dayOf(ms) : bucket === 'week' ? weekOf : monthOf
  return [...new Set(daysBetween(fromMs, toMs).map((d) => keyOf(parseDay(d)!)))]
}

interface ChartPlan {
  kind: 'line' | 'bar'
  title: string
  data: ChartDatum[]
  format: (v: number) => string
  formatTick: (v: number) => string
}

/** An axis tick of money: whole major units without their zero cents ($2,500 rather than $2,500.00). */
const moneyTick = (currency: string) => {
  const unit = 10 ** minorDigits(currency)
  const whole = new Intl.NumberFormat('en-US', { style: 'currency', currency, maximumFractionDigits: 0 })
  return (v: number) => (v % unit === 0 ? whole.format(v / unit) : money(v, currency))
}

/** A line of the first measure over time, or bars per group; nothing for totals or two dimensions. */
function chartOf(result: AnalyticsResult, form: AnalyticsForm, limit: number, names: Names): ChartPlan | null {
  const [measure] = result.measures
  if (!measure || result.rows.length === 0 || result.dimensions.length !== 1) return null
  const dim = result.dimensions[0]!
  const text = measureText(measure, result.currency)
  const format = (v: number) => text(v)
  const formatTick = MONEY_MEASURES.has(measure) ? moneyTick(result.currency) : format
  const title = `${MEASURE_LABEL[measure]} by ${DIMENSION_LABEL[dim].toLowerCase()}`
  const numberIn = (row: AnalyticsRow) => {
    const v = row[measure]
    return typeof v === 'number' ? v : null
  }
  if (TIME_BUCKETS.includes(dim as TimeBucket)) {
    const byKey = new Map(result.rows.map((r) => [String(r[dim]), numberIn(r)]))
    const complete = result.rows.length < limit
    const fromMs = parseDay(form.from) ?? 0
    const toMs = (parseDay(form.to) ?? 0) + DAY_MS
    const data = timeBuckets(dim as TimeBucket, fromMs, toMs).map((key) => ({
      label: dim === 'week' ? `Week of ${key}` : key,
      value: byKey.has(key) ? byKey.get(key)! : complete && ZERO_WHEN_ABSENT.has(measure) ? 0 : null,
    }))
    return { kind: 'line', title, data, format, formatTick }
  }
  const data = result.rows.map((r) => ({
    label: dimensionText(dim, r[dim] as DimensionValue, names),
    value: numberIn(r),
  }))
  return { kind: 'bar', title, data, format, formatTick }
}

/** Outcome of a store call: a value, or a refusal or outage people can read; bugs still propagate. */
type Attempt<T> = { value: T; error?: undefined } | { value?: undefined; error: EmporiumError }

async function attempt<T>(fn: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { value: await fn() }
  } catch (e) {
    if (
      isEmporiumError(e) &&
      (e.code === 'EMP_UNAVAILABLE' || (e.statusCode < 500 && ![401, 403].includes(e.statusCode)))
    )
      return { error: e }
    throw e
  }
}

export interface RawState {
  statement: string
  result?: RawResult
  error?: EmporiumError
}

interface PageState {
  read: ReadForm
  saved?: SavedQuery | undefined
  raw?: RawState
  save?: { name: string; error?: string }
}

const rawText = (v: RawValue): string => (v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v))

function FieldError({ id, error }: { id: string; error: string | undefined }) {
  return error ? (
    <div class="error" id={`err-${id}`}>
      {error}
    </div>
  ) : null
}

const invalid = (errors: Record<string, string>, name: string) =>
  errors[name] ? { 'aria-invalid': 'true' as const, 'aria-describedby': `err-${name}` } : {}

function QueryBuilder({
  form,
  errors,
  categories,
}: {
  form: AnalyticsForm
  errors: Record<string, string>
  categories: ViewState['categories']
}) {
  return (
    <form method="get" action={PATH} class="card analytics-builder" aria-labelledby="builder-title">
      <h2 id="builder-title">Query</h2>
      <fieldset {...(errors.measures ? { 'aria-describedby': 'err-measures' } : {})}>
        <legend>Measures</legend>
        <FieldError id="measures" error={errors.measures} />
        <div class="check-grid">
          {MEASURES.map((m) => (
            <label class="radio">
              <input type="checkbox" name="m" value={m} checked={form.measures.includes(m)} />
              {MEASURE_LABEL[m]}
            </label>
          ))}
        </div>
        <p class="hint">The chart shows the first measure ticked.</p>
      </fieldset>
      <fieldset {...(errors.by ? { 'aria-describedby': 'err-by' } : {})}>
        <legend>Group by</legend>
        <div class="field">
          <label for="q-time">Time</label>
          <select id="q-time" name="time" {...invalid(errors, 'time')}>
            <option value="" selected={form.time === ''}>
              No time breakdown
            </option>
            {TIME_BUCKETS.map((t) => (
              <option value={t} selected={form.time === t}>
                {DIMENSION_LABEL[t]}
              </option>
            ))}
          </select>
          <FieldError id="time" error={errors.time} />
        </div>
        <FieldError id="by" error={errors.by} />
        <div class="check-grid">
          {GROUPS.map((g) => (
            <label class="radio">
              <input type="checkbox" name="by" value={g} checked={form.by.includes(g)} />
              {DIMENSION_LABEL[g]}
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend>Filters</legend>
        <p class="hint">
          Values separated by commas; <code>{NONE}</code> matches no value (an order without a coupon). Empty: all.
        </p>
        <div class="filter-grid">
          {GROUPS.map((g) => (
            <div class="field">
              <label for={`q-f-${g}`}>{DIMENSION_LABEL[g]}</label>
              <input
                id={`q-f-${g}`}
                type="text"
                name={`f_${g}`}
                value={form.filters[g] ?? ''}
                maxLength={1000}
                autocomplete="off"
                list={g === 'category' ? 'category-slugs' : g === 'channel' ? 'channels' : undefined}
                placeholder={g === 'country' ? 'US, GB' : g === 'product' ? 'product id' : undefined}
                {...invalid(errors, `f_${g}`)}
              />
              <FieldError id={`f_${g}`} error={errors[`f_${g}`]} />
            </div>
          ))}
        </div>
        <datalist id="category-slugs">
          {categories.map((c) => (
            <option value={c.slug}>{c.name}</option>
          ))}
        </datalist>
        <datalist id="channels">
          <option value="web">Pages</option>
          <option value="api">API</option>
        </datalist>
      </fieldset>
      <fieldset>
        <legend>Time range (UTC)</legend>
        <div class="filter-grid">
          <div class="field">
            <label for="q-range">Range</label>
            <select id="q-range" name="range" data-range-preset {...invalid(errors, 'range')}>
              {(Object.keys(RANGE_LABEL) as RangeChoice[]).map((r) => (
                <option value={r} selected={form.range === r} data-days={r === 'custom' ? undefined : RANGE_PRESETS[r]}>
                  {RANGE_LABEL[r]}
                </option>
              ))}
            </select>
            <FieldError id="range" error={errors.range} />
          </div>
          <div class="field">
            <label for="q-from">From</label>
            <input id="q-from" type="date" name="from" value={form.from} data-range-from {...invalid(errors, 'from')} />
            <FieldError id="from" error={errors.from} />
          </div>
          <div class="field">
            <label for="q-to">To (included)</label>
            <input id="q-to" type="date" name="to" value={form.to} data-range-to {...invalid(errors, 'to')} />
            <FieldError id="to" error={errors.to} />
          </div>
        </div>
        <p class="hint">
          The dates apply when the range is Custom dates; a range spans at most {QUERY_LIMITS.maxRangeDays} days.
        </p>
      </fieldset>
      <fieldset>
        <legend>Order and size</legend>
        <div class="filter-grid">
          <div class="field">
            <label for="q-sort">Sort by</label>
            <select id="q-sort" name="sort" {...invalid(errors, 'sort')}>
              <option value="" selected={form.sort === ''}>
                The groups, in order
              </option>
              {[...MEASURES, ...DIMENSIONS].map((s) => (
                <option value={s} selected={form.sort === s}>
                  {(MEASURE_LABEL as Record<string, string>)[s] ?? DIMENSION_LABEL[s as Dimension]}
                </option>
              ))}
            </select>
            <FieldError id="sort" error={errors.sort} />
          </div>
          <div class="field">
            <label for="q-dir">Direction</label>
            <select id="q-dir" name="dir">
              <option value="asc" selected={form.dir === 'asc'}>
                Ascending
              </option>
              <option value="desc" selected={form.dir === 'desc'}>
                Descending
              </option>
            </select>
          </div>
          <div class="field">
            <label for="q-limit">Rows at most</label>
            <input
              id="q-limit"
              type="number"
              name="limit"
              value={form.limit}
              min={1}
              max={QUERY_LIMITS.maxLimit}
              step={1}
              inputMode="numeric"
              {...invalid(errors, 'limit')}
            />
            <FieldError id="limit" error={errors.limit} />
          </div>
        </div>
      </fieldset>
      <button class="btn" type="submit">
        Run query
      </button>
    </form>
  )
}

function ResultTable({ result, names }: { result: AnalyticsResult; names: Names }) {
  const text = Object.fromEntries(result.measures.map((m) => [m, measureText(m, result.currency)]))
  return (
    <div class="table-wrap scroll">
      <table class="analytics-result">
        <caption class="visually-hidden">Query result, one row per group</caption>
        <thead>
          <tr>
            {result.dimensions.map((d) => (
              <th scope="col">{DIMENSION_LABEL[d]}</th>
            ))}
            {result.measures.map((m) => (
              <th scope="col" class="num">
                {MEASURE_LABEL[m]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {result.rows.map((row) => (
            <tr>
              {result.dimensions.map((d, i) =>
                i === 0 ? (
                  <th scope="row">{dimensionText(d, row[d] as DimensionValue, names)}</th>
                ) : (
                  <td>{dimensionText(d, row[d] as DimensionValue, names)}</td>
                ),
              )}
              {result.measures.map((m) => (
                <td class="num">{text[m]!(row[m] as number | null)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

function ResultSection(props: {
  form: AnalyticsForm
  result: AnalyticsResult
  names: Names
  limit: number
  csrf: string
  save: PageState['save']
  saved: SavedQuery | undefined
}) {
  const { form, result, names, limit } = props
  const search = formParams(form).toString()
  const chart = chartOf(result, form, limit, names)
  const rows = result.rows.length
  return (
    <section class="analytics-section" aria-labelledby="result-title">
      <h2 id="result-title">{describeQuery(form)}</h2>
      <p class="meta" aria-live="polite">
        {form.from === form.to ? form.from : `${form.from} to ${form.to}`} · {rows} {rows === 1 ? 'row' : 'rows'}
        {rows >= limit ? ` (the first ${limit}: raise the limit or narrow the query for the rest)` : ''}
      </p>
      {rows === 0 ? (
        <div class="card">
          <p>No data matches this query in this range.</p>
        </div>
      ) : (
        <>
          {chart ? (
            <Chart id="result-chart" {...chart} />
          ) : (
            <p class="meta">
              {result.dimensions.length === 0
                ? 'Totals over the range; group by a dimension for a chart.'
                : 'The chart shows one dimension at a time; the table has every group.'}
            </p>
          )}
          <ResultTable result={result} names={names} />
        </>
      )}
      <div class="result-actions">
        <a class="btn secondary" href={`${PATH}/export.csv?${search}`} download>
          Download CSV
        </a>
        <form method="post" action={`${PATH}/saved`} class="save-form">
          <CsrfInput token={props.csrf} />
          <input type="hidden" name="query" value={search} />
          <div class="field">
            <label for="save-name">Save this query as</label>
            <input
              id="save-name"
              type="text"
              name="name"
              required
              maxLength={NAME_MAX}
              autocomplete="off"
              value={props.save?.name ?? props.saved?.name ?? ''}
              {...invalid(props.save?.error ? { name: props.save.error } : {}, 'name')}
            />
            <FieldError id="name" error={props.save?.error} />
          </div>
          <button class="btn secondary" type="submit">
            Save query
          </button>
        </form>
      </div>
    </section>
  )
}

function SavedList({
  saved,
  current,
  csrf,
  back,
}: {
  saved: SavedQuery[]
  current: string | undefined
  csrf: string
  back: string
}) {
  return (
    <section class="card saved-queries" aria-labelledby="saved-title">
      <h2 id="saved-title">Saved queries</h2>
      {saved.length === 0 ? (
        <p class="meta">None yet: run a query, then save it under a name.</p>
      ) : (
        <ul>
          {saved.map((s) => (
            <li>
              <a
                href={`${PATH}?saved=${encodeURIComponent(s.id)}`}
                aria-current={s.id === current ? 'true' : undefined}
              >
                {s.name}
              </a>
              <span class="meta"> saved {dateOnly(s.updatedAt)}</span>
              <form
                method="post"
                action={`${PATH}/saved/${encodeURIComponent(s.id)}/delete`}
                class="inline-form"
                data-confirm={`Delete the saved query “${s.name}”?`}
              >
                <CsrfInput token={csrf} />
                <input type="hidden" name="query" value={back} />
                <button class="link-button" type="submit">
                  Delete<span class="visually-hidden"> {s.name}</span>
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

function FunnelTable({ funnel }: { funnel: FunnelResult }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="visually-hidden">Sessions reaching each step of the funnel</caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col" class="num">
              Sessions
            </th>
            <th scope="col" class="num">
              Of the first step
            </th>
            <th scope="col" class="num">
              Of the step before
            </th>
          </tr>
        </thead>
        <tbody>
          {funnel.steps.map((s, i) => (
            <tr>
              <th scope="row">{STEP_LABEL[s.step]}</th>
              <td class="num">{count(s.sessions)}</td>
              <td class="num">{percent(s.fromStart)}</td>
              <td class="num">{i === 0 ? '—' : percent(s.fromPrevious)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

function CohortTable({ cohorts }: { cohorts: CohortResult }) {
  if (cohorts.cohorts.length === 0) return <p class="meta">No customer paid for a first order in these months.</p>
  const months = Math.max(...cohorts.cohorts.map((c) => c.active.length))
  return (
    <div class="table-wrap">
      <table class="cohorts">
        <caption class="visually-hidden">
          Customers by the month of their first paid order, and the share who paid again in each later month
        </caption>
        <thead>
          <tr>
            <th scope="col">First order</th>
            <th scope="col" class="num">
              Customers
            </th>
            {Array.from({ length: months }, (_, k) => (
              <th scope="col" class="num">
                {k === 0 ? 'Month 0' : `+${k}`}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {cohorts.cohorts.map((c) => (
            <tr>
              <th scope="row">{c.cohort}</th>
              <td class="num">{count(c.customers)}</td>
              {Array.from({ length: months }, (_, k) =>
                k < c.active.length ? (
                  <td class="num">
                    {percent(c.retention[k] ?? 0)} <span class="meta">({count(c.active[k] ?? 0)})</span>
                  </td>
                ) : (
                  <td class="num" />
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

function RawConsole({ raw, csrf, search }: { raw: RawState | undefined; csrf: string; search: string }) {
  const error = raw?.error
  const message = error
    ? error.code === 'EMP_QUERY_TIMEOUT'
      ? error.message
      : error.code === 'EMP_VALIDATION'
        ? (error.fields?.statement ?? error.message)
        : error.message
    : undefined
  return (
    <section class="analytics-section" id="raw-console" aria-labelledby="raw-title">
      <h2 id="raw-title">Raw console</h2>
      <form method="post" action={`${PATH}/raw${search ? `?${search}` : ''}#raw-console`} class="card">
        <CsrfInput token={csrf} />
        <div class="field">
          <label for="raw-statement">One read-only statement</label>
          <textarea
            id="raw-statement"
            name="statement"
            rows={5}
            required
            maxLength={QUERY_LIMITS.maxStatementLength}
            spellcheck={false}
            class="code"
            aria-describedby={message ? 'raw-hint err-statement' : 'raw-hint'}
            aria-invalid={message ? 'true' : undefined}
          >
            {raw?.statement ?? ''}
          </textarea>
          <div class="hint" id="raw-hint">
            SQL on DuckDB (a CQL SELECT on Cassandra) over the tables <code>events</code>, <code>order_lines</code> and{' '}
            <code>refund_lines</code>; at most {RAW_ROWS} rows and {RAW_TIMEOUT_MS / 1000} s, no files or network.
          </div>
          {message ? (
            <div class="error" id="err-statement" role="alert">
              {error?.code === 'EMP_QUERY_REFUSED'
                ? 'Refused: '
                : error?.code === 'EMP_QUERY_TIMEOUT'
                  ? 'Timed out: '
                  : ''}
              {message}
            </div>
          ) : null}
        </div>
        <button class="btn secondary" type="submit">
          Run statement
        </button>
      </form>
      {raw?.result ? (
        <>
          <p class="meta" aria-live="polite">
            {raw.result.rows.length} {raw.result.rows.length === 1 ? 'row' : 'rows'}
            {raw.result.truncated ? ` (the first ${RAW_ROWS}; there are more)` : ''}
          </p>
          <div class="table-wrap">
            <table class="raw-result">
              <caption class="visually-hidden">Rows of the statement</caption>
              <thead>
                <tr>
                  {raw.result.columns.map((c) => (
                    <th scope="col">{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {raw.result.rows.map((r) => (
                  <tr>
                    {r.map((v) => (
                      <td class={v === null ? 'null' : typeof v === 'number' ? 'num' : undefined}>{rawText(v)}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  )
}

/** Reads a whole number of products by id, a bounded number of them, a few at a time. */
async function productNames(ctx: PagesContext, ids: Iterable<string>): Promise<Map<string, string>> {
  const wanted = [...new Set(ids)].slice(0, NAMED_PRODUCTS)
  const names = new Map<string, string>()
  for (let i = 0; i < wanted.length; i += 50) {
    const found = await Promise.all(wanted.slice(i, i + 50).map((id) => ctx.shop.store.getProductById(id)))
    for (const p of found) if (p) names.set(p.id, p.name)
  }
  return names
}

async function namesFor(ctx: PagesContext, result: AnalyticsResult | undefined, view: ViewState): Promise<Names> {
  const category = new Map(view.categories.map((c) => [c.slug, c.name]))
  if (!result?.dimensions.includes('product')) return { product: new Map(), category }
  const ids = result.rows.flatMap((r) => (typeof r.product === 'string' ? [r.product] : []))
  return { product: await productNames(ctx, ids), category }
}

/** The months [from, to) of the cohort table: every month the range touches. */
function cohortRange(form: AnalyticsForm): { from: string; to: string } {
  const last = new Date(`${form.to}T00:00:00Z`)
  const next = new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth() + 1, 1))
  return { from: `${form.from.slice(0, 7)}-01T00:00:00Z`, to: `${next.toISOString().slice(0, 10)}T00:00:00Z` }
}

/** Reads a saved query's string, or the request's own fields. */
const savedParams = (saved: SavedQuery): Params => paramsOf(saved.query)

export async function adminAnalyticsPages(app: FastifyInstance, ctx: PagesContext) {
  const today = () => dayOf(ctx.shop.clock.now().getTime())
  const openStore = async (): Promise<AnalyticsStore> => {
    if (!ctx.analytics) throw new EngineUnavailable('The analytics store')
    return ctx.analytics()
  }

  /** Runs what the page shows and renders it; refusals become messages beside their fields, never a 500. */
  const render = async (req: Req, reply: Reply, state: PageState, status = 200) => {
    const user = requirePermission(req, 'analytics:read')
    const view = await viewStateWithSession(ctx, req)
    const { form } = state.read
    const errors = { ...state.read.errors }
    const store = await attempt(openStore)
    let result: AnalyticsResult | undefined
    let funnel: Attempt<FunnelResult> | undefined
    let cohorts: Attempt<CohortResult> | undefined
    if (store.value && state.read.query) {
      const s = store.value
      const query = state.read.query
      const funnelFilters = Object.fromEntries(
        (['country', 'channel'] as const).flatMap((g) => (query.filters?.[g] ? [[g, query.filters[g]]] : [])),
      )
      const [answered, f, c] = await Promise.all([
        attempt(() => s.query(query)),
        attempt(() => s.funnel({ from: query.from, to: query.to, filters: funnelFilters })),
        attempt(() => s.cohorts(cohortRange(form))),
      ])
      if (answered.value) result = answered.value
      else if (answered.error.code === 'EMP_VALIDATION' && answered.error.fields)
        for (const [f, reason] of Object.entries(answered.error.fields)) errors[formFieldOf(f, form)] ??= reason
      else errors.query = answered.error.message
      funnel = f
      cohorts = c
    }
    const [names, saved] = await Promise.all([namesFor(ctx, result, view), ctx.shop.store.listSavedQueries(user.id)])
    const search = formParams(form).toString()
    const problems = Object.keys(errors).length
    const storeProblem = store.error?.message ?? (result ? undefined : errors.query)
    if (status === 200 && (problems || store.error)) status = store.error ? 503 : 400
    return html(
      reply,
      <AdminPage
        view={view}
        user={user}
        section={PATH}
        title="Analytics"
        description="Revenue, orders and behaviour over time: queries, charts, exports, funnel and cohorts."
        heading={state.saved ? <>Analytics: {state.saved.name}</> : 'Analytics'}
      >
        {storeProblem ? (
          <div class="notice error" role="alert">
            {storeProblem}
          </div>
        ) : problems ? (
          <div class="notice error" role="alert">
            The query was not run: {problems === 1 ? 'one field needs' : `${problems} fields need`} fixing (marked
            below).
          </div>
        ) : null}
        {state.save?.error && !result ? (
          <div class="notice error" role="alert">
            Not saved: {state.save.error}
          </div>
        ) : null}
        <div class="two-col analytics-top">
          <QueryBuilder form={form} errors={errors} categories={view.categories} />
          <SavedList saved={saved} current={state.saved?.id} csrf={view.csrf} back={search} />
        </div>
        {result ? (
          <ResultSection
            form={form}
            result={result}
            names={names}
            limit={state.read.query?.limit ?? QUERY_LIMITS.defaultLimit}
            csrf={view.csrf}
            save={state.save}
            saved={state.saved}
          />
        ) : null}
        <div class="grid-2 analytics-behaviour">
          <section class="analytics-section" aria-labelledby="funnel-title">
            <h2 id="funnel-title">Funnel</h2>
            <p class="meta">
              Sessions that viewed a product, then added to cart, started checkout and paid, in that order, in the range
              {funnelNote(form)}.
            </p>
            {funnel?.value ? (
              <FunnelTable funnel={funnel.value} />
            ) : (
              <p class="meta">{funnel?.error?.message ?? 'Fix the query to see the funnel of its range.'}</p>
            )}
          </section>
          <section class="analytics-section" aria-labelledby="cohorts-title">
            <h2 id="cohorts-title">Cohort retention</h2>
            <p class="meta">
              Customers by the month of their first paid order, and the share who paid for an order again each month
              after{state.read.query ? ` (${cohortMonths(form)})` : ''}.
            </p>
            {cohorts?.value ? (
              <CohortTable cohorts={cohorts.value} />
            ) : (
              <p class="meta">{cohorts?.error?.message ?? 'Fix the query to see the cohorts of its range.'}</p>
            )}
          </section>
        </div>
        <RawConsole raw={state.raw} csrf={view.csrf} search={search} />
      </AdminPage>,
      status,
    )
  }

  app.get('/admin/analytics', pageRoute, async (req, reply) => {
    const user = requirePermission(req, 'analytics:read')
    const query = req.query as Params
    const savedId = typeof query.saved === 'string' ? query.saved : undefined
    if (savedId !== undefined) {
      const saved = ID_RE.test(savedId) ? await ctx.shop.store.getSavedQuery(user.id, savedId) : null
      if (!saved) throw new NotFound('Saved query')
      return render(req, reply, { read: readForm(savedParams(saved), today()), saved })
    }
    return render(req, reply, { read: readForm(query, today()) })
  })

  app.get('/admin/analytics/export.csv', pageRoute, async (req, reply) => {
    requirePermission(req, 'analytics:read')
    const read = readForm(req.query as Params, today())
    const back = `${PATH}?${formParams(read.form).toString()}`
    // A query the page would refuse goes back to the page, which says what to fix beside each field.
    if (!read.query) return reply.redirect(back, 303)
    const answered = await attempt(async () => (await openStore()).query(read.query!))
    if (answered.error?.code === 'EMP_VALIDATION') return reply.redirect(back, 303)
    if (answered.error) throw answered.error
    const result = answered.value
    const names = await namesFor(ctx, result, await viewStateWithSession(ctx, req))
    const digits = minorDigits(result.currency)
    const header: string[] = []
    for (const d of result.dimensions) header.push(...(d === 'product' ? ['product', 'product_name'] : [d]))
    for (const m of result.measures) header.push(MONEY_MEASURES.has(m) ? `${m} (${result.currency})` : m)
    const rows = result.rows.map((r) => [
      ...result.dimensions.flatMap((d) => {
        const v = (r[d] ?? null) as DimensionValue
        return d === 'product' ? [v, v === null ? null : (names.product.get(v) ?? null)] : [v]
      }),
      ...result.measures.map((m) => {
        const v = r[m]
        return typeof v === 'number' && MONEY_MEASURES.has(m) ? { decimal: majorUnits(v, digits) } : (v ?? null)
      }),
    ])
    const { form } = read
    const name = `analytics-${[...result.dimensions].join('-') || 'totals'}-${form.from}-to-${form.to}.csv`
    req.log.info({ userId: req.user?.id, audit: 'analytics.export', rows: rows.length }, 'analytics export')
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`)
      .send(toCsv(header, rows))
  })

  app.post(
    '/admin/analytics/raw',
    { ...pageRoute, config: { rateLimit: { max: 120, timeWindow: 60_000 } } },
    async (req, reply) => {
      const user = requirePermission(req, 'analytics:read')
      const statement = field(req.body as FormBody, 'statement').slice(0, QUERY_LIMITS.maxStatementLength + 1)
      const read = readForm(req.query as Params, today())
      const raw: RawState = { statement }
      // The statement may name customers: the audit line records who ran how much, not what.
      const audit = { userId: user.id, audit: 'analytics.raw', statementLength: statement.length }
      const ran = await attempt(async () =>
        (await openStore()).raw({ statement, timeoutMs: RAW_TIMEOUT_MS, maxRows: RAW_ROWS }),
      )
      if (ran.value) {
        raw.result = ran.value
        req.log.info({ ...audit, rows: ran.value.rows.length }, 'raw analytics query')
      } else {
        raw.error = ran.error
        req.log.info({ ...audit, refused: ran.error.code }, 'raw analytics query refused')
      }
      return render(req, reply, { read, raw }, ran.error ? ran.error.statusCode : 200)
    },
  )

  app.post('/admin/analytics/saved', pageRoute, async (req, reply) => {
    const user = requirePermission(req, 'analytics:read')
    const body = req.body as FormBody
    const read = readForm(paramsOf(field(body, 'query')), today())
    const rawName = field(body, 'name')
    let name = ''
    let problem: string | undefined
    try {
      name = cleanText(rawName.replace(/\s+/g, ' '), 'name', NAME_MAX)
    } catch {
      problem = rawName.trim() ? `A name of 1 to ${NAME_MAX} characters` : 'Give the query a name'
    }
    if (!problem && !read.query) problem = 'Fix the query before saving it'
    if (!problem) {
      const mine = await ctx.shop.store.listSavedQueries(user.id)
      if (mine.length >= MAX_SAVED_QUERIES && !mine.some((s) => s.name === name))
        problem = `You have ${MAX_SAVED_QUERIES} saved queries, the most one may keep: delete one first`
    }
    if (problem) return render(req, reply, { read, save: { name: rawName.slice(0, NAME_MAX), error: problem } }, 422)
    const now = ctx.shop.clock.now().toISOString()
    const saved = await ctx.shop.store.saveQuery({
      id: newId('qry'),
      userId: user.id,
      name,
      query: formParams(read.form).toString(),
      createdAt: now,
      updatedAt: now,
    })
    flash(ctx, req, 'info', `Saved “${saved.name}”.`)
    return reply.redirect(`${PATH}?saved=${encodeURIComponent(saved.id)}`, 303)
  })

  app.post<{ Params: { id: string } }>('/admin/analytics/saved/:id/delete', pageRoute, async (req, reply) => {
    const user = requirePermission(req, 'analytics:read')
    const body = req.body as FormBody
    const { id } = req.params
    const saved = ID_RE.test(id) ? await ctx.shop.store.getSavedQuery(user.id, id) : null
    if (saved && (await ctx.shop.store.deleteSavedQuery(user.id, id)))
      flash(ctx, req, 'info', `Deleted “${saved.name}”.`)
    else flash(ctx, req, 'error', 'That saved query was already deleted.')
    const back = formParams(readForm(paramsOf(field(body, 'query')), today()).form).toString()
    return reply.redirect(`${PATH}?${back}`, 303)
  })
}

const funnelNote = (form: AnalyticsForm): string => {
  const kept = (['country', 'channel'] as const).filter((g) => form.filters[g])
  const ignored = GROUPS.filter((g) => form.filters[g] && !kept.includes(g as 'country' | 'channel'))
  return [
    kept.length ? `, filtered by ${kept.join(' and ')}` : '',
    ignored.length ? ` (sessions have no ${ignored.join(' or ')}, so those filters do not apply)` : '',
  ].join('')
}

const cohortMonths = (form: AnalyticsForm): string => {
  const { from, to } = cohortRange(form)
  const last = monthOf(Date.parse(to) - DAY_MS)
  return from.slice(0, 7) === last ? from.slice(0, 7) : `${from.slice(0, 7)} to ${last}`
}
