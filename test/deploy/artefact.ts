// The image's artefact without a container engine: the Dockerfile's build stage reproduced in a fresh directory (its
// COPY lines, its RUN commands; the base image's apt-get is not run, `npm ci` is stood in for by the repository's
// node_modules from the same lock file, `npm prune --omit=dev` by copying only the production tree into the runtime
// files), the runtime stage's files laid out beside it, and its processes started the way the image starts them: WORKDIR, ENV, USER (setpriv when root)
// and ENTRYPOINT + CMD. Used by image.test.ts and roles.stack.test.ts.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, posix, relative } from 'node:path'
import { type CliProcess, REPO_ROOT } from '../support/cli-process.ts'
import { copies, execForm, instructions, readDockerfile, type Stage, stage, stageEnv } from './dockerfile.ts'

export const dockerfile = readDockerfile()
export const buildStage = stage(dockerfile, 'build')
export const runtimeStage = stage(dockerfile, 'runtime')
export const lastArgs = (s: Stage, keyword: string) => instructions(s, keyword).at(-1)?.args.trim()
export const workdir = (s: Stage) => lastArgs(s, 'WORKDIR') ?? '/'

/** USER of the runtime stage as numbers. */
export function imageUser(): { uid: number; gid: number } {
  const [uid, gid = uid] = (lastArgs(runtimeStage, 'USER') ?? '0').split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

export const RUNNING_AS_ROOT = process.getuid?.() === 0

/** argv run as the image's USER (root can switch; anyone else already is not root). */
export function asImageUser(argv: string[]): string[] {
  if (!RUNNING_AS_ROOT) return argv
  const { uid, gid } = imageUser()
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...argv]
}

/** ENTRYPOINT + CMD of the runtime stage, the CMD replaced by `args` when given (as `docker run IMAGE args…`). */
export function imageCommand(args?: string[]): string[] {
  return [...execForm(lastArgs(runtimeStage, 'ENTRYPOINT')!), ...(args ?? execForm(lastArgs(runtimeStage, 'CMD')!))]
}

export const walkFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walkFiles(join(dir, e.name)) : [join(dir, e.name)],
  )

/** Resolves a COPY destination (relative to WORKDIR) inside a directory standing in for the image's root of it. */
function copyInto(root: string, wd: string, sources: { from: string; path: string }[], dest: string): void {
  const target = join(root, relative(wd, posix.resolve(wd, dest)))
  const intoDir = dest.endsWith('/') || sources.length > 1
  for (const { from, path } of sources) {
    assert.ok(existsSync(from), `COPY source ${path} exists`)
    const isDir = statSync(from).isDirectory()
    const to = intoDir && !isDir ? join(target, basename(path)) : target
    mkdirSync(isDir ? to : dirname(to), { recursive: true })
    cpSync(from, to, { recursive: true })
  }
}

/**
 * What `npm prune --omit=dev` leaves: every top-level package of the production tree (with what is nested in it),
 * copied, so the artefact cannot lean on a devDependency, and the image user reads its own copy wherever the checkout is.
 */
function copyProductionDependencies(to: string): void {
  const r = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO_ROOT, encoding: 'utf8' })
  const root = join(REPO_ROOT, 'node_modules')
  const packages = new Set(
    r.stdout
      .split('\n')
      .filter((line) => line.startsWith(`${root}/`))
      .map((line) => relative(root, line).split('/node_modules/')[0]!),
  )
  assert.ok(
    packages.has('fastify') && packages.has('better-sqlite3'),
    `npm ls --omit=dev listed:\n${r.stdout}${r.stderr}`,
  )
  for (const name of packages) cpSync(join(root, name), join(to, name), { recursive: true })
}

