// Runs the real `emporium` CLI (`node --import tsx src/cli.ts <command>`) as child processes for multi-process tests:
// spawn, wait for a line of output (bounded), stop (SIGTERM, then SIGKILL), and MongoDB database helpers.
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface CliProcess {
  readonly name: string
  readonly command: string
  readonly proc: ChildProcess
  /** Everything the process wrote to stdout and stderr (the last 500 000 characters). */
  output(): string
  /** null while the process runs. */
  exit(): ExitInfo | null
  readonly exited: Promise<ExitInfo>
}

const KEEP = 500_000

/** Starts `emporium <command>` with exactly `env` on top of PATH/HOME (nothing else of the parent's environment). */
export function spawnCli(
  name: string,
  command: string,
  env: Record<string, string>,
  options: SpawnOptions = {},
): CliProcess {
  return spawnScript(name, 'src/cli.ts', [command], env, options)
}

export interface SpawnOptions {
  /** Node flags before the script, e.g. ['--cpu-prof']. */
  nodeArgs?: string[]
  /** Send stdout to /dev/null (stderr is still kept): for benchmarks of what writing logs to stdout costs. */
  discardStdout?: boolean
}

/** Starts `node --import tsx <script> …args` from the repository root with exactly `env` on top of PATH/HOME. */
export function spawnScript(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  options: SpawnOptions = {},
): CliProcess {
  const command = [script, ...args].join(' ')
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'test',
      ...env,
    },
    stdio: ['ignore', options.discardStdout ? 'ignore' : 'pipe', 'pipe'],
  })
  let output = ''
  let exit: ExitInfo | null = null
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-KEEP)
  }
  proc.stdout?.on('data', keep)
  proc.stderr?.on('data', keep)
  const exited = new Promise<ExitInfo>((resolve) => {
    proc.once('exit', (code, signal) => {
      exit = { code, signal }
      resolve(exit)
    })
  })
  return { name, command, proc, output: () => output, exit: () => exit, exited }
}

const tail = (text: string, n = 4000) => (text.length > n ? `…${text.slice(-n)}` : text)

/** Resolves once the output contains `text`; rejects (with the output) when the process exits first or on timeout. */
export async function waitForOutput(p: CliProcess, text: string, timeoutMs: number): Promise<void> {
  const started = Date.now()
  while (!p.output().includes(text)) {
    const exit = p.exit()
    if (exit) throw new Error(`${p.name} exited (${exit.code ?? exit.signal}) before "${text}":\n${tail(p.output())}`)
    if (Date.now() - started > timeoutMs)
      throw new Error(`${p.name} did not print "${text}" within ${timeoutMs} ms:\n${tail(p.output())}`)
    await sleep(100)
  }
}

/** Runs a command to its end; kills it (and rejects) after `timeoutMs`. */
export async function runCli(
  name: string,
  command: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  const p = spawnCli(name, command, env)
  const timer = sleep(timeoutMs, 'timeout' as const, { ref: false })
  const first = await Promise.race([p.exited, timer])
  if (first === 'timeout') {
    await stopCli(p, 1000)
    throw new Error(`${name} did not finish within ${timeoutMs} ms:\n${tail(p.output())}`)
  }
  return { code: first.code, output: p.output() }
}

/** SIGTERM, then SIGKILL when the process is still there after `graceMs`. Never rejects. */
export async function stopCli(p: CliProcess, graceMs = 5000): Promise<ExitInfo | null> {
  if (p.exit()) return p.exit()
  p.proc.kill('SIGTERM')
  const timeout = sleep(graceMs, null, { ref: false })
  const first = await Promise.race([p.exited, timeout])
  if (first) return first
  p.proc.kill('SIGKILL')
  return Promise.race([p.exited, sleep(5000, null, { ref: false })])
}

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * The same connection string with another database in its path; hosts (several, or +srv), credentials and options
 * are kept as written (a WHATWG URL cannot parse a multi-host string).
 */
export function mongoUrlWithDatabase(url: string, db: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]*)(?:\/[^?]*)?(\?.*)?$/.exec(url.trim())
  if (!m) throw new Error('not a mongodb:// connection string')
  return `${m[1]}/${encodeURIComponent(db)}${m[2] ?? ''}`
}

/** Drops a database; for cleanup, so it never throws (it reports instead). */
export async function dropMongoDatabase(url: string, db: string): Promise<string | null> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000, connectTimeoutMS: 5000 })
  try {
    await client.connect()
    await client.db(db).dropDatabase()
    return null
  } catch (e) {
    return `could not drop ${db}: ${(e as Error).message}`
  } finally {
    await client.close().catch(() => undefined)
  }
}
