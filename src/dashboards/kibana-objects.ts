// The Kibana / OpenSearch Dashboards saved objects behind deploy/kibana/emporium.ndjson: a data view on
// logs-emporium.*, the log explorer's saved search, aggregation-based visualizations and two dashboards that mirror
// the built-in console (/admin/observability).
//
// Why this form: Lens does not exist in OpenSearch Dashboards, and Kibana 8.x and 9.x still import and render
// aggregation-based `visualization` objects (their saved-object type keeps every migration since 7.x). The objects
// are written in the shape Kibana 7.10 exported, which is also the shape OpenSearch Dashboards (a fork of Kibana
// 7.10.2) keeps, and carry `migrationVersion` at that level, so Kibana 8/9 run their own migrations on import and
// OpenSearch Dashboards runs none. No `fields` list is stored on the data view: both fetch it from the engine.
//
// The file is generated from this module (`npx tsx scripts/kibana-ndjson.ts`) and a test keeps the two equal.

import { DEFAULT_COLUMNS } from '../web/observability.ts'

export interface SavedObject {
  type: 'index-pattern' | 'search' | 'visualization' | 'dashboard'
  id: string
  attributes: Record<string, unknown>
  references: { name: string; type: string; id: string }[]
  migrationVersion: Record<string, string>
}

export const DATA_VIEW_ID = 'emporium-logs'
export const DATA_VIEW_TITLE = 'logs-emporium.*'
export const SAVED_SEARCH_ID = 'emporium-log-explorer'
export const LOGS_DASHBOARD_ID = 'emporium-logs-dashboard'
export const OPERATIONS_DASHBOARD_ID = 'emporium-operations-dashboard'

/** Migration levels of Kibana 7.10 exports (and of OpenSearch Dashboards, forked from 7.10.2). */
const MIGRATED_TO = {
  'index-pattern': '7.6.0',
  search: '7.9.3',
  visualization: '7.10.0',
  dashboard: '7.9.3',
} as const
/** The panel version a 7.10 dashboard writes into panelsJSON. */
const PANEL_VERSION = '7.10.0'

/**
 * The built-in explorer's default columns after @timestamp (Discover shows the time field as its own first column),
 * and trace.id, which the built-in table offers as a link under each record instead.
 */
export const EXPLORER_COLUMNS = [...DEFAULT_COLUMNS.filter((c) => c !== '@timestamp'), 'trace.id']

/** What the built-in console counts as a request and as a server error (src/web/observability.ts), in KQL. */
export const REQUESTS_KQL = 'http.response.status_code:*'
export const SECURITY_KQL = 'event.category:security'
export const LOGIN_FAILED_KQL = 'event.action:"login.failed"'

const INDEX_REF = 'kibanaSavedObjectMeta.searchSourceJSON.index'

const searchSource = (query: string) =>
  JSON.stringify({ query: { query, language: 'kuery' }, filter: [], indexRefName: INDEX_REF })

const dataViewRef = () => [{ name: INDEX_REF, type: 'index-pattern', id: DATA_VIEW_ID }]

interface Agg {
  id: string
  type: string
  schema: 'metric' | 'segment' | 'group' | 'bucket' | 'split'
  params: Record<string, unknown>
}

const count = (id = '1'): Agg => ({ id, type: 'count', schema: 'metric', params: {} })
const overTime = (id: string): Agg => ({
  id,
  type: 'date_histogram',
  schema: 'segment',
  params: {
    field: '@timestamp',
    useNormalizedEsInterval: true,
    interval: 'auto',
    drop_partials: false,
    min_doc_count: 1,
    extended_bounds: {},
  },
})
const terms = (
  id: string,
  schema: Agg['schema'],
  field: string,
  size: number,
  extra: { orderBy?: string; missing?: string; customLabel?: string } = {},
): Agg => ({
  id,
  type: 'terms',
  schema,
  params: {
    field,
    orderBy: extra.orderBy ?? '1',
    order: 'desc',
    size,
    otherBucket: false,
    otherBucketLabel: 'Other',
    missingBucket: extra.missing !== undefined,
    missingBucketLabel: extra.missing ?? 'Missing',
    ...(extra.customLabel ? { customLabel: extra.customLabel } : {}),
  },
})
const durationPercentiles = (id: string, percents = [50, 95, 99]): Agg => ({
  id,
  type: 'percentiles',
  schema: 'metric',
  params: { field: 'event.duration', percents },
})
const durationMetric = (id: string, type: 'avg' | 'max', customLabel: string): Agg => ({
  id,
  type,
  schema: 'metric',
  params: { field: 'event.duration', customLabel },
})

