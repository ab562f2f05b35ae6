// The container image without a container engine: the Dockerfile is read, its build stage is reproduced (the same
// files copied into a fresh context, the same RUN commands), and the artefact is started the way the runtime stage
// starts it (its WORKDIR, ENV, USER and command; ports moved to free ones, HOST to loopback), then smoke-tested over
// HTTP. What cannot be reproduced here is said where it happens (test/deploy/artefact.ts): the base image itself,
// apt-get, and `npm ci` (the repo's node_modules, installed from the same lock file, stands in); `npm prune --omit=dev`
// is mimicked by copying only the production tree into the runtime files.
// The build takes ~30-60 s on two shared cores (tsc over src/ and two esbuild bundles).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { CONFIG_VARIABLES } from '../../src/config.ts'
import { type CliProcess, freePort, REPO_ROOT, stopCli, waitForOutput } from '../support/cli-process.ts'
import { ApiClient } from '../support/http-client.ts'
import {
  type Artefact,
  asImageUser,
  RUNNING_AS_ROOT as asRoot,
  buildStage as build,
  buildArtefact,
  dockerfile,
  imageCommand,
  imageUser,
  lastArgs as last,
  runtimeStage as runtime,
  walkFiles,
  workdir,
} from './artefact.ts'
import { copies, execForm, instructions, stageEnv } from './dockerfile.ts'

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'))
const dockerignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))

describe('Dockerfile', () => {
  it('builds in one stage and runs in a slim Debian Node image of the same major version as CI', () => {
    assert.deepEqual(
      dockerfile.stages.map((s) => s.name),
      ['build', 'runtime'],
    )
    assert.equal(build.from, runtime.from, 'one base: native modules built against the glibc they run on')
    const m = /^node:(\d+)\.\d+\.\d+-bookworm-slim$/.exec(runtime.from)
    assert.ok(
      m,
      `a pinned node:<x.y.z>-bookworm-slim base (glibc for argon2, better-sqlite3, DuckDB), not ${runtime.from}`,
    )
    assert.equal(m[1], process.versions.node.split('.')[0], 'the Node major version the tests run on')
  })

  it('builds what `npm run build` builds and keeps production dependencies only', () => {
    const runs = instructions(build, 'RUN').map((r) => r.args)
    const at = (re: RegExp) => runs.findIndex((r) => re.test(r))
    assert.ok(at(/^npm ci\b/) >= 0 && at(/^npm ci\b/) < at(/^npm run build$/), 'npm ci, then npm run build')
    assert.ok(at(/^npm prune --omit=dev\b/) > at(/^npm run build$/), 'then npm prune --omit=dev')
    assert.match(pkg.scripts.build, /^tsc -p tsconfig\.build\.json && node scripts\/copy-assets\.mjs$/)
    assert.ok(
      copies(runtime).some((c) => c.from === 'build' && c.sources.includes(`${workdir(build)}/node_modules`)),
      'the runtime stage takes the pruned node_modules from the build stage',
    )
    assert.ok(!copies(runtime).some((c) => !c.from && c.sources.some((s) => /^(src|node_modules)\b/.test(s))))
  })

  it('runs as a non-root user with the settings of `npm start`, a health check and `node dist/cli.js <role>`', () => {
    const { uid, gid } = imageUser()
    assert.ok(uid > 0 && gid > 0, 'USER is a non-root uid:gid, by number (Kubernetes runAsNonRoot checks it)')
    const env = stageEnv(runtime)
    assert.equal(env.NODE_ENV, 'production')
    assert.equal(env.HOST, '0.0.0.0')
    assert.ok(Number(env.METRICS_PORT) > 0, 'METRICS_PORT: every role serves /metrics, /healthz and /readyz')
    assert.equal(`GLIBC_TUNABLES=${env.GLIBC_TUNABLES}`, /GLIBC_TUNABLES=\S+/.exec(pkg.scripts.start)?.[0])
    const names = new Set(CONFIG_VARIABLES.map((v) => v.name))
    for (const name of Object.keys(env))
      assert.ok(names.has(name) || name === 'NODE_ENV' || name === 'GLIBC_TUNABLES', `ENV ${name} is not read`)
    assert.deepEqual(execForm(last(runtime, 'ENTRYPOINT')!), ['node', 'dist/cli.js'])
    assert.deepEqual(execForm(last(runtime, 'CMD')!), ['start'])
    const chownData = instructions(runtime, 'RUN').some((r) => r.args.includes(`chown ${uid}:${gid} ${env.DATA_DIR}`))
    assert.ok(chownData, 'DATA_DIR belongs to the image user')
    assert.match(last(runtime, 'HEALTHCHECK')!, /CMD \["node", "deploy\/docker\/healthcheck\.mjs"\]/)
  })

  it('copies only what .dockerignore lets into the build context', () => {
    assert.equal(dockerignore[0], '**', 'the context is an allow-list')
    const allowed = dockerignore.filter((p) => p.startsWith('!')).map((p) => p.slice(1))
    for (const s of [build, runtime])
      for (const c of copies(s).filter((c) => !c.from))
        for (const source of c.sources)
          assert.ok(
            allowed.includes(source) || allowed.includes(`${source}/**`),
            `.dockerignore keeps ${source} out of the context`,
          )
  })
})

