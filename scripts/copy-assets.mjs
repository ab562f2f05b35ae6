#!/usr/bin/env node
// Copies what the compiled server reads at start-up (stylesheet, browser script sources) next to dist/web/assets.
import { cpSync, mkdirSync } from 'node:fs'

mkdirSync('dist/web/assets', { recursive: true })
cpSync('src/web/assets/styles.css', 'dist/web/assets/styles.css')
cpSync('src/web/assets/client', 'dist/web/assets/client', { recursive: true })