export interface Artefact {
  /** A temporary directory holding everything below; `remove()` deletes it. */
  root: string
  /** The runtime stage's WORKDIR (dist/, node_modules, deploy/…), owned by the test's user, not the image's. */
  app: string
  /** What was not run as written, and what stood in for it. */
  notes: string[]
  /** A directory the image user may write (a container's volume), e.g. DATA_DIR or HOME. */
  writableDir(name: string): string
  /** The runtime stage's ENV with `overrides` on top, plus PATH. */
  env(overrides: Record<string, string>): Record<string, string>
  /** Starts `argv` as the image user in WORKDIR with exactly `env`. */
  start(name: string, argv: string[], env: Record<string, string>): CliProcess
  remove(): void
}

/** Builds like the build stage does (tsc and esbuild: ~30-60 s on two shared cores) and lays out the runtime stage. */
export function buildArtefact(): Artefact {
  const root = mkdtempSync(join(tmpdir(), 'emporium-image-'))
  chmodSync(root, 0o755)
  const context = join(root, 'context')
  const app = join(root, 'app')
  const notes: string[] = []
  mkdirSync(context)
  const buildDir = workdir(buildStage)
  for (const step of buildStage.instructions) {
    if (step.keyword === 'WORKDIR' || step.keyword === 'ARG') continue
    if (step.keyword === 'COPY') {
      const [c] = copies({ ...buildStage, instructions: [step] })
      assert.equal(c!.from, undefined)
      copyInto(
        context,
        buildDir,
        c!.sources.map((path) => ({ from: join(REPO_ROOT, path), path })),
        c!.dest,
      )
      continue
    }
    assert.equal(step.keyword, 'RUN', `line ${step.line}: ${step.keyword} is not reproduced by this test`)
    const run = step.args
    if (/^apt-get update\b/.test(run)) notes.push(`not run: ${run} (system packages of the base image)`)
    else if (/^npm ci\b/.test(run)) {
      assert.equal(
        readFileSync(join(context, 'package-lock.json'), 'utf8'),
        readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8'),
      )
      symlinkSync(join(REPO_ROOT, 'node_modules'), join(context, 'node_modules'))
      notes.push(`stood in for: ${run} (the repository's node_modules, from the same package-lock.json)`)
    } else if (/^npm prune --omit=dev\b/.test(run))
      notes.push(`done at the runtime stage's COPY instead: ${run} (only the production tree is copied)`)
    else {
      const r = spawnSync('/bin/sh', ['-c', run], {
        cwd: context,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root },
        timeout: 300_000,
      })
      assert.equal(r.status, 0, `RUN ${run} (Dockerfile line ${step.line}) failed:\n${r.stdout}\n${r.stderr}`)
    }
  }
  mkdirSync(app)
  for (const c of copies(runtimeStage)) {
    const sources = c.sources.map((path) => {
      if (!c.from) return { from: join(REPO_ROOT, path), path }
      assert.equal(c.from, 'build')
      return { from: join(context, posix.relative(buildDir, path)), path }
    })
    if (sources.some((s) => s.path.endsWith('/node_modules'))) {
      copyProductionDependencies(join(app, 'node_modules'))
      notes.push('node_modules of the runtime stage: the production dependencies only (npm ls --omit=dev), copied')
      continue
    }
    copyInto(app, workdir(runtimeStage), sources, c.dest)
  }
  return {
    root,
    app,
    notes,
    writableDir(name) {
      const dir = join(root, name)
      mkdirSync(dir)
      const { uid, gid } = imageUser()
      if (RUNNING_AS_ROOT) chownSync(dir, uid, gid)
      return dir
    },
    // The image's PATH, with the directory of the node running the tests first (the image has its node on PATH).
    env: (overrides) => ({
      ...stageEnv(runtimeStage),
      PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      ...overrides,
    }),
    start(name, argv, env) {
      const full = asImageUser(argv)
      const proc = spawn(full[0]!, full.slice(1), { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] })
      let output = ''
      let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-200_000)
      }
      proc.stdout.on('data', keep)
      proc.stderr.on('data', keep)
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        proc.once('exit', (code, signal) => {
          exit = { code, signal }
          resolve(exit)
        }),
      )
      return { name, command: argv.join(' '), proc, output: () => output, exit: () => exit, exited }
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  }
}
