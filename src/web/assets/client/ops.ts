// The observability pages in the browser: the explorer's histogram (drag to zoom), auto-refresh, the live tail
// (Server-Sent Events) and the operations dashboard, drawn with Chart.js from the JSON of /api/v1/ops.
// Text goes into the page with textContent only: log records are untrusted input.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js'
import type { HistogramAnswer, Overview } from '../../observability.ts'

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
)
Chart.defaults.font.family = 'Inter, system-ui, sans-serif'
Chart.defaults.animation = false

const LEVEL_COLOURS: Record<string, string> = {
  fatal: '#7a1208',
  error: '#b42318',
  warn: '#c98a00',
  info: '#0f5f58',
  debug: '#6b7a89',
  trace: '#a5b1bd',
}
const SERIES = ['#0f5f58', '#b5471b', '#3b6fb6', '#8a5a00', '#6b4fa0', '#b42318']

const charts = new Map<string, Chart>()

/** Draws (or redraws in place) the chart of a container. */
function draw(container: HTMLElement, key: string, config: ChartConfiguration): Chart {
  const old = charts.get(key)
  if (old) {
    old.data = config.data
    old.update()
    return old
  }
  const canvas = container.querySelector('canvas')
  if (!canvas) throw new Error(`no canvas for chart ${key}`)
  const chart = new Chart(canvas, {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, ...config.options },
  })
  charts.set(key, chart)
  return chart
}

/** A bucket start as the axis shows it: time of day for short windows, the date for long ones. */
function bucketLabel(iso: string, intervalMs: number): string {
  const d = new Date(iso)
  const hhmm = d.toISOString().slice(11, intervalMs < 60_000 ? 19 : 16)
  if (intervalMs >= 86_400_000) return d.toISOString().slice(0, 10)
  if (intervalMs >= 3_600_000) return `${d.toISOString().slice(5, 10)} ${hhmm}`
  return hhmm
}

const number = (v: number) => v.toLocaleString('en-US')
const msText = (v: number | null | undefined) =>
  v === null || v === undefined ? '—' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`

function setStatus(key: string, text: string, isError = false): void {
  const el = document.querySelector<HTMLElement>(`[data-chart-status="${key}"]`)
  if (!el) return
  el.textContent = text
  el.classList.toggle('error', isError)
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
  const body = await res.json().catch(() => null)
  if (!res.ok) {
    const message = (body as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${res.status}`
    throw new Error(message)
  }
  return body as T
}

// ---------------------------------------------------------------------------------------------------------------
// Explorer

async function drawHistogram(container: HTMLElement): Promise<void> {
  const src = container.dataset.opsHistogram
  if (!src) return
  container.setAttribute('aria-busy', 'true')
  try {
    const h = await getJson<HistogramAnswer>(src)
    const total = h.buckets.reduce((a, b) => a + Object.values(b.counts).reduce((x, y) => x + y, 0), 0)
    const chart = draw(container, 'histogram', {
      type: 'bar',
      data: {
        labels: h.buckets.map((b) => bucketLabel(b.at, h.intervalMs)),
        datasets: h.levels.map((level) => ({
          label: level,
          data: h.buckets.map((b) => b.counts[level] ?? 0),
          backgroundColor: LEVEL_COLOURS[level] ?? '#6b7a89',
          stack: 'levels',
          barPercentage: 1,
          categoryPercentage: 0.9,
        })),
      },
      options: {
        scales: {
          x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true } },
          y: { stacked: true, beginAtZero: true },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    })
    container.dataset.buckets = JSON.stringify(h.buckets.map((b) => b.at))
    container.dataset.intervalMs = String(h.intervalMs)
    container.dataset.total = String(total)
    setStatus(
      'histogram',
      total ? `${number(total)} records in ${h.buckets.length} buckets` : 'No records in this window.',
    )
    enableBrush(container, chart)
  } catch (e) {
    setStatus('histogram', `The histogram could not be loaded: ${(e as Error).message}`, true)
  } finally {
    container.removeAttribute('aria-busy')
  }
}

