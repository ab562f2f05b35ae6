// The search-engine adapter without an engine: bulk answers classified (indexed / rejected / retryable) from canned
// responses in the shape Elasticsearch and OpenSearch share, the template, and the query DSL.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { makeLogRecord } from '../log-index.conformance.ts'
import { isRetryable } from '../log-index.ts'
import { parseQuery } from '../query.ts'
import { compileQueryDsl } from './query-dsl.ts'
import { indexTemplate, openSearchEngineLogIndex } from './search-engine-log-index.ts'

type Handler = (req: IncomingMessage, body: string) => { status: number; body: unknown }

describe('LogIndex › search engine › bulk answers (fake engine)', () => {
  let server: Server
  let handler: Handler = () => ({ status: 200, body: {} })
  const seen: { method: string; url: string; contentType: string; body: string }[] = []
  let url = ''

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = ''
      req.on('data', (c) => {
        body += c
      })
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, contentType: String(req.headers['content-type']), body })
        const answer = handler(req, body)
        res.writeHead(answer.status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(answer.body))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const records = ['a', 'b', 'c', 'd'].map((id) =>
    makeLogRecord(id, '2026-03-02T10:00:00.000Z', id === 'b' ? 'security' : 'access', 'info', `m ${id}`),
  )
  const bulkAnswer = (statuses: number[]) => () => ({
    status: 200,
    body: {
      took: 1,
      errors: statuses.some((s) => s >= 300),
      items: statuses.map((status) => ({
        create:
          status < 300
            ? { status, result: 'created' }
            : { status, error: { type: `type_${status}`, reason: `reason ${status}` } },
      })),
    },
  })

  it('sends NDJSON create actions with _id = event.id into the category data stream', async () => {
    handler = bulkAnswer([201, 201, 201, 201])
    seen.length = 0
    const ix = openSearchEngineLogIndex({ url, namespace: 'prod' })
    assert.deepEqual(await ix.index(records), { indexed: 4, rejected: [] })
    await ix.close()
    // Only errors and per-item status/error come back (filter_path): all the classification needs.
    assert.equal(decodeURIComponent(seen[0]!.url), '/_bulk?filter_path=errors,items.*.status,items.*.error')
    assert.equal(seen[0]!.contentType, 'application/x-ndjson')
    const lines = seen[0]!.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(lines[0], { create: { _index: 'logs-emporium.access-prod', _id: 'a' } })
    assert.deepEqual(lines[2], { create: { _index: 'logs-emporium.security-prod', _id: 'b' } })
    assert.deepEqual(lines[1], records[0])
  })

  it('409 counts as indexed, other 4xx items are rejected with the reason', async () => {
    handler = bulkAnswer([201, 409, 400, 404])
    const ix = openSearchEngineLogIndex({ url })
    const result = await ix.index(records)
    await ix.close()
    assert.equal(result.indexed, 2)
    assert.deepEqual(result.rejected, [
      { eventId: 'c', reason: 'type_400: reason 400' },
      { eventId: 'd', reason: 'type_404: reason 404' },
    ])
  })

  it('a 429 or 5xx item makes the whole batch retryable', async () => {
    for (const status of [429, 500, 503]) {
      handler = bulkAnswer([201, status, 400, 409])
      const ix = openSearchEngineLogIndex({ url })
      await assert.rejects(ix.index(records), (e: unknown) => {
        assert.ok(isRetryable(e), `${status} not retryable`)
        assert.equal((e as { code?: string }).code, 'EMP_UNAVAILABLE')
        return true
      })
      await ix.close()
    }
  })

  it('a 429 or 5xx answer to the request is retryable, without client-side retries', async () => {
    for (const status of [429, 502, 503]) {
      handler = () => ({ status, body: { error: { type: 'es_rejected_execution_exception' }, status } })
      seen.length = 0
      const ix = openSearchEngineLogIndex({ url })
      await assert.rejects(ix.index(records), (e: unknown) => isRetryable(e))
      await ix.close()
      assert.equal(seen.length, 1, `${status} was retried by the client`)
    }
  })

  it('a 4xx answer to the request is not retryable', async () => {
    for (const status of [400, 401, 403, 413]) {
      handler = () => ({ status, body: { error: { type: 'x', reason: 'no' }, status } })
      const ix = openSearchEngineLogIndex({ url })
      await assert.rejects(ix.index(records), (e: unknown) => {
        assert.ok(!isRetryable(e), `${status} retryable`)
        assert.match((e as Error).message, new RegExp(`answered ${status}`))
        return true
      })
      await ix.close()
    }
  })

  it('records without event.id or with an unknown category are rejected before sending', async () => {
    seen.length = 0
    const ix = openSearchEngineLogIndex({ url })
    const noId = makeLogRecord('x', '2026-03-02T10:00:00.000Z', 'app', 'info', 'm')
    delete (noId.event as { id?: string }).id
    const badCategory = makeLogRecord('y', '2026-03-02T10:00:00.000Z', 'app', 'info', 'm')
    ;(badCategory.event as { category: string }).category = 'x,_all'
    const result = await ix.index([noId, badCategory])
    await ix.close()
    assert.equal(seen.length, 0)
    assert.deepEqual(
      result.rejected.map((r) => r.eventId),
      ['', 'y'],
    )
  })

  it('the namespace is checked, since it becomes part of index names', () => {
    for (const namespace of ['', 'a-b', 'A', 'x,y', '*', 'a/b'])
      assert.throws(() => openSearchEngineLogIndex({ url, namespace }))
  })
})

