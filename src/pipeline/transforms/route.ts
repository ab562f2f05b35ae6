// Transform `route`: gives every record its category (the data stream it lands in), classifying those
// that arrive without one.
import { classify } from '../../logging/classify.ts'
import type { ComponentFactory, Transform } from '../component.ts'
import { onlyKeys } from '../config-fields.ts'

export type RouteConfig = Record<string, never>

export const route: ComponentFactory<RouteConfig, Transform> = {
  type: 'route',
  defaults: () => ({}),
  example: {},
  validate(raw, path) {
    onlyKeys(raw, path, ['type'])
    return {}
  },
  create: (): Transform => ({
    type: 'route',
    apply: (records) =>
      records.map((r) => (r.event.category ? r : { ...r, event: { ...r.event, category: classify(r) } })),
  }),
}
