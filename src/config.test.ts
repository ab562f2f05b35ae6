import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config.ts'

describe('config', () => {
  it('has defaults for an empty environment', () => {
    const c = loadConfig({})
    assert.equal(c.port, 3000)
    assert.equal(c.host, '127.0.0.1')
    assert.match(c.dataDir, /\/data$/)
    assert.equal(c.shop.taxRateBp, 800)
    assert.equal(c.authRateLimit, 20)
    assert.equal(c.authAccountRateLimit, 5)
  })

  it('parses percentages into basis points without floats', () => {
    assert.equal(loadConfig({ TAX_RATE: '8.25' }).shop.taxRateBp, 825)
    assert.equal(loadConfig({ TAX_RATE: '0' }).shop.taxRateBp, 0)
    assert.equal(loadConfig({ TAX_RATE: '19.6' }).shop.taxRateBp, 1960)
  })

  const bad: [string, string, RegExp][] = [
    ['PORT', 'abc', /PORT: expected a whole number from 0 to 65535/],
    ['PORT', '70000', /PORT/],
    ['PORT', '3000.5', /PORT/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL: expected one of fatal, error/],
    ['TAX_RATE', '8.255', /TAX_RATE/],
    ['TAX_RATE', '-1', /TAX_RATE/],
    ['CURRENCY', 'usd', /CURRENCY/],
    ['TRUST_PROXY', 'maybe', /TRUST_PROXY: expected true or false/],
    ['AUTH_RATE_LIMIT', '0', /AUTH_RATE_LIMIT/],
    ['EMPORIUM_ADMIN_EMAIL', 'not-an-email', /EMPORIUM_ADMIN_EMAIL/],
    ['HOST', 'bad host!', /HOST/],
  ]
  for (const [name, value, message] of bad) {
    it(`refuses ${name}=${value} and names the variable`, () => {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (e: unknown) => e instanceof ConfigError && e.variable === name && message.test(e.message),
      )
    })
  }

  it('refuses a weak admin password at start-up, before any seeding', () => {
    assert.throws(
      () => loadConfig({ EMPORIUM_ADMIN_EMAIL: 'a@b.co', EMPORIUM_ADMIN_PASSWORD: 'aaaaaaaaaaaa' }),
      (e: unknown) =>
        e instanceof ConfigError && e.variable === 'EMPORIUM_ADMIN_PASSWORD' && /too easy to guess/.test(e.message),
    )
  })

  it('refuses an admin password without an e-mail, and a short one', () => {
    assert.throws(() => loadConfig({ EMPORIUM_ADMIN_PASSWORD: 'long enough password' }), /EMPORIUM_ADMIN_EMAIL/)
    assert.throws(
      () => loadConfig({ EMPORIUM_ADMIN_EMAIL: 'a@b.co', EMPORIUM_ADMIN_PASSWORD: 'short' }),
      (e: unknown) => e instanceof ConfigError && !e.message.includes('short'),
      'the message never echoes the password',
    )
  })

  it('documents every variable it reads', () => {
    const source = loadConfig.toString()
    const read = new Set([...source.matchAll(/\(env, ?['"]([A-Z][A-Z0-9_]+)['"]/g)].map((m) => m[1]))
    assert.ok(read.size >= 15, 'found the parsed variables')
    for (const name of ['HOST', 'DATA_DIR', 'EMPORIUM_ADMIN_EMAIL', 'EMPORIUM_ADMIN_PASSWORD', 'CURRENCY'])
      read.add(name)
    const documented = new Set(CONFIG_VARIABLES.map((v) => v.name))
    for (const name of read) assert.ok(documented.has(name as string), `${name} is documented`)
  })
})

describe('README', () => {
  it('documents every configuration variable', async () => {
    const { readFileSync } = await import('node:fs')
    const readme = readFileSync('README.md', 'utf8')
    for (const v of CONFIG_VARIABLES) assert.ok(readme.includes(`\`${v.name}\``), `README lists ${v.name}`)
  })
})
