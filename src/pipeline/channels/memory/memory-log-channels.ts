// The embedded LogChannels: bounded per-channel logs in process memory, with consumer groups, pending lists and
// blocking reads that wait on a list of waiters (woken by append or by their timer, never by polling).
import {
  type ChannelEntry,
  ChannelGroupMissing,
  type ChannelInfo,
  encodeEntries,
  type LogChannels,
  LogChannelsClosed,
  validateClaim,
  validateMaxLength,
  validateName,
  validateRead,
} from '../log-channels.ts'

export interface MemoryLogChannelsOptions {
  /** The most entries a channel keeps; trimming is exact. */
  maxLength: number
}

interface Stored {
  /** 1-based ordinal of the entry in its channel: the channel's entries are n = first … added. */
  n: number
  id: string
  json: string
}

interface Pending {
  entry: Stored
  consumer: string
  deliveredAt: number
  deliveries: number
}

interface Group {
  /** Ordinal of the last entry delivered to the group (0: none yet). */
  delivered: number
  /** In id order, as Redis keeps its pending entries list: claims change the owner, never the position. */
  pending: Map<string, Pending>
}

interface Waiter {
  group: string
  consumer: string
  count: number
  timer: NodeJS.Timeout
  resolve: (entries: ChannelEntry[]) => void
}

interface Channel {
  name: string
  /** entries[head…] are held; slots before head were trimmed and are released for compaction. */
  entries: (Stored | undefined)[]
  head: number
  added: number
  lastMs: number
  lastSeq: number
  groups: Map<string, Group>
  waiters: Waiter[]
}

export class MemoryLogChannels implements LogChannels {
  readonly kind = 'memory'
  readonly maxLength: number
  readonly trimSlack = 0
  private readonly channels = new Map<string, Channel>()
  private closed = false

  constructor(options: MemoryLogChannelsOptions) {
    validateMaxLength(options.maxLength)
    this.maxLength = options.maxLength
  }

  async append<T>(channel: string, entries: readonly T[]): Promise<string[]> {
    this.open()
    validateName('channel', channel)
    const encoded = encodeEntries(entries)
    if (encoded.length === 0) return []
    const c = this.channel(channel)
    const ids = encoded.map((json) => {
      const id = nextId(c)
      c.entries.push({ n: ++c.added, id, json })
      return id
    })
    this.trim(c)
    this.wake(c)
    return ids
  }

  async ensureGroup(channel: string, group: string): Promise<void> {
    this.open()
    validateName('channel', channel)
    validateName('group', group)
    const c = this.channel(channel)
    if (!c.groups.has(group)) c.groups.set(group, { delivered: 0, pending: new Map() })
  }

  async read<T>(
    channel: string,
    group: string,
    consumer: string,
    count: number,
    blockMs: number,
  ): Promise<ChannelEntry<T>[]> {
    this.open()
    validateName('consumer', consumer)
    validateRead(count, blockMs)
    const c = this.existingGroup(channel, group).channel
    const now = this.deliver(c, group, consumer, count)
    if (now.length > 0 || blockMs === 0) return now as ChannelEntry<T>[]
    return new Promise<ChannelEntry<T>[]>((resolve) => {
      const waiter: Waiter = {
        group,
        consumer,
        count,
        resolve: resolve as (entries: ChannelEntry[]) => void,
        timer: setTimeout(() => {
          const at = c.waiters.indexOf(waiter)
          if (at >= 0) c.waiters.splice(at, 1)
          resolve([])
        }, blockMs),
      }
      c.waiters.push(waiter)
    })
  }

  async acknowledge(channel: string, group: string, ids: readonly string[]): Promise<number> {
    this.open()
    validateName('channel', channel)
    validateName('group', group)
    const g = this.channels.get(channel)?.groups.get(group)
    if (!g) return 0
    let removed = 0
    for (const id of ids) if (g.pending.delete(id)) removed++
    return removed
  }

