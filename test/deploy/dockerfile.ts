// Reads the repository's Dockerfile into stages of instructions, so the deployment tests check and reproduce what the
// image does (its ENV, USER, WORKDIR, COPY and RUN lines, its command) instead of restating it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../support/cli-process.ts'

export interface Instruction {
  keyword: string
  /** The arguments as written, continuation lines joined. */
  args: string
  line: number
}

export interface Stage {
  name: string
  from: string
  instructions: Instruction[]
}

export interface Dockerfile {
  args: Record<string, string>
  stages: Stage[]
}

export function readDockerfile(path = join(REPO_ROOT, 'Dockerfile')): Dockerfile {
  return parseDockerfile(readFileSync(path, 'utf8'))
}

export function parseDockerfile(text: string): Dockerfile {
  const args: Record<string, string> = {}
  const stages: Stage[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const start = i
    let logical = lines[i]!.trim()
    if (logical === '' || logical.startsWith('#')) continue
    while (logical.endsWith('\\') && i + 1 < lines.length) {
      logical = logical.slice(0, -1).trimEnd()
      const next = lines[++i]!.trim()
      if (!next.startsWith('#')) logical += ` ${next}`
    }
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(logical)
    if (!m) throw new Error(`Dockerfile line ${start + 1}: cannot read "${logical}"`)
    const keyword = m[1]!.toUpperCase()
    const rest = m[2]!
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)
      if (!from) throw new Error(`Dockerfile line ${start + 1}: cannot read FROM ${rest}`)
      const image = from[1]!.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '')
      stages.push({ name: from[2] ?? String(stages.length), from: image, instructions: [] })
      continue
    }
    if (keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = rest.split('=', 2) as [string, string?]
      args[name.trim()] = value.trim()
      continue
    }
    const stage = stages.at(-1)
    if (!stage) throw new Error(`Dockerfile line ${start + 1}: ${keyword} before FROM`)
    stage.instructions.push({ keyword, args: rest, line: start + 1 })
  }
  return { args, stages }
}

export function stage(file: Dockerfile, name: string): Stage {
  const found = file.stages.find((s) => s.name === name)
  if (!found) throw new Error(`the Dockerfile has no stage ${name}`)
  return found
}

export const instructions = (s: Stage, keyword: string): Instruction[] =>
  s.instructions.filter((i) => i.keyword === keyword)

/** The exec form `["a", "b"]` as an array; the shell form as `sh -c` would run it. */
export function execForm(args: string): string[] {
  const trimmed = args.trim()
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as string[]
  return ['/bin/sh', '-c', trimmed]
}

/** ENV instructions of a stage (`ENV A=1 B="two"` or the legacy `ENV A 1`), in order. */
export function stageEnv(s: Stage): Record<string, string> {
  const env: Record<string, string> = {}
  for (const { args } of instructions(s, 'ENV')) {
    if (!args.includes('=')) {
      const [name, ...value] = args.split(/\s+/)
      env[name!] = value.join(' ')
      continue
    }
    for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g))
      env[m[1]!] = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!
  }
  return env
}

export interface Copy {
  from: string | undefined
  chown: string | undefined
  sources: string[]
  dest: string
}

export function copies(s: Stage): Copy[] {
  return instructions(s, 'COPY').map(({ args, line }) => {
    const words = args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : args.trim().split(/\s+/)
    let from: string | undefined
    let chown: string | undefined
    while (words[0]?.startsWith('--')) {
      const flag = words.shift()!
      if (flag.startsWith('--from=')) from = flag.slice(7)
      else if (flag.startsWith('--chown=')) chown = flag.slice(8)
      else throw new Error(`Dockerfile line ${line}: COPY flag ${flag} is not understood by the tests`)
    }
    if (words.length < 2) throw new Error(`Dockerfile line ${line}: COPY needs a source and a destination`)
    return { from, chown, sources: words.slice(0, -1), dest: words.at(-1)! }
  })
}
