// Boots a real embedded shop (SQLite in a temp dir, real HTTP on a free port) for end-to-end tests.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config.ts'
import { startAll } from '../../src/runtime.ts'
import { ApiClient } from './http-client.ts'

export const ADMIN = { email: 'admin@test.emporium', password: 'back-office-Secr3t-42' }

export interface TestShop {
  url: string
  api: string
  dataDir: string
  started: Awaited<ReturnType<typeof startAll>>
  client(): ApiClient
  admin(): Promise<ApiClient>
  customer(email?: string): Promise<ApiClient>
  stop(): Promise<void>
}

let counter = 0

export async function startTestShop(env: Record<string, string> = {}): Promise<TestShop> {
  const dataDir = mkdtempSync(join(tmpdir(), 'emporium-e2e-'))
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    EMPORIUM_ADMIN_EMAIL: ADMIN.email,
    EMPORIUM_ADMIN_PASSWORD: ADMIN.password,
    AUTH_RATE_LIMIT: '1000',
    ...env,
  })
  const started = await startAll(config, () => {})
  const url = `http://127.0.0.1:${started.port}`
  const api = `${url}/api/v1`
  return {
    url,
    api,
    dataDir,
    started,
    client: () => new ApiClient(api),
    async admin() {
      const c = new ApiClient(api)
      const r = await c.post('/auth/login', ADMIN)
      if (r.status !== 200) throw new Error(`admin login failed: ${r.status} ${JSON.stringify(r.body)}`)
      return c
    },
    async customer(email = `shopper${++counter}.${Date.now()}@example.com`) {
      const c = new ApiClient(api)
      const r = await c.post('/auth/register', { email, password: 'correct horse battery', name: 'Test Shopper' })
      if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`)
      return c
    },
    async stop() {
      await started.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