/** Dragging across the histogram opens the explorer on the buckets it covered. */
function enableBrush(container: HTMLElement, chart: Chart): void {
  if (container.dataset.brush) return
  container.dataset.brush = 'on'
  const band = document.createElement('div')
  band.className = 'ops-brush'
  band.hidden = true
  container.append(band)
  let startX: number | null = null
  const xOf = (e: PointerEvent) => e.clientX - container.getBoundingClientRect().left
  const indexAt = (x: number) => {
    const scale = chart.scales.x
    if (!scale) return 0
    const clamped = Math.min(Math.max(x, scale.left), scale.right)
    return Math.round(scale.getValueForPixel(clamped) ?? 0)
  }
  const canvas = chart.canvas
  canvas.addEventListener('pointerdown', (e) => {
    startX = xOf(e)
    canvas.setPointerCapture(e.pointerId)
    band.hidden = false
    band.style.left = `${startX}px`
    band.style.width = '0px'
  })
  canvas.addEventListener('pointermove', (e) => {
    if (startX === null) return
    const x = xOf(e)
    band.style.left = `${Math.min(x, startX)}px`
    band.style.width = `${Math.abs(x - startX)}px`
  })
  canvas.addEventListener('pointerup', (e) => {
    if (startX === null) return
    const endX = xOf(e)
    const begin = startX
    startX = null
    band.hidden = true
    if (Math.abs(endX - begin) < 6) return
    const starts: string[] = JSON.parse(container.dataset.buckets ?? '[]')
    const interval = Number(container.dataset.intervalMs)
    const lo = Math.max(0, Math.min(indexAt(begin), indexAt(endX)))
    const hi = Math.min(starts.length - 1, Math.max(indexAt(begin), indexAt(endX)))
    const from = starts[lo]
    const last = starts[hi]
    if (!from || !last) return
    const to = new Date(Date.parse(last) + interval).toISOString()
    const url = new URL(container.dataset.explorer ?? location.pathname, location.origin)
    url.searchParams.set('range', 'custom')
    url.searchParams.set('from', from)
    url.searchParams.set('to', to)
    location.assign(url.toString())
  })
}

