// The shared machinery of the conformance suites: `<area> › <case>` tests, capabilities recorded as skips with
// their reason, and a check that every skip names a test the suite really has.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

export interface Capabilities {
  skip?: { reason: string; tests: string[] }[]
}

export type CaseBody = () => Promise<void>

export function conformanceAreas(capabilities: Capabilities | undefined) {
  const skipReasons = new Map<string, string>()
  for (const group of capabilities?.skip ?? []) for (const t of group.tests) skipReasons.set(t, group.reason)
  const registered = new Set<string>()

  /** Registers an area's cases; `extraSkip` may give a reason of its own (e.g. a missing second handle). */
  const area = <O>(
    areaName: string,
    body: (test: (caseName: string, fn: CaseBody, opts?: O) => void) => void,
    extraSkip?: (opts: O | undefined) => string | undefined,
  ): void => {
    describe(areaName, () => {
      body((caseName, fn, opts) => {
        const full = `${areaName} › ${caseName}`
        registered.add(full)
        const reason = skipReasons.get(full) ?? extraSkip?.(opts)
        it(caseName, reason ? { skip: reason } : {}, fn)
      })
    })
  }

  /** A misspelt skip would silently skip nothing: fail instead. */
  const describeCapabilityCheck = (): void => {
    describe('capabilities', () => {
      it('every skipped test exists', () => {
        const unknown = [...skipReasons.keys()].filter((name) => !registered.has(name))
        assert.deepEqual(unknown, [], 'capabilities.skip names tests the suite does not have')
      })
    })
  }

  return { area, describeCapabilityCheck }
}
