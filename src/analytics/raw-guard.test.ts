// The raw console's statement check, without an engine: what the tokenizer sees and what each dialect lets through.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { EmporiumError } from '../core/errors.ts'
import { checkCqlStatement, checkSqlStatement, tokenize } from './raw-guard.ts'

const refusal = (fn: () => void): string | undefined => {
  try {
    fn()
    return undefined
  } catch (e) {
    assert.ok(e instanceof EmporiumError, String(e))
    assert.equal(e.code, 'EMP_QUERY_REFUSED')
    return e.details?.refusal as string
  }
}

describe('raw guard › tokenize', () => {
  it('drops comments and keeps strings, quoted identifiers and dollar quotes whole', () => {
    const tokens = tokenize(`SELECT 'a;b', "x""y", $$ ; $$, $t$ '; $t$ -- ; DROP\n /* ; /* ; */ ; */ FROM t`, 'sql')
    assert.deepEqual(tokens, [
      { kind: 'word', text: 'SELECT' },
      { kind: 'string', text: 'a;b' },
      { kind: 'symbol', text: ',' },
      { kind: 'quoted', text: 'x"y' },
      { kind: 'symbol', text: ',' },
      { kind: 'string', text: ' ; ' },
      { kind: 'symbol', text: ',' },
      { kind: 'string', text: " '; " },
      { kind: 'word', text: 'FROM' },
      { kind: 'word', text: 'T' },
    ])
  })
  it('CQL block comments do not nest, and // starts a comment', () => {
    assert.deepEqual(
      tokenize('SELECT /* /* */ a // b\nFROM t', 'cql').map((t) => t.text),
      ['SELECT', 'A', 'FROM', 'T'],
    )
  })
})

describe('raw guard › SQL', () => {
  it('lets reads through: SELECT, WITH, FROM-first, VALUES, a parenthesised SELECT, a trailing ;', () => {
    for (const ok of [
      'SELECT 1',
      'select 1;;',
      'WITH a AS (SELECT 1) SELECT * FROM a',
      'FROM order_lines SELECT count(*)',
      'VALUES (1), (2)',
      '(SELECT 1) UNION (SELECT 2)',
      `SELECT 'DROP TABLE x; --' AS s`,
      'SELECT "update" FROM t',
      'SELECT read_count FROM t',
    ])
      assert.equal(
        refusal(() => checkSqlStatement(ok)),
        undefined,
        ok,
      )
  })
  it('names why a statement is refused', () => {
    assert.equal(
      refusal(() => checkSqlStatement('')),
      'empty',
    )
    assert.equal(
      refusal(() => checkSqlStatement('SELECT 1; SELECT 2')),
      'multiple_statements',
    )
    assert.equal(
      refusal(() => checkSqlStatement('DESCRIBE t')),
      'not_read_only',
    )
    assert.equal(
      refusal(() => checkSqlStatement('SELECT * FROM t WHERE x IN (DELETE FROM t RETURNING x)')),
      'forbidden_keyword',
    )
    assert.equal(
      refusal(() => checkSqlStatement('WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d')),
      'forbidden_keyword',
    )
    assert.equal(
      refusal(() => checkSqlStatement(`SELECT * FROM read_csv_auto('/etc/passwd')`)),
      'file_or_network_access',
    )
    assert.equal(
      refusal(() => checkSqlStatement(`SELECT 1 /* never closed`)),
      'unterminated',
    )
  })
})

describe('raw guard › CQL', () => {
  it('lets a SELECT of the keyspace through, qualified or not', () => {
    for (const ok of [
      'SELECT * FROM events_by_day',
      'SELECT * FROM ks1.events_by_day WHERE day = ? LIMIT 10;',
      'SELECT count(*) FROM "ks1".order_lines_by_day',
    ])
      assert.equal(
        refusal(() => checkCqlStatement(ok, 'ks1')),
        undefined,
        ok,
      )
  })
  it('refuses writes, batches, USE and other keyspaces', () => {
    assert.equal(
      refusal(() => checkCqlStatement('BEGIN BATCH INSERT INTO t (a) VALUES (1) APPLY BATCH', 'ks1')),
      'not_read_only',
    )
    assert.equal(
      refusal(() => checkCqlStatement('USE system', 'ks1')),
      'not_read_only',
    )
    assert.equal(
      refusal(() => checkCqlStatement('SELECT * FROM system_auth.roles', 'ks1')),
      'other_keyspace',
    )
    assert.equal(
      refusal(() => checkCqlStatement('SELECT * FROM t; DROP TABLE t', 'ks1')),
      'multiple_statements',
    )
    assert.equal(
      refusal(() => checkCqlStatement('SELECT * FROM t USING TIMEOUT 1s; TRUNCATE t', 'ks1')),
      'multiple_statements',
    )
  })
})
