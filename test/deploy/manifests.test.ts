// The deployment files, validated offline: deploy/compose.yaml against the Compose specification schema (after the
// interpolation Compose does), `kubectl kustomize deploy/k8s` against the Kubernetes and KEDA schemas, and every
// variable either of them gives an Emporium container against what src/config.ts reads and needs.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { parse, parseAllDocuments } from 'yaml'
import { ANALYTICS_QUEUE } from '../../src/analytics/projector.ts'
import { CONFIG_VARIABLES, type Config, loadConfig } from '../../src/config.ts'
import { LOG_CATEGORIES } from '../../src/logging/ecs.ts'
import { LOGS_QUEUE } from '../../src/logging/route-logs.ts'
import { logChannelsSourceFactory } from '../../src/pipeline/sources/log-channels.ts'
import { REPO_ROOT } from '../support/cli-process.ts'
import { readDockerfile, stage, stageEnv } from './dockerfile.ts'
import { findUnknownFields } from './k8s-fields.ts'

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8')
const CONFIG_NAMES = new Set(CONFIG_VARIABLES.map((v) => v.name))
/** Variables the image sets that are not Emporium's configuration, with the reason each is there. */
const NOT_EMPORIUM_CONFIG: Record<string, string> = {
  NODE_ENV: 'read by npm and libraries, conventionally production in an image',
  GLIBC_TUNABLES: "the C allocator's settings npm start gives the process (see README, Configuration)",
}
const IMAGE_ENV = stageEnv(stage(readDockerfile(), 'runtime'))
/** Names whose values are secrets or URLs that may carry credentials: never written in a manifest. */
const SECRET_NAMES = /PASSWORD|API_KEY|TOKEN|SECRET|^MONGODB_URL$|^REDIS_URL$|^ELASTICSEARCH_URL$|^OPENSEARCH_URL$/

/** KEY=VALUE lines of an env file (comments and blank lines skipped). */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const t = line.trim()
    if (!t || t.startsWith('#')) continue
    const eq = t.indexOf('=')
    assert.ok(eq > 0, `not KEY=VALUE: ${t}`)
    env[t.slice(0, eq)] = t.slice(eq + 1)
  }
  return env
}

/** What Compose does to every string value: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e}, ${VAR:+a}. */
function interpolate(value: string, env: Record<string, string>, used: Set<string>): string {
  return value.replace(
    /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (whole, _inner, braced?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === '$$') return '$'
      const name = (braced ?? bare)!
      used.add(name)
      const v = env[name]
      const empty = v === undefined || (op?.startsWith(':') && v === '')
      switch (op) {
        case ':-':
        case '-':
          return empty ? arg! : v!
        case ':?':
        case '?':
          if (empty) throw new Error(`\${${name}} is required: ${arg}`)
          return v!
        case ':+':
        case '+':
          return empty ? '' : arg!
        default:
          return v ?? ''
      }
    },
  )
}

function interpolateAll(node: unknown, env: Record<string, string>, used: Set<string>): unknown {
  if (typeof node === 'string') return interpolate(node, env, used)
  if (Array.isArray(node)) return node.map((n) => interpolateAll(n, env, used))
  if (node && typeof node === 'object')
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env, used)]))
  return node
}

function composeValidator() {
  // strictTypes off: the schema leaves "type" implicit beside object keywords, as JSON Schema allows.
  const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true, strictTypes: false })
  return ajv.compile(JSON.parse(read('deploy/schemas/compose-spec.json')))
}

const COMPOSE_TEXT = read('deploy/compose.yaml')
const COMPOSE_ENV_EXAMPLE = parseEnvFile(read('deploy/.env.example'))
const composeRaw = () => parse(COMPOSE_TEXT, { merge: true }) as any
const composeUsed = new Set<string>()
const compose = interpolateAll(composeRaw(), COMPOSE_ENV_EXAMPLE, composeUsed) as any