function xyParams(kind: 'histogram' | 'line', options: { mode?: 'normal' | 'percentage'; axisTitle: string }) {
  return {
    type: kind,
    grid: { categoryLines: false },
    categoryAxes: [
      {
        id: 'CategoryAxis-1',
        type: 'category',
        position: 'bottom',
        show: true,
        style: {},
        scale: { type: 'linear' },
        labels: { show: true, filter: true, truncate: 100 },
        title: {},
      },
    ],
    valueAxes: [
      {
        id: 'ValueAxis-1',
        name: 'LeftAxis-1',
        type: 'value',
        position: 'left',
        show: true,
        style: {},
        scale: { type: 'linear', mode: options.mode ?? 'normal' },
        labels: { show: true, rotate: 0, filter: false, truncate: 100 },
        title: { text: options.axisTitle },
      },
    ],
    seriesParams: [
      {
        show: true,
        type: kind,
        mode: kind === 'histogram' ? 'stacked' : 'normal',
        data: { label: options.axisTitle, id: '1' },
        valueAxis: 'ValueAxis-1',
        drawLinesBetweenPoints: true,
        interpolate: 'linear',
        lineWidth: 2,
        showCircles: true,
      },
    ],
    addTooltip: true,
    addLegend: true,
    legendPosition: 'right',
    times: [],
    addTimeMarker: false,
    labels: { show: false },
    thresholdLine: { show: false, value: 10, width: 1, style: 'full', color: '#E7664C' },
  }
}

const tableParams = (sort: { columnIndex: number | null; direction: 'asc' | 'desc' | null }) => ({
  perPage: 15,
  showPartialRows: false,
  showMetricsAtAllLevels: false,
  sort,
  showTotal: false,
  totalFunc: 'sum',
  percentageCol: '',
})

function visualization(
  id: string,
  title: string,
  description: string,
  vis: { type: string; aggs: Agg[]; params: Record<string, unknown>; uiState?: Record<string, unknown> },
  query = '',
): SavedObject {
  const index = vis.type !== 'markdown'
  return {
    type: 'visualization',
    id,
    attributes: {
      title,
      description,
      version: 1,
      uiStateJSON: JSON.stringify(vis.uiState ?? {}),
      visState: JSON.stringify({
        title,
        type: vis.type,
        aggs: vis.aggs.map((a) => ({ enabled: true, ...a })),
        params: vis.params,
      }),
      kibanaSavedObjectMeta: {
        searchSourceJSON: index
          ? searchSource(query)
          : JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }),
      },
    },
    references: index ? dataViewRef() : [],
    migrationVersion: { visualization: MIGRATED_TO.visualization },
  }
}

interface Panel {
  ref: { type: 'visualization' | 'search'; id: string }
  x: number
  y: number
  w: number
  h: number
}

function dashboard(id: string, title: string, description: string, panels: Panel[]): SavedObject {
  return {
    type: 'dashboard',
    id,
    attributes: {
      title,
      description,
      hits: 0,
      version: 1,
      timeRestore: true,
      timeFrom: 'now-1h',
      timeTo: 'now',
      refreshInterval: { pause: true, value: 0 },
      optionsJSON: JSON.stringify({ useMargins: true, hidePanelTitles: false }),
      panelsJSON: JSON.stringify(
        panels.map((p, i) => ({
          version: PANEL_VERSION,
          gridData: { x: p.x, y: p.y, w: p.w, h: p.h, i: String(i + 1) },
          panelIndex: String(i + 1),
          embeddableConfig: {},
          panelRefName: `panel_${i}`,
        })),
      ),
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }),
      },
    },
    references: panels.map((p, i) => ({ name: `panel_${i}`, type: p.ref.type, id: p.ref.id })),
    migrationVersion: { dashboard: MIGRATED_TO.dashboard },
  }
}

const vis = (id: string) => ({ type: 'visualization' as const, id })

