// Sink `log-index`: writes batches to the LogIndex port (SQLite FTS5 or Elasticsearch/OpenSearch data streams).
// Duplicates by event.id count as delivered; refusals come back to be dead-lettered; 429/5xx are retried.
import type { ComponentFactory, Sink } from '../component.ts'
import { onlyKeys } from '../config-fields.ts'

export type LogIndexSinkConfig = Record<string, never>

export const logIndexSink: ComponentFactory<LogIndexSinkConfig, Sink> = {
  type: 'log-index',
  defaults: () => ({}),
  example: {},
  validate(raw, path) {
    onlyKeys(raw, path, ['type'])
    return {}
  },
  create(_config, ctx): Sink {
    const index = ctx.resources.logIndex
    return {
      type: 'log-index',
      async write(records) {
        const result = await index.index(records)
        const byId = new Map(records.map((r) => [r.event.id, r]))
        return {
          rejected: result.rejected.flatMap(({ eventId, reason }) => {
            const record = byId.get(eventId)
            return record ? [{ record, reason }] : []
          }),
        }
      },
      async shutdown() {},
    }
  },
}
