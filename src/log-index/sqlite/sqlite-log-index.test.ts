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