/** Every object of the file, dependencies first (the order Kibana's export writes). */
export function kibanaSavedObjects(): SavedObject[] {
  const dataView: SavedObject = {
    type: 'index-pattern',
    id: DATA_VIEW_ID,
    attributes: {
      title: DATA_VIEW_TITLE,
      timeFieldName: '@timestamp',
      // The app writes event.duration in nanoseconds (ECS); shown as milliseconds.
      fieldFormatMap: JSON.stringify({
        'event.duration': {
          id: 'duration',
          params: { inputFormat: 'nanoseconds', outputFormat: 'asMilliseconds', outputPrecision: 1 },
        },
        'http.response.body.bytes': { id: 'bytes', params: {} },
      }),
    },
    references: [],
    migrationVersion: { 'index-pattern': MIGRATED_TO['index-pattern'] },
  }

  const explorer: SavedObject = {
    type: 'search',
    id: SAVED_SEARCH_ID,
    attributes: {
      title: 'Emporium · Log explorer',
      description: 'Every Emporium log record, newest first, with the columns of the built-in explorer.',
      hits: 0,
      version: 1,
      columns: EXPLORER_COLUMNS,
      sort: [['@timestamp', 'desc']],
      kibanaSavedObjectMeta: { searchSourceJSON: searchSource('') },
    },
    references: dataViewRef(),
    migrationVersion: { search: MIGRATED_TO.search },
  }

  const visualizations: SavedObject[] = [
    visualization('emporium-log-volume', 'Emporium · Log volume by level', 'Records over time, split by log.level.', {
      type: 'histogram',
      aggs: [count(), overTime('2'), terms('3', 'group', 'log.level', 10)],
      params: xyParams('histogram', { axisTitle: 'Records' }),
    }),
    visualization('emporium-log-categories', 'Emporium · Records by category', 'Share of each data stream.', {
      type: 'pie',
      aggs: [count(), terms('2', 'segment', 'event.category', 10)],
      params: {
        type: 'pie',
        addTooltip: true,
        addLegend: true,
        legendPosition: 'right',
        isDonut: true,
        labels: { show: false, values: true, last_level: true, truncate: 100 },
      },
    }),
    visualization(
      'emporium-request-rate',
      'Emporium · Requests',
      'Requests answered per interval (records with an HTTP status, as the built-in console counts them).',
      {
        type: 'line',
        aggs: [count(), overTime('2')],
        params: xyParams('line', { axisTitle: 'Requests' }),
      },
      REQUESTS_KQL,
    ),
    visualization(
      'emporium-error-share',
      'Emporium · Error rate (share of 5xx)',
      'Share of requests per status class over time; the 500-600 band is the 5xx error rate.',
      {
        type: 'histogram',
        aggs: [
          count(),
          overTime('2'),
          {
            id: '3',
            type: 'range',
            schema: 'group',
            params: {
              field: 'http.response.status_code',
              ranges: [
                { from: 100, to: 400 },
                { from: 400, to: 500 },
                { from: 500, to: 600 },
              ],
            },
          },
        ],
        params: xyParams('histogram', { mode: 'percentage', axisTitle: 'Share of requests' }),
      },
      REQUESTS_KQL,
    ),
    visualization(
      'emporium-latency',
      'Emporium · Latency p50 / p95 / p99',
      'Percentiles of event.duration over every request (shown in milliseconds).',
      {
        type: 'line',
        aggs: [durationPercentiles('1'), overTime('2')],
        params: xyParams('line', { axisTitle: 'Latency' }),
      },
      REQUESTS_KQL,
    ),
    visualization(
      'emporium-latency-by-route',
      'Emporium · Latency by route (busiest first)',
      'The 15 busiest url.route values with their request count and p50 / p95 / p99 latency.',
      {
        type: 'table',
        aggs: [count(), durationPercentiles('2'), terms('3', 'bucket', 'url.route', 15, { customLabel: 'Route' })],
        params: tableParams({ columnIndex: null, direction: null }),
      },
      REQUESTS_KQL,
    ),
    visualization(
      'emporium-slowest-routes',
      'Emporium · Slowest routes',
      'The 10 routes with the highest average latency, sorted by p95.',
      {
        type: 'table',
        aggs: [
          durationMetric('1', 'avg', 'Average'),
          durationPercentiles('2', [95, 99]),
          count('3'),
          terms('4', 'bucket', 'url.route', 10, { orderBy: '1', customLabel: 'Route' }),
        ],
        // Columns: route, average, p95, p99, count.
        params: tableParams({ columnIndex: 2, direction: 'desc' }),
        // 7.10's table keeps the sort a user picked in uiState; the initial one goes there too.
        uiState: { vis: { params: { sort: { columnIndex: 2, direction: 'desc' } } } },
      },
      REQUESTS_KQL,
    ),
    visualization(
      'emporium-status-codes',
      'Emporium · Status codes',
      'Requests per HTTP status code over time.',
      {
        type: 'histogram',
        aggs: [count(), overTime('2'), terms('3', 'group', 'http.response.status_code', 20)],
        params: xyParams('histogram', { axisTitle: 'Requests' }),
      },
      REQUESTS_KQL,
    ),
    visualization(
      'emporium-login-failures',
      'Emporium · Failed sign-ins',
      'Sign-ins refused for a wrong e-mail or password, or a locked account (event.action login.failed).',
      {
        type: 'metric',
        aggs: [count()],
        params: {
          addTooltip: true,
          addLegend: false,
          type: 'metric',
          metric: {
            percentageMode: false,
            useRanges: false,
            colorSchema: 'Green to Red',
            metricColorMode: 'None',
            colorsRange: [{ from: 0, to: 10000 }],
            labels: { show: true },
            invertColors: false,
            style: { bgFill: '#000', bgColor: false, labelColor: false, subText: '', fontSize: 60 },
          },
        },
      },
      LOGIN_FAILED_KQL,
    ),
    visualization(
      'emporium-security-events',
      'Emporium · Security events',
      'Records of the security data stream over time by event.action: login.failed, rate_limited; records without ' +
        'an action are refusals (401/403/429 answers, CSRF rejections, invalid tokens).',
      {
        type: 'histogram',
        aggs: [
          count(),
          overTime('2'),
          terms('3', 'group', 'event.action', 20, { missing: 'refused (401/403/429, CSRF, token)' }),
        ],
        params: xyParams('histogram', { axisTitle: 'Events' }),
      },
      SECURITY_KQL,
    ),
    visualization(
      'emporium-security-by-client',
      'Emporium · Security events by kind and client',
      'Which client addresses cause which security events.',
      {
        type: 'table',
        aggs: [
          count(),
          terms('2', 'bucket', 'event.action', 20, {
            missing: 'refused (401/403/429, CSRF, token)',
            customLabel: 'Event',
          }),
          terms('3', 'bucket', 'client.ip', 10, { missing: '(no client ip)', customLabel: 'Client' }),
        ],
        params: tableParams({ columnIndex: null, direction: null }),
      },
      SECURITY_KQL,
    ),
    visualization(
      'emporium-pipeline-indexed',
      'Emporium · Records indexed by category',
      'Pipeline throughput: records that reached the log index, per data stream, by their @timestamp.',
      {
        type: 'histogram',
        aggs: [count(), overTime('2'), terms('3', 'group', 'event.category', 10)],
        params: xyParams('histogram', { axisTitle: 'Records' }),
      },
    ),
    visualization(
      'emporium-pipeline-note',
      'Emporium · Pipeline backlog (not in the index)',
      'Where to read channel lag, dead letters and queue depth.',
      {
        type: 'markdown',
        aggs: [],
        params: {
          fontSize: 12,
          openLinksInNewTab: false,
          markdown:
            'Channel lag, in-flight entries, dead letters and job-queue depth are not log records, so they are ' +
            'not in `logs-emporium.*`. Read them on the built-in console (`/admin/observability`) or scrape the ' +
            "`/metrics` endpoint with Prometheus (Grafana dashboards ship in Emporium's `deploy/`).",
        },
      },
    ),
  ]

  const dashboards = [
    dashboard(LOGS_DASHBOARD_ID, 'Emporium · Logs', 'The log explorer: volume by level and the records.', [
      { ref: vis('emporium-log-volume'), x: 0, y: 0, w: 36, h: 12 },
      { ref: vis('emporium-log-categories'), x: 36, y: 0, w: 12, h: 12 },
      { ref: { type: 'search', id: SAVED_SEARCH_ID }, x: 0, y: 12, w: 48, h: 30 },
    ]),
    dashboard(
      OPERATIONS_DASHBOARD_ID,
      'Emporium · Operations',
      'Traffic, errors, latency by route, status codes, security events and pipeline throughput.',
      [
        { ref: vis('emporium-request-rate'), x: 0, y: 0, w: 24, h: 12 },
        { ref: vis('emporium-error-share'), x: 24, y: 0, w: 24, h: 12 },
        { ref: vis('emporium-latency'), x: 0, y: 12, w: 24, h: 12 },
        { ref: vis('emporium-status-codes'), x: 24, y: 12, w: 24, h: 12 },
        { ref: vis('emporium-latency-by-route'), x: 0, y: 24, w: 24, h: 18 },
        { ref: vis('emporium-slowest-routes'), x: 24, y: 24, w: 24, h: 18 },
        { ref: vis('emporium-login-failures'), x: 0, y: 42, w: 12, h: 12 },
        { ref: vis('emporium-security-events'), x: 12, y: 42, w: 36, h: 12 },
        { ref: vis('emporium-security-by-client'), x: 0, y: 54, w: 24, h: 15 },
        { ref: vis('emporium-pipeline-indexed'), x: 24, y: 54, w: 24, h: 15 },
        { ref: vis('emporium-pipeline-note'), x: 0, y: 69, w: 48, h: 6 },
      ],
    ),
  ]

  return [dataView, explorer, ...visualizations, ...dashboards]
}

/** One object per line, each line ending in \n: the bytes of deploy/kibana/emporium.ndjson. */
export const toNdjson = (objects: readonly SavedObject[]): string =>
  objects.map((o) => `${JSON.stringify(o)}\n`).join('')