/** Package names a compiled file imports (bare specifiers, static and dynamic). */
function importedPackages(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const names: string[] = []
  const statements = /^\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm
  const dynamic = /\bimport\(\s*["']([^"']+)["']\s*\)/g
  for (const m of [...text.matchAll(statements), ...text.matchAll(dynamic)]) {
    const spec = (m[1] ?? m[2])!
    if (spec.startsWith('.') || spec.startsWith('/')) continue
    if (spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)) continue
    names.push(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!)
  }
  return names
}

const ADMIN = { email: 'owner@image.example', password: 'image smoke test passphrase' }

describe('the image artefact, built like the build stage and started like the runtime stage', () => {
  let artefact: Artefact | null = null
  let app = ''
  let data = ''
  let env: Record<string, string> = {}
  let shop: CliProcess | null = null
  let origin = ''
  let metricsOrigin = ''
  let appFiles: string[] = []

  before(async () => {
    artefact = buildArtefact()
    app = artefact.app
    appFiles = walkFiles(app).filter((f) => !f.startsWith(join(app, 'node_modules')))
    data = artefact.writableDir('data')
    const [port, metricsPort] = [await freePort(), await freePort()]
    env = artefact.env({
      // The image listens on 0.0.0.0; on a shared test machine, loopback only (the health check maps both alike).
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      DATA_DIR: data,
      // What an operator adds: the admin (otherwise a generated password is printed once).
      EMPORIUM_ADMIN_EMAIL: ADMIN.email,
      EMPORIUM_ADMIN_PASSWORD: ADMIN.password,
      HOME: artefact.writableDir('home'),
    })
    shop = artefact.start('image', imageCommand(), env)
    await waitForOutput(shop, 'Emporium is serving', 180_000)
    await waitForOutput(shop, 'metrics on http://', 10_000)
    origin = `http://127.0.0.1:${port}`
    metricsOrigin = `http://127.0.0.1:${metricsPort}`
  })

  after(async () => {
    if (shop) await stopCli(shop, 10_000)
    if (artefact?.notes.length) console.log(`  image build, reproduced here:\n    ${artefact.notes.join('\n    ')}`)
    artefact?.remove()
  })

  it('dist/ imports only production dependencies, so `npm prune --omit=dev` leaves what it needs', () => {
    const production = new Set(Object.keys(pkg.dependencies))
    const imported = new Set(
      walkFiles(join(app, 'dist'))
        .filter((f) => f.endsWith('.js') && !/web\/assets\/[^/]+\.bundle\.js$/.test(f))
        .flatMap(importedPackages),
    )
    assert.ok(imported.has('fastify') && imported.has('better-sqlite3'), 'the scan finds the imports')
    for (const name of imported) assert.ok(production.has(name), `dist/ imports ${name}, a devDependency or missing`)
  })

  it(`runs as the image user (${asRoot ? 'setpriv to USER' : 'already not root'}) and writes only DATA_DIR`, () => {
    const { uid } = imageUser()
    const written = readdirSync(data)
    assert.ok(written.includes('commerce.sqlite'), `DATA_DIR holds ${written.join(', ')}`)
    if (asRoot) assert.equal(statSync(join(data, 'commerce.sqlite')).uid, uid)
    else assert.notEqual(process.getuid?.(), 0)
    assert.ok(statSync(app).uid !== uid || !asRoot, 'the app directory is not the user’s')
    const now = walkFiles(app).filter((f) => !f.startsWith(join(app, 'node_modules')))
    assert.deepEqual(now, appFiles, 'nothing written beside the code')
  })

  it('answers /healthz and /readyz on PORT', async () => {
    const health = await fetch(`${origin}/healthz`)
    assert.equal(health.status, 200)
    assert.deepEqual(await health.json(), { status: 'ok' })
    const ready = await fetch(`${origin}/readyz`)
    const body = await ready.text()
    assert.equal(ready.status, 200, body)
  })

  it('serves the seeded storefront and the API, and signs the admin in (argon2, sessions)', async () => {
    const home = await fetch(`${origin}/`)
    assert.equal(home.status, 200)
    assert.match(home.headers.get('content-type') ?? '', /text\/html/)
    const html = await home.text()
    const slug = /href="\/products\/([a-z0-9-]+)"/.exec(html)?.[1]
    assert.ok(slug, 'the home page links a product')
    const page = await fetch(`${origin}/products/${slug}`)
    assert.equal(page.status, 200)
    const api = new ApiClient(`${origin}/api/v1`)
    const list = await api.get('/products?limit=5')
    assert.equal(list.status, 200)
    assert.equal(list.body.items.length, 5)
    const product = await api.get(`/products/${slug}`)
    assert.equal(product.status, 200)
    assert.equal(product.body.slug, slug)
    assert.equal((await api.get('/auth/session')).body.user, null)
    const login = await api.post('/auth/login', ADMIN)
    assert.equal(login.status, 200, JSON.stringify(login.body))
    assert.equal((await api.get('/me')).body.role, 'admin')
  })

  it('serves /metrics, /healthz and /readyz on METRICS_PORT, and not /metrics on PORT', async () => {
    assert.equal((await fetch(`${metricsOrigin}/healthz`)).status, 200)
    assert.equal((await fetch(`${metricsOrigin}/readyz`)).status, 200)
    const metrics = await fetch(`${metricsOrigin}/metrics`)
    assert.equal(metrics.status, 200)
    assert.match(await metrics.text(), /^emporium_http_request_duration_seconds_count\{/m)
    assert.equal((await fetch(`${origin}/metrics`)).status, 404)
  })

  it("the image's HEALTHCHECK command passes while the process serves and fails once it is gone", async () => {
    const check = execForm(/CMD\s+(\[.*\])\s*$/.exec(last(runtime, 'HEALTHCHECK')!)![1]!)
    const run = () => {
      const argv = asImageUser(check)
      return spawnSync(argv[0]!, argv.slice(1), { cwd: app, env, encoding: 'utf8', timeout: 15_000 })
    }
    const up = run()
    assert.equal(up.status, 0, up.stderr)
    // `docker stop` sends SIGTERM: the process shuts down cleanly and in time.
    shop!.proc.kill('SIGTERM')
    const exit = await Promise.race([shop!.exited, sleep(20_000, null, { ref: false })])
    assert.deepEqual(exit, { code: 0, signal: null }, `after SIGTERM:\n${shop!.output().slice(-3000)}`)
    const down = run()
    assert.equal(down.status, 1, 'the check fails with nothing listening')
    assert.match(down.stderr, /healthcheck:/)
  })
})
