// Smoke tests of the local real-engine stack (scripts/stack): each engine answers its production client the way the
// distributed adapters rely on. Run: npm run stack:up && eval "$(npm run -s stack:env)" && npm run test:stack
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Client as OpenSearchClient } from '@opensearch-project/opensearch'
import cassandra from 'cassandra-driver'
import { Redis } from 'ioredis'
import { type Collection, MongoClient, MongoServerError } from 'mongodb'

const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
const skipUnless = (name: string) =>
  process.env[name] ? false : `${name} unset: run npm run stack:up and eval "$(npm run -s stack:env)"`

describe('Redis (stack)', { skip: skipUnless('REDIS_URL') }, () => {
  let redis: Redis
  const stream = `stacktest:${run}:events`

  before(() => {
    redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 2 })
  })
  after(async () => {
    await redis.del(stream)
    await redis.quit()
  })

  it('answers PING', async () => {
    assert.equal(await redis.ping(), 'PONG')
  })

  it('runs a stream through a consumer group: XADD, XGROUP CREATE, XREADGROUP, XACK', async () => {
    await redis.xgroup('CREATE', stream, 'workers', '$', 'MKSTREAM')
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await redis.xadd(stream, '*', 'order', `o-${i}`, 'total', String(10 * i)))!)
    const read = (await redis.xreadgroup('GROUP', 'workers', 'w1', 'COUNT', 10, 'STREAMS', stream, '>')) as
      | [string, [string, string[]][]][]
      | null
    assert.ok(read)
    const entries = read[0]![1]
    assert.deepEqual(
      entries.map(([id]) => id),
      ids,
    )
    assert.deepEqual(entries[1]![1], ['order', 'o-1', 'total', '10'])
    assert.equal(await redis.xack(stream, 'workers', ...ids.slice(0, 2)), 2)
    const pending = (await redis.xpending(stream, 'workers')) as [number, string, string, [string, string][]]
    assert.equal(pending[0], 1)
    assert.equal(pending[1], ids[2])
  })
})

interface StockDoc {
  _id: string
  sku: string
  available: number
}

const mongoTargets = [
  { label: 'FerretDB', env: 'MONGODB_URL' },
  { label: 'mongo-java-server', env: 'MONGODB_URL_JAVA' },
]

for (const target of mongoTargets) {
  describe(`MongoDB wire protocol: ${target.label} (stack)`, { skip: skipUnless(target.env) }, () => {
    let client: MongoClient
    let stock: Collection<StockDoc>

    before(async () => {
      client = new MongoClient(process.env[target.env]!, { serverSelectionTimeoutMS: 5000 })
      await client.connect()
      stock = client.db().collection<StockDoc>(`stacktest_${run}_stock`)
    })
    after(async () => {
      await stock.drop().catch(() => undefined)
      await client.close()
    })

    it('inserts and finds documents', async () => {
      await stock.insertMany([
        { _id: 'a', sku: 'SKU-A', available: 5 },
        { _id: 'b', sku: 'SKU-B', available: 0 },
      ])
      const found = await stock.find({ available: { $gt: 0 } }).toArray()
      assert.deepEqual(found, [{ _id: 'a', sku: 'SKU-A', available: 5 }])
    })

    it('rejects a duplicate key of a unique index with code 11000', async () => {
      await stock.createIndex({ sku: 1 }, { unique: true, name: 'sku_unique' })
      await assert.rejects(
        stock.insertOne({ _id: 'c', sku: 'SKU-A', available: 1 }),
        (err: unknown) => err instanceof MongoServerError && err.code === 11000,
      )
    })

    it('applies findOneAndUpdate only when the conditional filter matches', async () => {
      const reserve = (quantity: number) =>
        stock.findOneAndUpdate(
          { _id: 'a', available: { $gte: quantity } },
          { $inc: { available: -quantity } },
          { returnDocument: 'after' },
        )
      assert.equal((await reserve(3))?.available, 2)
      assert.equal(await reserve(3), null)
      assert.equal((await stock.findOne({ _id: 'a' }))?.available, 2)
    })
  })
}

describe('Cassandra (stack)', { skip: skipUnless('CASSANDRA_CONTACT_POINTS') }, () => {
  let client: cassandra.Client
  const keyspace = 'emporium_stacktest'
  const table = `orders_${run}`

  before(async () => {
    client = new cassandra.Client({
      contactPoints: process.env.CASSANDRA_CONTACT_POINTS!.split(','),
      localDataCenter: process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
    })
    await client.connect()
  })
  after(async () => {
    await client.execute(`DROP TABLE IF EXISTS ${keyspace}.${table}`).catch(() => undefined)
    await client.shutdown()
  })

  it('creates a keyspace and a table, inserts with a prepared statement and selects', async () => {
    await client.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    )
    await client.execute(
      `CREATE TABLE ${keyspace}.${table} (day text, created_at timestamp, order_id text, total decimal,
        PRIMARY KEY ((day), created_at, order_id)) WITH CLUSTERING ORDER BY (created_at DESC, order_id ASC)`,
    )
    const insert = `INSERT INTO ${keyspace}.${table} (day, created_at, order_id, total) VALUES (?, ?, ?, ?)`
    for (let i = 0; i < 3; i++) {
      await client.execute(
        insert,
        [
          '2026-11-26',
          new Date(Date.UTC(2026, 10, 26, 12, i)),
          `o-${i}`,
          cassandra.types.BigDecimal.fromString(`1${i}.50`),
        ],
        { prepare: true },
      )
    }
    const result = await client.execute(
      `SELECT order_id, total FROM ${keyspace}.${table} WHERE day = ?`,
      ['2026-11-26'],
      {
        prepare: true,
      },
    )
    assert.deepEqual(
      result.rows.map((r) => r.get('order_id') as string),
      ['o-2', 'o-1', 'o-0'],
    )
    assert.equal(String(result.rows[0]!.get('total')), '12.50')
  })
})

