// Transform `normalize`: makes every record well-formed ECS: an ISO @timestamp, a lower-case known level,
// a service name and a bounded message, so the index never refuses a record for its shape.
import type { EcsRecord, LogLevel } from '../../logging/ecs.ts'
import type { ComponentFactory, Transform } from '../component.ts'
import { intField, onlyKeys, stringField } from '../config-fields.ts'

export interface NormalizeConfig {
  service: string
  maxMessageLength: number
}

const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']

export function normalizeRecord(r: EcsRecord, config: NormalizeConfig): EcsRecord {
  const ts = Date.parse(String(r['@timestamp'] ?? ''))
  const level = String(r.log?.level ?? 'info').toLowerCase() as LogLevel
  const message = typeof r.message === 'string' ? r.message : String(r.message ?? '')
  return {
    ...r,
    '@timestamp': Number.isNaN(ts) ? new Date().toISOString() : new Date(ts).toISOString(),
    message: message.length > config.maxMessageLength ? `${message.slice(0, config.maxMessageLength)}…` : message,
    log: { ...r.log, level: LEVELS.includes(level) ? level : 'info' },
    service: { ...r.service, name: r.service?.name || config.service },
  }
}

export const normalize: ComponentFactory<NormalizeConfig, Transform> = {
  type: 'normalize',
  defaults: () => ({ service: 'emporium', maxMessageLength: 8192 }),
  example: { service: 'emporium' },
  validate(raw, path) {
    const d = this.defaults()
    onlyKeys(raw, path, ['type', 'service', 'maxMessageLength'])
    return {
      service: stringField(raw, 'service', path, d.service, /^[A-Za-z0-9_.-]{1,64}$/),
      maxMessageLength: intField(raw, 'maxMessageLength', path, d.maxMessageLength, 64, 1_000_000),
    }
  },
  create: (config) => ({ type: 'normalize', apply: (records) => records.map((r) => normalizeRecord(r, config)) }),
}
