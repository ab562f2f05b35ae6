// `emporium kibana import` against a local HTTP server standing in for Kibana: method, path (with and without a
// space), query, headers and the multipart body parsed by a real parser; the server's refusals; and bad input.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import { freePort, spawnScript } from '../../test/support/cli-process.ts'
import { ConfigError, type KibanaAuth, loadConfig } from '../config.ts'
import { kibanaCommand, parseKibanaArgs, SHIPPED_NDJSON } from './kibana-import.ts'

interface Seen {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
}
type Answer = { status: number; body?: unknown; raw?: string; headers?: Record<string, string> } | 'hang'

const SHIPPED = readFileSync(SHIPPED_NDJSON)
const OBJECTS = SHIPPED.toString('utf8').trim().split('\n').length

let server: Server
let base = ''
const seen: Seen[] = []
const sockets = new Set<Socket>()
let answer: (req: Seen) => Answer = () => ({ status: 200, body: { success: true, successCount: OBJECTS } })

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) }
      seen.push(s)
      const a = answer(s)
      if (a === 'hang') return
      const payload = a.raw ?? JSON.stringify(a.body ?? {})
      res.writeHead(a.status, { 'content-type': a.raw ? 'text/html' : 'application/json', ...a.headers })
      res.end(payload)
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(async () => {
  for (const s of sockets) s.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})
beforeEach(() => {
  seen.length = 0
  answer = () => ({ status: 200, body: { success: true, successCount: OBJECTS } })
})

async function run(argv: string[], auth?: KibanaAuth) {
  let out = ''
  let err = ''
  const code = await kibanaCommand(argv, {
    auth: () => auth,
    out: (t) => {
      out += t
    },
    err: (t) => {
      err += t
    },
  })
  return { code, out, err }
}

/** The multipart body as a browser-grade parser reads it. */
async function uploaded(s: Seen): Promise<File> {
  const form = await new Request('http://parser.invalid/', {
    method: 'POST',
    headers: { 'content-type': String(s.headers['content-type']) },
    body: new Uint8Array(s.body),
  }).formData()
  assert.deepEqual([...form.keys()], ['file'], 'one form field, named file')
  const file = form.get('file')
  assert.ok(file instanceof File, 'the field is a file upload')
  return file
}