  async claimStale<T>(
    channel: string,
    group: string,
    consumer: string,
    minIdleMs: number,
    count: number,
  ): Promise<ChannelEntry<T>[]> {
    this.open()
    validateName('consumer', consumer)
    validateClaim(minIdleMs, count)
    const { channel: c, group: g } = this.existingGroup(channel, group)
    const now = Date.now()
    const first = firstOrdinal(c)
    const claimed: ChannelEntry<T>[] = []
    for (const [id, p] of g.pending) {
      if (claimed.length >= count) break
      if (now - p.deliveredAt < minIdleMs) continue
      if (p.entry.n < first) {
        g.pending.delete(id)
        continue
      }
      p.consumer = consumer
      p.deliveredAt = now
      p.deliveries++
      claimed.push(toEntry(c, p.entry, p.deliveries) as ChannelEntry<T>)
    }
    return claimed
  }

  async info(channel: string, group: string): Promise<ChannelInfo> {
    this.open()
    const { channel: c, group: g } = this.existingGroup(channel, group)
    const length = c.entries.length - c.head
    return { length, pending: g.pending.size, lag: c.added - Math.max(g.delivered, firstOrdinal(c) - 1) }
  }

  async length(channel: string): Promise<number> {
    this.open()
    validateName('channel', channel)
    const c = this.channels.get(channel)
    return c ? c.entries.length - c.head : 0
  }

  async ping(): Promise<void> {
    this.open()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const c of this.channels.values()) {
      for (const w of c.waiters.splice(0)) {
        clearTimeout(w.timer)
        w.resolve([])
      }
    }
  }

  private open(): void {
    if (this.closed) throw new LogChannelsClosed()
  }

  private channel(name: string): Channel {
    let c = this.channels.get(name)
    if (!c) {
      c = { name, entries: [], head: 0, added: 0, lastMs: 0, lastSeq: 0, groups: new Map(), waiters: [] }
      this.channels.set(name, c)
    }
    return c
  }

  private existingGroup(channel: string, group: string): { channel: Channel; group: Group } {
    validateName('channel', channel)
    validateName('group', group)
    const c = this.channels.get(channel)
    const g = c?.groups.get(group)
    if (!c || !g) throw new ChannelGroupMissing(channel, group)
    return { channel: c, group: g }
  }

  private deliver(c: Channel, group: string, consumer: string, count: number): ChannelEntry[] {
    const g = c.groups.get(group)!
    const first = firstOrdinal(c)
    const from = Math.max(g.delivered + 1, first)
    const to = Math.min(c.added, from + count - 1)
    const now = Date.now()
    const out: ChannelEntry[] = []
    for (let n = from; n <= to; n++) {
      const entry = c.entries[c.head + (n - first)]!
      g.pending.set(entry.id, { entry, consumer, deliveredAt: now, deliveries: 1 })
      out.push(toEntry(c, entry, 1))
    }
    if (to >= from) g.delivered = to
    return out
  }

  /** Serves blocked readers first come, first served, as Redis does. */
  private wake(c: Channel): void {
    for (const w of [...c.waiters]) {
      const got = this.deliver(c, w.group, w.consumer, w.count)
      if (got.length === 0) continue
      clearTimeout(w.timer)
      c.waiters.splice(c.waiters.indexOf(w), 1)
      w.resolve(got)
    }
  }

  private trim(c: Channel): void {
    const excess = c.entries.length - c.head - this.maxLength
    if (excess <= 0) return
    c.entries.fill(undefined, c.head, c.head + excess)
    c.head += excess
    if (c.head > 1024 && c.head * 2 > c.entries.length) {
      c.entries = c.entries.slice(c.head)
      c.head = 0
    }
  }
}

const firstOrdinal = (c: Channel): number => c.added - (c.entries.length - c.head) + 1

const toEntry = (c: Channel, entry: Stored, deliveries: number): ChannelEntry => ({
  id: entry.id,
  channel: c.name,
  data: JSON.parse(entry.json),
  deliveries,
})

/** Redis-shaped ids (`<ms>-<seq>`), increasing even when the clock stands still or steps back. */
function nextId(c: Channel): string {
  const ms = Date.now()
  if (ms > c.lastMs) {
    c.lastMs = ms
    c.lastSeq = 0
  } else c.lastSeq++
  return `${c.lastMs}-${c.lastSeq}`
}

export function openMemoryLogChannels(options: MemoryLogChannelsOptions): MemoryLogChannels {
  return new MemoryLogChannels(options)
}
