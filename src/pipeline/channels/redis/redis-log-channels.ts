// The distributed LogChannels on Redis Streams (Redis ≥ 6.2; exact lag needs ≥ 7.0): one stream per channel, entries
// holding one JSON field, consumer groups for delivery, XAUTOCLAIM for the work of dead consumers.

import { Redis, type RedisOptions } from 'ioredis'
import { isEmporiumError } from '../../../core/errors.ts'
import { isRedisConnectionError, redisUnavailable } from '../../../core/redis-errors.ts'
import {
  type ChannelEntry,
  ChannelGroupMissing,
  type ChannelInfo,
  compareChannelIds,
  encodeEntries,
  type LogChannels,
  LogChannelsClosed,
  validateClaim,
  validateMaxLength,
  validateName,
  validateRead,
} from '../log-channels.ts'

export interface RedisLogChannelsOptions {
  /** The most entries a stream keeps (`XADD … MAXLEN ~ maxLength`). */
  maxLength: number
  /** Prefix of every key: channel c is the stream `<prefix><c>`. Default 'emporium:'. */
  prefix?: string
  /**
   * How many entries above maxLength a stream may hold: approximate trimming drops whole stream nodes, so this is the
   * server's `stream-node-max-entries` (100 unless configured otherwise).
   */
  trimSlack?: number
  /** Bound on each call that does not block, so a caller never hangs on a dead Redis. Default 2000. */
  timeoutMs?: number
  /** Blocking reads in flight at once, each on a connection of its own; more wait for a free one. Default 8. */
  maxBlockingReads?: number
  /** Connection errors that no call returns (failed reconnect attempts). Default: ignored. */
  onError?: (error: Error) => void
}

const FIELD = 'd'
const DOWN = new Set(['reconnecting', 'close', 'end'])
const GROUP_MISSING = /NOGROUP|no such key/i
const STREAM_ID = /^\d{1,20}-\d{1,20}$/

// Shared by the scripts: the group's fields from XINFO GROUPS, and stream-id order.
const LUA_HELPERS = `
local function group_info(key, name)
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
    local f = {}
    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
    if f['name'] == name then return f end
  end
  return nil
end
local function id_before(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
`

// A read that keeps XINFO's lag exact. Up to Redis 7.4 (redis#13957), reading after entries the group never saw were
// trimmed counts the read from the group's stale counter, so the lag stays too high forever. Before reading, a group
// left behind the first entry gets the counter the entries before that entry imply, as fixed servers do themselves.
const READ = `${LUA_HELPERS}
local g = group_info(KEYS[1], ARGV[1])
if not g then return redis.error_reply('NOGROUP no such consumer group') end
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
if first and id_before(g['last-delivered-id'], first[1]) then
  local s = redis.call('XINFO', 'STREAM', KEYS[1])
  local f = {}
  for i = 1, #s, 2 do f[s[i]] = s[i + 1] end
  if f['entries-added'] then
    local before = f['entries-added'] - f['length']
    if g['entries-read'] ~= before then
      redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], g['last-delivered-id'], 'ENTRIESREAD', before)
    end
  end
end
return redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
`

// XAUTOCLAIM until count entries or the end of the pending list, with each entry's delivery count (XAUTOCLAIM does
// not return it). Entries trimmed while pending are dropped from the list by Redis 7 and skipped here.
const CLAIM = `
local want = tonumber(ARGV[4])
local cursor = '0-0'
local out = {}
repeat
  local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], cursor, 'COUNT', want - #out)
  cursor = r[1]
  for _, e in ipairs(r[2]) do
    if type(e) == 'table' and type(e[2]) == 'table' then
      local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1, ARGV[2])[1]
      out[#out + 1] = { e[1], e[2], p and p[4] or 1 }
    end
  end
until cursor == '0-0' or #out >= want
return out
`

// One consistent snapshot: length, the group's pending count and position, XINFO's lag (-1 when Redis cannot tell)
// and the first entry's id.
const INFO = `${LUA_HELPERS}
local g = group_info(KEYS[1], ARGV[1])
if not g then return redis.error_reply('NOGROUP no such consumer group') end
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
local lag = g['lag']
if type(lag) ~= 'number' then lag = -1 end
return { redis.call('XLEN', KEYS[1]), g['pending'], g['last-delivered-id'], lag, first and first[1] or '' }
`

