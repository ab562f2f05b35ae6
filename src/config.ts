// The only reader of process.env: a typed, validated Config, with errors that name the variable.
import { join, resolve } from 'node:path'
import { ConnectionString } from 'mongodb-connection-string-url'
import { isKeyspaceName, type Replication } from './analytics/cassandra/schema.ts'
import { checkPassword } from './commerce/validation.ts'

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${variable}: expected ${expected}, got ${JSON.stringify(got)}`)
    this.name = 'ConfigError'
  }
}

export interface Config {
  port: number
  host: string
  dataDir: string
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  trustProxy: boolean
  /** 'auto': Secure when the request came over TLS (directly or via a trusted proxy). */
  cookieSecure: 'auto' | 'always' | 'never'
  sessionTtlMs: number
  bodyLimit: number
  /** How long a stopping server waits for requests in flight before it cuts the connections left. */
  shutdownGraceMs: number
  admin: { email: string | undefined; password: string | undefined }
  seed: 'auto' | 'never'
  authRateLimit: number
  authAccountRateLimit: number
  authAccountWindowMs: number
  argon2: { memoryCost: number; timeCost: number; parallelism: number }
  shop: {
    currency: string
    taxRateBp: number
    shippingFlat: number
    freeShippingThreshold: number
  }
  recovery: { intervalMs: number; pendingAfterMs: number }
  testGatewayLatencyMs: number
  /** Set: the CommerceStore is MongoDB at this URL; unset: SQLite under dataDir. */
  mongodbUrl: string | undefined
  /** Set: sessions and the job queue are on Redis at this URL; unset: SQLite sessions, in-process queue. */
  redisUrl: string | undefined
  /** Every Redis key starts with it, so several shops (or test runs) can share one Redis. */
  redisKeyPrefix: string
  /** Set: the LogIndex is this search engine; unset: SQLite FTS5 under dataDir. */
  searchEngine: { url: string; flavor: 'opensearch' | 'elasticsearch'; replicas: number; namespace: string } | undefined
  /** Most entries a log channel keeps before the oldest are trimmed. */
  logChannelMaxLength: number
  /** The pipeline topology file (JSON); unset: the built-in default topology. */
  pipelineConfig: string | undefined
  /** Ship this process's logs into the log pipeline (pino → batches → the `logs` queue). */
  shipLogs: boolean
  /** Also print logs on stdout (off in tests that ship logs but should stay quiet). */
  logStdout: boolean
  /** The AnalyticsStore: DuckDB under dataDir, or Cassandra when CASSANDRA_CONTACT_POINTS is set. */
  analytics: AnalyticsConfig
  /**
   * Where Prometheus scrapes this process. A port: every role (web, worker, pipeline, start) serves /metrics, /healthz
   * and /readyz on its own listener there, and web's public port does not serve /metrics. Unset: web and start serve
   * /metrics on their HTTP port; worker and pipeline serve none.
   */
  metrics: { port: number; host: string } | undefined
  /** Credentials `emporium kibana import` sends (never taken from its arguments, never printed). */
  kibana: { auth: KibanaAuth | undefined }
}

/** Basic auth of a Kibana user, or an API key as Elasticsearch encodes it (base64 of id:key). */
export type KibanaAuth = { kind: 'basic'; username: string; password: string } | { kind: 'apiKey'; apiKey: string }

export type AnalyticsConfig =
  | { kind: 'duckdb'; path: string; threads: number; memoryLimitMiB: number }
  | {
      kind: 'cassandra'
      /** host or host:port */
      contactPoints: string[]
      localDataCenter: string
      keyspace: string
      replication: Replication
      credentials: { username: string; password: string } | undefined
    }

type Env = Record<string, string | undefined>

const int = (env: Env, name: string, fallback: number, min: number, max: number): number => {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `a whole number from ${min} to ${max}`, raw)
  const n = Number(raw)
  if (n < min || n > max) throw new ConfigError(name, `a whole number from ${min} to ${max}`, raw)
  return n
}

const oneOf = <T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T => {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!values.includes(raw as T)) throw new ConfigError(name, `one of ${values.join(', ')}`, raw)
  return raw as T
}

const bool = (env: Env, name: string, fallback: boolean): boolean => {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false
  throw new ConfigError(name, 'true or false', raw)
}

/** A percentage such as "8" or "8.25", returned in basis points. */
const percentBp = (env: Env, name: string, fallback: number): number => {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d{1,2}(\.\d{1,2})?$|^100(\.0{1,2})?$/.test(raw.trim()))
    throw new ConfigError(name, 'a percentage from 0 to 100 with at most two decimals, e.g. 8.25', raw)
  const [whole = '0', frac = ''] = raw.trim().split('.')
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'))
}

const url = (env: Env, name: string, schemes: string[]): string | undefined => {
  const raw = env[name]?.trim()
  if (!raw) return undefined
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new ConfigError(name, `a URL starting with ${schemes.join(' or ')}//`, '(not a URL)')
  }
  // The value may hold a password: the error names the scheme only.
  if (!schemes.includes(parsed.protocol))
    throw new ConfigError(name, `a URL starting with ${schemes.join(' or ')}//`, parsed.protocol)
  return raw
}