/** Auto-refresh of the explorer: the records region is fetched again as HTML and swapped, the histogram redrawn. */
async function refreshExplorer(): Promise<void> {
  const region = document.querySelector<HTMLElement>('[data-refresh-region="results"]')
  if (!region) return
  region.setAttribute('aria-busy', 'true')
  try {
    const res = await fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } })
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html')
    const fresh = doc.querySelector('[data-refresh-region="results"]')
    if (fresh) region.replaceChildren(...Array.from(fresh.childNodes).map((n) => document.importNode(n, true)))
    const histogram = document.querySelector<HTMLElement>('[data-ops-histogram]')
    if (histogram) await drawHistogram(histogram)
  } finally {
    region.removeAttribute('aria-busy')
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Live tail

interface TailRecord {
  '@timestamp': string
  message: string
  log: { level: string }
  event: { id: string; category?: string }
  http?: { request?: { method?: string }; response?: { status_code?: number } }
  url?: { path?: string }
}

const MAX_TAIL_ROWS = 500

function liveTail(): void {
  const section = document.querySelector<HTMLElement>('[data-ops-tail]')
  const button = section?.querySelector<HTMLButtonElement>('[data-tail-toggle]')
  const rows = section?.querySelector<HTMLElement>('[data-tail-rows]')
  const status = section?.querySelector<HTMLElement>('[data-tail-status]')
  if (!section || !button || !rows || !status) return
  section.hidden = false
  let source: EventSource | null = null
  let received = 0
  const ids = new Set<string>()
  const stop = (why: string) => {
    source?.close()
    source = null
    button.textContent = 'Start live tail'
    button.setAttribute('aria-pressed', 'false')
    status.textContent = why
  }
  button.addEventListener('click', () => {
    if (source) return stop(`Paused after ${number(received)} new records.`)
    received = 0
    source = new EventSource(section.dataset.opsTail ?? '')
    button.textContent = 'Pause live tail'
    button.setAttribute('aria-pressed', 'true')
    status.textContent = 'Connecting…'
    source.addEventListener('open', () => {
      if (!received) status.textContent = 'Live: waiting for new records…'
    })
    source.addEventListener('records', (e) => {
      const { records, skipped } = JSON.parse((e as MessageEvent<string>).data) as {
        records: TailRecord[]
        skipped: number
      }
      let shown = 0
      for (const r of records) {
        // A resumed tail (EventSource reconnecting with Last-Event-ID) may send a record this table already shows.
        if (ids.has(r.event.id)) continue
        ids.add(r.event.id)
        shown++
        const tr = document.createElement('tr')
        tr.className = `ops-row row-${r.log.level}`
        tr.dataset.eventId = r.event.id
        const cells = [
          r['@timestamp'].replace('T', ' ').replace(/Z$/, ''),
          r.log.level,
          r.event.category ?? 'app',
          r.http?.response?.status_code === undefined ? '' : String(r.http.response.status_code),
          r.http?.request?.method ?? '',
          r.url?.path ?? '',
          r.message,
        ]
        cells.forEach((text, i) => {
          const td = document.createElement('td')
          if (i === 3) td.className = 'num'
          if (i === 6) td.className = 'ops-message'
          if (i === 1) {
            const span = document.createElement('span')
            span.className = `level level-${r.log.level}`
            span.textContent = text
            td.append(span)
          } else td.textContent = text
          tr.append(td)
        })
        rows.prepend(tr)
      }
      while (rows.children.length > MAX_TAIL_ROWS) {
        const last = rows.lastElementChild as HTMLElement | null
        if (last?.dataset.eventId) ids.delete(last.dataset.eventId)
        last?.remove()
      }
      received += shown
      status.textContent = `Live: ${number(received)} new records${skipped ? ` (${number(skipped)} more arrived faster than shown)` : ''}.`
    })
    source.addEventListener('problem', (e) => {
      status.textContent = JSON.parse((e as MessageEvent<string>).data).message
    })
    source.addEventListener('error', () => {
      if (source?.readyState === EventSource.CLOSED) stop('The live tail stopped; start it again.')
      else status.textContent = 'Reconnecting…'
    })
  })
}

// ---------------------------------------------------------------------------------------------------------------
// Operations

function fillTable(id: string, rows: (string | Node)[][], empty: string): void {
  const body = document.querySelector<HTMLElement>(`[data-ops-table="${id}"]`)
  if (!body) return
  const columns = body.closest('table')?.querySelectorAll('thead th').length ?? 1
  if (!rows.length) {
    const tr = document.createElement('tr')
    const td = document.createElement('td')
    td.colSpan = columns
    td.className = 'meta'
    td.textContent = empty
    tr.append(td)
    body.replaceChildren(tr)
    return
  }
  body.replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement('tr')
      cells.forEach((cell, i) => {
        const td = document.createElement('td')
        if (i > 0) td.className = 'num'
        td.append(cell)
        tr.append(td)
      })
      return tr
    }),
  )
}

function explorerLink(base: string, q: string, text: string, range: URLSearchParams): HTMLAnchorElement {
  const url = new URL(base, location.origin)
  url.searchParams.set('q', q)
  for (const [k, v] of range) url.searchParams.set(k, v)
  const a = document.createElement('a')
  a.href = url.pathname + url.search
  a.textContent = text
  return a
}

