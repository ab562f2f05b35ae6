// Transform `drop`: drops records below a level, and samples chosen categories deterministically by event.id
// (so a redelivered record gets the same verdict).
import { createHash } from 'node:crypto'
import { type EcsRecord, LOG_CATEGORIES, type LogLevel } from '../../logging/ecs.ts'
import { type ComponentFactory, PipelineConfigError, type Transform } from '../component.ts'
import { onlyKeys, stringField } from '../config-fields.ts'

export interface DropConfig {
  minLevel: LogLevel
  /** category → share kept, 0..1 */
  sample: Record<string, number>
}

const ORDER: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']

const keepShare = (eventId: string): number => createHash('sha1').update(eventId).digest().readUInt32BE(0) / 0xffffffff

export const drop: ComponentFactory<DropConfig, Transform> = {
  type: 'drop',
  defaults: () => ({ minLevel: 'trace', sample: {} }),
  example: { minLevel: 'debug', sample: { access: 1 } },
  validate(raw, path) {
    onlyKeys(raw, path, ['type', 'minLevel', 'sample'])
    const minLevel = stringField(raw, 'minLevel', path, 'trace', /^(trace|debug|info|warn|error|fatal)$/) as LogLevel
    const sample: Record<string, number> = {}
    const rawSample = raw.sample ?? {}
    if (typeof rawSample !== 'object' || rawSample === null)
      throw new PipelineConfigError(`${path}.sample`, 'expected an object')
    for (const [k, v] of Object.entries(rawSample)) {
      if (!(LOG_CATEGORIES as readonly string[]).includes(k))
        throw new PipelineConfigError(`${path}.sample.${k}`, 'unknown category')
      if (typeof v !== 'number' || v < 0 || v > 1)
        throw new PipelineConfigError(`${path}.sample.${k}`, 'expected a share from 0 to 1')
      sample[k] = v
    }
    return { minLevel, sample }
  },
  create(config): Transform {
    const min = ORDER.indexOf(config.minLevel)
    const kept = (r: EcsRecord) => {
      if (ORDER.indexOf(r.log.level) < min) return false
      const share = r.event.category ? config.sample[r.event.category] : undefined
      return share === undefined || keepShare(r.event.id) < share
    }
    return { type: 'drop', apply: (records) => records.filter(kept) }
  },
}
