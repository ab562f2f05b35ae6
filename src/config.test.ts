import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config.ts'

describe('config', () => {
  it('has defaults for an empty environment', () => {
    const c = loadConfig({})
    assert.equal(c.port, 3000)
    assert.equal(c.host, '127.0.0.1')
    assert.match(c.dataDir, /\/data$/)
    assert.equal(c.shop.taxRateBp, 800)
    assert.equal(c.authRateLimit, 20)
    assert.equal(c.authAccountRateLimit, 5)
  })

  it('parses percentages into basis points without floats', () => {
    assert.equal(loadConfig({ TAX_RATE: '8.25' }).shop.taxRateBp, 825)
    assert.equal(loadConfig({ TAX_RATE: '0' }).shop.taxRateBp, 0)
    assert.equal(loadConfig({ TAX_RATE: '19.6' }).shop.taxRateBp, 1960)
  })

  const bad: [string, string, RegExp][] = [
    ['PORT', 'abc', /PORT: expected a whole number from 0 to 65535/],
    ['PORT', '70000', /PORT/],
    ['PORT', '3000.5', /PORT/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL: expected one of fatal, error/],
    ['TAX_RATE', '8.255', /TAX_RATE/],
    ['TAX_RATE', '-1', /TAX_RATE/],
    ['CURRENCY', 'usd', /CURRENCY/],
    ['TRUST_PROXY', 'maybe', /TRUST_PROXY: expected true or false/],
    ['AUTH_RATE_LIMIT', '0', /AUTH_RATE_LIMIT/],
    ['EMPORIUM_ADMIN_EMAIL', 'not-an-email', /EMPORIUM_ADMIN_EMAIL/],
    ['HOST', 'bad host!', /HOST/],
  ]
  for (const [name, value, message] of bad) {
    it(`refuses ${name}=${value} and names the variable`, () => {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (e: unknown) => e instanceof ConfigError && e.variable === name && message.test(e.message),
      )
    })
  }

  it('refuses a weak admin password at start-up, before any seeding', () => {
    assert.throws(
      () => loadConfig({ EMPORIUM_ADMIN_EMAIL: 'a@b.co', EMPORIUM_ADMIN_PASSWORD: 'aaaaaaaaaaaa' }),
      (e: unknown) =>
        e instanceof ConfigError && e.variable === 'EMPORIUM_ADMIN_PASSWORD' && /too easy to guess/.test(e.message),
    )
  })

  it('refuses an admin password without an e-mail, and a short one', () => {
    assert.throws(() => loadConfig({ EMPORIUM_ADMIN_PASSWORD: 'long enough password' }), /EMPORIUM_ADMIN_EMAIL/)
    assert.throws(
      () => loadConfig({ EMPORIUM_ADMIN_EMAIL: 'a@b.co', EMPORIUM_ADMIN_PASSWORD: 'short' }),
      (e: unknown) => e instanceof ConfigError && !e.message.includes('short'),
      'the message never echoes the password',
    )
  })

  it('documents every variable it reads', () => {
    const source = loadConfig.toString()
    const read = new Set([...source.matchAll(/\(env, ?['"]([A-Z][A-Z0-9_]+)['"]/g)].map((m) => m[1]))
    assert.ok(read.size >= 15, 'found the parsed variables')
    for (const name of ['HOST', 'DATA_DIR', 'EMPORIUM_ADMIN_EMAIL', 'EMPORIUM_ADMIN_PASSWORD', 'CURRENCY'])
      read.add(name)
    const documented = new Set(CONFIG_VARIABLES.map((v) => v.name))
    for (const name of read) assert.ok(documented.has(name as string), `${name} is documented`)
  })
})

describe('config › analytics', () => {
  it('is DuckDB under DATA_DIR by default', () => {
    const c = loadConfig({ DATA_DIR: '/tmp/emp-data' })
    assert.deepEqual(c.analytics, {
      kind: 'duckdb',
      path: '/tmp/emp-data/analytics.duckdb',
      threads: 1,
      memoryLimitMiB: 256,
    })
    assert.throws(
      () => loadConfig({ DATA_DIR: '/tmp/emp-data', ANALYTICS_DUCKDB_THREADS: '0' }),
      /ANALYTICS_DUCKDB_THREADS/,
    )
    assert.throws(
      () => loadConfig({ DATA_DIR: '/tmp/emp-data', ANALYTICS_DUCKDB_MEMORY_MIB: 'lots' }),
      /ANALYTICS_DUCKDB_MEMORY_MIB/,
    )
  })

  it('is Cassandra when CASSANDRA_CONTACT_POINTS is set, with keyspace and replication defaults', () => {
    const c = loadConfig({ CASSANDRA_CONTACT_POINTS: 'cass1:9042, cass2', CASSANDRA_LOCAL_DC: 'dc1' })
    assert.deepEqual(c.analytics, {
      kind: 'cassandra',
      contactPoints: ['cass1:9042', 'cass2'],
      localDataCenter: 'dc1',
      keyspace: 'emporium_analytics',
      replication: { class: 'SimpleStrategy', replicationFactor: 1 },
      credentials: undefined,
    })
  })

  it('parses both replication forms', () => {
    const base = { CASSANDRA_CONTACT_POINTS: '127.0.0.1', CASSANDRA_LOCAL_DC: 'dc1' }
    const replication = (v: string) => {
      const a = loadConfig({ ...base, CASSANDRA_REPLICATION: v }).analytics
      return a.kind === 'cassandra' ? a.replication : null
    }
    assert.deepEqual(replication('SimpleStrategy:3'), { class: 'SimpleStrategy', replicationFactor: 3 })
    assert.deepEqual(replication('NetworkTopologyStrategy:dc1=3,dc2=2'), {
      class: 'NetworkTopologyStrategy',
      dataCenters: { dc1: 3, dc2: 2 },
    })
  })

  const cassandra = { CASSANDRA_CONTACT_POINTS: '127.0.0.1:9042', CASSANDRA_LOCAL_DC: 'datacenter1' }
  const badAnalytics: [Record<string, string>, string][] = [
    [{ CASSANDRA_CONTACT_POINTS: '127.0.0.1' }, 'CASSANDRA_LOCAL_DC'],
    [{ ...cassandra, CASSANDRA_CONTACT_POINTS: 'http://cass:9042' }, 'CASSANDRA_CONTACT_POINTS'],
    [{ ...cassandra, CASSANDRA_CONTACT_POINTS: 'a,,b' }, 'CASSANDRA_CONTACT_POINTS'],
    [{ ...cassandra, CASSANDRA_KEYSPACE: 'Emporium-Analytics' }, 'CASSANDRA_KEYSPACE'],
    [{ ...cassandra, CASSANDRA_REPLICATION: 'SimpleStrategy:0' }, 'CASSANDRA_REPLICATION'],
    [{ ...cassandra, CASSANDRA_REPLICATION: 'SimpleStrategy' }, 'CASSANDRA_REPLICATION'],
    [{ ...cassandra, CASSANDRA_REPLICATION: 'NetworkTopologyStrategy:dc1=3,dc1=2' }, 'CASSANDRA_REPLICATION'],
    [{ ...cassandra, CASSANDRA_REPLICATION: 'EverywhereStrategy' }, 'CASSANDRA_REPLICATION'],
    [{ ...cassandra, CASSANDRA_USERNAME: 'analytics' }, 'CASSANDRA_PASSWORD'],
  ]
  for (const [env, variable] of badAnalytics) {
    it(`refuses ${JSON.stringify(env)} and names ${variable}`, () => {
      assert.throws(
        () => loadConfig(env),
        (e: unknown) => e instanceof ConfigError && e.variable === variable && e.message.startsWith(`${variable}:`),
      )
    })
  }

  it('never echoes the Cassandra password', () => {
    assert.throws(
      () => loadConfig({ ...cassandra, CASSANDRA_PASSWORD: 's3cret-pass' }),
      (e: unknown) => e instanceof ConfigError && e.variable === 'CASSANDRA_USERNAME' && !e.message.includes('s3cret'),
    )
  })
})

describe('README', () => {
  it('documents every configuration variable', async () => {
    const { readFileSync } = await import('node:fs')
    const readme = readFileSync('README.md', 'utf8')
    for (const v of CONFIG_VARIABLES) assert.ok(readme.includes(`\`${v.name}\``), `README lists ${v.name}`)
  })
})

describe('config › metrics listener', () => {
  it('is off by default and on its own port when METRICS_PORT is set', () => {
    assert.equal(loadConfig({}).metrics, undefined)
    assert.deepEqual(loadConfig({ METRICS_PORT: '9464' }).metrics, { port: 9464, host: '127.0.0.1' })
    assert.deepEqual(loadConfig({ METRICS_PORT: '0', HOST: '0.0.0.0' }).metrics, { port: 0, host: '0.0.0.0' })
    assert.deepEqual(loadConfig({ METRICS_PORT: '9100', METRICS_HOST: '10.0.0.5' }).metrics, {
      port: 9100,
      host: '10.0.0.5',
    })
  })

  it('names the variable on bad values', () => {
    for (const [env, variable] of [
      [{ METRICS_PORT: 'nine' }, 'METRICS_PORT'],
      [{ METRICS_PORT: '70000' }, 'METRICS_PORT'],
      [{ METRICS_PORT: '9464', METRICS_HOST: 'a b' }, 'METRICS_HOST'],
    ] as const)
      assert.throws(
        () => loadConfig(env),
        (e: unknown) => e instanceof ConfigError && e.variable === variable,
      )
  })
})

describe('config › MONGODB_URL', () => {
  it('takes replica-set and SRV connection strings, with credentials and options', () => {
    for (const url of [
      'mongodb://127.0.0.1:27017/emporium',
      'mongodb://app:s3cret@mongo-0.mongo:27017,mongo-1.mongo:27017,mongo-2.mongo:27017/emporium?replicaSet=rs0&w=majority',
      'mongodb+srv://app:s3cret@cluster0.example.net/emporium?retryWrites=true',
    ])
      assert.equal(loadConfig({ MONGODB_URL: url }).mongodbUrl, url)
  })

  it('refuses other schemes and broken strings without echoing the password', () => {
    for (const url of ['postgres://app:s3cret@db/emporium', 'mongodb://app:s3cret@', 'just words'])
      assert.throws(
        () => loadConfig({ MONGODB_URL: url }),
        (e: unknown) => e instanceof ConfigError && e.variable === 'MONGODB_URL' && !e.message.includes('s3cret'),
        url,
      )
  })
})