/** A service's environment as a map, from the mapping or the list form. */
function serviceEnv(service: any): Record<string, string> {
  const env = service.environment ?? {}
  if (!Array.isArray(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v ?? '')]))
  return Object.fromEntries(
    env.map((e: string) => {
      const eq = e.indexOf('=')
      return eq < 0 ? [e, ''] : [e.slice(0, eq), e.slice(eq + 1)]
    }),
  )
}

/** What a distributed role must get from its environment, whatever the file that sets it. */
function assertDistributed(where: string, config: Config): void {
  assert.ok(config.mongodbUrl, `${where}: MONGODB_URL (the shared CommerceStore)`)
  assert.ok(config.redisUrl, `${where}: REDIS_URL (queue, sessions, channels)`)
  assert.ok(config.searchEngine, `${where}: ELASTICSEARCH_URL or OPENSEARCH_URL (the log index)`)
  assert.equal(config.analytics.kind, 'cassandra', `${where}: CASSANDRA_CONTACT_POINTS (DuckDB is one process's file)`)
  assert.equal(config.host, '0.0.0.0', `${where}: HOST=0.0.0.0 (reachable from outside the container)`)
  assert.equal(config.metrics?.port, 9464, `${where}: METRICS_PORT=9464 (probes and scraping)`)
}

function assertKnownNames(where: string, names: Iterable<string>): void {
  for (const name of names)
    assert.ok(
      CONFIG_NAMES.has(name) || name in NOT_EMPORIUM_CONFIG,
      `${where} sets ${name}, which src/config.ts does not read`,
    )
}

