// The AnalyticsStore conformance suite against the stack's Cassandra 5, one keyspace per store (dropped afterwards),
// plus what only this adapter has: query-first tables, rollups read as rollups, replication and keyspace confinement.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import cassandra from 'cassandra-driver'
import { describeAnalyticsStoreConformance, FIXTURE } from '../analytics-store.conformance.ts'
import type { AnalyticsStore } from '../analytics-store.ts'
import { type CassandraAnalyticsStore, openCassandraAnalyticsStore } from './cassandra-analytics-store.ts'
import { replicationCql } from './schema.ts'

const contactPoints = process.env.CASSANDRA_CONTACT_POINTS?.split(',').filter(Boolean)
const localDataCenter = process.env.CASSANDRA_LOCAL_DC
const skip =
  contactPoints?.length && localDataCenter
    ? false
    : 'CASSANDRA_CONTACT_POINTS or CASSANDRA_LOCAL_DC is not set; run `npm run stack:up` and `eval "$(npm run -s stack:env)"`'
const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
let counter = 0
const uniqueKeyspace = () => `emp_analytics_t${run}_${++counter}`

const open = (keyspace = uniqueKeyspace(), extra: { rollupClockSkewMs?: number } = {}) =>
  openCassandraAnalyticsStore({
    contactPoints: contactPoints!,
    localDataCenter: localDataCenter!,
    keyspace,
    currency: 'USD',
    rollupClockSkewMs: extra.rollupClockSkewMs ?? 0,
  })

async function dropKeyspace(store: AnalyticsStore): Promise<void> {
  const s = store as CassandraAnalyticsStore
  const client = new cassandra.Client({ contactPoints: contactPoints!, localDataCenter: localDataCenter! })
  try {
    await client.execute(`DROP KEYSPACE IF EXISTS ${s.keyspace}`)
  } finally {
    await client.shutdown()
    await s.close()
  }
}

if (!skip) {
  describeAnalyticsStoreConformance({
    name: 'cassandra',
    create: async () => {
      const store = open()
      await store.migrate()
      return store
    },
    cleanup: dropKeyspace,
    raw: {
      orderLineIds: 'SELECT id FROM order_lines_by_day',
      orderLineTable: 'order_lines_by_day',
      // CQL has no sleep or generator: a filtering scan of 20,000 events (about 180 ms here) against a 20 ms limit.
      slow: {
        statement: 'SELECT count(*) FROM events_by_day WHERE value > 1000000000 ALLOW FILTERING',
        timeoutMs: 20,
        setup: async (store) => {
          const base = Date.UTC(2030, 0, 1)
          const events = Array.from({ length: 20_000 }, (_, i) => ({
            id: `slow-${i}`,
            type: 'product_view' as const,
            at: new Date(base + i * 1000).toISOString(),
            sessionId: `slow-s${i % 997}`,
            value: 100,
            currency: 'USD',
          }))
          for (let i = 0; i < events.length; i += 5000) await store.write({ events: events.slice(i, i + 5000) })
        },
      },
    },
  })
}

