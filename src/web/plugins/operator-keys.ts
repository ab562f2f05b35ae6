// Refuses JSON bodies with keys a document store could read as operators or paths (`$where`, `a.b`,
// `__proto__`). It runs after schema validation (which names the field for a typed one) and catches the
// free-form maps a schema allows, such as variant options, before any handler or driver sees them.
import { ValidationFailed } from '../../core/errors.ts'

const FORBIDDEN = /^\$|\.|^__proto__$|^constructor$|^prototype$/

/** The first forbidden key: its full path, and the field that holds it (`email` for {"email": {"$gt": ""}}). */
export function findOperatorKey(value: unknown, path = ''): { key: string; field: string } | null {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findOperatorKey(item, `${path}${path ? '.' : ''}${i}`)
      if (found) return found
    }
    return null
  }
  if (value === null || typeof value !== 'object') return null
  for (const key of Object.keys(value)) {
    const here = `${path}${path ? '.' : ''}${key}`
    if (FORBIDDEN.test(key)) return { key: here, field: path || key }
    const found = findOperatorKey((value as Record<string, unknown>)[key], here)
    if (found) return found
  }
  return null
}

export function assertNoOperatorKeys(body: unknown): void {
  const found = findOperatorKey(body)
  if (!found) return
  throw new ValidationFailed('Field names may not start with $ or contain a dot').withFields({
    [found.key]: 'This field name is not allowed',
  })
}
