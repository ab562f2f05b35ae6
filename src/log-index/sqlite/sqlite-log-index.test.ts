import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { describeLogIndexConformance } from '../log-index.conformance.ts'
import { openSqliteLogIndex } from './sqlite-log-index.ts'

describeLogIndexConformance({
  name: 'sqlite',
  create: async () => {
    const index = openSqliteLogIndex(':memory:')
    await index.migrate()
    return index
  },
  cleanup: (index) => index.close(),
  percentileTolerance: 0,
})

describe('sqlite log index › planner statistics', () => {
  it('are sampled at migrate, so a rare status over a wide window uses the status index, not the time index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emporium-logstats-'))
    const file = join(dir, 'logs.db')
    try {
      const first = openSqliteLogIndex(file)
      await first.migrate()
      const start = Date.parse('2026-11-27T00:00:00Z')
      const records = Array.from({ length: 5000 }, (_, i) => ({
        '@timestamp': new Date(start + i * 1000).toISOString(),
        message: 'request completed',
        log: { level: 'info' as const },
        event: { id: `0192aaaa-0000-7000-8000-${String(i).padStart(12, '0')}`, category: 'access' as const },
        service: { name: 'emporium' },
        http: { response: { status_code: i % 500 === 0 ? 500 : 200 } },
      }))
      assert.equal((await first.index(records)).indexed, 5000)
      await first.close()
      const reopened = openSqliteLogIndex(file)
      await reopened.migrate()
      await reopened.close()
      const db = new Database(file, { readonly: true })
      try {
        const stats = db.prepare("SELECT count(*) AS n FROM sqlite_stat1 WHERE tbl = 'log_records'").get() as {
          n: number
        }
        assert.ok(stats.n > 0, 'sqlite_stat1 holds the table')
        const plan = db
          .prepare('EXPLAIN QUERY PLAN SELECT count(*) FROM log_records WHERE ts >= ? AND ts < ? AND status >= 500')
          .all(start, start + 86_400_000)
          .map((r) => (r as { detail: string }).detail)
          .join(' | ')
        assert.match(plan, /log_records_status/, plan)
      } finally {
        db.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('sqlite log index › per-minute counts', () => {
  const start = Date.parse('2026-11-27T00:00:00Z')
  const records = Array.from({ length: 3000 }, (_, i) => ({
    '@timestamp': new Date(start + i * 7_777).toISOString(),
    message: 'm',
    log: { level: (['info', 'warn', 'error'] as const)[i % 3]! },
    event: {
      id: `0192bbbb-0000-7000-8000-${String(i).padStart(12, '0')}`,
      category: (['access', 'app', 'security'] as const)[i % 5 === 0 ? 2 : i % 2]!,
    },
    service: { name: 'emporium' },
  }))
  const windows: [from: number, to: number, interval: number][] = [
    [start, start + 3000 * 7_777, 3_600_000],
    [start + 12_345, start + 6 * 3_600_000 - 999, 600_000],
    [start + 59_999, start + 60_001, 60_000],
    [start + 30_000, start + 90_000, 60_000],
    [start + 7_000, start + 5 * 3_600_000, 90_000],
  ]

  it('a query-free histogram (from the minutes) equals the same histogram counted from the records', async () => {
    const index = openSqliteLogIndex(':memory:')
    await index.migrate()
    await index.index(records)
    for (const [from, to, interval] of windows)
      for (const categories of [undefined, ['security' as const], ['access' as const, 'app' as const]]) {
        const window = { from: new Date(from).toISOString(), to: new Date(to).toISOString(), categories }
        // A query matching every record takes the path that reads the records.
        assert.deepEqual(
          await index.histogram(window, interval),
          await index.histogram({ ...window, q: 'NOT level:none' }, interval),
          JSON.stringify({ from, to, interval, categories }),
        )
      }
    await index.close()
  })

  it('a file from before the per-minute counts gets them at migrate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emporium-minutes-'))
    const file = join(dir, 'logs.db')
    try {
      const old = openSqliteLogIndex(file)
      await old.migrate()
      await old.index(records)
      await old.close()
      const db = new Database(file)
      db.exec("DELETE FROM log_minutes; DELETE FROM log_meta WHERE key = 'minutes'")
      db.close()
      const index = openSqliteLogIndex(file)
      await index.migrate()
      const window = { from: new Date(start).toISOString(), to: new Date(start + 86_400_000).toISOString() }
      const buckets = await index.histogram(window, 3_600_000)
      const total = buckets.reduce((n, b) => n + Object.values(b.counts).reduce((a, c) => a + c, 0), 0)
      assert.equal(total, records.length)
      assert.deepEqual(buckets, await index.histogram({ ...window, q: 'NOT level:none' }, 3_600_000))
      await index.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
