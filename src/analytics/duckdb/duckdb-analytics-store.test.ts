// The AnalyticsStore conformance suite on DuckDB in memory, plus what only this adapter has: its offline, locked
// database and the SQL-only refusals of the raw console.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { DuckDBInstance } from '@duckdb/node-api'
import { EmporiumError } from '../../core/errors.ts'
import { describeAnalyticsStoreConformance, FIXTURE } from '../analytics-store.conformance.ts'
import { type DuckDbAnalyticsStore, openDuckDbAnalyticsStore } from './duckdb-analytics-store.ts'

describeAnalyticsStoreConformance({
  name: 'duckdb',
  create: async () => {
    const store = await openDuckDbAnalyticsStore({ path: ':memory:', currency: 'USD', threads: 2 })
    await store.migrate()
    return store
  },
  cleanup: (store) => store.close(),
  raw: {
    orderLineIds: 'SELECT id FROM order_lines',
    orderLineTable: 'order_lines',
    slow: { statement: 'SELECT count(*) FROM range(1000000000000) a', timeoutMs: 300 },
  },
})

describe('AnalyticsStore › duckdb › raw console', () => {
  let store: DuckDbAnalyticsStore
  before(async () => {
    store = await openDuckDbAnalyticsStore({ path: ':memory:', currency: 'USD', threads: 1 })
    await store.migrate()
    await store.write(FIXTURE)
  })
  after(() => store.close())

  const refusedAs = async (statement: string, refusal: string) =>
    assert.rejects(store.raw({ statement }), (e: unknown) => {
      assert.ok(e instanceof EmporiumError, String(e))
      assert.equal(e.code, 'EMP_QUERY_REFUSED', `${statement}: ${e.message}`)
      assert.equal(e.details?.refusal, refusal, statement)
      return true
    })

  it('refuses file, network, extension, settings and export statements', async () => {
    for (const statement of [
      `COPY order_lines TO '/tmp/x.csv'`,
      `ATTACH '/tmp/other.db' AS other`,
      `INSTALL httpfs`,
      `LOAD httpfs`,
      `FORCE INSTALL httpfs`,
      `PRAGMA version`,
      `SET enable_external_access = true`,
      `RESET threads`,
      `CALL pragma_version()`,
      `EXPORT DATABASE '/tmp/out'`,
      `IMPORT DATABASE '/tmp/out'`,
      `DETACH memory`,
      `CHECKPOINT`,
      `BEGIN TRANSACTION`,
      `USE memory`,
    ])
      await refusedAs(statement, 'not_read_only')
  })

  it('refuses file and network table functions, however they are spelt', async () => {
    for (const statement of [
      `SELECT * FROM read_csv('/etc/passwd')`,
      `SELECT * FROM read_csv_auto('/etc/passwd')`,
      `SELECT * FROM READ_PARQUET('/tmp/x.parquet')`,
      `SELECT * FROM read_json('/tmp/x.json')`,
      `SELECT * FROM read_json_auto('/tmp/x.json')`,
      `SELECT * FROM read_ndjson_objects('/tmp/x.json')`,
      `SELECT * FROM read_text('/etc/passwd')`,
      `SELECT * FROM read_blob('/etc/passwd')`,
      `SELECT * FROM glob('/etc/*')`,
      `SELECT * FROM parquet_scan('/tmp/x.parquet')`,
      `SELECT * FROM sniff_csv('/etc/passwd')`,
      `SELECT * FROM "read_csv"('/etc/passwd')`,
      `SELECT * FROM read_csv /* hidden */ ('/etc/passwd')`,
      `SELECT * FROM '/etc/passwd'`,
      `SELECT * FROM order_lines JOIN '/etc/passwd' ON true`,
      `SELECT * FROM query('SELECT 1')`,
      `SELECT * FROM query_table('order_lines')`,
      `SELECT * FROM sqlite_scan('/tmp/x.db', 't')`,
      `SELECT * FROM postgres_attach('dbname=x')`,
      `WITH x AS (SELECT * FROM read_csv('/etc/passwd')) SELECT * FROM x`,
    ])
      await refusedAs(statement, 'file_or_network_access')
  })

  it('sees through comments, strings and quotes that hide a second statement', async () => {
    await refusedAs(`SELECT 1 /* outer /* nested */ still comment */ ; DROP TABLE order_lines`, 'multiple_statements')
    await refusedAs(`SELECT 'it''s' AS a; DROP TABLE order_lines`, 'multiple_statements')
    await refusedAs(`SELECT E'\\'' AS a; DROP TABLE order_lines`, 'multiple_statements')
    await refusedAs(`SELECT $$ ; $$ AS a; DELETE FROM order_lines`, 'multiple_statements')
    await refusedAs(`SELECT 1 /* nested /* only one closed */ ; DROP TABLE order_lines`, 'unterminated')
    await refusedAs(`SELECT 'open`, 'unterminated')
  })

  it('runs reads whose strings and comments merely mention writes', async () => {
    const result = await store.raw({
      statement: `-- DROP TABLE order_lines;
        WITH t AS (SELECT product_id, sum(revenue) AS revenue FROM order_lines GROUP BY ALL)
        SELECT product_id, revenue, 'DELETE; DROP' AS note FROM t /* ; INSERT */ ORDER BY revenue DESC;`,
    })
    assert.deepEqual(result.columns, ['product_id', 'revenue', 'note'])
    assert.deepEqual(result.rows, [
      ['pan', 10800, 'DELETE; DROP'],
      ['tee', 9995, 'DELETE; DROP'],
      ['mug', 4800, 'DELETE; DROP'],
      ['cap', 4500, 'DELETE; DROP'],
    ])
    const fromFirst = await store.raw({ statement: `FROM refund_lines SELECT sum(amount) AS refunded` })
    assert.deepEqual(fromFirst.rows, [[5400]])
  })

  it('gives JSON values: bigints as numbers, timestamps and dates as text, lists as arrays', async () => {
    const result = await store.raw({
      statement: `SELECT 9007199254740993::BIGINT AS big, paid_at, CAST(paid_at AS DATE) AS day, [1, 2] AS list, NULL AS nothing
        FROM order_lines WHERE id = 'o2:1'`,
    })
    assert.deepEqual(result.rows, [['9007199254740993', '2026-03-01T00:00:00.000Z', '2026-03-01', [1, 2], null]])
  })

  it('a statement DuckDB cannot bind fails with EMP_VALIDATION and the engine’s reason', async () => {
    await assert.rejects(store.raw({ statement: 'SELECT * FROM no_such_table' }), (e: unknown) => {
      assert.ok(e instanceof EmporiumError)
      assert.equal(e.code, 'EMP_VALIDATION')
      assert.match(e.fields?.statement ?? '', /no_such_table/)
      return true
    })
  })

  it('a statement that fails while it runs (a bad cast, error()) fails with EMP_VALIDATION, not a 500', async () => {
    for (const [statement, reason] of [
      [`SELECT CAST(id AS INTEGER) FROM order_lines`, /Conversion Error/],
      [`SELECT error('stop here')`, /stop here/],
    ] as const)
      await assert.rejects(store.raw({ statement }), (e: unknown) => {
        assert.ok(e instanceof EmporiumError, String(e))
        assert.equal(e.code, 'EMP_VALIDATION', statement)
        assert.match(e.fields?.statement ?? '', reason)
        return true
      })
  })

  it('the database is offline and locked, whatever a statement would try', async () => {
    const settings = await store.raw({
      statement: `SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access',
        'lock_configuration', 'autoinstall_known_extensions', 'autoload_known_extensions', 'allow_community_extensions')
        ORDER BY name`,
    })
    assert.deepEqual(settings.rows, [
      ['allow_community_extensions', 'false'],
      ['autoinstall_known_extensions', 'false'],
      ['autoload_known_extensions', 'false'],
      ['enable_external_access', 'false'],
      ['lock_configuration', 'true'],
    ])
    // The second guard on its own: a connection that skips the statement check still cannot reach files or unlock.
    const conn = await (store as unknown as { instance: DuckDBInstance }).instance.connect()
    try {
      await assert.rejects(conn.run(`SELECT * FROM read_csv('/etc/passwd')`), /file system operations are disabled/)
      await assert.rejects(conn.run(`SET enable_external_access = true`), /configuration has been locked/)
      await assert.rejects(conn.run(`INSTALL httpfs`), /disabled|locked|Permission/)
    } finally {
      conn.closeSync()
    }
  })
})

