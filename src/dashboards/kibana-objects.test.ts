// The shipped Kibana saved objects: every line parses, every reference resolves inside the file, and every field the
// saved search and the visualizations use is in the index template's mapping with a type that fits its aggregation.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { indexTemplate } from '../log-index/search-engine/search-engine-log-index.ts'
import { SHIPPED_NDJSON } from './kibana-import.ts'
import { DATA_VIEW_TITLE, kibanaSavedObjects, toNdjson } from './kibana-objects.ts'

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const text = readFileSync(SHIPPED_NDJSON, 'utf8')
const lines = text.split('\n').filter((l) => l.trim() !== '')

interface Obj {
  type: string
  id: string
  attributes: Record<string, unknown>
  references: { name: string; type: string; id: string }[]
  migrationVersion?: Record<string, string>
}
const objects = lines.map((l) => JSON.parse(l) as Obj)
const byType = (type: string) => objects.filter((o) => o.type === type)

/** path → mapped type, walked out of the adapter's own template (both flavors). */
function mappedTypes(flavor: 'opensearch' | 'elasticsearch'): Map<string, string> {
  const template = indexTemplate({ flavor, replicas: 0, shards: 1, priority: 200 }) as {
    template: { mappings: { properties: Record<string, unknown> } }
  }
  const out = new Map<string, string>()
  const walk = (props: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(props)) {
      const v = value as { type?: string; properties?: Record<string, unknown> }
      if (v.properties) walk(v.properties, `${prefix}${key}.`)
      else out.set(`${prefix}${key}`, v.type ?? '?')
    }
  }
  walk(template.template.mappings.properties, '')
  return out
}
const MAPPINGS = [mappedTypes('opensearch'), mappedTypes('elasticsearch')]

const NUMERIC = new Set(['long', 'integer', 'short', 'byte', 'double', 'float', 'scaled_float'])
/** Which mapped types each aggregation can run on. */
const FITS: Record<string, (t: string) => boolean> = {
  date_histogram: (t) => t === 'date',
  terms: (t) => t === 'keyword' || NUMERIC.has(t),
  range: (t) => NUMERIC.has(t),
  percentiles: (t) => NUMERIC.has(t),
  avg: (t) => NUMERIC.has(t),
  max: (t) => NUMERIC.has(t),
  min: (t) => NUMERIC.has(t),
  sum: (t) => NUMERIC.has(t),
}

function assertField(field: string, fits: (t: string) => boolean, where: string) {
  for (const mapping of MAPPINGS) {
    const type = mapping.get(field)
    assert.ok(type, `${where}: ${field} is not in the index template's mapping`)
    assert.ok(fits(type), `${where}: ${field} is mapped as ${type}, which does not fit`)
  }
}

/** Field names a KQL string refers to (field:value, field >= n, field:*). */
const kqlFields = (query: string) =>
  [...query.replace(/"(?:[^"\\]|\\.)*"/g, '""').matchAll(/([A-Za-z_@][\w.@]*)\s*(?::|>=|<=|>|<)/g)].map((m) => m[1]!)