/**
 * A MongoDB connection string: a replica set's `mongodb://a:27017,b:27017/shop?replicaSet=rs0` is no WHATWG URL, so the
 * driver's own parser checks it. The value may hold a password: errors name the scheme only.
 */
const mongodbUrl = (env: Env): string | undefined => {
  const raw = env.MONGODB_URL?.trim()
  if (!raw) return undefined
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(raw)?.[1]
  if (scheme !== 'mongodb' && scheme !== 'mongodb+srv')
    throw new ConfigError('MONGODB_URL', 'a connection string starting with mongodb:// or mongodb+srv://', scheme ?? '')
  try {
    new ConnectionString(raw)
  } catch {
    throw new ConfigError(
      'MONGODB_URL',
      'a MongoDB connection string such as mongodb://host1:27017,host2:27017/emporium?replicaSet=rs0',
      '(not a connection string)',
    )
  }
  return raw
}

const prefix = (env: Env, name: string, fallback: string): string => {
  const raw = env[name]?.trim()
  if (!raw) return fallback
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(raw)) throw new ConfigError(name, 'letters, digits, _ . or -, at most 40', raw)
  return raw
}

/** The data-stream namespace ends up in index names: lower-case letters, digits and _ only. */
const logIndexNamespace = (env: Env): string => {
  const raw = env.LOG_INDEX_NAMESPACE?.trim()
  if (!raw) return 'default'
  if (!/^[a-z0-9_]{1,40}$/.test(raw))
    throw new ConfigError('LOG_INDEX_NAMESPACE', 'lower-case letters, digits or _, at most 40', raw)
  return raw
}

const searchEngine = (env: Env): Config['searchEngine'] => {
  const opensearch = url(env, 'OPENSEARCH_URL', ['http:', 'https:'])
  const elasticsearch = url(env, 'ELASTICSEARCH_URL', ['http:', 'https:'])
  if (opensearch && elasticsearch)
    throw new ConfigError('ELASTICSEARCH_URL', 'to be unset when OPENSEARCH_URL is set (one log index)', '(set)')
  const chosen = opensearch ?? elasticsearch
  if (!chosen) return undefined
  return {
    url: chosen,
    flavor: opensearch ? 'opensearch' : 'elasticsearch',
    replicas: int(env, 'LOG_INDEX_REPLICAS', 1, 0, 10),
    namespace: logIndexNamespace(env),
  }
}

