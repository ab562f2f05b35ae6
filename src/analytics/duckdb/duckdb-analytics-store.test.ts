// The AnalyticsStore conformance suite on DuckDB in memory, plus what only this adapter has: its offline, locked
// database and the SQL-only refusals of the raw console.
import { describeAnalyticsStoreConformance } from '../analytics-store.conformance.ts'
import { openDuckDbAnalyticsStore } from './duckdb-analytics-store.ts'

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
