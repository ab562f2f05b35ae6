// The distributed SessionStore on Redis: one JSON string per session with native expiry, plus a set of session ids per user.

import { Redis, type RedisOptions } from 'ioredis'
import { EngineUnavailable, isEmporiumError } from '../../../core/errors.ts'
import { isRedisConnectionError, redisUnavailable } from '../../../core/redis-errors.ts'
import type { SessionData, SessionStore } from '../session-store.ts'

export interface RedisSessionStoreOptions {
  /** Prefix of every key; sessions are `<prefix>s:<id>`, per-user indexes `<prefix>u:<userId>`. Default 'emporium:sess:'. */
  prefix?: string
  /** Bound on each call, so a request never hangs on a dead Redis. Default 2000. */
  timeoutMs?: number
  /** Connection errors that no call returns (failed reconnect attempts). Default: ignored. */
  onError?: (error: Error) => void
}

// Reads the owner from the session itself, so an index entry left behind by a session that changed user, expired or
// was destroyed is dropped here instead of ending someone else's session.
const DESTROY_BY_USER = `
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. id
  local json = redis.call('GET', key)
  local owner = nil
  if json then
    local ok, session = pcall(cjson.decode, json)
    if ok and type(session) == 'table' then owner = session.userId end
  end
  if owner ~= ARGV[2] then
    redis.call('SREM', KEYS[1], id)
  elseif id ~= ARGV[3] then
    redis.call('DEL', key)
    redis.call('SREM', KEYS[1], id)
    n = n + 1
  end
end
return n
`

// Pushes back the session's expiry and keeps its user's index alive at least as long.
const TOUCH = `
local json = redis.call('GET', KEYS[1])
if not json then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local ok, session = pcall(cjson.decode, json)
if ok and type(session) == 'table' and type(session.userId) == 'string' then
  local index = ARGV[2] .. session.userId
  redis.call('PEXPIRE', index, ARGV[1], 'NX')
  redis.call('PEXPIRE', index, ARGV[1], 'GT')
end
return 1
`

const DESTROY = `
local json = redis.call('GET', KEYS[1])
if not json then return 0 end
redis.call('DEL', KEYS[1])
local ok, session = pcall(cjson.decode, json)
if ok and type(session) == 'table' and type(session.userId) == 'string' then
  redis.call('SREM', ARGV[1] .. session.userId, ARGV[2])
end
return 1
`

const DOWN = new Set(['reconnecting', 'close', 'end'])

type ScriptedRedis = Redis & {
  sessionDestroyByUser(userKey: string, sessionPrefix: string, userId: string, exceptId: string): Promise<number>
  sessionTouch(sessionKey: string, ttlMs: number, userPrefix: string): Promise<number>
  sessionDestroy(sessionKey: string, userPrefix: string, id: string): Promise<number>
}

export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis'
  readonly prefix: string
  private readonly redis: ScriptedRedis
  private readonly ownsClient: boolean
  private readonly timeoutMs: number
  private closed = false

  /** A client passed in is used as it is configured and left open on close(); a URL gets a fail-fast, self-reconnecting client. */
  constructor(redis: Redis | string, options: RedisSessionStoreOptions = {}) {
    this.prefix = options.prefix ?? 'emporium:sess:'
    this.timeoutMs = options.timeoutMs ?? 2000
    this.ownsClient = typeof redis === 'string'
    const client =
      typeof redis === 'string'
        ? new Redis(redis, {
            // Fail fast while Redis is away (callers get EngineUnavailable) and reconnect in the background.
            maxRetriesPerRequest: 1,
            connectTimeout: 2000,
            commandTimeout: this.timeoutMs,
            retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
            connectionName: 'emporium-sessions',
          } satisfies RedisOptions)
        : redis
    if (this.ownsClient) client.on('error', (error: Error) => options.onError?.(error))
    client.defineCommand('sessionDestroyByUser', { numberOfKeys: 1, lua: DESTROY_BY_USER })
    client.defineCommand('sessionTouch', { numberOfKeys: 1, lua: TOUCH })
    client.defineCommand('sessionDestroy', { numberOfKeys: 1, lua: DESTROY })
    this.redis = client as ScriptedRedis
  }

  private sessionKey(id: string): string {
    return `${this.prefix}s:${id}`
  }

  private userKey(userId: string): string {
    return `${this.prefix}u:${userId}`
  }

  async migrate(): Promise<void> {
    await this.ping()
  }

  async ping(): Promise<void> {
    await this.call(() => this.redis.ping())
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.ownsClient) this.redis.disconnect()
  }

  async get(id: string): Promise<SessionData | null> {
    const json = await this.call(() => this.redis.get(this.sessionKey(id)))
    return json === null ? null : (JSON.parse(json) as SessionData)
  }

  async set(id: string, data: SessionData, ttlMs: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil(ttlMs))
    await this.call(async () => {
      const tx = this.redis.multi().set(this.sessionKey(id), JSON.stringify(data), 'PX', ttl)
      if (data.userId !== null) {
        const index = this.userKey(data.userId)
        // The index lives as long as its longest-lived session: NX sets a first expiry, GT only ever extends it.
        tx.sadd(index, id).pexpire(index, ttl, 'NX').pexpire(index, ttl, 'GT')
      }
      const results = await tx.exec()
      const failed = results?.find(([error]) => error)
      if (!results || failed) throw failed?.[0] ?? new Error('Redis discarded the session transaction')
    })
  }

  async touch(id: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs))
    return (await this.call(() => this.redis.sessionTouch(this.sessionKey(id), ttl, `${this.prefix}u:`))) === 1
  }

  async destroy(id: string): Promise<void> {
    await this.call(() => this.redis.sessionDestroy(this.sessionKey(id), `${this.prefix}u:`, id))
  }

  async destroyByUser(userId: string, exceptId?: string): Promise<number> {
    return this.call(() =>
      this.redis.sessionDestroyByUser(this.userKey(userId), `${this.prefix}s:`, userId, exceptId ?? ''),
    )
  }

  /** Redis expires sessions by itself. */
  async prune(): Promise<number> {
    return 0
  }

  /** Rejects at once when closed or while Redis is away; maps connection failures to EngineUnavailable. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new EngineUnavailable('Redis')
    if (this.ownsClient && DOWN.has(this.redis.status)) throw redisUnavailable(`connection is ${this.redis.status}`)
    try {
      return await fn()
    } catch (error) {
      if (isEmporiumError(error) || !isRedisConnectionError(error)) throw error
      throw redisUnavailable(error)
    }
  }
}

export function openRedisSessionStore(redis: Redis | string, options?: RedisSessionStoreOptions): RedisSessionStore {
  return new RedisSessionStore(redis, options)
}