type RawEntry = [id: string, fields: string[] | null]
type ReadReply = [key: string, entries: RawEntry[]][] | null

type ScriptedRedis = Redis & {
  channelsRead(key: string, group: string, consumer: string, count: number): Promise<ReadReply>
  channelsClaim(
    key: string,
    group: string,
    consumer: string,
    minIdleMs: number,
    count: number,
  ): Promise<[id: string, fields: string[], deliveries: number][]>
  channelsInfo(
    key: string,
    group: string,
  ): Promise<[length: number, pending: number, lastDelivered: string, lag: number, firstId: string]>
}

export class RedisLogChannels implements LogChannels {
  readonly kind = 'redis-streams'
  readonly maxLength: number
  readonly trimSlack: number
  readonly prefix: string
  private readonly redis: ScriptedRedis
  private readonly source: Redis | string
  private readonly ownsClient: boolean
  private readonly timeoutMs: number
  private readonly maxBlockingReads: number
  private readonly onError: (error: Error) => void
  // Blocking reads hold their connection for up to blockMs: they get connections of their own, so appends,
  // acknowledgements and info on the main connection are never queued behind them.
  private readonly idleReaders: Redis[] = []
  private readonly busyReaders = new Set<Redis>()
  private readonly readerQueue: ((reader: Redis | undefined) => void)[] = []
  private closed = false

  /** A client passed in is used as it is configured and left open on close(); a URL gets a fail-fast, self-reconnecting client. */
  constructor(redis: Redis | string, options: RedisLogChannelsOptions) {
    validateMaxLength(options.maxLength)
    this.maxLength = options.maxLength
    this.trimSlack = options.trimSlack ?? 100
    this.prefix = options.prefix ?? 'emporium:'
    this.timeoutMs = options.timeoutMs ?? 2000
    this.maxBlockingReads = options.maxBlockingReads ?? 8
    this.onError = options.onError ?? (() => {})
    this.source = redis
    this.ownsClient = typeof redis === 'string'
    const client =
      typeof redis === 'string'
        ? new Redis(redis, {
            // Fail fast while Redis is away (callers get EngineUnavailable) and reconnect in the background.
            maxRetriesPerRequest: 1,
            connectTimeout: 2000,
            commandTimeout: this.timeoutMs,
            retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
            connectionName: 'emporium-log-channels',
          } satisfies RedisOptions)
        : redis
    if (this.ownsClient) client.on('error', (error: Error) => this.onError(error))
    client.defineCommand('channelsRead', { numberOfKeys: 1, lua: READ })
    client.defineCommand('channelsClaim', { numberOfKeys: 1, lua: CLAIM })
    client.defineCommand('channelsInfo', { numberOfKeys: 1, lua: INFO })
    this.redis = client as ScriptedRedis
  }

  private key(channel: string): string {
    validateName('channel', channel)
    return `${this.prefix}${channel}`
  }

  async append<T>(channel: string, entries: readonly T[]): Promise<string[]> {
    this.open()
    const key = this.key(channel)
    const encoded = encodeEntries(entries)
    if (encoded.length === 0) return []
    const max = String(this.maxLength)
    if (encoded.length === 1)
      return [(await this.call(() => this.redis.xadd(key, 'MAXLEN', '~', max, '*', FIELD, encoded[0]!)))!]
    // One round trip for the batch. Not a transaction: if the connection drops midway, a prefix may be appended and
    // the caller's retry appends it again, which the pipeline absorbs (documents are written by event.id).
    return this.call(async () => {
      const pipeline = this.redis.pipeline()
      for (const json of encoded) pipeline.xadd(key, 'MAXLEN', '~', max, '*', FIELD, json)
      const results = await pipeline.exec()
      if (!results) throw new Error('Redis discarded the append pipeline')
      return results.map(([error, id]) => {
        if (error) throw error
        return id as string
      })
    })
  }

