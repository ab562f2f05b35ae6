// The image's roles on the real stack, run as the Kubernetes manifests run them: the artefact (built like the
// Dockerfile builds it) started as `migrate`, then `web`, `worker` and `pipeline` with deploy/k8s/config.env's settings
// (the engine addresses, replication and names swapped for the stack's), each process with its own DATA_DIR like a pod.
// Their probe endpoints answer, and the Redis keys the KEDA ScaledObjects watch are the ones that fill while the worker
// or the pipeline is away and empty once it is back.
// Run: npm run stack:up && eval "$(bash scripts/stack/stack.sh env)" && node scripts/run-tests.mjs stack test/deploy
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import cassandra from 'cassandra-driver'
import { Redis } from 'ioredis'
import { parse } from 'yaml'
import { loadConfig } from '../../src/config.ts'
import { dropRedisKeys } from '../../src/testing/redis.ts'
import {
  type CliProcess,
  dropMongoDatabase,
  freePort,
  mongoUrlWithDatabase,
  REPO_ROOT,
  stopCli,
  waitForOutput,
} from '../support/cli-process.ts'
import { type Artefact, buildArtefact, imageCommand } from './artefact.ts'

const NEEDED = ['REDIS_URL', 'MONGODB_URL', 'OPENSEARCH_URL', 'CASSANDRA_CONTACT_POINTS', 'CASSANDRA_LOCAL_DC']
const missing = NEEDED.filter((n) => !process.env[n])
const skip = missing.length
  ? `${missing.join(', ')} unset: run npm run stack:up and eval "$(bash scripts/stack/stack.sh env)"`
  : false

const RUN = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
const PREFIX = `emp_deploy_${RUN}`
const DB = `emp_deploy_${RUN}`
const KEYSPACE = `emp_deploy_${RUN}`
const NAMESPACE = `deploy_${RUN}`
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8')

/** deploy/k8s/config.env as a map. */
const configEnv = Object.fromEntries(
  read('deploy/k8s/config.env')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
)
/** A KEDA key name from the manifests, under this run's prefix instead of the ConfigMap's. */
const MANIFEST_PREFIX = loadConfig(configEnv).redisKeyPrefix
const underRunPrefix = (key: string) => {
  assert.ok(key.startsWith(`${MANIFEST_PREFIX}:`), key)
  return `${PREFIX}${key.slice(MANIFEST_PREFIX.length)}`
}
const workerTriggers = parse(read('deploy/k8s/worker-scaledobject.yaml')).spec.triggers
const pipelineTriggers = parse(read('deploy/k8s/pipeline-scaledobject.yaml')).spec.triggers

/** A directory the image user may read but not write. */
function readOnlyHome(root: string): string {
  const dir = join(root, 'home-read-only')
  mkdirSync(dir, { mode: 0o755 })
  return dir
}

interface Role {
  proc: CliProcess
  port: number
  metricsPort: number
}