describe('AnalyticsStore › cassandra › tables and rollups', { skip }, () => {
  let store: CassandraAnalyticsStore
  let client: cassandra.Client
  before(async () => {
    store = open()
    await store.migrate()
    await store.write(FIXTURE)
    client = new cassandra.Client({ contactPoints: contactPoints!, localDataCenter: localDataCenter! })
  })
  after(async () => {
    await client?.shutdown()
    if (store) await dropKeyspace(store)
  })

  it('migrate creates the keyspace with its replication and every table with the query it serves', async () => {
    const ks = await client.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [
      store.keyspace,
    ])
    assert.deepEqual(ks.first().get('replication'), {
      class: 'org.apache.cassandra.locator.SimpleStrategy',
      replication_factor: '1',
    })
    const tables = await client.execute(
      'SELECT table_name, comment FROM system_schema.tables WHERE keyspace_name = ?',
      [store.keyspace],
    )
    const names = tables.rows.map((r) => r.get('table_name') as string).sort()
    assert.deepEqual(names, [
      'analytics_meta',
      'customer_months',
      'events_by_day',
      'order_lines_by_day',
      'refund_lines_by_day',
      'rollup_state',
      'sales_by_day',
      'sales_by_day_category',
      'sales_by_day_product',
    ])
    for (const r of tables.rows) assert.match(r.get('comment') as string, /^Serves: /, r.get('table_name'))
    const columns = await client.execute(
      'SELECT column_name, kind, position FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?',
      [store.keyspace, 'order_lines_by_day'],
    )
    const key = columns.rows
      .filter((r) => r.get('kind') !== 'regular')
      .sort((a, b) =>
        a.get('kind') === b.get('kind')
          ? a.get('position') - b.get('position')
          : a.get('kind') < b.get('kind')
            ? -1
            : 1,
      )
      .map((r) => `${r.get('kind')}:${r.get('column_name')}`)
    assert.deepEqual(key, ['clustering:paid_at', 'clustering:id', 'partition_key:day', 'partition_key:hour'])
  })

  it('replication is SimpleStrategy for one node or NetworkTopologyStrategy with per-DC factors', () => {
    assert.equal(
      replicationCql({ class: 'SimpleStrategy', replicationFactor: 1 }),
      "{'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    assert.equal(
      replicationCql({ class: 'NetworkTopologyStrategy', dataCenters: { dc1: 3, dc2: 2 } }),
      "{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}",
    )
    assert.throws(() => replicationCql({ class: 'NetworkTopologyStrategy', dataCenters: {} }), RangeError)
    assert.throws(() => replicationCql({ class: 'NetworkTopologyStrategy', dataCenters: { "x'": 1 } }), RangeError)
    assert.throws(() => open('Bad-Name'), RangeError)
  })

  it('rollup(day) overwrites the day’s rows; fresh whole days are then read from the rollup', async () => {
    const q = {
      measures: ['revenue', 'orders'] as ('revenue' | 'orders')[],
      dimensions: ['day'] as 'day'[],
      from: '2026-03-01T00:00:00Z',
      to: '2026-03-03T00:00:00Z',
    }
    const before = await store.query(q)
    assert.deepEqual(store.lastPlan, { rollupDays: [], factDays: ['2026-03-01', '2026-03-02'] })
    await store.rollup('2026-03-01')
    await store.rollup('2026-03-01')
    const rows = await client.execute(`SELECT * FROM ${store.keyspace}.sales_by_day WHERE day = '2026-03-01'`)
    assert.deepEqual(
      rows.rows.map((r) => [
        r.get('country'),
        r.get('coupon'),
        r.get('channel'),
        r.get('orders'),
        Number(r.get('gross')),
        Number(r.get('refunds')),
      ]),
      [
        ['DE', 'SPRING10', 'app', 1, 5400, 0],
        ['US', '', 'web', 1, 7497, 1200],
      ],
    )
    const after = await store.query(q)
    assert.deepEqual(store.lastPlan, { rollupDays: ['2026-03-01'], factDays: ['2026-03-02'] })
    assert.deepEqual(after, before)
    await store.query({ ...q, filters: { product: ['mug', 'tee'] } })
    assert.deepEqual(store.lastPlan.rollupDays, [], 'an in-list on product without grouping reads the facts')
  })

  it('raw reads only the store’s keyspace', async () => {
    await assert.rejects(store.raw({ statement: 'SELECT * FROM system_auth.roles' }), (e: any) => {
      assert.equal(e.code, 'EMP_QUERY_REFUSED')
      assert.equal(e.details.refusal, 'other_keyspace')
      return true
    })
    const own = await store.raw({ statement: `SELECT count(*) FROM ${store.keyspace}.refund_lines_by_day` })
    assert.deepEqual(own, { columns: ['count'], rows: [[3]], truncated: false })
  })
})

if (skip) describe('AnalyticsStore › cassandra', () => it('conformance', { skip }, () => {}))
