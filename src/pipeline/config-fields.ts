// Small typed readers for component configs: each failure names the field path and what it expects.
import { PipelineConfigError } from './component.ts'

type Raw = Record<string, unknown>

export const intField = (raw: Raw, key: string, path: string, fallback: number, min: number, max: number): number => {
  const v = raw[key]
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new PipelineConfigError(`${path}.${key}`, `expected a whole number from ${min} to ${max}`)
  return v
}

export const stringField = (raw: Raw, key: string, path: string, fallback: string, pattern = /^.{1,200}$/): string => {
  const v = raw[key]
  if (v === undefined) return fallback
  if (typeof v !== 'string' || !pattern.test(v))
    throw new PipelineConfigError(`${path}.${key}`, `expected a string matching ${pattern}`)
  return v
}

export const stringList = (
  raw: Raw,
  key: string,
  path: string,
  fallback: string[],
  allowed?: readonly string[],
): string[] => {
  const v = raw[key]
  if (v === undefined) return fallback
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new PipelineConfigError(`${path}.${key}`, 'expected a list of strings')
  for (const x of v as string[])
    if (allowed && !allowed.includes(x))
      throw new PipelineConfigError(`${path}.${key}`, `unknown value ${x}; one of ${allowed.join(', ')}`)
  return v as string[]
}

export const numberField = (
  raw: Raw,
  key: string,
  path: string,
  fallback: number,
  min: number,
  max: number,
): number => {
  const v = raw[key]
  if (v === undefined) return fallback
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max)
    throw new PipelineConfigError(`${path}.${key}`, `expected a number from ${min} to ${max}`)
  return v
}

/** Refuses keys a component does not know, so a typo is an error rather than a silently ignored setting. */
export const onlyKeys = (raw: Raw, path: string, keys: readonly string[]): void => {
  for (const k of Object.keys(raw))
    if (!keys.includes(k)) throw new PipelineConfigError(`${path}.${k}`, `unknown setting; known: ${keys.join(', ')}`)
}
