// The LogIndex conformance suite against the stack's OpenSearch, plus data-stream behaviour only this adapter has.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Client } from '@opensearch-project/opensearch'
import { describeLogIndexConformance, makeLogRecord } from '../log-index.conformance.ts'
import { isRetryable, type LogIndex } from '../log-index.ts'
import { openSearchEngineLogIndex, type SearchEngineLogIndex, TEMPLATE_NAME } from './search-engine-log-index.ts'

const url = process.env.OPENSEARCH_URL
const skip = url ? false : 'OPENSEARCH_URL is not set; run `npm run stack:up` and `eval "$(npm run -s stack:env)"`'
const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
let counter = 0
const uniqueNamespace = () => `t${run}_${++counter}`

const open = (namespace = uniqueNamespace()) => openSearchEngineLogIndex({ url: url!, namespace, replicas: 0 })

/** Deletes the index's data streams (and with them their backing indices); the shared template stays. */
async function dropStreams(index: LogIndex): Promise<void> {
  const ix = index as SearchEngineLogIndex
  const client = new Client({ node: url! })
  try {
    for (const stream of await ix.dataStreams())
      await client.indices.deleteDataStream({ name: stream.name }).catch(() => undefined)
  } finally {
    await client.close()
    await ix.close()
  }
}

if (url) {
  describeLogIndexConformance({
    name: 'opensearch',
    create: async () => {
      const index = open()
      await index.migrate()
      return index
    },
    cleanup: dropStreams,
  })
}

describe('LogIndex › opensearch › data streams', { skip }, () => {
  let ix: SearchEngineLogIndex
  let client: Client
  const day = 86_400_000
  const now = Date.UTC(2026, 5, 15, 12, 0, 0)
  const at = (daysAgo: number) => new Date(now - daysAgo * day).toISOString()

  before(async () => {
    client = new Client({ node: url! })
    ix = open()
    await ix.migrate()
  })
  after(async () => {
    await dropStreams(ix)
    await client.close()
  })

  it('migrate puts the emporium-logs template: data stream, priority 200, explicit mappings, replicas 0', async () => {
    const res = await client.indices.getIndexTemplate({ name: TEMPLATE_NAME })
    const template = res.body.index_templates[0]!.index_template as unknown as Record<string, any>
    assert.deepEqual(template.index_patterns, ['logs-emporium.*-*'])
    assert.equal(template.priority, 200)
    assert.deepEqual(template.data_stream, { timestamp_field: { name: '@timestamp' } })
    const mappings = template.template.mappings
    assert.equal(String(mappings.dynamic), 'false')
    assert.deepEqual(mappings.properties['@timestamp'], { type: 'date' })
    assert.deepEqual(mappings.properties.message, { type: 'text' })
    assert.deepEqual(mappings.properties.log.properties.level, { type: 'keyword' })
    assert.deepEqual(mappings.properties.http.properties.response.properties.status_code, { type: 'long' })
    assert.equal(template.template.settings.index.number_of_replicas, '0')
  })

  it('writes each category to logs-emporium.<category>-<namespace>; unmapped fields stay unindexed', async () => {
    await ix.index([
      makeLogRecord('ds-1', at(0), 'access', 'info', 'one', { labels: { order_id: 'ord_1' } }),
      makeLogRecord('ds-2', at(0), 'security', 'warn', 'two'),
    ])
    const names = (await ix.dataStreams()).map((s) => s.name).sort()
    assert.deepEqual(names, [`logs-emporium.access-${ix.namespace}`, `logs-emporium.security-${ix.namespace}`])
    const mapping = await client.indices.getMapping({ index: `logs-emporium.access-${ix.namespace}` })
    const properties = Object.values(mapping.body)[0]!.mappings.properties as Record<string, unknown>
    assert.equal(properties.labels, undefined)
    const health = await client.cluster.health({ index: `logs-emporium.*-${ix.namespace}`, timeout: '5s' })
    assert.equal(health.body.status, 'green')
  })

  it('rollover, then deleteOlderThan deletes expired backing indices and trims the write index', async () => {
    await ix.index([
      makeLogRecord('old-1', at(30), 'app', 'info', 'old'),
      makeLogRecord('old-2', at(29), 'app', 'info', 'old'),
    ])
    const rolled = await ix.rollover()
    assert.ok(rolled.every((r) => r.rolledOver))
    await ix.index([
      makeLogRecord('mid-1', at(10), 'app', 'info', 'mid'),
      makeLogRecord('new-1', at(1), 'app', 'info', 'new'),
    ])
    await ix.refresh()
    const before = (await ix.dataStreams()).find((s) => s.name.includes('.app-'))!
    assert.equal(before.indices.length, 2)
    assert.equal(await ix.deleteOlderThan(at(20)), 2)
    await ix.refresh()
    const afterDelete = (await ix.dataStreams()).find((s) => s.name.includes('.app-'))!
    assert.deepEqual(afterDelete.indices, [before.indices[1]])
    assert.equal(await ix.count({ from: at(40), to: at(-1), categories: ['app'] }), 2)
    assert.equal(await ix.deleteOlderThan(at(5)), 1)
    await ix.refresh()
    assert.equal(await ix.count({ from: at(40), to: at(-1), categories: ['app'] }), 1)
  })

  it('a record indexed again after a rollover lands twice (dedup is per backing index)', async () => {
    const record = makeLogRecord('dup-after-rollover', at(2), 'audit', 'info', 'x')
    await ix.index([record])
    await ix.rollover()
    assert.deepEqual(await ix.index([record]), { indexed: 1, rejected: [] })
    await ix.refresh()
    assert.equal(await ix.count({ q: 'event.id:dup-after-rollover', from: at(3), to: at(1) }), 2)
  })

  it('an unreachable engine fails index, search and ping with a retryable error', async () => {
    const down = openSearchEngineLogIndex({ url: 'http://127.0.0.1:1', namespace: 'down', requestTimeoutMs: 2000 })
    try {
      const record = makeLogRecord('x-1', at(0), 'app', 'info', 'x')
      await assert.rejects(down.index([record]), (e: unknown) => isRetryable(e))
      await assert.rejects(down.ping(), (e: unknown) => isRetryable(e))
      await assert.rejects(down.search({ from: at(1), to: at(0), page: 1, limit: 1 }), (e: unknown) => isRetryable(e))
    } finally {
      await down.close()
    }
  })
})

if (!url) describe('LogIndex › opensearch', () => it('conformance', { skip }, () => {}))
