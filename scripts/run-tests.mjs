#!/usr/bin/env node
// Finds the test files for one suite and hands them to Node's built-in test runner (Node 20 has no globbing in --test).
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const suite = process.argv[2] ?? 'unit'
const roots = ['src', 'test']
const files = []
const walk = (dir) => {
  let entries
  try {
    entries = readdirSync(dir)
  } catch {
    return
  }
  for (const name of entries) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else if (
      suite === 'stack'
        ? name.endsWith('.stack.test.ts')
        : name.endsWith('.test.ts') && !name.endsWith('.stack.test.ts')
    )
      files.push(path)
  }
}
roots.forEach(walk)
const extra = process.argv.slice(3)
const selected = extra.length ? files.filter((f) => extra.some((e) => f.includes(e))) : files
if (selected.length === 0) {
  console.error(`no ${suite} test files found`)
  process.exit(1)
}
const concurrency = suite === 'stack' ? '1' : String(Math.max(2, Number(process.env.TEST_CONCURRENCY ?? 2)))
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...selected],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
)
process.exit(result.status ?? 1)
