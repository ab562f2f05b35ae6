// Sink `dead-letter`: keeps records that were refused for good, with the reason, in the `logs:dead-letter`
// channel, where operators can inspect and replay them.
import type { ComponentFactory, Sink } from '../component.ts'
import { onlyKeys, stringField } from '../config-fields.ts'

export interface DeadLetterConfig {
  channel: string
}

export const DEAD_LETTER_CHANNEL = 'logs:dead-letter'

export const deadLetterSink: ComponentFactory<DeadLetterConfig, Sink> = {
  type: 'dead-letter',
  defaults: () => ({ channel: DEAD_LETTER_CHANNEL }),
  example: { channel: DEAD_LETTER_CHANNEL },
  validate(raw, path) {
    onlyKeys(raw, path, ['type', 'channel'])
    return { channel: stringField(raw, 'channel', path, DEAD_LETTER_CHANNEL, /^[A-Za-z0-9:_.-]{1,64}$/) }
  },
  create(config, ctx): Sink {
    return {
      type: 'dead-letter',
      async write(records) {
        if (records.length) await ctx.resources.channels.append(config.channel, records)
        return { rejected: [] }
      },
      async shutdown() {},
    }
  },
}