describe('web, worker and pipeline from the image artefact on the stack, as deploy/k8s runs them', { skip }, () => {
  let artefact: Artefact | null = null
  let env: Record<string, string> = {}
  const roles = new Map<string, Role>()
  let redis: Redis | null = null

  async function startRole(role: 'web' | 'worker' | 'pipeline'): Promise<Role> {
    const [port, metricsPort] = [await freePort(), await freePort()]
    const proc = artefact!.start(role, imageCommand([role]), {
      ...env,
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      DATA_DIR: artefact!.writableDir(`data-${role}-${roles.size}-${Date.now()}`),
    })
    const ready = { web: 'Emporium is serving', worker: 'worker is consuming', pipeline: 'pipeline is indexing' }[role]
    await waitForOutput(proc, ready, 120_000)
    await waitForOutput(proc, 'metrics on http://', 10_000)
    const started = { proc, port, metricsPort }
    roles.set(role, started)
    return started
  }

  async function stopRole(role: string): Promise<void> {
    const r = roles.get(role)!
    const exit = await stopCli(r.proc, 20_000)
    assert.deepEqual(exit, { code: 0, signal: null }, `${role} stops cleanly on SIGTERM`)
  }

  /** Searches on web: each leaves an access record (`logs` queue, then `logs:access`) and a search event (`analytics`). */
  async function browse(n: number): Promise<void> {
    const web = roles.get('web')!
    for (let i = 0; i < n; i++) {
      const res = await fetch(`http://127.0.0.1:${web.port}/api/v1/products?q=lamp${i}&limit=1`)
      assert.equal(res.status, 200)
    }
  }

  async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs
    while (!(await check())) {
      if (Date.now() > until) throw new Error(`not within ${timeoutMs} ms: ${what}`)
      await sleep(250)
    }
  }

  /** XINFO GROUPS of a stream, the named group's fields; null when the stream or the group does not exist. */
  const groupInfo = async (stream: string, group: string): Promise<Record<string, unknown> | null> => {
    const groups = (await redis!.xinfo('GROUPS', stream).catch(() => [])) as unknown[][]
    for (const g of groups) {
      const fields = Object.fromEntries(
        Array.from({ length: g.length / 2 }, (_, i) => [String(g[2 * i]), g[2 * i + 1]]),
      )
      if (fields.name === group) return fields
    }
    return null
  }
  const lagOf = async (stream: string, group: string) => Number((await groupInfo(stream, group))?.lag ?? Number.NaN)

  before(async () => {
    artefact = buildArtefact()
    env = artefact.env({
      ...configEnv,
      // Loopback only on a shared machine (the image and the ConfigMap say 0.0.0.0).
      HOST: '127.0.0.1',
      MONGODB_URL: mongoUrlWithDatabase(process.env.MONGODB_URL!, DB),
      REDIS_URL: process.env.REDIS_URL!,
      REDIS_KEY_PREFIX: PREFIX,
      OPENSEARCH_URL: process.env.OPENSEARCH_URL!,
      LOG_INDEX_REPLICAS: '0',
      LOG_INDEX_NAMESPACE: NAMESPACE,
      CASSANDRA_CONTACT_POINTS: process.env.CASSANDRA_CONTACT_POINTS!,
      CASSANDRA_LOCAL_DC: process.env.CASSANDRA_LOCAL_DC!,
      CASSANDRA_KEYSPACE: KEYSPACE,
      CASSANDRA_REPLICATION: 'SimpleStrategy:1',
      EMPORIUM_ADMIN_EMAIL: `ops.${RUN}@deploy.example`,
      EMPORIUM_ADMIN_PASSWORD: 'the manifests run these roles',
      LOG_STDOUT: 'false',
      // The pods' root file system is read-only (only /data and /tmp are volumes): HOME is not the user's here either.
      HOME: readOnlyHome(artefact.root),
    })
    redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 2 })
    const migrate = artefact.start('migrate', imageCommand(['migrate']), {
      ...env,
      DATA_DIR: artefact.writableDir('data-migrate'),
    })
    const exit = await Promise.race([migrate.exited, sleep(240_000, null, { ref: false })])
    if (!exit) await stopCli(migrate, 1000)
    assert.deepEqual(exit, { code: 0, signal: null }, `emporium migrate:\n${migrate.output().slice(-3000)}`)
    assert.match(
      migrate.output(),
      /Migrated: commerce store \(mongodb\).*analytics store \(cassandra\), log index \(opensearch\)/,
    )
    await startRole('web')
    await startRole('worker')
    await startRole('pipeline')
  })

  after(async () => {
    for (const [, r] of roles) await stopCli(r.proc, 10_000)
    const problems = [await dropMongoDatabase(process.env.MONGODB_URL!, DB)]
    await dropRedisKeys(process.env.REDIS_URL!, `${PREFIX}:`).catch((e: Error) => problems.push(e.message))
    await fetch(`${process.env.OPENSEARCH_URL}/_data_stream/logs-emporium.*-${NAMESPACE}`, { method: 'DELETE' }).catch(
      (e: Error) => problems.push(e.message),
    )
    const client = new cassandra.Client({
      contactPoints: process.env.CASSANDRA_CONTACT_POINTS!.split(','),
      localDataCenter: process.env.CASSANDRA_LOCAL_DC!,
    })
    await client
      .execute(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`)
      .catch((e: Error) => problems.push(e.message))
      .finally(() => client.shutdown())
    redis?.disconnect()
    for (const p of problems.filter(Boolean)) console.error(p)
    artefact?.remove()
  })

  it('each role answers the probes of its manifest: /healthz and /readyz on METRICS_PORT, web also on PORT', async () => {
    for (const [role, r] of roles) {
      for (const path of ['/healthz', '/readyz']) {
        const res = await fetch(`http://127.0.0.1:${r.metricsPort}${path}`)
        assert.equal(res.status, 200, `${role} ${path} on METRICS_PORT: ${await res.text()}`)
      }
      const metrics = await fetch(`http://127.0.0.1:${r.metricsPort}/metrics`)
      assert.equal(metrics.status, 200, `${role} /metrics`)
    }
    const web = roles.get('web')!
    assert.equal((await fetch(`http://127.0.0.1:${web.port}/readyz`)).status, 200)
    assert.equal((await fetch(`http://127.0.0.1:${web.port}/healthz`)).status, 200)
  })

  it("the worker ScaledObject's lists are the BullMQ wait lists that grow while no worker runs", async () => {
    const lists = workerTriggers.map((t: any) => underRunPrefix(t.metadata.listName))
    assert.equal(lists.length, 2)
    await stopRole('worker')
    await browse(20)
    for (const list of lists) {
      await eventually(`${list} has waiting jobs`, async () => (await redis!.llen(list)) > 0)
      assert.equal(await redis!.type(list), 'list', 'LLEN is what the KEDA redis scaler reads')
    }
    await startRole('worker')
    for (const list of lists) await eventually(`${list} drained`, async () => (await redis!.llen(list)) === 0)
  })

  it("the pipeline ScaledObject's streams carry its consumer group, whose lag grows while no pipeline runs", async () => {
    for (const t of pipelineTriggers) {
      const stream = underRunPrefix(t.metadata.stream)
      assert.ok(await groupInfo(stream, t.metadata.consumerGroup), `group ${t.metadata.consumerGroup} on ${stream}`)
    }
    const access = pipelineTriggers.find((t: any) => String(t.metadata.stream).endsWith(':logs:access'))
    const stream = underRunPrefix(access.metadata.stream)
    const group = access.metadata.consumerGroup
    await stopRole('pipeline')
    await browse(20)
    await eventually(`group ${group} on ${stream} lags`, async () => (await lagOf(stream, group)) > 0)
    await startRole('pipeline')
    await eventually(`group ${group} on ${stream} caught up`, async () => (await lagOf(stream, group)) === 0, 60_000)
  })
})