interface Bucket {
  key: string | number
  doc_count: number
}

describe('OpenSearch (stack)', { skip: skipUnless('OPENSEARCH_URL') }, () => {
  let client: OpenSearchClient
  const template = `emporium-stacktest-${run}`
  const dataStream = `emporium-stacktest-${run}-logs`

  before(() => {
    client = new OpenSearchClient({ node: process.env.OPENSEARCH_URL! })
  })
  after(async () => {
    await client.indices.deleteDataStream({ name: dataStream }).catch(() => undefined)
    await client.indices.deleteIndexTemplate({ name: template }).catch(() => undefined)
    await client.close()
  })

  it('accepts a composable index template with data_stream and creates the data stream', async () => {
    const put = await client.indices.putIndexTemplate({
      name: template,
      body: {
        index_patterns: [`emporium-stacktest-${run}-*`],
        data_stream: {},
        priority: 500,
        template: {
          settings: { number_of_shards: 1, number_of_replicas: 0 },
          mappings: {
            dynamic: 'strict',
            properties: {
              '@timestamp': { type: 'date' },
              message: { type: 'text' },
              event: { properties: { id: { type: 'keyword' }, dataset: { type: 'keyword' } } },
              http: { properties: { response: { properties: { status_code: { type: 'integer' } } } } },
            },
          },
        },
      },
    })
    assert.equal(put.body.acknowledged, true)
    const created = await client.indices.createDataStream({ name: dataStream })
    assert.equal(created.body.acknowledged, true)
    const got = await client.indices.getDataStream({ name: dataStream })
    assert.equal(got.body.data_streams[0]?.name, dataStream)
  })

  it('bulk-creates into the data stream; a repeated _id answers 409 for that item only', async () => {
    const base = Date.UTC(2026, 10, 26, 12, 0, 0)
    const docs = [
      { id: 'e1', minute: 0, dataset: 'api.access', status: 200 },
      { id: 'e2', minute: 0, dataset: 'api.access', status: 201 },
      { id: 'e3', minute: 1, dataset: 'api.access', status: 500 },
      { id: 'e4', minute: 2, dataset: 'checkout', status: 200 },
      { id: 'e5', minute: 2, dataset: 'checkout', status: 200 },
      { id: 'e3', minute: 1, dataset: 'api.access', status: 500 },
    ]
    const body = docs.flatMap((d) => [
      { create: { _index: dataStream, _id: d.id } },
      {
        '@timestamp': new Date(base + d.minute * 60_000 + 1000).toISOString(),
        message: `request ${d.id}`,
        event: { id: d.id, dataset: d.dataset },
        http: { response: { status_code: d.status } },
      },
    ])
    const res = await client.bulk({ body, refresh: true })
    assert.equal(res.body.errors, true)
    const statuses = res.body.items.map((item) => item.create?.status)
    assert.deepEqual(statuses, [201, 201, 201, 201, 201, 409])
    assert.match(String(res.body.items[5]?.create?.error?.type), /version_conflict_engine_exception/)
  })

  it('searches and aggregates with date_histogram and terms', async () => {
    // Held in variables: the client's TermsAggregationFields type (3.9.0) lacks `field`, so a literal fails to typecheck.
    const statusAggs = {
      per_minute: { date_histogram: { field: '@timestamp', fixed_interval: '1m', min_doc_count: 0 } },
      by_status: { terms: { field: 'http.response.status_code', size: 10 } },
    }
    const datasetAggs = { datasets: { terms: { field: 'event.dataset', size: 10 } } }
    const res = await client.search({
      index: dataStream,
      body: {
        size: 10,
        track_total_hits: true,
        query: { term: { 'event.dataset': 'api.access' } },
        sort: [{ '@timestamp': { order: 'asc' } }, { 'event.id': { order: 'asc' } }],
        aggs: statusAggs,
      },
    })
    const total = res.body.hits.total
    assert.equal(typeof total === 'number' ? total : total?.value, 3)
    assert.deepEqual(
      res.body.hits.hits.map((h) => (h._source as { event: { id: string } }).event.id),
      ['e1', 'e2', 'e3'],
    )
    const aggs = res.body.aggregations as unknown as Record<string, { buckets: Bucket[] }>
    assert.deepEqual(
      aggs.per_minute!.buckets.map((b) => b.doc_count),
      [2, 1],
    )
    assert.deepEqual(aggs.by_status!.buckets.map((b) => [b.key, b.doc_count]).sort(), [
      [200, 1],
      [201, 1],
      [500, 1],
    ])
    const all = await client.search({
      index: dataStream,
      body: { size: 0, aggs: datasetAggs },
    })
    const datasets = (all.body.aggregations as unknown as Record<string, { buckets: Bucket[] }>).datasets!.buckets
    assert.deepEqual(
      datasets.map((b) => [b.key, b.doc_count]),
      [
        ['api.access', 3],
        ['checkout', 2],
      ],
    )
  })
})
