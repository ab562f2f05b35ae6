import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeCommerceStoreConformance } from '../commerce-store.conformance.ts'
import { openSqliteCommerceStore, type SqliteCommerceStore } from './sqlite-commerce-store.ts'

describeCommerceStoreConformance({
  name: 'sqlite (memory)',
  create: async () => {
    const s = openSqliteCommerceStore(':memory:')
    await s.migrate()
    return s
  },
  cleanup: (s) => s.close(),
})

const dirs = new Map<SqliteCommerceStore, string>()
describeCommerceStoreConformance({
  name: 'sqlite (file, two connections)',
  create: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emporium-store-'))
    const s = openSqliteCommerceStore(join(dir, 'commerce.sqlite'))
    dirs.set(s, dir)
    await s.migrate()
    return s
  },
  createPeer: async (s) => openSqliteCommerceStore((s as SqliteCommerceStore).path),
  cleanup: async (s) => {
    await s.close()
    const dir = dirs.get(s as SqliteCommerceStore)
    if (dir) rmSync(dir, { recursive: true, force: true })
  },
})