const phrase = (v: string) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`

function setStat(key: string, text: string): void {
  const el = document.querySelector<HTMLElement>(`[data-ops-stat="${key}"]`)
  if (el) el.textContent = text
}

function lineChart(key: string, labels: string[], datasets: { label: string; data: (number | null)[] }[]): void {
  const container = document.querySelector<HTMLElement>(`[data-ops-chart="${key}"]`)
  if (!container) return
  draw(container, key, {
    type: 'line',
    data: {
      labels,
      datasets: datasets.map((d, i) => ({
        ...d,
        borderColor: SERIES[i % SERIES.length],
        backgroundColor: `${SERIES[i % SERIES.length]}22`,
        fill: datasets.length === 1,
        pointRadius: 0,
        borderWidth: 2,
        tension: 0.2,
      })),
    },
    options: {
      scales: { x: { ticks: { maxRotation: 0, autoSkip: true } }, y: { beginAtZero: true } },
      plugins: { legend: { display: datasets.length > 1, position: 'bottom' } },
    },
  })
}

function barChart(key: string, labels: string[], datasets: { label: string; data: number[]; colour?: string }[]): void {
  const container = document.querySelector<HTMLElement>(`[data-ops-chart="${key}"]`)
  if (!container) return
  draw(container, key, {
    type: 'bar',
    data: {
      labels,
      datasets: datasets.map((d, i) => ({
        label: d.label,
        data: d.data,
        backgroundColor: d.colour ?? SERIES[i % SERIES.length],
      })),
    },
    options: {
      scales: { x: { ticks: { maxRotation: 0, autoSkip: true } }, y: { beginAtZero: true } },
      plugins: { legend: { display: datasets.length > 1, position: 'bottom' } },
    },
  })
}

const statusColour = (code: string) =>
  code.startsWith('5') ? '#b42318' : code.startsWith('4') ? '#c98a00' : code.startsWith('3') ? '#3b6fb6' : '#0f5f58'

function renderOverview(root: HTMLElement, o: Overview): void {
  const explorer = root.dataset.explorer ?? '/admin/observability'
  const range = new URLSearchParams()
  range.set('range', 'custom')
  range.set('from', o.from)
  range.set('to', o.to)
  const perSecond = 1000 / o.intervalMs
  const problem = root.querySelector<HTMLElement>('[data-ops-problem]')
  if (problem) {
    problem.hidden = o.problems.length === 0
    problem.textContent = o.problems.map((p) => `${p.section}: ${p.message}`).join(' · ')
  }
  for (const key of ['requests', 'errors', 'status', 'security', 'indexed', 'backlog']) setStatus(key, '')

  if (o.traffic) {
    const t = o.traffic
    const labels = t.buckets.map((b) => bucketLabel(b.at, o.intervalMs))
    setStat('requests', number(t.requests))
    setStat('errorRate', t.requests ? `${((t.errors / t.requests) * 100).toFixed(2)}%` : '—')
    setStat('p50', msText(t.latency.p50))
    setStat('p95', msText(t.latency.p95))
    setStat('p99', msText(t.latency.p99))
    lineChart('requests', labels, [
      { label: 'Requests/s', data: t.buckets.map((b) => Math.round(b.requests * perSecond * 100) / 100) },
    ])
    lineChart('errors', labels, [
      {
        label: '5xx %',
        data: t.buckets.map((b) => (b.requests ? Math.round((b.errors / b.requests) * 10_000) / 100 : null)),
      },
    ])
    if (!t.requests) {
      setStatus('requests', 'No requests in this window.')
      setStatus('errors', 'No requests in this window.')
    }
  }
  if (o.status) {
    barChart(
      'status',
      o.status.map((s) => s.code),
      [{ label: 'Requests', data: o.status.map((s) => s.count), colour: '#0f5f58' }],
    )
    const chart = charts.get('status')
    if (chart?.data.datasets[0]) {
      chart.data.datasets[0].backgroundColor = o.status.map((s) => statusColour(s.code))
      chart.update()
    }
    if (!o.status.length) setStatus('status', 'No requests in this window.')
    fillTable(
      'statuses',
      o.status.map((s) => [
        explorerLink(explorer, `http.response.status_code:${s.code}`, s.code, range),
        number(s.count),
      ]),
      'No requests in this window.',
    )
  }
  if (o.routes) {
    const link = (route: string) => explorerLink(explorer, `url.route:${phrase(route)}`, route, range)
    fillTable(
      'routes',
      o.routes.map((r) => [
        link(r.route),
        number(r.requests),
        number(r.errors),
        msText(r.p50),
        msText(r.p95),
        msText(r.p99),
      ]),
      'No requests in this window.',
    )
    const slowest = [...o.routes].sort((a, b) => (b.p95 ?? -1) - (a.p95 ?? -1)).slice(0, 5)
    fillTable(
      'slowest',
      slowest.map((r) => [link(r.route), msText(r.p95), msText(r.p99), number(r.requests)]),
      'No requests in this window.',
    )
  }
  if (o.security) {
    const s = o.security
    setStat('security', number(s.total))
    barChart(
      'security',
      s.buckets.map((b) => bucketLabel(b.at, o.intervalMs)),
      [{ label: 'Security events', data: s.buckets.map((b) => b.count), colour: '#b5471b' }],
    )
    if (!s.total) setStatus('security', 'No security events in this window.')
    fillTable(
      'actions',
      s.actions.map((a) => [
        explorerLink(explorer, `event.category:security AND event.action:${phrase(a.action)}`, a.action, range),
        number(a.count),
      ]),
      'No security events in this window.',
    )
  }
  if (o.pipeline) {
    const p = o.pipeline
    setStat('deadLetters', p.deadLetters === null ? '—' : number(p.deadLetters))
    lineChart(
      'indexed',
      p.indexed.map((b) => bucketLabel(b.at, o.intervalMs)),
      [{ label: 'Records/s', data: p.indexed.map((b) => Math.round(b.count * perSecond * 100) / 100) }],
    )
    if (p.channels) {
      barChart(
        'backlog',
        p.channels.map((c) => c.category),
        [
          { label: 'Waiting (lag)', data: p.channels.map((c) => c.lag) },
          { label: 'In flight (pending)', data: p.channels.map((c) => c.pending) },
        ],
      )
      fillTable(
        'channels',
        p.channels.map((c) => [`logs:${c.category}`, number(c.length), number(c.lag), number(c.pending)]),
        'No channels.',
      )
    } else {
      setStatus('backlog', 'This process has no log channels.')
    }
    fillTable(
      'queues',
      (p.queues ?? []).map((q) => [
        q.queue,
        number(q.waiting),
        number(q.active),
        number(q.delayed),
        number(q.failed),
        number(q.completed),
      ]),
      'This process has no job queue.',
    )
  }
}

async function loadOverview(root: HTMLElement): Promise<void> {
  root.setAttribute('aria-busy', 'true')
  try {
    renderOverview(root, await getJson<Overview>(root.dataset.opsOverview ?? ''))
  } catch (e) {
    const problem = root.querySelector<HTMLElement>('[data-ops-problem]')
    if (problem) {
      problem.hidden = false
      problem.textContent = `The dashboard could not be loaded: ${(e as Error).message}`
    }
    for (const key of ['requests', 'errors', 'status', 'security', 'indexed', 'backlog']) setStatus(key, '')
  } finally {
    root.removeAttribute('aria-busy')
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The form: presets and dates, auto-refresh in the URL

function rangeForm(onRefreshChange: (ms: number) => void): void {
  const select = document.querySelector<HTMLSelectElement>('[data-ops-range]')
  const from = document.querySelector<HTMLInputElement>('[data-ops-from]')
  const to = document.querySelector<HTMLInputElement>('[data-ops-to]')
  if (select && from && to)
    for (const input of [from, to])
      input.addEventListener('input', () => {
        select.value = 'custom'
      })
  const refresh = document.querySelector<HTMLSelectElement>('[data-ops-refresh]')
  refresh?.addEventListener('change', () => {
    const url = new URL(location.href)
    if (refresh.value === 'off') url.searchParams.delete('refresh')
    else url.searchParams.set('refresh', refresh.value)
    history.replaceState(null, '', url)
    const ms = { '5s': 5_000, '10s': 10_000, '30s': 30_000, '1m': 60_000 }[refresh.value] ?? 0
    onRefreshChange(ms)
  })
}

function every(ms: number, fn: () => Promise<void>): () => void {
  if (!ms) return () => {}
  let running = false
  const timer = setInterval(() => {
    if (document.hidden || running) return
    running = true
    fn().finally(() => {
      running = false
    })
  }, ms)
  return () => clearInterval(timer)
}

function start(): void {
  const histogram = document.querySelector<HTMLElement>('[data-ops-histogram]')
  const results = document.querySelector<HTMLElement>('[data-refresh-region="results"]')
  const overview = document.querySelector<HTMLElement>('[data-ops-overview]')
  let cancel = () => {}
  if (overview) {
    void loadOverview(overview)
    cancel = every(Number(overview.dataset.refreshMs), () => loadOverview(overview))
    rangeForm((ms) => {
      cancel()
      cancel = every(ms, () => loadOverview(overview))
    })
    return
  }
  if (histogram) void drawHistogram(histogram)
  if (results) {
    cancel = every(Number(results.dataset.refreshMs), refreshExplorer)
    rangeForm((ms) => {
      cancel()
      cancel = every(ms, refreshExplorer)
    })
  }
  liveTail()
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
else start()
