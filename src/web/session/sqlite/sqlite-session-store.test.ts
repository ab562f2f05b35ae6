import { describeSessionStoreConformance } from '../session-store.conformance.ts'
import { openSqliteSessionStore } from './sqlite-session-store.ts'

describeSessionStoreConformance({
  name: 'sqlite',
  create: async () => {
    const s = openSqliteSessionStore(':memory:')
    await s.migrate()
    return s
  },
  cleanup: (s) => s.close(),
})
