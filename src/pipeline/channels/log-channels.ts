// The LogChannels port: per-category log streams with consumer groups, acknowledgement and redelivery.
// Adapters: memory/ (embedded) and redis/ (Redis Streams). The channel of category c is named `logs:<c>`.
//
// Delivery is at least once: an entry read by a consumer stays pending in its group until acknowledged, and
// claimStale hands the entries of a consumer that stopped (crashed, hung) to another one. Data is stored as JSON,
// so what comes back is what JSON.parse(JSON.stringify(data)) gives (no undefined, Dates become strings).
import type { LogCategory } from '../../logging/ecs.ts'

export interface ChannelEntry<T = unknown> {
  /** Position in the channel, increasing (a Redis stream id such as `1732626000000-0`); see compareChannelIds. */
  id: string
  channel: string
  data: T
  /** How many times this entry has been delivered (1 on first delivery). */
  deliveries: number
}

export interface ChannelInfo {
  /** Entries the channel holds now (after trimming). */
  length: number
  /** Entries delivered to the group and not yet acknowledged. */
  pending: number
  /** Entries the channel holds that were not yet delivered to the group. */
  lag: number
}

export interface LogChannels {
  readonly kind: string
  /** The most entries a channel keeps; older ones are trimmed first. */
  readonly maxLength: number
  /**
   * How many entries above maxLength a channel may hold after an append (0 = exact trimming). Redis trims with
   * `MAXLEN ~`, which drops whole stream nodes only, so it may keep up to one node's worth more.
   */
  readonly trimSlack: number
  /**
   * Appends in order; returns the ids. Every entry is encoded before anything is written, so data that is not
   * JSON-serialisable rejects the whole batch. Trims the channel to maxLength (+ trimSlack), oldest first, even
   * entries still pending in a group: a channel is bounded, it is not a backlog without end.
   */
  append<T>(channel: string, entries: readonly T[]): Promise<string[]>
  /** Creates the consumer group if needed (reading from the start of the channel, creating the channel); idempotent. */
  ensureGroup(channel: string, group: string): Promise<void>
  /**
   * New entries for this consumer, at most `count`, waiting up to blockMs when there are none (0: do not wait).
   * Resolves [] when the wait ends empty, or when close() ends it. Rejects with ChannelGroupMissing if the group was
   * never ensured.
   */
  read<T>(channel: string, group: string, consumer: string, count: number, blockMs: number): Promise<ChannelEntry<T>[]>
  /** Removes entries from the group's pending list; returns how many were pending (unknown or repeated ids count 0). */
  acknowledge(channel: string, group: string, ids: readonly string[]): Promise<number>
  /**
   * Takes over entries another consumer has held unacknowledged for at least minIdleMs (a dead consumer's work), in id
   * order, at most `count`; each comes back with deliveries incremented and its idle time restarted. Pending entries
   * that were trimmed from the channel meanwhile are dropped from the pending list instead.
   */
  claimStale<T>(
    channel: string,
    group: string,
    consumer: string,
    minIdleMs: number,
    count: number,
  ): Promise<ChannelEntry<T>[]>
  /** Exact counts for one group; rejects with ChannelGroupMissing if the group was never ensured. */
  info(channel: string, group: string): Promise<ChannelInfo>
  /** Entries the channel holds now, with or without groups (0 for a channel never appended to). */
  length(channel: string): Promise<number>
  ping(): Promise<void>
  /** Ends blocked reads (they resolve []); safe to call twice. Every call after close rejects with LogChannelsClosed. */
  close(): Promise<void>
}

/** The channel that carries the records of one category. */
export const channelOf = (category: LogCategory): string => `logs:${category}`

export class LogChannelsClosed extends Error {
  constructor() {
    super('the log channels are closed')
    this.name = 'LogChannelsClosed'
  }
}

export class ChannelGroupMissing extends Error {
  constructor(channel: string, group: string) {
    super(`channel ${channel} has no consumer group ${group}; call ensureGroup first`)
    this.name = 'ChannelGroupMissing'
  }
}

/** Orders two entry ids (`<milliseconds>-<sequence>`): negative, 0 or positive. */
export function compareChannelIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-')
  const [bm = '0', bs = '0'] = b.split('-')
  const ms = BigInt(am) - BigInt(bm)
  if (ms !== 0n) return ms < 0n ? -1 : 1
  const seq = BigInt(as) - BigInt(bs)
  return seq === 0n ? 0 : seq < 0n ? -1 : 1
}

const NAME = /^[A-Za-z0-9_.:-]{1,200}$/

export function validateName(what: 'channel' | 'group' | 'consumer', name: string): void {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new RangeError(`${what} name ${JSON.stringify(name)} must be 1-200 characters of [A-Za-z0-9_.:-]`)
}

export function validateMaxLength(maxLength: number): void {
  if (!Number.isInteger(maxLength) || maxLength < 1)
    throw new RangeError(`maxLength must be an integer ≥ 1 (got ${maxLength})`)
}

export function validateRead(count: number, blockMs: number): void {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be an integer ≥ 1 (got ${count})`)
  if (!Number.isFinite(blockMs) || blockMs < 0) throw new RangeError(`blockMs must be ≥ 0 (got ${blockMs})`)
}

export function validateClaim(minIdleMs: number, count: number): void {
  if (!Number.isFinite(minIdleMs) || minIdleMs < 0) throw new RangeError(`minIdleMs must be ≥ 0 (got ${minIdleMs})`)
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be an integer ≥ 1 (got ${count})`)
}

/** Encodes a whole batch before anything is written, so one bad entry leaves the channel untouched. */
export function encodeEntries(entries: readonly unknown[]): string[] {
  return entries.map((entry, i) => {
    let json: string | undefined
    try {
      json = JSON.stringify(entry)
    } catch (error) {
      throw new TypeError(`entry ${i} is not JSON-serialisable: ${(error as Error).message}`)
    }
    if (json === undefined) throw new TypeError(`entry ${i} is not JSON-serialisable (${typeof entry})`)
    return json
  })
}
