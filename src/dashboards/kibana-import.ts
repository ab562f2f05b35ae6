// `emporium kibana import`: posts the saved objects of deploy/kibana/emporium.ndjson (or --file) to Kibana's or
// OpenSearch Dashboards' POST /api/saved_objects/_import as multipart/form-data, and reports what was imported.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { KibanaAuth } from '../config.ts'

/** The shipped file: deploy/kibana/ at the package root, two levels above both src/dashboards and dist/dashboards. */
export const SHIPPED_NDJSON = fileURLToPath(new URL('../../deploy/kibana/emporium.ndjson', import.meta.url))

export const FLAVORS = ['kibana', 'opensearch-dashboards'] as const
export type Flavor = (typeof FLAVORS)[number]

const PRODUCT: Record<Flavor, string> = { kibana: 'Kibana', 'opensearch-dashboards': 'OpenSearch Dashboards' }
/** Kibana refuses a state-changing API call without kbn-xsrf; OpenSearch Dashboards renamed the header. */
export const XSRF_HEADER: Record<Flavor, string> = { kibana: 'kbn-xsrf', 'opensearch-dashboards': 'osd-xsrf' }
/** Kibana's import checks the extension of the uploaded file's name. */
export const UPLOAD_FILENAME = 'emporium.ndjson'
export const DEFAULT_TIMEOUT_S = 30

export const KIBANA_HELP = `Usage: emporium kibana import --url <base url> [options]

Imports Emporium's data view, saved search, visualizations and dashboards ("Emporium · Logs",
"Emporium · Operations") with POST <url>[/s/<space>]/api/saved_objects/_import.

Options:
  --url <url>          Base URL of Kibana, with its base path if it has one (http:// or https://, no credentials)
  --space <id>         Kibana space id (lower-case letters, digits, _ and -); default: the default space
  --file <path>        NDJSON of saved objects (default: the shipped deploy/kibana/emporium.ndjson)
  --flavor <name>      kibana (default; header kbn-xsrf) or opensearch-dashboards (header osd-xsrf, no spaces)
  --no-overwrite       Keep objects that exist already (they are reported as conflicts); default: replace them
  --timeout <seconds>  How long to wait for the answer (default ${DEFAULT_TIMEOUT_S}, 1 to 600)
  -h, --help           Show this help

Credentials come from the environment only: KIBANA_USERNAME and KIBANA_PASSWORD (basic auth), or KIBANA_API_KEY
(an encoded API key, sent as "Authorization: ApiKey …"). Exits 0 when every object was imported, 1 otherwise.
`

/** A refusal to run or a failed import, with what to do about it; printed without a stack. */
export class KibanaImportError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message)
    this.name = 'KibanaImportError'
  }
}

export interface KibanaImportOptions {
  /** Base URL without a trailing slash, e.g. http://localhost:5601 or https://ops.example/kibana. */
  baseUrl: string
  space: string | undefined
  file: string
  overwrite: boolean
  flavor: Flavor
  timeoutMs: number
}

export type KibanaArgs = { command: 'help' } | { command: 'import'; options: KibanaImportOptions }

const SPACE_ID = /^[a-z0-9_-]+$/

function checkUrl(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '')
    throw new KibanaImportError('--url is required', 'Give the base URL of Kibana, e.g. --url http://localhost:5601')
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    // Not echoed: a malformed URL may still hold a password.
    throw new KibanaImportError('--url is not a URL', 'Give it with its scheme, e.g. --url http://localhost:5601')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new KibanaImportError(`--url must start with http:// or https://, not ${url.protocol}//`)
  if (url.username || url.password)
    throw new KibanaImportError(
      '--url must not carry credentials',
      'Set KIBANA_USERNAME and KIBANA_PASSWORD, or KIBANA_API_KEY, in the environment instead',
    )
  if (url.search || url.hash) throw new KibanaImportError('--url must not have a query string or a fragment')
  const path = url.pathname.replace(/\/+$/, '')
  if (/\/api(\/|$)/.test(path))
    throw new KibanaImportError(
      '--url is an API path, not the base URL of Kibana',
      'Give the address Kibana is served at (with its base path if it has one); the command adds /api/saved_objects/_import',
    )
  if (/\/s\/[^/]+$/.test(path))
    throw new KibanaImportError('--url ends in a space (/s/<id>)', 'Give the space with --space <id> instead')
  return `${url.origin}${path}`
}

