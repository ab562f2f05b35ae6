// The LogChannels port: per-category log streams with consumer groups, acknowledgement and redelivery.
// Adapters: memory/ (embedded) and redis/ (Redis Streams). The channel of category c is named `logs:<c>`.

export interface ChannelEntry<T = unknown> {
  /** Position in the channel, increasing (a Redis stream id such as `1732626000000-0`). */
  id: string
  channel: string
  data: T
  /** How many times this entry has been delivered (1 on first delivery). */
  deliveries: number
}

export interface ChannelInfo {
  length: number
  /** Entries delivered to the group and not yet acknowledged. */
  pending: number
  /** Entries not yet delivered to the group. */
  lag: number
}

export interface LogChannels {
  readonly kind: string
  /** Appends in order; returns the ids. The channel keeps at most maxLength entries (oldest trimmed first). */
  append<T>(channel: string, entries: readonly T[]): Promise<string[]>
  /** Creates the consumer group if needed (reading from the start of the channel); idempotent. */
  ensureGroup(channel: string, group: string): Promise<void>
  /** New entries for this consumer, at most `count`, waiting up to blockMs when there are none. */
  read<T>(channel: string, group: string, consumer: string, count: number, blockMs: number): Promise<ChannelEntry<T>[]>
  acknowledge(channel: string, group: string, ids: readonly string[]): Promise<number>
  /** Takes over entries another consumer has held unacknowledged for at least minIdleMs (a dead consumer's work). */
  claimStale<T>(
    channel: string,
    group: string,
    consumer: string,
    minIdleMs: number,
    count: number,
  ): Promise<ChannelEntry<T>[]>
  info(channel: string, group: string): Promise<ChannelInfo>
  ping(): Promise<void>
  close(): Promise<void>
}
