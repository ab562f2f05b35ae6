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