/** Reads the command line of `emporium kibana …`. Throws KibanaImportError on anything it cannot use. */
export function parseKibanaArgs(argv: readonly string[]): KibanaArgs {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw new KibanaImportError((e as Error).message)
    throw e
  }
  const { values, positionals } = parsed
  if (values.help) return { command: 'help' }
  const [sub, ...rest] = positionals
  if (sub === undefined) throw new KibanaImportError('missing the subcommand', 'Use: emporium kibana import --url …')
  if (sub !== 'import') throw new KibanaImportError(`unknown subcommand ${sub}`, 'The only one is: import')
  if (rest.length > 0) throw new KibanaImportError(`unexpected argument ${rest[0]}`)

  const baseUrl = checkUrl(values.url)
  const flavor = (values.flavor ?? 'kibana') as Flavor
  if (!FLAVORS.includes(flavor))
    throw new KibanaImportError(`--flavor must be ${FLAVORS.join(' or ')}, not ${JSON.stringify(values.flavor)}`)
  const space = values.space
  if (space !== undefined) {
    if (flavor === 'opensearch-dashboards')
      throw new KibanaImportError(
        '--space is for Kibana: OpenSearch Dashboards has no spaces',
        'Drop --space (its security plugin chooses tenants with the securitytenant header, which this command does not send)',
      )
    if (!SPACE_ID.test(space) || space.length > 1024)
      throw new KibanaImportError(
        `--space ${JSON.stringify(space.slice(0, 80))} is not a space id`,
        'A space id is lower-case letters, digits, _ and - (the id in /s/<id>/ URLs, not the display name)',
      )
  }
  if (values.overwrite && values['no-overwrite'])
    throw new KibanaImportError('--overwrite and --no-overwrite contradict each other')
  const timeoutRaw = values.timeout ?? String(DEFAULT_TIMEOUT_S)
  const timeout = /^\d{1,3}$/.test(timeoutRaw) ? Number(timeoutRaw) : Number.NaN
  if (!(timeout >= 1 && timeout <= 600))
    throw new KibanaImportError(
      `--timeout must be a whole number of seconds from 1 to 600, not ${JSON.stringify(timeoutRaw)}`,
    )
  if (values.file !== undefined && values.file.trim() === '') throw new KibanaImportError('--file is empty')
  return {
    command: 'import',
    options: {
      baseUrl,
      space: space === 'default' ? undefined : space,
      file: values.file ?? SHIPPED_NDJSON,
      overwrite: !values['no-overwrite'],
      flavor,
      timeoutMs: timeout * 1000,
    },
  }
}

const parse = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    options: {
      url: { type: 'string' },
      space: { type: 'string' },
      file: { type: 'string' },
      flavor: { type: 'string' },
      timeout: { type: 'string' },
      overwrite: { type: 'boolean' },
      'no-overwrite': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  })

/** The endpoint the file is posted to. */
export function importEndpoint(options: Pick<KibanaImportOptions, 'baseUrl' | 'space' | 'overwrite'>): string {
  const space = options.space ? `/s/${options.space}` : ''
  return `${options.baseUrl}${space}/api/saved_objects/_import${options.overwrite ? '?overwrite=true' : ''}`
}

export interface SavedObjectsFile {
  bytes: Uint8Array<ArrayBuffer>
  /** Saved objects in it (an export's trailing summary line is not one). */
  objects: number
}

/** Reads and checks an NDJSON of saved objects; the bytes are sent unchanged. */
export async function readSavedObjectsFile(path: string): Promise<SavedObjectsFile> {
  let bytes: Uint8Array<ArrayBuffer>
  try {
    bytes = new Uint8Array(await readFile(path))
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT')
      throw new KibanaImportError(
        `${path}: no such file`,
        path === SHIPPED_NDJSON
          ? 'The shipped saved objects belong at deploy/kibana/emporium.ndjson beside dist/ (copy it into the image) or pass --file'
          : undefined,
      )
    if (code === 'EISDIR') throw new KibanaImportError(`${path}: is a directory, not an NDJSON file`)
    throw new KibanaImportError(`${path}: cannot be read (${code ?? (e as Error).message})`)
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new KibanaImportError(`${path}: is not UTF-8 text`)
  }
  let objects = 0
  const lines = text.split('\n')
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (e) {
      throw new KibanaImportError(`${path}:${i + 1}: not JSON (${(e as Error).message})`, 'One saved object per line')
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new KibanaImportError(`${path}:${i + 1}: not a JSON object`)
    const o = value as Record<string, unknown>
    if ('exportedCount' in o) continue
    if (typeof o.type !== 'string' || typeof o.id !== 'string' || typeof o.attributes !== 'object' || !o.attributes)
      throw new KibanaImportError(
        `${path}:${i + 1}: a saved object needs a string type and id and an attributes object`,
      )
    objects++
  }
  if (objects === 0) throw new KibanaImportError(`${path}: holds no saved objects`)
  return { bytes, objects }
}