/** `SimpleStrategy:1` or `NetworkTopologyStrategy:dc1=3,dc2=3`. */
export function parseReplication(raw: string | undefined): Replication {
  const expected = 'SimpleStrategy:<factor> or NetworkTopologyStrategy:<dc>=<factor>[,<dc>=<factor>…]'
  const value = raw?.trim()
  if (!value) return { class: 'SimpleStrategy', replicationFactor: 1 }
  const simple = /^SimpleStrategy:(\d{1,2})$/.exec(value)
  if (simple) {
    const factor = Number(simple[1])
    if (factor < 1) throw new ConfigError('CASSANDRA_REPLICATION', expected, value)
    return { class: 'SimpleStrategy', replicationFactor: factor }
  }
  const topology = /^NetworkTopologyStrategy:(.+)$/.exec(value)
  if (!topology) throw new ConfigError('CASSANDRA_REPLICATION', expected, value)
  const dataCenters: Record<string, number> = {}
  for (const part of topology[1]!.split(',')) {
    const m = /^([A-Za-z0-9_.-]{1,64})=(\d{1,2})$/.exec(part.trim())
    if (!m || Number(m[2]) < 1 || m[1]! in dataCenters) throw new ConfigError('CASSANDRA_REPLICATION', expected, value)
    dataCenters[m[1]!] = Number(m[2])
  }
  return { class: 'NetworkTopologyStrategy', dataCenters }
}

const analyticsConfig = (env: Env, dataDir: string): AnalyticsConfig => {
  const points = env.CASSANDRA_CONTACT_POINTS?.trim()
  if (!points)
    return {
      kind: 'duckdb',
      path: join(dataDir, 'analytics.duckdb'),
      // Embedded beside the web server: one thread and a bounded buffer pool, so analytics never crowds out requests.
      threads: int(env, 'ANALYTICS_DUCKDB_THREADS', 1, 1, 64),
      memoryLimitMiB: int(env, 'ANALYTICS_DUCKDB_MEMORY_MIB', 256, 16, 1_048_576),
    }
  const contactPoints = points.split(',').map((p) => p.trim())
  // host, host:port, or [v6]:port: no scheme, no path, no credentials.
  if (contactPoints.some((p) => !/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(p)))
    throw new ConfigError('CASSANDRA_CONTACT_POINTS', 'host[:port] entries separated by commas', points)
  const localDataCenter = env.CASSANDRA_LOCAL_DC?.trim()
  if (!localDataCenter)
    throw new ConfigError(
      'CASSANDRA_LOCAL_DC',
      'the data centre the driver talks to (e.g. datacenter1) when CASSANDRA_CONTACT_POINTS is set',
      '',
    )
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(localDataCenter))
    throw new ConfigError('CASSANDRA_LOCAL_DC', 'a data centre name (letters, digits, _ . -)', localDataCenter)
  const keyspace = env.CASSANDRA_KEYSPACE?.trim() || 'emporium_analytics'
  if (!isKeyspaceName(keyspace))
    throw new ConfigError(
      'CASSANDRA_KEYSPACE',
      'lower-case letters, digits and _, starting with a letter, at most 48',
      keyspace,
    )
  const username = env.CASSANDRA_USERNAME?.trim() || undefined
  const password = env.CASSANDRA_PASSWORD || undefined
  if (!username !== !password)
    throw new ConfigError(
      username ? 'CASSANDRA_PASSWORD' : 'CASSANDRA_USERNAME',
      'CASSANDRA_USERNAME and CASSANDRA_PASSWORD to be set together',
      '(one of them is unset)',
    )
  return {
    kind: 'cassandra',
    contactPoints,
    localDataCenter,
    keyspace,
    replication: parseReplication(env.CASSANDRA_REPLICATION),
    credentials: username && password ? { username, password } : undefined,
  }
}