describe('kibana import › the request', () => {
  it('posts the shipped NDJSON as multipart field "file" to the default space with kbn-xsrf and basic auth', async () => {
    const r = await run(['import', '--url', `${base}/`], { kind: 'basic', username: 'elastic', password: 's3cr3t:pw' })
    assert.equal(r.code, 0, r.err)
    assert.equal(seen.length, 1)
    const s = seen[0]!
    assert.equal(s.method, 'POST')
    const url = new URL(s.url, base)
    assert.equal(url.pathname, '/api/saved_objects/_import')
    assert.deepEqual([...url.searchParams], [['overwrite', 'true']])
    assert.equal(s.headers['kbn-xsrf'], 'true')
    assert.equal(s.headers['osd-xsrf'], undefined)
    assert.match(String(s.headers['content-type']), /^multipart\/form-data; boundary=\S+$/)
    assert.equal(s.headers.authorization, `Basic ${Buffer.from('elastic:s3cr3t:pw').toString('base64')}`)
    const file = await uploaded(s)
    assert.equal(file.name, 'emporium.ndjson')
    assert.ok(Buffer.from(await file.arrayBuffer()).equals(SHIPPED), 'the uploaded bytes are the shipped file')
    assert.match(r.out, new RegExp(`Imported ${OBJECTS} of ${OBJECTS} saved objects into Kibana at ${base}\\.`))
    assert.ok(!`${r.out}${r.err}`.includes('s3cr3t'), 'the password is never printed')
  })

  it('puts a space into the path after the base path, and sends an API key', async () => {
    const r = await run(['import', '--url', `${base}/kibana`, '--space', 'ops_team-2'], {
      kind: 'apiKey',
      apiKey: 'aWQ6a2V5',
    })
    assert.equal(r.code, 0, r.err)
    const url = new URL(seen[0]!.url, base)
    assert.equal(url.pathname, '/kibana/s/ops_team-2/api/saved_objects/_import')
    assert.equal(seen[0]!.headers.authorization, 'ApiKey aWQ6a2V5')
    assert.match(r.out, /\(space ops_team-2\)/)
  })

  it('treats --space default as the default space', async () => {
    assert.equal((await run(['import', '--url', base, '--space', 'default'])).code, 0)
    assert.equal(new URL(seen[0]!.url, base).pathname, '/api/saved_objects/_import')
  })

  it('speaks to OpenSearch Dashboards with osd-xsrf, and sends no authorization when none is configured', async () => {
    const r = await run(['import', '--url', base, '--flavor', 'opensearch-dashboards'])
    assert.equal(r.code, 0, r.err)
    const s = seen[0]!
    assert.equal(s.headers['osd-xsrf'], 'true')
    assert.equal(s.headers['kbn-xsrf'], undefined)
    assert.equal(s.headers.authorization, undefined)
    assert.ok(Buffer.from(await (await uploaded(s)).arrayBuffer()).equals(SHIPPED))
    assert.match(r.out, /into OpenSearch Dashboards at/)
  })

  it('uploads another file byte for byte with --file, and leaves out overwrite with --no-overwrite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emp-kibana-'))
    try {
      const file = join(dir, 'mine.ndjson')
      const bytes =
        '{"type":"index-pattern","id":"x","attributes":{"title":"x-*"},"references":[]}\r\n{"exportedCount":1}\n'
      writeFileSync(file, bytes)
      answer = () => ({ status: 200, body: { success: true, successCount: 1 } })
      const r = await run(['import', '--url', base, '--file', file, '--no-overwrite'])
      assert.equal(r.code, 0, r.err)
      assert.equal(new URL(seen[0]!.url, base).search, '')
      const sent = await uploaded(seen[0]!)
      assert.equal(sent.name, 'emporium.ndjson', 'named .ndjson whatever the local name')
      assert.equal(await sent.text(), bytes)
      assert.match(r.out, /Imported 1 of 1 /)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('kibana import › what the server answers', () => {
  it('fails on success:false and lists each refused object with its reason', async () => {
    answer = () => ({
      status: 200,
      body: {
        success: false,
        successCount: OBJECTS - 2,
        errors: [
          {
            type: 'visualization',
            id: 'emporium-latency',
            meta: { title: 'Emporium · Latency p50 / p95 / p99' },
            error: { type: 'missing_references', references: [{ type: 'index-pattern', id: 'emporium-logs' }] },
          },
          { type: 'dashboard', id: 'emporium-logs-dashboard', title: 'Emporium · Logs', error: { type: 'conflict' } },
        ],
      },
    })
    const r = await run(['import', '--url', base])
    assert.equal(r.code, 1)
    assert.match(r.err, new RegExp(`failed: ${OBJECTS - 2} of ${OBJECTS} saved objects imported, 2 refused`))
    assert.match(
      r.err,
      /visualization emporium-latency "Emporium · Latency p50 \/ p95 \/ p99": missing_references: index-pattern emporium-logs/,
    )
    assert.match(r.err, /dashboard emporium-logs-dashboard "Emporium · Logs": conflict: the object exists already/)
  })

  it('fails on a 400 with the message of a Kibana-style error body', async () => {
    answer = () => ({
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', message: 'Invalid file extension .txt' },
    })
    const r = await run(['import', '--url', base])
    assert.equal(r.code, 1)
    assert.match(r.err, /Kibana answered 400: Invalid file extension \.txt/)
  })

  const refusals: [number, string, RegExp][] = [
    [401, '[security_exception]: unable to authenticate user', /needs credentials: set KIBANA_USERNAME/],
    [403, 'Unable to bulk_create index-pattern', /Saved Objects Management privilege/],
    [404, 'Not Found', /does the space exist/],
    [413, 'Payload content length greater than maximum allowed: 26214400', /savedObjects\.maxImportPayloadBytes/],
  ]
  for (const [status, message, hint] of refusals)
    it(`fails on ${status} with the server's message and what to check`, async () => {
      answer = () => ({ status, body: { statusCode: status, error: 'x', message } })
      const r = await run(['import', '--url', base, '--space', 'ops'])
      assert.equal(r.code, 1)
      assert.ok(r.err.includes(`Kibana answered ${status}: ${message}`), r.err)
      assert.match(r.err, hint)
    })

  it('says which credentials were refused on a 401 when some are configured, without printing them', async () => {
    answer = () => ({
      status: 401,
      body: { statusCode: 401, error: 'Unauthorized', message: 'unable to authenticate' },
    })
    const r = await run(['import', '--url', base], { kind: 'basic', username: 'ops', password: 'hunter2-hunter2' })
    assert.equal(r.code, 1)
    assert.match(r.err, /did not accept the credentials in KIBANA_USERNAME \/ KIBANA_PASSWORD/)
    assert.ok(!r.err.includes('hunter2'))
  })

  it('fails on a reply that is not the import API JSON', async () => {
    answer = () => ({ status: 200, raw: '<html><body>Welcome to nginx</body></html>' })
    const r = await run(['import', '--url', base])
    assert.equal(r.code, 1)
    assert.match(r.err, /answered 200 without the import API's JSON \(text\/html/)
  })

  it('does not follow a redirect (a login page), and says where it pointed', async () => {
    answer = () => ({ status: 302, raw: '', headers: { location: '/login?next=%2F' } })
    const r = await run(['import', '--url', base])
    assert.equal(r.code, 1)
    assert.match(r.err, /answered 302, a redirect to \/login\?next=%2F/)
    assert.equal(seen.length, 1)
  })

  it('fails clearly when nothing listens on the port', async () => {
    const port = await freePort()
    const r = await run(['import', '--url', `http://127.0.0.1:${port}`])
    assert.equal(r.code, 1)
    assert.match(r.err, new RegExp(`cannot connect to http://127\\.0\\.0\\.1:${port}: connection refused`))
  })

  it('gives up after --timeout when the server does not answer', async () => {
    answer = () => 'hang'
    const started = Date.now()
    const r = await run(['import', '--url', base, '--timeout', '1'])
    assert.equal(r.code, 1)
    assert.match(r.err, /did not answer within 1 s/)
    assert.ok(Date.now() - started < 5000)
  })
})

describe('kibana import › bad input', () => {
  const refused: [string, string[], RegExp][] = [
    ['no --url', ['import'], /--url is required/],
    ['an unparseable --url', ['import', '--url', 'not a url'], /--url is not a URL/],
    ['a non-http scheme', ['import', '--url', 'ftp://kibana:21'], /must start with http:\/\/ or https:\/\/, not ftp:/],
    [
      'credentials in the URL',
      ['import', '--url', 'https://elastic:pw-in-url@kibana:5601'],
      /must not carry credentials/,
    ],
    ['a query string', ['import', '--url', 'http://kibana:5601/?x=1'], /query string/],
    ['an API path', ['import', '--url', 'http://kibana:5601/api/saved_objects/_import'], /API path/],
    ['a space in the URL', ['import', '--url', 'http://kibana:5601/s/ops'], /--space <id>/],
    ['an unknown flag', ['import', '--url', 'http://k:5601', '--force'], /Unknown option '--force'/],
    ['an unknown subcommand', ['export', '--url', 'http://k:5601'], /unknown subcommand export/],
    ['no subcommand', ['--url', 'http://k:5601'], /missing the subcommand/],
    ['a space name instead of an id', ['import', '--url', 'http://k:5601', '--space', 'Ops Team'], /is not a space id/],
    [
      '--space with OpenSearch Dashboards',
      ['import', '--url', 'http://k:5601', '--space', 'ops', '--flavor', 'opensearch-dashboards'],
      /OpenSearch Dashboards has no spaces/,
    ],
    [
      'an unknown flavor',
      ['import', '--url', 'http://k:5601', '--flavor', 'grafana'],
      /--flavor must be kibana or opensearch-dashboards/,
    ],
    ['a bad timeout', ['import', '--url', 'http://k:5601', '--timeout', '0'], /--timeout must be a whole number/],
    ['both overwrite flags', ['import', '--url', 'http://k:5601', '--overwrite', '--no-overwrite'], /contradict/],
  ]
  for (const [what, argv, message] of refused)
    it(`refuses ${what} before sending anything`, async () => {
      let asked = false
      let err = ''
      const code = await kibanaCommand(argv, {
        auth: () => {
          asked = true
          return undefined
        },
        out: () => {},
        err: (t) => {
          err += t
        },
      })
      assert.equal(code, 1)
      assert.match(err, message)
      assert.ok(!err.includes('pw-in-url'), 'a password in the URL is not echoed')
      assert.equal(asked, false, 'the configuration is not read')
      assert.equal(seen.length, 0)
    })

  it('reads the flags it accepts', () => {
    assert.deepEqual(parseKibanaArgs(['import', '--url', 'https://k.example/kibana/', '--timeout', '5']), {
      command: 'import',
      options: {
        baseUrl: 'https://k.example/kibana',
        space: undefined,
        file: SHIPPED_NDJSON,
        overwrite: true,
        flavor: 'kibana',
        timeoutMs: 5000,
      },
    })
    assert.deepEqual(parseKibanaArgs(['--help']), { command: 'help' })
  })

  it('refuses a missing file and an unparseable one, naming the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emp-kibana-'))
    try {
      const missing = await run(['import', '--url', base, '--file', join(dir, 'nope.ndjson')])
      assert.equal(missing.code, 1)
      assert.match(missing.err, /nope\.ndjson: no such file/)
      const bad = join(dir, 'bad.ndjson')
      writeFileSync(bad, '{"type":"index-pattern","id":"a","attributes":{}}\n{"type": "search", oops\n')
      const broken = await run(['import', '--url', base, '--file', bad])
      assert.equal(broken.code, 1)
      assert.match(broken.err, /bad\.ndjson:2: not JSON/)
      const shapeless = join(dir, 'shapeless.ndjson')
      writeFileSync(shapeless, '{"id":"a"}\n')
      assert.match(
        (await run(['import', '--url', base, '--file', shapeless])).err,
        /shapeless\.ndjson:1: a saved object needs/,
      )
      const empty = join(dir, 'empty.ndjson')
      writeFileSync(empty, '\n\n')
      assert.match((await run(['import', '--url', base, '--file', empty])).err, /holds no saved objects/)
      assert.equal(seen.length, 0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('kibana import › the real CLI', () => {
  it('imports into a space with credentials from the environment and exits 0', async () => {
    const p = spawnScript('kibana-import', 'src/cli.ts', ['kibana', 'import', '--url', base, '--space', 'ops'], {
      KIBANA_USERNAME: 'ops',
      KIBANA_PASSWORD: 'cli-secret-pw',
    })
    const exit = await p.exited
    assert.equal(exit.code, 0, p.output())
    assert.match(
      p.output(),
      new RegExp(`Imported ${OBJECTS} of ${OBJECTS} saved objects into Kibana at ${base} \\(space ops\\)`),
    )
    assert.ok(!p.output().includes('cli-secret-pw'))
    const s = seen[0]!
    assert.equal(new URL(s.url, base).pathname, '/s/ops/api/saved_objects/_import')
    assert.equal(s.headers.authorization, `Basic ${Buffer.from('ops:cli-secret-pw').toString('base64')}`)
    assert.ok(Buffer.from(await (await uploaded(s)).arrayBuffer()).equals(SHIPPED))
  })

  it('exits 2 on half-set credentials, naming the variable', async () => {
    const p = spawnScript('kibana-import', 'src/cli.ts', ['kibana', 'import', '--url', base], {
      KIBANA_PASSWORD: 'lonely-pw',
    })
    const exit = await p.exited
    assert.equal(exit.code, 2)
    assert.match(p.output(), /bad configuration: KIBANA_USERNAME/)
    assert.ok(!p.output().includes('lonely-pw'))
    assert.equal(seen.length, 0)
  })
})

describe('kibana import › credentials from the configuration', () => {
  it('reads a user and password, or an API key, and nothing when neither is set', () => {
    assert.equal(loadConfig({}).kibana.auth, undefined)
    assert.deepEqual(loadConfig({ KIBANA_USERNAME: 'ops', KIBANA_PASSWORD: 'pw:with colon' }).kibana.auth, {
      kind: 'basic',
      username: 'ops',
      password: 'pw:with colon',
    })
    assert.deepEqual(
      loadConfig({ KIBANA_API_KEY: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==' }).kibana.auth,
      {
        kind: 'apiKey',
        apiKey: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==',
      },
    )
  })

  const refused: [string, Record<string, string>, string][] = [
    ['a user without a password', { KIBANA_USERNAME: 'ops' }, 'KIBANA_PASSWORD'],
    ['a password without a user', { KIBANA_PASSWORD: 'secret-value' }, 'KIBANA_USERNAME'],
    [
      'both ways at once',
      { KIBANA_USERNAME: 'ops', KIBANA_PASSWORD: 'secret-value', KIBANA_API_KEY: 'abcdefgh12' },
      'KIBANA_API_KEY',
    ],
    ['an API key that is not encoded', { KIBANA_API_KEY: 'id secret-value' }, 'KIBANA_API_KEY'],
    ['a user name with a colon', { KIBANA_USERNAME: 'o:secret-value', KIBANA_PASSWORD: 'x' }, 'KIBANA_USERNAME'],
  ]
  for (const [what, env, variable] of refused)
    it(`refuses ${what}, naming ${variable} and never echoing the secret`, () => {
      assert.throws(
        () => loadConfig(env),
        (e: unknown) => e instanceof ConfigError && e.variable === variable && !e.message.includes('secret-value'),
      )
    })
})
