// The pipeline's topology file: which source, which transforms in order, which sinks; validated with the
// path of every mistake, with defaults for everything left out.
import type { ComponentContext, ComponentFactory, Sink, Source, Transform } from './component.ts'
import { PipelineConfigError } from './component.ts'
import { intField, onlyKeys } from './config-fields.ts'
import { consoleSink } from './sinks/console.ts'
import { deadLetterSink } from './sinks/dead-letter.ts'
import { logIndexSink } from './sinks/log-index.ts'
import { logChannelsSourceFactory } from './sources/log-channels.ts'
import { defaultRunnerOptions, type NamedSink, PipelineRunner, type RunnerOptions } from './topology.ts'
import { drop } from './transforms/drop.ts'
import { normalize } from './transforms/normalize.ts'
import { parseUserAgent } from './transforms/parse-user-agent.ts'
import { redact } from './transforms/redact.ts'
import { route } from './transforms/route.ts'

// biome-ignore lint/suspicious/noExplicitAny: the registry holds factories of different config types
type AnyFactory<T> = ComponentFactory<any, T>

export const SOURCES: Record<string, AnyFactory<Source>> = {
  'redis-streams': logChannelsSourceFactory('redis-streams'),
  memory: logChannelsSourceFactory('memory'),
}
export const TRANSFORMS: Record<string, AnyFactory<Transform>> = {
  normalize,
  'parse-user-agent': parseUserAgent,
  drop,
  redact,
  route,
}
export const SINKS: Record<string, AnyFactory<Sink>> = {
  'log-index': logIndexSink,
  'dead-letter': deadLetterSink,
  console: consoleSink,
}

export interface PipelineConfig {
  source: { type: string; config: unknown }
  transforms: { type: string; config: unknown }[]
  sinks: { name: string; type: string; config: unknown }[]
  deadLetter: { type: string; config: unknown }
  runner: RunnerOptions
}

type Raw = Record<string, unknown>
const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v)

function component<T>(registry: Record<string, AnyFactory<T>>, raw: unknown, path: string) {
  if (!isObject(raw)) throw new PipelineConfigError(path, 'expected an object with a type')
  const type = raw.type
  if (typeof type !== 'string' || !registry[type])
    throw new PipelineConfigError(
      `${path}.type`,
      `unknown type ${JSON.stringify(type)}; one of ${Object.keys(registry).join(', ')}`,
    )
  const factory = registry[type] as AnyFactory<T>
  return { type, config: factory.validate(raw, path) }
}

export function parsePipelineConfig(raw: unknown): PipelineConfig {
  const root = raw ?? {}
  if (!isObject(root)) throw new PipelineConfigError('(root)', 'expected an object')
  onlyKeys(root, '(root)', [
    '$comment',
    'source',
    'transforms',
    'sinks',
    'deadLetter',
    'batch',
    'inFlight',
    'retry',
    'metrics',
  ])
  const transforms = root.transforms ?? [
    { type: 'normalize' },
    { type: 'redact' },
    { type: 'parse-user-agent' },
    { type: 'route' },
  ]
  if (!Array.isArray(transforms)) throw new PipelineConfigError('transforms', 'expected a list')
  const sinks = root.sinks ?? { index: { type: 'log-index' } }
  if (!isObject(sinks) || Object.keys(sinks).length === 0)
    throw new PipelineConfigError('sinks', 'expected at least one named sink')
  const d = defaultRunnerOptions()
  const batch = isObject(root.batch) ? root.batch : {}
  const inFlight = isObject(root.inFlight) ? root.inFlight : {}
  const retry = isObject(root.retry) ? root.retry : {}
  const metrics = isObject(root.metrics) ? root.metrics : {}
  onlyKeys(metrics, 'metrics', ['logEveryMs'])
  onlyKeys(batch, 'batch', ['maxRecords', 'maxWaitMs'])
  onlyKeys(inFlight, 'inFlight', ['maxBatches', 'maxBytes', 'perSink'])
  onlyKeys(retry, 'retry', ['baseMs', 'maxMs'])
  return {
    source: component(SOURCES, root.source ?? { type: 'redis-streams' }, 'source'),
    transforms: transforms.map((t, i) => component(TRANSFORMS, t, `transforms.${i}`)),
    sinks: Object.entries(sinks).map(([name, s]) => {
      if (!/^[A-Za-z0-9_-]{1,40}$/.test(name))
        throw new PipelineConfigError(`sinks.${name}`, 'sink names are letters, digits, _ or -')
      return { name, ...component(SINKS, s, `sinks.${name}`) }
    }),
    deadLetter: component(SINKS, root.deadLetter ?? { type: 'dead-letter' }, 'deadLetter'),
    runner: {
      maxBatchRecords: intField(batch, 'maxRecords', 'batch', d.maxBatchRecords, 1, 100_000),
      maxBatchWaitMs: intField(batch, 'maxWaitMs', 'batch', d.maxBatchWaitMs, 1, 60_000),
      maxInFlightBatches: intField(inFlight, 'maxBatches', 'inFlight', d.maxInFlightBatches, 1, 1000),
      maxInFlightBytes: intField(inFlight, 'maxBytes', 'inFlight', d.maxInFlightBytes, 1024, 4 * 1024 ** 3),
      maxSinkConcurrency: intField(inFlight, 'perSink', 'inFlight', d.maxSinkConcurrency, 1, 64),
      retryBaseMs: intField(retry, 'baseMs', 'retry', d.retryBaseMs, 1, 60_000),
      retryMaxMs: intField(retry, 'maxMs', 'retry', d.retryMaxMs, 1, 3_600_000),
      statsEveryMs: intField(metrics, 'logEveryMs', 'metrics', d.statsEveryMs, 0, 3_600_000),
    },
  }
}

/** Creates the components from the sinks back to the source, then the runner (not started). */
export async function buildPipeline(config: PipelineConfig, ctx: ComponentContext): Promise<PipelineRunner> {
  const sinks: NamedSink[] = []
  for (const s of config.sinks)
    sinks.push({ name: s.name, sink: await (SINKS[s.type] as AnyFactory<Sink>).create(s.config, ctx) })
  const deadLetter = await (SINKS[config.deadLetter.type] as AnyFactory<Sink>).create(config.deadLetter.config, ctx)
  const transforms: Transform[] = []
  for (const t of config.transforms)
    transforms.push(await (TRANSFORMS[t.type] as AnyFactory<Transform>).create(t.config, ctx))
  const source = await (SOURCES[config.source.type] as AnyFactory<Source>).create(config.source.config, ctx)
  return new PipelineRunner(source, transforms, sinks, deadLetter, config.runner, ctx)
}