describe('LogIndex › search engine › template', () => {
  it('opensearch: text, no index.mode', () => {
    const t = indexTemplate({ flavor: 'opensearch', replicas: 0, shards: 1, priority: 200 }) as any
    assert.deepEqual(t.index_patterns, ['logs-emporium.*-*'])
    assert.deepEqual(t.data_stream, {})
    assert.equal(t.priority, 200)
    assert.equal(t.template.mappings.dynamic, false)
    assert.deepEqual(t.template.mappings.properties.message, { type: 'text' })
    assert.deepEqual(t.template.mappings.properties.url.properties.path, { type: 'keyword', ignore_above: 1024 })
    assert.deepEqual(t.template.mappings.properties.event.properties.duration, { type: 'long' })
    assert.deepEqual(t.template.settings, { number_of_shards: 1, number_of_replicas: 0 })
  })
  it('elasticsearch: match_only_text and index.mode standard', () => {
    const t = indexTemplate({ flavor: 'elasticsearch', replicas: 1, shards: 2, priority: 200 }) as any
    assert.deepEqual(t.template.mappings.properties.message, { type: 'match_only_text' })
    assert.deepEqual(t.template.mappings.properties.error.properties.message, { type: 'match_only_text' })
    assert.equal(t.template.settings['index.mode'], 'standard')
  })
})

describe('LogIndex › search engine › query DSL', () => {
  const dsl = (q: string) => compileQueryDsl(parseQuery(q))
  it('fields, phrases and bare words', () => {
    assert.deepEqual(dsl('level:error'), { term: { 'log.level': { value: 'error' } } })
    assert.deepEqual(dsl('message:"gateway timeout"'), { match_phrase: { message: { query: 'gateway timeout' } } })
    assert.deepEqual(dsl('timeout'), {
      bool: {
        should: [
          { match_phrase: { message: { query: 'timeout' } } },
          { match_phrase: { 'error.message': { query: 'timeout' } } },
        ],
        minimum_should_match: 1,
      },
    })
  })
  it('boolean structure', () => {
    assert.deepEqual(dsl('level:error AND NOT status:500'), {
      bool: {
        filter: [
          { term: { 'log.level': { value: 'error' } } },
          { bool: { must_not: [{ term: { 'http.response.status_code': { value: 500 } } }] } },
        ],
      },
    })
    assert.deepEqual(dsl('user:a OR user:b'), {
      bool: {
        should: [{ term: { 'user.id': { value: 'a' } } }, { term: { 'user.id': { value: 'b' } } }],
        minimum_should_match: 1,
      },
    })
  })
  it('ranges, prefixes and existence', () => {
    assert.deepEqual(dsl('status:[400 TO 500}'), { range: { 'http.response.status_code': { gte: 400, lt: 500 } } })
    assert.deepEqual(dsl('@timestamp:>=2026-03-01'), {
      range: { '@timestamp': { gte: Date.UTC(2026, 2, 1), format: 'epoch_millis' } },
    })
    assert.deepEqual(dsl('path:/checkout*'), { prefix: { 'url.path': { value: '/checkout' } } })
    assert.deepEqual(dsl('Time*'), {
      bool: {
        should: [{ prefix: { message: { value: 'time' } } }, { prefix: { 'error.message': { value: 'time' } } }],
        minimum_should_match: 1,
      },
    })
    assert.deepEqual(dsl('trace:*'), { exists: { field: 'trace.id' } })
  })
  it('hostile values stay values', () => {
    assert.deepEqual(dsl('user:"{\\"match_all\\":{}}"'), { term: { 'user.id': { value: '{"match_all":{}}' } } })
  })
})
