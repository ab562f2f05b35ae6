// Transform `parse-user-agent`: fills user_agent.name/version/os/device from user_agent.original.
import { UAParser } from 'ua-parser-js'
import type { EcsRecord } from '../../logging/ecs.ts'
import type { ComponentFactory, Transform } from '../component.ts'
import { intField, onlyKeys } from '../config-fields.ts'

export interface ParseUserAgentConfig {
  /** Distinct user agents remembered; parsing is the costly part and agents repeat a lot. */
  cacheSize: number
}

export const parseUserAgent: ComponentFactory<ParseUserAgentConfig, Transform> = {
  type: 'parse-user-agent',
  defaults: () => ({ cacheSize: 1000 }),
  example: { cacheSize: 1000 },
  validate(raw, path) {
    onlyKeys(raw, path, ['type', 'cacheSize'])
    return { cacheSize: intField(raw, 'cacheSize', path, this.defaults().cacheSize, 0, 1_000_000) }
  },
  create(config): Transform {
    const cache = new Map<string, NonNullable<EcsRecord['user_agent']>>()
    const parse = (original: string) => {
      const hit = cache.get(original)
      if (hit) return hit
      const ua = new UAParser(original.slice(0, 512)).getResult()
      const parsed = {
        original,
        ...(ua.browser.name ? { name: ua.browser.name } : {}),
        ...(ua.browser.version ? { version: ua.browser.version } : {}),
        ...(ua.os.name ? { os: { name: ua.os.name } } : {}),
        device: { name: ua.device.model ?? (ua.device.type ? ua.device.type : 'Other') },
      }
      if (config.cacheSize > 0) {
        if (cache.size >= config.cacheSize) cache.delete(cache.keys().next().value as string)
        cache.set(original, parsed)
      }
      return parsed
    }
    return {
      type: 'parse-user-agent',
      apply: (records) =>
        records.map((r) => (r.user_agent?.original ? { ...r, user_agent: parse(r.user_agent.original) } : r)),
    }
  },
}