  async ensureGroup(channel: string, group: string): Promise<void> {
    this.open()
    const key = this.key(channel)
    validateName('group', group)
    await this.call(async () => {
      try {
        await this.redis.xgroup('CREATE', key, group, '0', 'MKSTREAM')
      } catch (error) {
        if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error
      }
    })
  }

  async read<T>(
    channel: string,
    group: string,
    consumer: string,
    count: number,
    blockMs: number,
  ): Promise<ChannelEntry<T>[]> {
    this.open()
    const key = this.key(channel)
    validateName('group', group)
    validateName('consumer', consumer)
    validateRead(count, blockMs)
    const deadline = performance.now() + blockMs
    const now = await this.readNow<T>(channel, key, group, consumer, count)
    if (now.length > 0 || deadline - performance.now() < 1) return now
    const reader = await this.acquireReader()
    if (!reader) return []
    let healthy = true
    try {
      const waitMs = Math.floor(deadline - performance.now())
      if (waitMs < 1) return []
      healthy = false
      const reply = await this.call(
        () =>
          withTimeout(
            reader.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'BLOCK', waitMs, 'STREAMS', key, '>'),
            waitMs + this.timeoutMs,
          ) as Promise<ReadReply>,
        channel,
        group,
      )
      healthy = true
      return toEntries<T>(channel, reply)
    } catch (error) {
      if (this.closed) return []
      throw error
    } finally {
      this.releaseReader(reader, healthy)
    }
  }

  async acknowledge(channel: string, group: string, ids: readonly string[]): Promise<number> {
    this.open()
    const key = this.key(channel)
    validateName('group', group)
    // An id that is not a stream id cannot be pending; Redis would refuse the whole call for it.
    const valid = ids.filter((id) => typeof id === 'string' && STREAM_ID.test(id))
    if (valid.length === 0) return 0
    return this.call(() => this.redis.xack(key, group, ...valid))
  }

  async claimStale<T>(
    channel: string,
    group: string,
    consumer: string,
    minIdleMs: number,
    count: number,
  ): Promise<ChannelEntry<T>[]> {
    this.open()
    const key = this.key(channel)
    validateName('group', group)
    validateName('consumer', consumer)
    validateClaim(minIdleMs, count)
    const claimed = await this.call(
      () => this.redis.channelsClaim(key, group, consumer, Math.ceil(minIdleMs), count),
      channel,
      group,
    )
    return claimed.map(([id, fields, deliveries]) => ({ id, channel, data: decode<T>(fields), deliveries }))
  }

  async info(channel: string, group: string): Promise<ChannelInfo> {
    this.open()
    const key = this.key(channel)
    validateName('group', group)
    const [length, pending, lastDelivered, lag, firstId] = await this.call(
      () => this.redis.channelsInfo(key, group),
      channel,
      group,
    )
    return { length, pending, lag: await this.lag(key, length, lastDelivered, lag, firstId) }
  }

  async length(channel: string): Promise<number> {
    this.open()
    const key = this.key(channel)
    return await this.call(() => this.redis.xlen(key), channel)
  }

  async ping(): Promise<void> {
    this.open()
    await this.call(() => this.redis.ping())
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const resolve of this.readerQueue.splice(0)) resolve(undefined)
    for (const reader of [...this.idleReaders.splice(0), ...this.busyReaders]) reader.disconnect()
    this.busyReaders.clear()
    if (this.ownsClient) this.redis.disconnect()
  }

  private async readNow<T>(
    channel: string,
    key: string,
    group: string,
    consumer: string,
    count: number,
  ): Promise<ChannelEntry<T>[]> {
    const reply = await this.call(() => this.redis.channelsRead(key, group, consumer, count), channel, group)
    return toEntries<T>(channel, reply)
  }

  /**
   * Entries after the group's position. Redis's own lag also counts entries trimmed before the group saw them, so it
   * is capped at the length (exact: if any unseen entry was trimmed, every entry held is unseen). When Redis cannot
   * tell (entries deleted with XDEL inside the range), they are counted.
   */
  private async lag(key: string, length: number, lastDelivered: string, lag: number, firstId: string): Promise<number> {
    if (length === 0) return 0
    if (compareChannelIds(lastDelivered, firstId) < 0) return length
    if (lag >= 0) return Math.min(lag, length)
    let counted = 0
    let start = `(${lastDelivered}`
    for (;;) {
      const page = (await this.call(() => this.redis.xrange(key, start, '+', 'COUNT', 1000))) as RawEntry[]
      counted += page.length
      if (page.length < 1000) return counted
      start = `(${page.at(-1)![0]}`
    }
  }

  private acquireReader(): Promise<Redis | undefined> {
    const idle = this.idleReaders.pop()
    if (idle) {
      this.busyReaders.add(idle)
      return Promise.resolve(idle)
    }
    if (this.busyReaders.size < this.maxBlockingReads) {
      const reader = this.connectReader()
      this.busyReaders.add(reader)
      return Promise.resolve(reader)
    }
    return new Promise((resolve) => this.readerQueue.push(resolve))
  }

  /** A reader whose command failed or timed out may still be blocked on the server: it is dropped, not reused. */
  private releaseReader(reader: Redis, healthy: boolean): void {
    this.busyReaders.delete(reader)
    if (this.closed) {
      reader.disconnect()
      return
    }
    let next: Redis | undefined = reader
    if (!healthy) {
      reader.disconnect()
      next = this.readerQueue.length > 0 ? this.connectReader() : undefined
    }
    if (!next) return
    const waiting = this.readerQueue.shift()
    if (waiting) {
      this.busyReaders.add(next)
      waiting(next)
    } else this.idleReaders.push(next)
  }

  private connectReader(): Redis {
    const options: RedisOptions = {
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      // Blocking commands outlive any command timeout; read() bounds them itself.
      commandTimeout: undefined,
      blockingTimeout: undefined,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
      connectionName: 'emporium-log-channels-reader',
    }
    const reader = typeof this.source === 'string' ? new Redis(this.source, options) : this.source.duplicate(options)
    reader.on('error', (error: Error) => this.onError(error))
    return reader
  }

  private open(): void {
    if (this.closed) throw new LogChannelsClosed()
  }

  /** Rejects at once while Redis is away; maps connection failures to EngineUnavailable, NOGROUP to ChannelGroupMissing. */
  private async call<T>(fn: () => Promise<T>, channel?: string, group?: string): Promise<T> {
    this.open()
    if (this.ownsClient && DOWN.has(this.redis.status)) throw redisUnavailable(`connection is ${this.redis.status}`)
    try {
      return await fn()
    } catch (error) {
      if (this.closed) throw new LogChannelsClosed()
      if (isEmporiumError(error)) throw error
      if (group !== undefined && error instanceof Error && GROUP_MISSING.test(error.message))
        throw new ChannelGroupMissing(channel ?? '', group)
      if (isRedisConnectionError(error)) throw redisUnavailable(error)
      throw error
    }
  }
}

function toEntries<T>(channel: string, reply: ReadReply): ChannelEntry<T>[] {
  const entries = reply?.[0]?.[1] ?? []
  // Entries deleted while pending come back without fields; a '>' read never returns them, so this is defensive.
  return entries
    .filter(([, fields]) => fields !== null)
    .map(([id, fields]) => ({ id, channel, data: decode<T>(fields!), deliveries: 1 }))
}

/** The entry's JSON field; an entry written by something else (several fields) comes back as an object of them. */
function decode<T>(fields: string[]): T {
  if (fields.length === 2 && fields[0] === FIELD) return JSON.parse(fields[1]!) as T
  const at = fields.indexOf(FIELD)
  if (at >= 0 && at % 2 === 0) return JSON.parse(fields[at + 1]!) as T
  const data: Record<string, string> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) data[fields[i]!] = fields[i + 1]!
  return data as T
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  promise.catch(() => {}) // it may settle after the timeout
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Command timed out after ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

export function openRedisLogChannels(redis: Redis | string, options: RedisLogChannelsOptions): RedisLogChannels {
  return new RedisLogChannels(redis, options)
}