export function loadConfig(env: Env = process.env): Config {
  const host = env.HOST?.trim() || '127.0.0.1'
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(host)) throw new ConfigError('HOST', 'a host name or IP address', host)
  const adminEmail = env.EMPORIUM_ADMIN_EMAIL?.trim() || undefined
  const adminPassword = env.EMPORIUM_ADMIN_PASSWORD || undefined
  if (adminPassword && !adminEmail)
    throw new ConfigError('EMPORIUM_ADMIN_EMAIL', 'to be set when EMPORIUM_ADMIN_PASSWORD is set', '')
  if (adminEmail && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(adminEmail))
    throw new ConfigError('EMPORIUM_ADMIN_EMAIL', 'an e-mail address', adminEmail)
  if (adminPassword !== undefined) {
    try {
      checkPassword(adminPassword, 'EMPORIUM_ADMIN_PASSWORD', adminEmail)
    } catch (e) {
      throw new ConfigError(
        'EMPORIUM_ADMIN_PASSWORD',
        `a strong password (${(e as Error).message.toLowerCase()})`,
        '(hidden)',
      )
    }
  }
  const currency = (env.CURRENCY ?? 'USD').trim()
  if (!/^[A-Z]{3}$/.test(currency)) throw new ConfigError('CURRENCY', 'an ISO 4217 code such as USD or EUR', currency)
  const dataDir = resolve(env.DATA_DIR?.trim() || './data')
  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    host,
    dataDir,
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    trustProxy: bool(env, 'TRUST_PROXY', false),
    cookieSecure: oneOf(env, 'COOKIE_SECURE', ['auto', 'always', 'never'] as const, 'auto'),
    sessionTtlMs: int(env, 'SESSION_TTL_HOURS', 24 * 14, 1, 24 * 365) * 3_600_000,
    bodyLimit: int(env, 'BODY_LIMIT', 256 * 1024, 1024, 50 * 1024 * 1024),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    admin: { email: adminEmail, password: adminPassword },
    seed: oneOf(env, 'EMPORIUM_SEED', ['auto', 'never'] as const, 'auto'),
    authRateLimit: int(env, 'AUTH_RATE_LIMIT', 20, 1, 1_000_000),
    authAccountRateLimit: int(env, 'AUTH_ACCOUNT_RATE_LIMIT', 5, 1, 1_000_000),
    authAccountWindowMs: 15 * 60_000,
    argon2: {
      memoryCost: int(env, 'ARGON2_MEMORY_KIB', 19_456, 1024, 4 * 1024 * 1024),
      timeCost: int(env, 'ARGON2_TIME_COST', 2, 1, 20),
      parallelism: int(env, 'ARGON2_PARALLELISM', 1, 1, 16),
    },
    shop: {
      currency,
      taxRateBp: percentBp(env, 'TAX_RATE', 800),
      shippingFlat: int(env, 'SHIPPING_FLAT', 599, 0, 1_000_000),
      freeShippingThreshold: int(env, 'FREE_SHIPPING_THRESHOLD', 7500, 0, 100_000_000),
    },
    recovery: {
      intervalMs: int(env, 'RECOVERY_INTERVAL_MS', 30_000, 100, 3_600_000),
      pendingAfterMs: int(env, 'RECOVER_PENDING_AFTER_MS', 120_000, 1000, 86_400_000),
    },
    testGatewayLatencyMs: int(env, 'TEST_GATEWAY_LATENCY_MS', 0, 0, 60_000),
    mongodbUrl: mongodbUrl(env),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisKeyPrefix: prefix(env, 'REDIS_KEY_PREFIX', 'emporium'),
    searchEngine: searchEngine(env),
    logChannelMaxLength: int(env, 'LOG_CHANNEL_MAX_LENGTH', 1_000_000, 1000, 1_000_000_000),
    pipelineConfig: env.PIPELINE_CONFIG?.trim() || undefined,
    shipLogs: bool(env, 'LOG_SHIP', true),
    logStdout: bool(env, 'LOG_STDOUT', true),
    analytics: analyticsConfig(env, dataDir),
    metrics: metricsListener(env, host),
    kibana: { auth: kibanaAuth(env) },
  }
}

/** KIBANA_USERNAME with KIBANA_PASSWORD, or KIBANA_API_KEY; values are never echoed in errors. */
const kibanaAuth = (env: Env): KibanaAuth | undefined => {
  const username = env.KIBANA_USERNAME?.trim() || undefined
  const password = env.KIBANA_PASSWORD || undefined
  const apiKey = env.KIBANA_API_KEY?.trim() || undefined
  if (!username !== !password)
    throw new ConfigError(
      username ? 'KIBANA_PASSWORD' : 'KIBANA_USERNAME',
      'KIBANA_USERNAME and KIBANA_PASSWORD to be set together',
      '(one of them is unset)',
    )
  if (apiKey && username)
    throw new ConfigError('KIBANA_API_KEY', 'to be unset when KIBANA_USERNAME is set (one way to sign in)', '(set)')
  if (apiKey) {
    if (!/^[A-Za-z0-9+/=_-]{8,4096}$/.test(apiKey))
      throw new ConfigError(
        'KIBANA_API_KEY',
        'the encoded API key (base64 of id:api_key, as Elasticsearch returns it)',
        '(hidden)',
      )
    return { kind: 'apiKey', apiKey }
  }
  if (username && password) {
    if (username.includes(':')) throw new ConfigError('KIBANA_USERNAME', 'a user name without ":"', '(hidden)')
    return { kind: 'basic', username, password }
  }
  return undefined
}