const searchSourceOf = (o: Obj) =>
  JSON.parse((o.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON) as {
    query?: { query: string; language: string }
    filter?: unknown[]
    indexRefName?: string
  }

describe('Kibana saved objects › deploy/kibana/emporium.ndjson', () => {
  it('sits where the command looks for it, one JSON object per line ending in a newline', () => {
    assert.equal(SHIPPED_NDJSON, join(REPO_ROOT, 'deploy/kibana/emporium.ndjson'))
    assert.ok(text.endsWith('\n'))
    assert.equal(lines.length, text.split('\n').length - 1, 'no blank lines')
    for (const [i, line] of lines.entries()) {
      const o = JSON.parse(line) as unknown
      assert.ok(o && typeof o === 'object' && !Array.isArray(o), `line ${i + 1} is an object`)
    }
  })

  it('is exactly what kibana-objects.ts builds (regenerate: npx tsx scripts/kibana-ndjson.ts)', () => {
    assert.equal(text, toNdjson(kibanaSavedObjects()))
  })

  it('gives every object a type, an id unique within its type, attributes, references and its migration level', () => {
    const seen = new Set<string>()
    for (const o of objects) {
      assert.ok(['index-pattern', 'search', 'visualization', 'dashboard'].includes(o.type), `${o.type} is importable`)
      assert.match(o.id, /^emporium-[a-z0-9-]+$/)
      assert.ok(!seen.has(`${o.type}/${o.id}`), `${o.type}/${o.id} is unique`)
      seen.add(`${o.type}/${o.id}`)
      assert.equal(typeof o.attributes, 'object')
      assert.equal(typeof o.attributes.title, 'string')
      assert.ok(Array.isArray(o.references))
      assert.deepEqual(Object.keys(o.migrationVersion ?? {}), [o.type])
      const names = o.references.map((r) => r.name)
      assert.equal(new Set(names).size, names.length, `${o.id}: reference names are unique`)
    }
  })

  it('holds JSON in every attribute that is a JSON string', () => {
    let checked = 0
    const walk = (value: unknown, path: string) => {
      if (!value || typeof value !== 'object') return
      for (const [key, v] of Object.entries(value)) {
        if (/JSON$|^fieldFormatMap$|^visState$/.test(key)) {
          assert.equal(typeof v, 'string', `${path}.${key} is a string`)
          assert.doesNotThrow(() => JSON.parse(v as string), `${path}.${key} parses`)
          checked++
        } else walk(v, `${path}.${key}`)
      }
    }
    for (const o of objects) walk(o.attributes, `${o.type}/${o.id}`)
    const visualizations = byType('visualization').length
    // visState + uiStateJSON + searchSourceJSON per visualization, and the rest.
    assert.ok(checked >= visualizations * 3 + 2 * 3 + 1 + 1, `checked ${checked} JSON strings`)
  })

  it('resolves every reference to an object in the file, dependencies listed first', () => {
    const position = new Map(objects.map((o, i) => [`${o.type}/${o.id}`, i]))
    for (const [i, o] of objects.entries())
      for (const r of o.references) {
        const at = position.get(`${r.type}/${r.id}`)
        assert.ok(at !== undefined, `${o.id}: reference ${r.name} → ${r.type}/${r.id} is in the file`)
        assert.ok(at < i, `${o.id}: ${r.type}/${r.id} comes before it`)
      }
  })

  it('has one data view on logs-emporium.* timed by @timestamp, with event.duration shown from nanoseconds', () => {
    const [view, ...more] = byType('index-pattern')
    assert.ok(view)
    assert.equal(more.length, 0)
    assert.equal(view.attributes.title, DATA_VIEW_TITLE)
    assert.equal(DATA_VIEW_TITLE, 'logs-emporium.*')
    assert.equal(view.attributes.timeFieldName, '@timestamp')
    assertField('@timestamp', (t) => t === 'date', 'timeFieldName')
    const formats = JSON.parse(view.attributes.fieldFormatMap as string) as Record<
      string,
      { id: string; params: object }
    >
    assert.deepEqual(formats['event.duration'], {
      id: 'duration',
      params: { inputFormat: 'nanoseconds', outputFormat: 'asMilliseconds', outputPrecision: 1 },
    })
    for (const field of Object.keys(formats)) assertField(field, (t) => NUMERIC.has(t), 'fieldFormatMap')
  })

  it('links every search source to the data view through its indexRefName', () => {
    for (const o of [...byType('search'), ...byType('visualization')]) {
      const source = searchSourceOf(o)
      const type = (JSON.parse((o.attributes.visState as string) ?? '{}') as { type?: string }).type
      if (type === 'markdown') {
        assert.equal(source.indexRefName, undefined)
        continue
      }
      assert.ok(source.indexRefName, `${o.id} names its index reference`)
      const ref = o.references.find((r) => r.name === source.indexRefName)
      assert.deepEqual(ref && { type: ref.type, id: ref.id }, { type: 'index-pattern', id: 'emporium-logs' })
      assert.equal(source.query?.language, 'kuery')
      for (const field of kqlFields(source.query?.query ?? '')) assertField(field, () => true, `${o.id} query`)
    }
  })

  it('has the explorer saved search with the built-in columns, newest first', () => {
    const [search] = byType('search')
    assert.ok(search)
    const columns = search.attributes.columns as string[]
    // Discover puts the data view's time field first by itself.
    assert.deepEqual(
      ['@timestamp', ...columns],
      [
        '@timestamp',
        'log.level',
        'event.category',
        'http.request.method',
        'url.path',
        'http.response.status_code',
        'event.duration',
        'message',
        'trace.id',
      ],
    )
    for (const c of columns) assertField(c, () => true, 'saved search column')
    assert.deepEqual(search.attributes.sort, [['@timestamp', 'desc']])
  })

  it('aggregates only on mapped fields of a fitting type, and orders terms by a metric it has', () => {
    let fields = 0
    for (const o of byType('visualization')) {
      const vis = JSON.parse(o.attributes.visState as string) as {
        title: string
        type: string
        aggs: { id: string; type: string; schema: string; params: { field?: string; orderBy?: string } }[]
      }
      assert.equal(vis.title, o.attributes.title)
      const metricIds = new Set(vis.aggs.filter((a) => a.schema === 'metric').map((a) => a.id))
      if (vis.type !== 'markdown') assert.ok(metricIds.size > 0, `${o.id} has a metric`)
      for (const agg of vis.aggs) {
        if (agg.type === 'count') continue
        const fits = FITS[agg.type]
        assert.ok(fits, `${o.id}: aggregation ${agg.type} is one this test knows`)
        assert.ok(agg.params.field, `${o.id}: ${agg.type} names a field`)
        assertField(agg.params.field, fits, `${o.id} ${agg.type}`)
        fields++
        if (agg.type === 'terms')
          assert.ok(metricIds.has(agg.params.orderBy ?? ''), `${o.id}: terms ordered by metric ${agg.params.orderBy}`)
      }
    }
    assert.ok(fields >= 15, `checked ${fields} aggregated fields`)
  })

  it('has the two dashboards, every panel backed by a reference and placed on the 48-column grid', () => {
    const dashboards = byType('dashboard')
    assert.deepEqual(dashboards.map((d) => d.attributes.title).sort(), ['Emporium · Logs', 'Emporium · Operations'])
    for (const d of dashboards) {
      const panels = JSON.parse(d.attributes.panelsJSON as string) as {
        panelRefName: string
        panelIndex: string
        gridData: { x: number; y: number; w: number; h: number; i: string }
      }[]
      assert.equal(panels.length, d.references.length)
      for (const p of panels) {
        const ref = d.references.find((r) => r.name === p.panelRefName)
        assert.ok(ref, `${d.id}: panel ${p.panelIndex} has reference ${p.panelRefName}`)
        assert.ok(['visualization', 'search'].includes(ref.type))
        assert.equal(p.gridData.i, p.panelIndex)
        assert.ok(
          p.gridData.x >= 0 && p.gridData.w > 0 && p.gridData.x + p.gridData.w <= 48,
          `${d.id}: fits 48 columns`,
        )
      }
      for (const [i, a] of panels.entries())
        for (const b of panels.slice(i + 1)) {
          const apart =
            a.gridData.x + a.gridData.w <= b.gridData.x ||
            b.gridData.x + b.gridData.w <= a.gridData.x ||
            a.gridData.y + a.gridData.h <= b.gridData.y ||
            b.gridData.y + b.gridData.h <= a.gridData.y
          assert.ok(apart, `${d.id}: panels ${a.panelIndex} and ${b.panelIndex} do not overlap`)
        }
    }
    const logs = dashboards.find((d) => d.attributes.title === 'Emporium · Logs')!
    assert.ok(logs.references.some((r) => r.type === 'search' && r.id === 'emporium-log-explorer'))
    const used = new Set(dashboards.flatMap((d) => d.references.map((r) => r.id)))
    for (const v of byType('visualization')) assert.ok(used.has(v.id), `${v.id} is on a dashboard`)
  })
})