describe('deploy/compose.yaml', () => {
  const validate = composeValidator()

  it('validates against the Compose specification schema once interpolated from .env.example', () => {
    const ok = validate(compose)
    assert.ok(ok, JSON.stringify(validate.errors, null, 2))
  })

  it('the schema refuses what Compose would refuse (a misspelled key, wrong types)', () => {
    const broken = [
      (c: any) => {
        c.services.web.helthcheck = c.services.redis.healthcheck
      },
      (c: any) => {
        c.services.web.depends_on = 'init'
      },
      (c: any) => {
        c.volumes['mongodb-data'] = ['not', 'a', 'volume']
      },
    ]
    for (const breakIt of broken) {
      const copy = structuredClone(compose)
      breakIt(copy)
      assert.equal(validate(copy), false, `accepted: ${breakIt.toString()}`)
    }
  })

  it('.env.example gives every variable the file requires, and only variables the file uses', () => {
    const required = [...COMPOSE_TEXT.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?\?/g)].map((m) => m[1]!)
    assert.ok(required.length > 0)
    for (const name of required) assert.ok(COMPOSE_ENV_EXAMPLE[name], `.env.example lacks ${name}`)
    for (const name of Object.keys(COMPOSE_ENV_EXAMPLE))
      assert.ok(composeUsed.has(name), `.env.example sets ${name}, which compose.yaml never uses`)
    assert.throws(() => interpolateAll(composeRaw(), {}, new Set()), /is required/)
  })

  it('writes no secret: passwords and credentials come from .env', () => {
    const raw = composeRaw()
    for (const [name, service] of Object.entries<any>(raw.services))
      for (const [key, value] of Object.entries(serviceEnv(service))) {
        if (SECRET_NAMES.test(key) && !/URL$/.test(key))
          assert.match(value, /^\$\{[A-Z_]+(:\?[^}]*)?\}$/, `${name}.${key} is written in the file`)
        const userinfo = /^[a-z+]+:\/\/([^@/]*)@/.exec(value)
        if (userinfo) assert.match(userinfo[1]!, /\$\{/, `${name}.${key} carries a literal credential`)
      }
    assert.doesNotMatch(COMPOSE_TEXT, /replace-with|change-me/)
  })

  const emporiumServices = Object.entries<any>(compose.services).filter(([, s]) => s.build)

  it('runs web (several replicas), worker and pipeline from the one image, after the one-shot init', () => {
    const byRole = Object.fromEntries(emporiumServices.map(([name, s]) => [name, s]))
    assert.deepEqual(Object.keys(byRole).sort(), ['init', 'pipeline', 'web', 'worker'])
    assert.deepEqual(byRole.web.command, ['web'])
    assert.deepEqual(byRole.worker.command, ['worker'])
    assert.deepEqual(byRole.pipeline.command, ['pipeline'])
    assert.ok(Number(byRole.web.deploy.replicas) >= 2, 'web runs several replicas')
    assert.equal(new Set(emporiumServices.map(([, s]) => s.image)).size, 1, 'one image for every role')
    for (const role of ['web', 'worker', 'pipeline'])
      assert.deepEqual(byRole[role].depends_on, { init: { condition: 'service_completed_successfully' } }, role)
    const init = byRole.init
    assert.equal(init.restart, 'no')
    const script = [...init.entrypoint, ...init.command].join(' ')
    assert.match(script, /node dist\/cli\.js migrate && node dist\/cli\.js kibana import --url http:\/\/kibana:5601/)
    assert.ok(compose.services.kibana.healthcheck)
    for (const engine of ['mongodb', 'redis', 'elasticsearch', 'kibana', 'cassandra'])
      assert.deepEqual(init.depends_on[engine], { condition: 'service_healthy' }, `init waits for ${engine}`)
  })

  it('gives each engine a health check and its data a named volume; MongoDB is a replica set, Redis persists', () => {
    const s = compose.services
    for (const engine of ['mongodb', 'redis', 'elasticsearch', 'kibana', 'cassandra'])
      assert.ok(s[engine].healthcheck?.test, `${engine} has a health check`)
    const volumeOf = (service: string, path: string) =>
      (s[service].volumes as string[]).find((v) => v.endsWith(`:${path}`))?.split(':')[0]
    for (const [service, path] of [
      ['mongodb', '/data/db'],
      ['redis', '/data'],
      ['elasticsearch', '/usr/share/elasticsearch/data'],
      ['cassandra', '/var/lib/cassandra'],
    ] as const) {
      const volume = volumeOf(service, path)
      assert.ok(volume && volume in compose.volumes, `${service} keeps ${path} in a named volume`)
    }
    const replSet = s.mongodb.command[s.mongodb.command.indexOf('--replSet') + 1]
    assert.ok(replSet, 'mongod runs with --replSet')
    assert.match(s.mongodb.healthcheck.test.join(' '), /rs\.initiate/)
    for (const [, service] of emporiumServices)
      assert.equal(new URL(serviceEnv(service).MONGODB_URL!).searchParams.get('replicaSet'), replSet)
    const redis = s.redis.command.join(' ')
    assert.match(redis, /--appendonly yes/)
    assert.match(redis, /--maxmemory-policy noeviction/, 'BullMQ needs noeviction')
  })

  it('gives every Emporium container only variables src/config.ts reads, and all a distributed role needs', () => {
    assert.equal(emporiumServices.length, 4)
    for (const [name, service] of emporiumServices) {
      const env = { ...IMAGE_ENV, ...serviceEnv(service) }
      assertKnownNames(`compose service ${name}`, Object.keys(env))
      const config = loadConfig(env)
      assertDistributed(`compose service ${name}`, config)
      assert.equal(config.searchEngine?.replicas, 0, `${name}: one Elasticsearch node holds no replicas`)
      assert.ok(config.admin.email && config.admin.password, `${name}: the admin comes from .env`)
      const redis = new URL(config.redisUrl!)
      assert.equal(redis.password, COMPOSE_ENV_EXAMPLE.REDIS_PASSWORD, `${name}: REDIS_URL carries REDIS_PASSWORD`)
    }
  })
})

/** `kubectl kustomize`, else `kustomize build`; null when neither is installed. */
function renderKustomize(dir: string): { tool: string; output: string } | null {
  for (const [bin, args] of [
    ['kubectl', ['kustomize', dir]],
    ['kustomize', ['build', dir]],
  ] as const) {
    const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000 })
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') continue
    assert.equal(r.status, 0, `${bin} ${args.join(' ')} failed:\n${r.stderr}`)
    return { tool: `${bin} ${args[0]}`, output: r.stdout }
  }
  return null
}