describe('AnalyticsStore › duckdb › file', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'emporium-analytics-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps its data in a file under the data dir across reopening, and refuses another currency', async () => {
    const path = join(dir, 'nested', 'analytics.duckdb')
    const first = await openDuckDbAnalyticsStore({ path, currency: 'USD' })
    await first.migrate()
    await first.write(FIXTURE)
    await first.close()
    await first.close()
    const again = await openDuckDbAnalyticsStore({ path, currency: 'USD' })
    try {
      await again.migrate()
      const result = await again.query({
        measures: ['revenue', 'orders'],
        from: '2026-02-01T00:00:00Z',
        to: '2026-05-01T00:00:00Z',
      })
      assert.deepEqual(result.rows, [{ revenue: 24695, orders: 6 }])
    } finally {
      await again.close()
    }
    const euro = await openDuckDbAnalyticsStore({ path, currency: 'EUR' })
    try {
      await assert.rejects(euro.migrate(), (e: unknown) => e instanceof EmporiumError && e.code === 'EMP_VALIDATION')
    } finally {
      await euro.close()
    }
  })
})

describe('AnalyticsStore › duckdb › memory limit', () => {
  it('a write past the memory limit fails as EMP_UNAVAILABLE naming the setting, and writes nothing of its batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emporium-duckdb-oom-'))
    const store = await openDuckDbAnalyticsStore({
      path: join(dir, 'a.duckdb'),
      currency: 'USD',
      threads: 1,
      memoryLimit: '16MB',
    })
    try {
      await store.migrate()
      const batchOf = (start: number, n: number) => ({
        events: Array.from({ length: n }, (_, i) => ({
          id: `00000000-0000-7000-8000-${(start + i).toString(16).padStart(12, '0')}`,
          type: 'product_view' as const,
          at: '2026-03-01T10:00:00.000Z',
          sessionId: `s${(start + i) % 997}`,
          currency: 'USD',
        })),
      })
      const count = async () =>
        Number((await store.raw({ statement: 'SELECT count(*) AS n FROM events' })).rows[0]?.[0])
      let written = 0
      let failure: unknown
      // 16 MB is too little for a batch of 20,000 (48 MiB suffices, whatever the size of the data).
      for (let start = 0; start < 2_000_000 && !failure; start += 20_000) {
        try {
          await store.write(batchOf(start, 20_000))
          written += 20_000
        } catch (e) {
          failure = e
        }
      }
      assert.ok(failure instanceof EmporiumError, `expected an EmporiumError, got ${String(failure)}`)
      assert.equal(failure.code, 'EMP_UNAVAILABLE')
      assert.match(failure.message, /ANALYTICS_DUCKDB_MEMORY_MIB/)
      assert.equal(await count(), written, 'the failed batch left nothing behind')
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