export interface ObjectFailure {
  type: string
  id: string
  title: string | undefined
  reason: string
}

export interface ImportSummary {
  success: boolean
  successCount: number
  /** Objects in the file. */
  total: number
  failures: ObjectFailure[]
  warnings: string[]
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|EPROTO/

/** Why fetch failed, in words: refused, unknown host, TLS, timeout. */
function describeFetchFailure(error: unknown, product: string, origin: string, timeoutMs: number): KibanaImportError {
  const name = (error as { name?: string }).name
  if (name === 'TimeoutError' || name === 'AbortError')
    return new KibanaImportError(
      `${product} at ${origin} did not answer within ${timeoutMs / 1000} s`,
      'Raise --timeout, or check that nothing between here and there holds the request',
    )
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  const code = cause?.code ?? ''
  if (code === 'ECONNREFUSED')
    return new KibanaImportError(
      `cannot connect to ${origin}: connection refused`,
      `Is ${product} running and listening at that address and port?`,
    )
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new KibanaImportError(`cannot resolve the host of ${origin}`)
  if (TLS_CODES.test(code))
    return new KibanaImportError(
      `TLS to ${origin} failed: ${cause?.message ?? code}`,
      'For a private CA, point NODE_EXTRA_CA_CERTS at its certificate; for plain HTTP use http://',
    )
  return new KibanaImportError(`the request to ${origin} failed: ${cause?.message ?? (error as Error).message}`)
}

const HINTS: Record<number, (product: string, auth: KibanaAuth | undefined) => string> = {
  401: (p, auth) =>
    auth
      ? `${p} did not accept the credentials in ${auth.kind === 'basic' ? 'KIBANA_USERNAME / KIBANA_PASSWORD' : 'KIBANA_API_KEY'}`
      : `${p} needs credentials: set KIBANA_USERNAME and KIBANA_PASSWORD, or KIBANA_API_KEY`,
  403: (p) => `The user may not import saved objects here (needs the Saved Objects Management privilege in ${p})`,
  404: (p) =>
    `Is --url the base URL of ${p} (with its base path), and does the space exist? (--space takes the id, not the name)`,
  413: (p) => `The file is larger than ${p} accepts (savedObjects.maxImportPayloadBytes)`,
  415: () => 'The upload was not taken as an .ndjson file',
}

interface ImportReply {
  success?: unknown
  successCount?: unknown
  errors?: {
    type?: string
    id?: string
    title?: string
    meta?: { title?: string }
    error?: { type?: string; message?: string; references?: { type?: string; id?: string }[] }
  }[]
  warnings?: { type?: string; message?: string }[]
}

function failureReason(error: NonNullable<NonNullable<ImportReply['errors']>[number]['error']>): string {
  switch (error.type) {
    case 'conflict':
    case 'ambiguous_conflict':
      return `${error.type}: the object exists already (run without --no-overwrite to replace it)`
    case 'missing_references':
      return `missing_references: ${(error.references ?? []).map((r) => `${r.type} ${r.id}`).join(', ')}`
    case 'unsupported_type':
      return 'unsupported_type: this version does not know the object type'
    default:
      return `${error.type ?? 'unknown'}${error.message ? `: ${error.message}` : ''}`
  }
}

/** Posts the file. Resolves with the summary when the server answered the import (success or not); throws otherwise. */
export async function importSavedObjects(
  options: KibanaImportOptions,
  auth: KibanaAuth | undefined,
): Promise<ImportSummary> {
  const product = PRODUCT[options.flavor]
  const file = await readSavedObjectsFile(options.file)
  const form = new FormData()
  form.append('file', new Blob([file.bytes], { type: 'application/ndjson' }), UPLOAD_FILENAME)
  const headers: Record<string, string> = { [XSRF_HEADER[options.flavor]]: 'true', accept: 'application/json' }
  if (auth?.kind === 'basic')
    headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
  if (auth?.kind === 'apiKey') headers.authorization = `ApiKey ${auth.apiKey}`

  const origin = new URL(options.baseUrl).origin
  let response: Response
  let body: string
  try {
    response = await fetch(importEndpoint(options), {
      method: 'POST',
      headers,
      body: form,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    })
    body = await response.text()
  } catch (e) {
    throw describeFetchFailure(e, product, origin, options.timeoutMs)
  }

  let reply: unknown
  try {
    reply = JSON.parse(body)
  } catch {
    reply = undefined
  }
  const status = response.status
  if (status >= 300 && status < 400)
    throw new KibanaImportError(
      `${product} answered ${status}, a redirect to ${response.headers.get('location') ?? '(nowhere)'}`,
      'Check the base path in --url; a redirect to a login page means the request was not signed in',
    )
  if (status < 200 || status >= 300) {
    const r = (reply ?? {}) as { message?: unknown; error?: unknown }
    const said =
      typeof r.message === 'string' ? r.message : typeof r.error === 'string' ? r.error : body.trim().slice(0, 300)
    throw new KibanaImportError(
      `${product} answered ${status}${said ? `: ${said}` : ''}`,
      HINTS[status]?.(product, auth),
    )
  }
  const r = reply as ImportReply | undefined
  if (!r || typeof r !== 'object' || typeof r.success !== 'boolean')
    throw new KibanaImportError(
      `${product} answered ${status} without the import API's JSON (${response.headers.get('content-type') ?? 'no content type'}: ${JSON.stringify(body.slice(0, 80))})`,
      `Is --url the base URL of ${product}?`,
    )
  return {
    success: r.success,
    successCount: typeof r.successCount === 'number' ? r.successCount : 0,
    total: file.objects,
    failures: (r.errors ?? []).map((e) => ({
      type: e.type ?? '?',
      id: e.id ?? '?',
      title: e.title ?? e.meta?.title,
      reason: failureReason(e.error ?? {}),
    })),
    warnings: (r.warnings ?? []).map((w) => w.message ?? w.type ?? JSON.stringify(w)),
  }
}

/** The lines printed after an answered import. */
export function formatSummary(summary: ImportSummary, options: KibanaImportOptions): string {
  const where = `${PRODUCT[options.flavor]} at ${options.baseUrl}${options.space ? ` (space ${options.space})` : ''}`
  const lines = [
    summary.success
      ? `Imported ${summary.successCount} of ${summary.total} saved objects into ${where}.`
      : `Import into ${where} failed: ${summary.successCount} of ${summary.total} saved objects imported, ${summary.failures.length} refused:`,
  ]
  for (const f of summary.failures) lines.push(`  ${f.type} ${f.id}${f.title ? ` "${f.title}"` : ''}: ${f.reason}`)
  for (const w of summary.warnings) lines.push(`  warning: ${w}`)
  if (summary.success) lines.push('Open Dashboards › "Emporium · Logs" or "Emporium · Operations".')
  return `${lines.join('\n')}\n`
}

export interface KibanaCommandIo {
  /** The credentials from the configuration (read only once the arguments are good). */
  auth: () => KibanaAuth | undefined
  out: (text: string) => void
  err: (text: string) => void
}

/** `emporium kibana …`: returns the exit code. */
export async function kibanaCommand(argv: readonly string[], io: KibanaCommandIo): Promise<number> {
  let options: KibanaImportOptions
  try {
    const args = parseKibanaArgs(argv)
    if (args.command === 'help') {
      io.out(KIBANA_HELP)
      return 0
    }
    options = args.options
  } catch (e) {
    if (!(e instanceof KibanaImportError)) throw e
    io.err(
      `emporium kibana: ${e.message}\n${e.hint ? `  ${e.hint}\n` : ''}  (emporium kibana --help for the options)\n`,
    )
    return 1
  }
  try {
    const summary = await importSavedObjects(options, io.auth())
    ;(summary.success ? io.out : io.err)(formatSummary(summary, options))
    return summary.success ? 0 : 1
  } catch (e) {
    if (!(e instanceof KibanaImportError)) throw e
    io.err(`emporium kibana import: ${e.message}\n${e.hint ? `  ${e.hint}\n` : ''}`)
    return 1
  }
}