const KUSTOMIZE_MISSING = 'neither kubectl nor kustomize is on PATH (.ci/run installs kustomize with go install)'
const rendered = renderKustomize(join(REPO_ROOT, 'deploy/k8s'))
const k8sSkip = rendered || process.env.CI ? false : KUSTOMIZE_MISSING

/** The model class (with its compiled schema) for an apiVersion and kind, from kubernetes-models or its KEDA set. */
async function modelFor(apiVersion: string, kind: string): Promise<any> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion]
  const module =
    group === 'keda.sh'
      ? `@kubernetes-models/keda/keda.sh/${version}`
      : group === ''
        ? `kubernetes-models/${version}`
        : `kubernetes-models/${group}/${version}`
  const models = await import(module)
  assert.ok(models[kind], `no schema for ${apiVersion} ${kind} in ${module}`)
  return models[kind]
}

function schemaErrors(Model: any, object: unknown): string | null {
  try {
    new Model(object).validate()
    return null
  } catch (e) {
    return (e as Error).message
  }
}

describe('deploy/k8s (kustomize)', { skip: k8sSkip }, () => {
  if (!rendered) throw new Error(`CI is set but ${KUSTOMIZE_MISSING}`)
  const objects = parseAllDocuments(rendered.output).map((d) => d.toJS()) as any[]
  const find = (kind: string, name: string) => {
    const o = objects.find((x) => x.kind === kind && x.metadata?.name === name)
    assert.ok(o, `${kind} ${name} is rendered`)
    return o
  }
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('emporium-config'))
  const secretExample = parseEnvFile(read('deploy/k8s/secrets.env.example'))
  const deployments = ['web', 'worker', 'pipeline'].map((role) => find('Deployment', `emporium-${role}`))
  const migrate = find('Job', 'emporium-migrate')

  it(`renders (${rendered?.tool}) every object, each valid against its Kubernetes or KEDA schema`, async () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()
    for (const expected of [
      'Deployment/emporium-web',
      'Deployment/emporium-worker',
      'Deployment/emporium-pipeline',
      'Service/emporium-web',
      'HorizontalPodAutoscaler/emporium-web',
      'ScaledObject/emporium-worker',
      'ScaledObject/emporium-pipeline',
      'TriggerAuthentication/emporium-redis',
      'PodDisruptionBudget/emporium-web',
      'PodDisruptionBudget/emporium-worker',
      'PodDisruptionBudget/emporium-pipeline',
      'Job/emporium-migrate',
    ])
      assert.ok(kinds.includes(expected), `${expected} in ${kinds.join(', ')}`)
    assert.ok(!kinds.some((k) => k.startsWith('StatefulSet/')), 'engines are external services, not StatefulSets')
    for (const object of objects) {
      const Model = await modelFor(object.apiVersion, object.kind)
      assert.equal(schemaErrors(Model, object), null, `${object.kind} ${object.metadata.name}`)
      assert.deepEqual(
        await findUnknownFields(object.apiVersion, object.kind, object),
        [],
        `${object.kind} ${object.metadata.name}: fields the schema does not have`,
      )
    }
  })

  it('the validation refuses a wrong type, a missing required field and an unknown field', async () => {
    const web = structuredClone(deployments[0])
    web.spec.replicas = 'two'
    assert.match(schemaErrors(await modelFor('apps/v1', 'Deployment'), web) ?? '', /replicas/)
    const scaled = structuredClone(find('ScaledObject', 'emporium-worker'))
    delete scaled.spec.scaleTargetRef
    assert.match(schemaErrors(await modelFor('keda.sh/v1alpha1', 'ScaledObject'), scaled) ?? '', /scaleTargetRef/)
    const typo = structuredClone(deployments[0])
    typo.spec.template.spec.containers[0].readinessprobe = typo.spec.template.spec.containers[0].readinessProbe
    assert.deepEqual(await findUnknownFields('apps/v1', 'Deployment', typo), [
      'spec.template.spec.containers[0].readinessprobe',
    ])
    const kedaTypo = structuredClone(find('ScaledObject', 'emporium-pipeline'))
    kedaTypo.spec.minReplicas = 1
    assert.deepEqual(await findUnknownFields('keda.sh/v1alpha1', 'ScaledObject', kedaTypo), ['spec.minReplicas'])
  })

  /** The environment a container gets: its ConfigMap's keys, its env entries, secrets from secrets.env.example. */
  function containerEnv(container: any): { names: string[]; env: Record<string, string> } {
    const env: Record<string, string> = {}
    for (const from of container.envFrom ?? []) {
      assert.ok(from.configMapRef, 'envFrom only from the ConfigMap (secrets are named one by one)')
      assert.equal(from.configMapRef.name, configMap.metadata.name)
      Object.assign(env, configMap.data)
    }
    for (const e of container.env ?? []) {
      assert.equal(e.value, undefined, `${e.name} is written in the manifest`)
      const ref = e.valueFrom?.secretKeyRef
      assert.ok(ref, `${e.name} comes from the Secret`)
      assert.equal(ref.name, 'emporium-secrets')
      assert.ok(ref.key in secretExample, `secrets.env.example documents ${ref.key}`)
      env[e.name] = secretExample[ref.key]!
    }
    return { names: Object.keys(env), env }
  }

  it('gives every container only variables src/config.ts reads, secrets only from the Secret', () => {
    for (const name of Object.keys(configMap.data))
      assert.doesNotMatch(name, SECRET_NAMES, `${name} belongs in the Secret, not the ConfigMap`)
    const containers = [...deployments, migrate].flatMap((d) => [
      ...(d.spec.template.spec.initContainers ?? []),
      ...d.spec.template.spec.containers,
    ])
    assert.equal(containers.length, 5)
    for (const c of containers) {
      const { names, env } = containerEnv(c)
      assertKnownNames(`container ${c.name}`, names)
      loadConfig(env)
    }
    for (const key of Object.keys(secretExample))
      assert.ok(
        CONFIG_NAMES.has(key) || key === 'REDIS_PASSWORD',
        `secrets.env.example: ${key} is neither Emporium configuration nor KEDA's REDIS_PASSWORD`,
      )
  })

  it('gives web, worker, pipeline and migrate everything a distributed role needs', () => {
    for (const d of deployments) {
      const [container] = d.spec.template.spec.containers
      assert.deepEqual(container.args, [d.metadata.labels['app.kubernetes.io/component']])
      assertDistributed(d.metadata.name, loadConfig(containerEnv(container).env))
    }
    const web = loadConfig(containerEnv(deployments[0].spec.template.spec.containers[0]).env)
    assert.ok(web.admin.email && web.admin.password, 'web creates the admin from the Secret')
    const [migrateStep] = migrate.spec.template.spec.initContainers
    assert.deepEqual(migrateStep.args, ['migrate'])
    assertDistributed('migrate', loadConfig(containerEnv(migrateStep).env))
    assert.deepEqual(migrate.spec.template.spec.containers[0].args.slice(0, 3), ['kibana', 'import', '--url'])
  })

  it('probes /readyz and /healthz on PORT for web and on METRICS_PORT for worker and pipeline; limits everywhere', () => {
    const config = loadConfig(configMap.data)
    for (const d of deployments) {
      const role = d.metadata.labels['app.kubernetes.io/component']
      const pod = d.spec.template.spec
      const [c] = pod.containers
      const port = (name: string) => c.ports.find((p: any) => p.name === name)?.containerPort
      const probePort = port(c.readinessProbe.httpGet.port)
      assert.equal(probePort, role === 'web' ? config.port : config.metrics?.port, `${role} probes its listener`)
      assert.equal(c.readinessProbe.httpGet.path, '/readyz')
      assert.equal(c.livenessProbe.httpGet.path, '/healthz')
      assert.equal(port(c.livenessProbe.httpGet.port), probePort)
      assert.equal(port(c.startupProbe.httpGet.port), probePort)
      assert.equal(port('metrics'), config.metrics?.port)
      assert.equal(Number(d.spec.template.metadata.annotations['prometheus.io/port']), config.metrics?.port)
      assert.ok(c.resources.requests.cpu && c.resources.requests.memory, `${role} requests`)
      assert.ok(c.resources.limits.cpu && c.resources.limits.memory, `${role} limits`)
      assert.equal(pod.securityContext.runAsNonRoot, true)
      assert.equal(c.securityContext.readOnlyRootFilesystem, true)
      assert.equal(
        c.volumeMounts.find((m: any) => m.mountPath === config.dataDir)?.name,
        'data',
        `${role} may write DATA_DIR`,
      )
      assert.equal(d.spec.replicas, undefined, `${role}: the autoscaler owns the replica count`)
      const pdb = find('PodDisruptionBudget', d.metadata.name)
      assert.deepEqual(pdb.spec.selector.matchLabels, d.spec.selector.matchLabels)
    }
    assert.equal(config.port, Number(IMAGE_ENV.PORT), 'the ConfigMap and the image agree on PORT')
    assert.equal(config.metrics?.port, Number(IMAGE_ENV.METRICS_PORT), 'and on METRICS_PORT')
    const service = find('Service', 'emporium-web')
    assert.deepEqual(service.spec.selector, deployments[0].spec.selector.matchLabels)
    assert.equal(service.spec.ports[0].targetPort, 'http')
  })

  it('scales web on CPU, workers on the BullMQ wait lists and the pipeline on its consumer-group lag', () => {
    const config = loadConfig(configMap.data)
    const hpa = find('HorizontalPodAutoscaler', 'emporium-web')
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'emporium-web' })
    assert.equal(hpa.spec.metrics[0].resource.name, 'cpu')
    assert.ok(hpa.spec.minReplicas >= 2)
    const redisUrl = new URL(secretExample.REDIS_URL!)
    const redisAddress = `${redisUrl.hostname}:${redisUrl.port || 6379}`
    assert.equal(decodeURIComponent(redisUrl.password), secretExample.REDIS_PASSWORD, 'one Redis password')
    const auth = find('TriggerAuthentication', 'emporium-redis')
    assert.deepEqual(auth.spec.secretTargetRef, [
      { parameter: 'password', name: 'emporium-secrets', key: 'REDIS_PASSWORD' },
    ])

    const worker = find('ScaledObject', 'emporium-worker')
    assert.equal(worker.spec.scaleTargetRef.name, 'emporium-worker')
    assert.ok(worker.spec.minReplicaCount >= 1, 'a worker always runs the repeatable jobs')
    // The BullmqJobQueue's prefix is `${REDIS_KEY_PREFIX}:jobs` (src/runtime.ts); BullMQ keeps waiting jobs in <prefix>:<queue>:wait.
    const lists = worker.spec.triggers.map((t: any) => {
      assert.equal(t.type, 'redis')
      assert.equal(t.metadata.address, redisAddress, 'KEDA watches the Redis of REDIS_URL')
      assert.equal(t.authenticationRef.name, 'emporium-redis')
      assert.ok(Number(t.metadata.listLength) > 0)
      return t.metadata.listName
    })
    assert.deepEqual(
      lists.sort(),
      [ANALYTICS_QUEUE, LOGS_QUEUE].map((q) => `${config.redisKeyPrefix}:jobs:${q}:wait`).sort(),
    )

    const pipeline = find('ScaledObject', 'emporium-pipeline')
    assert.equal(pipeline.spec.scaleTargetRef.name, 'emporium-pipeline')
    const group = logChannelsSourceFactory('redis-streams').defaults().group
    const streams = pipeline.spec.triggers.map((t: any) => {
      assert.equal(t.type, 'redis-streams')
      assert.equal(t.metadata.address, redisAddress)
      assert.equal(t.metadata.consumerGroup, group, "the pipeline source's consumer group")
      assert.ok(Number(t.metadata.lagCount) > 0, 'scales on lag')
      return t.metadata.stream
    })
    // The channels are `logs:<category>` under the `${REDIS_KEY_PREFIX}:` prefix (src/runtime.ts, log-channels source).
    assert.deepEqual(streams.sort(), LOG_CATEGORIES.map((c) => `${config.redisKeyPrefix}:logs:${c}`).sort())
  })
})
