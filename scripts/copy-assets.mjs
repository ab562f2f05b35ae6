#!/usr/bin/env node
// Puts what the compiled server reads at start-up next to dist/web/assets: the stylesheet and the browser script,
// bundled here once (with the options the server uses when it runs from the sources) so production never loads esbuild.
import { cpSync, mkdirSync } from 'node:fs'
import { build } from 'esbuild'
import { CLIENT_BUNDLE_OPTIONS, CLIENT_BUNDLES } from '../dist/web/assets/assets.js'

mkdirSync('dist/web/assets', { recursive: true })
cpSync('src/web/assets/styles.css', 'dist/web/assets/styles.css')
for (const bundle of Object.values(CLIENT_BUNDLES))
  await build({
    ...CLIENT_BUNDLE_OPTIONS,
    entryPoints: [`src/web/assets/client/${bundle.entry}`],
    outfile: `dist/web/assets/${bundle.prebuilt}`,
  })
