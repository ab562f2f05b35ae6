// The operators' console in a real browser on the distributed setup: the web role (in this process, so one product
// lookup can be made to fail), `emporium worker` and `emporium pipeline` as their own processes, Redis Streams,
// MongoDB (stand-in) and OpenSearch from the stack. The same journey as the embedded browser test.
// Run: npm run stack:up && eval "$(bash scripts/stack/stack.sh env)" && node --import tsx --test <this file>
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { loadConfig } from '../../src/config.ts'
import { type Started, startWeb } from '../../src/runtime.ts'
import { browserSkipReason, launchBrowser } from '../support/browser.ts'
import {
  type CliProcess,
  mongoUrlWithDatabase,
  runCli,
  spawnCli,
  stopCli,
  waitForOutput,
} from '../support/cli-process.ts'
import { ApiClient } from '../support/http-client.ts'
import { injectProductFault, type OpsPeople, opsConsoleJourney, registerOpsPeople } from '../support/ops-console.ts'
import { dropStackRun, STACK_MONGO_BASE, stackSkipReason } from '../support/stack-run.ts'

const RUN = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
const NAMESPACE = `ops_${RUN}`
const STREAMS = `logs-emporium.*-${NAMESPACE}`
const REDIS_PREFIX = `emp_ops_${RUN}`
const MONGO_BASE = STACK_MONGO_BASE
const DB = `emp_ops_${RUN}`
const ADMIN = { email: `ops.${RUN}@stack.example`, password: 'dashboards show the pipeline 42' }

const SKIP = stackSkipReason() || browserSkipReason()

describe('the observability console in a real browser (stack: OpenSearch, Redis, separate worker and pipeline)', {
  skip: SKIP,
}, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'emporium-ops-'))
  const procs: CliProcess[] = []
  let web: Started
  let browser: Browser
  let url = ''
  let people: OpsPeople

  before(async () => {
    const env: Record<string, string> = {
      HOST: '127.0.0.1',
      MONGODB_URL: mongoUrlWithDatabase(MONGO_BASE as string, DB),
      REDIS_URL: process.env.REDIS_URL as string,
      REDIS_KEY_PREFIX: REDIS_PREFIX,
      OPENSEARCH_URL: process.env.OPENSEARCH_URL as string,
      LOG_INDEX_REPLICAS: '0',
      LOG_INDEX_NAMESPACE: NAMESPACE,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      LOG_STDOUT: 'false',
      EMPORIUM_ADMIN_EMAIL: ADMIN.email,
      EMPORIUM_ADMIN_PASSWORD: ADMIN.password,
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1',
      AUTH_RATE_LIMIT: '100000',
    }
    if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR
    const seeded = await runCli('seed', 'seed', { ...env, LOG_LEVEL: 'warn' }, 300_000)
    assert.equal(seeded.code, 0, `emporium seed failed:\n${seeded.output.slice(-4000)}`)
    const worker = spawnCli('worker', 'worker', env)
    const pipeline = spawnCli('pipeline', 'pipeline', env)
    procs.push(worker, pipeline)
    await Promise.all([
      waitForOutput(worker, 'worker is consuming', 90_000),
      waitForOutput(pipeline, 'pipeline is indexing', 90_000),
    ])
    web = await startWeb(loadConfig({ ...env, PORT: '0' }), () => {})
    injectProductFault(web.rt.shop.catalog)
    url = `http://127.0.0.1:${web.port}`
    const admin = new ApiClient(`${url}/api/v1`)
    assert.equal((await admin.post('/auth/login', ADMIN)).status, 200)
    people = await registerOpsPeople(`${url}/api/v1`, admin, RUN)
    browser = await launchBrowser()
  })

  after(async () => {
    await browser?.close()
    await web?.stop()
    for (const p of procs) await stopCli(p, 10_000)
    await dropStackRun({ db: DB, streams: STREAMS, redisPrefix: REDIS_PREFIX })
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('shows a burst, finds the 500 and its error, tails a new request, draws the operations charts', {
    timeout: 300_000,
  }, async () => {
    await opsConsoleJourney({ name: 'stack', browser, url, indexDelayMs: 45_000, ...people })
  })
})
