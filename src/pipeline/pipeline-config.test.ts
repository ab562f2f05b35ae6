import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { PipelineConfigError } from './component.ts'
import { parsePipelineConfig, SINKS, SOURCES, TRANSFORMS } from './pipeline-config.ts'

describe('pipeline config', () => {
  it('parses the shipped example', () => {
    const c = parsePipelineConfig(JSON.parse(readFileSync('deploy/pipeline.example.json', 'utf8')))
    assert.equal(c.source.type, 'redis-streams')
    assert.deepEqual(
      c.transforms.map((t) => t.type),
      ['normalize', 'redact', 'parse-user-agent', 'drop', 'route'],
    )
    assert.deepEqual(
      c.sinks.map((s) => [s.name, s.type]),
      [['index', 'log-index']],
    )
    assert.equal(c.runner.maxBatchRecords, 1000)
  })

  it('fills defaults for an empty file', () => {
    const c = parsePipelineConfig({})
    assert.equal(c.source.type, 'redis-streams')
    assert.equal(c.deadLetter.type, 'dead-letter')
    assert.ok(c.runner.maxInFlightBatches > 0)
  })

  it("parses every component's example config", () => {
    for (const [registry, path] of [
      [SOURCES, 'source'],
      [TRANSFORMS, 'transforms.0'],
      [SINKS, 'sinks.x'],
    ] as const)
      for (const [type, f] of Object.entries(registry))
        assert.doesNotThrow(() => f.validate({ type, ...f.example }, path), type)
  })

  const bad: [unknown, RegExp][] = [
    [{ source: { type: 'kafka' } }, /^source\.type: unknown type "kafka"/],
    [
      { transforms: [{ type: 'normalize', maxMessageLength: 'big' }] },
      /^transforms\.0\.maxMessageLength: expected a whole number/,
    ],
    [{ transforms: [{ type: 'drop', sample: { nope: 1 } }] }, /^transforms\.0\.sample\.nope: unknown category/],
    [{ sinks: {} }, /^sinks: expected at least one named sink/],
    [{ sinks: { index: { type: 'log-index', typo: 1 } } }, /^sinks\.index\.typo: unknown setting/],
    [{ batch: { maxRecords: 0 } }, /^batch\.maxRecords: expected a whole number from 1/],
    [{ sourc: {} }, /^\(root\)\.sourc: unknown setting/],
    [
      { source: { type: 'redis-streams', categories: ['access', 'bogus'] } },
      /^source\.categories: unknown value bogus/,
    ],
  ]
  for (const [raw, message] of bad) {
    it(`refuses ${JSON.stringify(raw)} naming the path`, () => {
      assert.throws(
        () => parsePipelineConfig(raw),
        (e: unknown) => e instanceof PipelineConfigError && message.test(e.message),
      )
    })
  }
})
