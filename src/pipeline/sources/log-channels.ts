// Source `redis-streams` / `memory`: reads the per-category channels through the LogChannels port as one
// consumer of a group, reclaims entries a dead consumer left pending, and acknowledges only on request.
import { createHash } from 'node:crypto'
import { hostname } from 'node:os'
import { type EcsRecord, LOG_CATEGORIES } from '../../logging/ecs.ts'
import type { ChannelEntry } from '../channels/log-channels.ts'
import type { ComponentContext, ComponentFactory, Source, SourceBatch } from '../component.ts'
import { intField, onlyKeys, stringField, stringList } from '../config-fields.ts'

export interface LogChannelsSourceConfig {
  categories: string[]
  group: string
  consumer: string
  /** Entries unacknowledged this long belong to a dead consumer and are taken over. */
  claimIdleMs: number
  claimEveryMs: number
}

/** A stable id for a record that arrived without event.id, so a redelivery still deduplicates. */
const idFromEntry = (channel: string, entryId: string): string => {
  const h = createHash('sha256').update(`${channel}/${entryId}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export function logChannelsSourceFactory(
  type: 'redis-streams' | 'memory',
): ComponentFactory<LogChannelsSourceConfig, Source> {
  return {
    type,
    defaults: () => ({
      categories: [...LOG_CATEGORIES],
      group: 'pipeline',
      consumer: `${hostname()}-${process.pid}`,
      claimIdleMs: 30_000,
      claimEveryMs: 5_000,
    }),
    example: { categories: ['access', 'app', 'audit', 'security', 'business', 'error'], group: 'pipeline' },
    validate(raw, path) {
      const d = this.defaults()
      onlyKeys(raw, path, ['type', 'categories', 'group', 'consumer', 'claimIdleMs', 'claimEveryMs'])
      return {
        categories: stringList(raw, 'categories', path, d.categories, LOG_CATEGORIES),
        group: stringField(raw, 'group', path, d.group, /^[A-Za-z0-9_.-]{1,64}$/),
        consumer: stringField(raw, 'consumer', path, d.consumer, /^[A-Za-z0-9_.-]{1,128}$/),
        claimIdleMs: intField(raw, 'claimIdleMs', path, d.claimIdleMs, 1000, 3_600_000),
        claimEveryMs: intField(raw, 'claimEveryMs', path, d.claimEveryMs, 100, 3_600_000),
      }
    },
    async create(config, ctx: ComponentContext): Promise<Source> {
      const { channels } = ctx.resources
      const names = config.categories.map((c) => `logs:${c}`)
      for (const name of names) await channels.ensureGroup(name, config.group)
      let turn = 0
      let lastClaim = 0
      let closed = false

      const toBatch = (entries: ChannelEntry<EcsRecord>[]): SourceBatch => {
        const byChannel = new Map<string, string[]>()
        let bytes = 0
        const records = entries.map((e) => {
          const list = byChannel.get(e.channel) ?? []
          list.push(e.id)
          byChannel.set(e.channel, list)
          const r = e.data
          // An estimate that costs nothing: bounds in-flight memory without serializing twice.
          bytes += 1024
          return r.event?.id ? r : { ...r, event: { ...r.event, id: idFromEntry(e.channel, e.id) } }
        })
        return { records, token: byChannel, bytes }
      }

      return {
        type,
        async next(maxRecords, maxWaitMs) {
          if (closed) return null
          const now = Date.now()
          if (now - lastClaim >= config.claimEveryMs) {
            lastClaim = now
            const claimed: ChannelEntry<EcsRecord>[] = []
            for (const name of names) {
              claimed.push(
                ...(await channels.claimStale<EcsRecord>(
                  name,
                  config.group,
                  config.consumer,
                  config.claimIdleMs,
                  maxRecords - claimed.length,
                )),
              )
              if (claimed.length >= maxRecords) break
            }
            if (claimed.length > 0) {
              ctx.log('info', 'took over entries a dead consumer left pending', { count: claimed.length })
              return toBatch(claimed)
            }
          }
          const got: ChannelEntry<EcsRecord>[] = []
          for (let i = 0; i < names.length && got.length < maxRecords; i++) {
            const name = names[(turn + i) % names.length] as string
            got.push(
              ...(await channels.read<EcsRecord>(name, config.group, config.consumer, maxRecords - got.length, 1)),
            )
          }
          turn = (turn + 1) % names.length
          if (got.length === 0) {
            // Nothing anywhere: wait on one channel (a different one each time) for a short while.
            const name = names[turn] as string
            got.push(
              ...(await channels.read<EcsRecord>(
                name,
                config.group,
                config.consumer,
                maxRecords,
                Math.min(maxWaitMs, 100),
              )),
            )
          }
          return got.length ? toBatch(got) : null
        },
        async ack(batch) {
          for (const [name, ids] of batch.token as Map<string, string[]>)
            await channels.acknowledge(name, config.group, ids)
        },
        async backlog() {
          const out: Record<string, { lag: number; pending: number; length: number }> = {}
          for (const name of names) out[name] = await channels.info(name, config.group)
          return out
        },
        async shutdown() {
          closed = true
        },
      }
    },
  }
}