const metricsListener = (env: Env, host: string): Config['metrics'] => {
  if (!env.METRICS_PORT?.trim()) return undefined
  const metricsHost = env.METRICS_HOST?.trim() || host
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(metricsHost))
    throw new ConfigError('METRICS_HOST', 'a host name or IP address', metricsHost)
  return { port: int(env, 'METRICS_PORT', 9464, 0, 65535), host: metricsHost }
}

/** The variables loadConfig reads, with their meaning; the README table and `emporium --help` come from it. */
export const CONFIG_VARIABLES: readonly { name: string; default: string; meaning: string }[] = [
  { name: 'PORT', default: '3000', meaning: 'HTTP port' },
  { name: 'HOST', default: '127.0.0.1', meaning: 'Address to listen on (0.0.0.0 in containers)' },
  { name: 'DATA_DIR', default: './data', meaning: 'Where the embedded engines keep their files' },
  { name: 'EMPORIUM_ADMIN_EMAIL', default: '(unset)', meaning: 'Admin created at first start' },
  { name: 'EMPORIUM_ADMIN_PASSWORD', default: '(generated, printed once)', meaning: 'Password of that admin' },
  { name: 'EMPORIUM_SEED', default: 'auto', meaning: 'auto: seed the demo shop when the store is empty; never' },
  { name: 'LOG_LEVEL', default: 'info', meaning: 'fatal, error, warn, info, debug, trace or silent' },
  { name: 'TRUST_PROXY', default: 'false', meaning: 'Trust X-Forwarded-* (client IP, TLS) from a reverse proxy' },
  { name: 'COOKIE_SECURE', default: 'auto', meaning: 'auto (Secure over TLS), always or never' },
  { name: 'SESSION_TTL_HOURS', default: '336', meaning: 'Idle lifetime of a session' },
  { name: 'BODY_LIMIT', default: '262144', meaning: 'Largest request body in bytes (larger: 413)' },
  {
    name: 'SHUTDOWN_GRACE_MS',
    default: '10000',
    meaning: 'On SIGTERM, how long requests in flight may finish before their connections are cut',
  },
  { name: 'AUTH_RATE_LIMIT', default: '20', meaning: 'Sign-in and registration attempts per client per minute' },
  { name: 'AUTH_ACCOUNT_RATE_LIMIT', default: '5', meaning: 'Failed sign-ins per account per 15 minutes' },
  { name: 'ARGON2_MEMORY_KIB', default: '19456', meaning: 'argon2id memory cost' },
  { name: 'ARGON2_TIME_COST', default: '2', meaning: 'argon2id passes' },
  { name: 'ARGON2_PARALLELISM', default: '1', meaning: 'argon2id lanes' },
  { name: 'CURRENCY', default: 'USD', meaning: 'Shop currency (ISO 4217)' },
  { name: 'TAX_RATE', default: '8', meaning: 'Tax on goods after discount, in percent (e.g. 8.25)' },
  { name: 'SHIPPING_FLAT', default: '599', meaning: 'Flat shipping in minor units' },
  { name: 'FREE_SHIPPING_THRESHOLD', default: '7500', meaning: 'Goods total (minor units) that ships free' },
  { name: 'RECOVERY_INTERVAL_MS', default: '30000', meaning: 'How often the checkout recovery job runs' },
  { name: 'RECOVER_PENDING_AFTER_MS', default: '120000', meaning: 'Age at which a pending order is settled' },
  { name: 'TEST_GATEWAY_LATENCY_MS', default: '0', meaning: 'Simulated latency of the test payment gateway' },
  {
    name: 'MONGODB_URL',
    default: '(unset: SQLite)',
    meaning: 'MongoDB for the CommerceStore, e.g. mongodb://host:27017/emporium',
  },
  {
    name: 'REDIS_URL',
    default: '(unset: embedded)',
    meaning: 'Redis for sessions and the job queue, e.g. redis://host:6379',
  },
  {
    name: 'REDIS_KEY_PREFIX',
    default: 'emporium',
    meaning: 'Start of every Redis key, to share one Redis between shops',
  },
  {
    name: 'OPENSEARCH_URL',
    default: '(unset: SQLite FTS5)',
    meaning: 'OpenSearch 2/3 for the log index, e.g. http://host:9200',
  },
  {
    name: 'ELASTICSEARCH_URL',
    default: '(unset)',
    meaning: 'Elasticsearch 8/9 for the log index instead of OpenSearch',
  },
  { name: 'LOG_INDEX_REPLICAS', default: '1', meaning: 'Replicas per backing index (0 on a single node)' },
  {
    name: 'LOG_INDEX_NAMESPACE',
    default: 'default',
    meaning: 'Data-stream namespace: records go to logs-emporium.<category>-<namespace>',
  },
  {
    name: 'LOG_CHANNEL_MAX_LENGTH',
    default: '1000000',
    meaning: 'Entries a log channel keeps before trimming the oldest',
  },
  {
    name: 'PIPELINE_CONFIG',
    default: '(built-in topology)',
    meaning: 'Pipeline topology file, see deploy/pipeline.example.json',
  },
  { name: 'LOG_SHIP', default: 'true', meaning: "Ship this process's logs into the log pipeline (false: stdout only)" },
  { name: 'LOG_STDOUT', default: 'true', meaning: 'Also print logs on stdout' },
  {
    name: 'ANALYTICS_DUCKDB_THREADS',
    default: '1',
    meaning: 'Threads of the embedded DuckDB analytics store (more: faster analyst queries, less CPU for requests)',
  },
  {
    name: 'ANALYTICS_DUCKDB_MEMORY_MIB',
    default: '256',
    meaning: 'Memory limit of the embedded DuckDB store, MiB (writes need ~48; the size of the data does not raise it)',
  },
  {
    name: 'CASSANDRA_CONTACT_POINTS',
    default: '(unset: DuckDB)',
    meaning:
      'Cassandra for analytics, host[:port] list, e.g. cass1:9042,cass2:9042 (DuckDB: DATA_DIR/analytics.duckdb)',
  },
  { name: 'CASSANDRA_LOCAL_DC', default: '(required with Cassandra)', meaning: 'The data centre the driver talks to' },
  { name: 'CASSANDRA_KEYSPACE', default: 'emporium_analytics', meaning: 'Keyspace of the analytics tables' },
  {
    name: 'CASSANDRA_REPLICATION',
    default: 'SimpleStrategy:1',
    meaning: 'Replication of a keyspace migrate creates, e.g. NetworkTopologyStrategy:dc1=3,dc2=3',
  },
  { name: 'CASSANDRA_USERNAME', default: '(unset)', meaning: 'Cassandra user (with CASSANDRA_PASSWORD)' },
  { name: 'CASSANDRA_PASSWORD', default: '(unset)', meaning: 'Password of that Cassandra user' },
  {
    name: 'METRICS_PORT',
    default: '(unset: /metrics on PORT of web and start)',
    meaning: 'Own listener for /metrics, /healthz and /readyz in every role, e.g. 9464 (0: any free port)',
  },
  { name: 'METRICS_HOST', default: '(HOST)', meaning: 'Address the METRICS_PORT listener binds' },
  {
    name: 'KIBANA_USERNAME',
    default: '(unset)',
    meaning: 'User that emporium kibana import signs in as (with KIBANA_PASSWORD)',
  },
  { name: 'KIBANA_PASSWORD', default: '(unset)', meaning: 'Password of that Kibana user' },
  {
    name: 'KIBANA_API_KEY',
    default: '(unset)',
    meaning: 'Instead of a user: an encoded API key (base64 of id:api_key) for emporium kibana import',
  },
]
