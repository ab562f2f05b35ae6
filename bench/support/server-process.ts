// Servers under test as child processes: started with a clean environment, ready when they print their URL,
// always stopped (also on error or Ctrl-C), and measured through /proc.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

export interface ServerProcess {
  name: string
  pid: number
  origin: string
  /** The last lines the process wrote (stdout and stderr), for error reports. */
  recentOutput(): string[]
  /** Lines written after start-up; at LOG_LEVEL=warn these are warnings and errors. */
  linesAfterReady(): number
  stop(): Promise<void>
}

export interface StartOptions {
  name: string
  /** Node flags and script, e.g. ['--import', 'tsx', 'src/cli.ts', 'start']. */
  args: string[]
  cwd: string
  env: Record<string, string>
  /** Matches the line that says the server listens; its first group is the origin (http://host:port). */
  ready: RegExp
  timeoutMs: number
}

const running = new Set<ChildProcess>()

/** Last resort: SIGKILL every child still running when the bench exits. */
export function killAllNow(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  running.clear()
}
process.once('exit', killAllNow)

/** The variables a child inherits from the bench; everything else it gets is stated by the caller. */
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']

export function startServer(o: StartOptions): Promise<ServerProcess> {
  const env: Record<string, string> = {}
  for (const name of INHERITED) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  Object.assign(env, o.env)
  const child = spawn(process.execPath, o.args, { cwd: o.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] })
  running.add(child)
  const recent: string[] = []
  let ready = false
  let afterReady = 0
  let resolveReady: (origin: string) => void = () => {}
  let rejectReady: (err: Error) => void = () => {}
  const readyPromise = new Promise<string>((resolve, reject) => {
    resolveReady = resolve
    rejectReady = reject
  })
  const onLine = (line: string) => {
    recent.push(line)
    if (recent.length > 40) recent.shift()
    if (ready) {
      afterReady++
      return
    }
    const match = o.ready.exec(line)
    if (match?.[1]) {
      ready = true
      resolveReady(match[1])
    }
  }
  // Both pipes are drained for the whole run, so a chatty server can never block on a full pipe.
  createInterface({ input: child.stdout }).on('line', onLine)
  createInterface({ input: child.stderr }).on('line', onLine)
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child)
      if (!ready)
        rejectReady(new Error(`${o.name} exited (${signal ?? code}) before it was ready:\n${recent.join('\n')}`))
      resolve()
    })
  })
  child.once('error', (err) => rejectReady(err))
  const timer = setTimeout(
    () => rejectReady(new Error(`${o.name} was not ready after ${o.timeoutMs} ms:\n${recent.join('\n')}`)),
    o.timeoutMs,
  )

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(killer)
  }

  return readyPromise.then(
    (origin) => {
      clearTimeout(timer)
      return {
        name: o.name,
        pid: child.pid as number,
        origin,
        recentOutput: () => [...recent],
        linesAfterReady: () => afterReady,
        stop,
      }
    },
    async (err: unknown) => {
      clearTimeout(timer)
      await stop()
      throw err
    },
  )
}

export interface Memory {
  rssMiB: number
  /** The peak RSS over the process's life (VmHWM). */
  peakRssMiB: number
}

export function memoryOf(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
    return { rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 }
  } catch {
    return null
  }
}

/** CPU seconds (user + system, all threads) the process has used so far; Linux counts them in 1/100 s. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces, so count fields from the closing parenthesis: utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return Number.NaN
  }
}
