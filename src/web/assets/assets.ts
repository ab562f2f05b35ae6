// Static assets assembled at start-up: the stylesheet, the bundled enhancement script and the Inter font files,
// each served under a content hash with a year-long immutable cache.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export interface Asset {
  body: Buffer
  type: string
}

export interface AssetManifest {
  /** logical name → public path, e.g. 'styles.css' → '/assets/styles.3f2a9c1d.css' */
  paths: Record<string, string>
  files: Map<string, Asset>
}

const hashOf = (body: Buffer | string) => createHash('sha256').update(body).digest('hex').slice(0, 10)
const here = (name: string) => fileURLToPath(new URL(name, import.meta.url))

export async function buildAssets(): Promise<AssetManifest> {
  const files = new Map<string, Asset>()
  const paths: Record<string, string> = {}
  const add = (logical: string, body: Buffer, type: string) => {
    const dot = logical.lastIndexOf('.')
    const path = `/assets/${logical.slice(0, dot)}.${hashOf(body)}${logical.slice(dot)}`
    files.set(path, { body, type })
    paths[logical] = path
    return path
  }

  const require = createRequire(import.meta.url)
  let css = readFileSync(here('./styles.css'), 'utf8')
  for (const weight of [400, 600, 700]) {
    const font = readFileSync(require.resolve(`@fontsource/inter/files/inter-latin-${weight}-normal.woff2`))
    const path = add(`inter-${weight}.woff2`, font, 'font/woff2')
    css = css.replace(`/assets/inter-${weight}.woff2`, path)
  }
  add('styles.css', Buffer.from(css), 'text/css; charset=utf-8')

  for (const [name, bundle] of Object.entries(CLIENT_BUNDLES))
    add(name, await clientScript(bundle), 'text/javascript; charset=utf-8')
  return { paths, files }
}

/**
 * The browser scripts: `main.js` on every page (progressive enhancement), `ops.js` only on the observability pages
 * (it carries Chart.js, which no storefront page should download). Entry under client/ → prebuilt file name.
 */
export const CLIENT_BUNDLES = {
  'main.js': { entry: 'main.ts', prebuilt: 'client.bundle.js' },
  'ops.js': { entry: 'ops.ts', prebuilt: 'ops.bundle.js' },
} as const

/** The options `npm run build` bundles the browser script with (scripts/copy-assets.mjs) and start-up from sources. */
export const CLIENT_BUNDLE_OPTIONS = {
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  logLevel: 'silent',
} as const

/**
 * The bundled browser script: prebuilt by `npm run build` next to the compiled server (so a production process
 * never loads esbuild, nor starts its service process), bundled on the fly when running from the sources.
 */
async function clientScript(bundle: { entry: string; prebuilt: string }): Promise<Buffer> {
  try {
    return readFileSync(here(`./${bundle.prebuilt}`))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  const { build } = await import('esbuild')
  const script = await build({
    ...CLIENT_BUNDLE_OPTIONS,
    entryPoints: [here(`./client/${bundle.entry}`)],
    write: false,
  })
  const js = script.outputFiles[0]
  if (!js) throw new Error('esbuild produced no script')
  return Buffer.from(js.contents)
}
