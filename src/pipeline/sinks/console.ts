// Sink `console`: NDJSON on stdout, for development and for piping into another tool.
import type { ComponentFactory, Sink } from '../component.ts'
import { onlyKeys } from '../config-fields.ts'

export type ConsoleSinkConfig = Record<string, never>

export const consoleSink: ComponentFactory<ConsoleSinkConfig, Sink> = {
  type: 'console',
  defaults: () => ({}),
  example: {},
  validate(raw, path) {
    onlyKeys(raw, path, ['type'])
    return {}
  },
  create(): Sink {
    return {
      type: 'console',
      async write(records) {
        const text = records.map((r) => JSON.stringify(r)).join('\n')
        if (!process.stdout.write(`${text}\n`)) await new Promise((r) => process.stdout.once('drain', r))
        return { rejected: [] }
      },
      async shutdown() {},
    }
  },
}
