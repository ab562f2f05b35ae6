// Prometheus in tests: reads exposition text, runs `promtool check metrics`, and starts a real Prometheus server
// (Debian's `prometheus` package) with a temporary configuration and storage. Locally a missing binary skips the
// test with the reason; with CI=true it fails, since CI installs the package (.ci/run).
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './cli-process.ts'

export const PROMTOOL_PATH = '/usr/bin/promtool'
export const PROMETHEUS_PATH = '/usr/bin/prometheus'
const INSTALL =
  'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus (Debian 12)'

/** Why a test that needs `binary` cannot run here, or false; CI never skips (it must have installed the package). */
export function prometheusSkipReason(binary: string = PROMETHEUS_PATH): string | false {
  if (existsSync(binary) || process.env.CI) return false
  return `${binary} is not installed: ${INSTALL}`
}

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** The samples of Prometheus text format 0.0.4 (comments skipped; label values unescaped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line)
    if (!m) throw new Error(`not an exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) })
  }
  return samples
}

/** The metric families a text declares (`# TYPE name type`), by name. */
export function declaredFamilies(text: string): Map<string, string> {
  const families = new Map<string, string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1] as string, m[2] as string)
  return families
}

/** The single sample named `name` whose labels include `labels`; throws when there is none or several. */
export function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (found.length !== 1) throw new Error(`expected one ${name}${JSON.stringify(labels)}, found ${found.length}`)
  return (found[0] as Sample).value
}

/** `promtool check metrics` on the text (stdin); its exit code and what it said (problems and lint findings). */
export async function promtoolCheckMetrics(text: string): Promise<{ code: number | null; output: string }> {
  const proc = spawn(PROMTOOL_PATH, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  proc.stdout.on('data', (c: Buffer) => {
    output += c.toString()
  })
  proc.stderr.on('data', (c: Buffer) => {
    output += c.toString()
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject)
    proc.once('exit', (code) => resolve(code))
  })
  proc.stdin.end(text)
  return { code: await exited, output }
}

export interface PrometheusServer {
  url: string
  proc: ChildProcess
  output(): string
  /** GET /api/v1/query; throws unless the answer is `status: success`. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>
  stop(): Promise<void>
}

/** A real Prometheus scraping `targets` (host:port) every second as job `job`, storage in a temp dir. */
export async function startPrometheus(job: string, targets: string[]): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'emporium-prometheus-'))
  const config = join(dir, 'prometheus.yml')
  // JSON is YAML: no YAML writer needed.
  writeFileSync(
    config,
    JSON.stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      scrape_configs: [{ job_name: job, static_configs: [{ targets }] }],
    }),
  )
  const port = await freePort()
  const proc = spawn(
    PROMETHEUS_PATH,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  const keep = (c: Buffer) => {
    output = (output + c.toString()).slice(-100_000)
  }
  proc.stdout?.on('data', keep)
  proc.stderr?.on('data', keep)
  let exited = false
  const exit = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      exited = true
      resolve()
    }),
  )
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (!exited) {
      proc.kill('SIGTERM')
      const done = await Promise.race([exit.then(() => true), sleep(10_000, false, { ref: false })])
      if (!done) {
        proc.kill('SIGKILL')
        await exit
      }
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const started = Date.now()
  for (;;) {
    if (exited) {
      await stop()
      throw new Error(`prometheus exited at start:\n${output}`)
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    )
    if (ready) break
    if (Date.now() - started > 30_000) {
      await stop()
      throw new Error(`prometheus was not ready within 30 s:\n${output}`)
    }
    await sleep(200)
  }
  return {
    url,
    proc,
    output: () => output,
    async query(promql) {
      const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`)
      const body = (await r.json()) as { status: string; error?: string; data?: { result: unknown } }
      if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error ?? r.status}`)
      return body.data?.result as { metric: Record<string, string>; value: [number, string] }[]
    },
    stop,
  }
}
