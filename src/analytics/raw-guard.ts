// The raw console's statement check: one read-only statement, by a tokenizer that knows comments, string literals,
// dollar quotes and quoted identifiers. It is the first of two guards; each adapter also runs the statement where
// writes and file or network access cannot happen (DuckDB: read-only transaction on a locked, offline database;
// Cassandra: a SELECT is all CQL reads, confined to the store's keyspace).
import { QueryRefused } from '../core/errors.ts'

export type RefusalCode =
  | 'empty'
  | 'multiple_statements'
  | 'not_read_only'
  | 'forbidden_keyword'
  | 'file_or_network_access'
  | 'other_keyspace'
  | 'unterminated'

export function refuse(code: RefusalCode, reason: string): Error {
  return new QueryRefused(reason).withFields({ statement: reason }).withDetails({ refusal: code })
}

export interface Token {
  kind: 'word' | 'quoted' | 'string' | 'number' | 'symbol'
  /** Words upper-cased; quoted identifiers and strings unquoted. */
  text: string
}

/** Splits a statement into tokens, dropping comments; an unterminated comment or literal is refused. */
export function tokenize(statement: string, dialect: 'sql' | 'cql'): Token[] {
  const tokens: Token[] = []
  const s = statement
  let i = 0
  while (i < s.length) {
    const c = s[i]!
    if (/\s/.test(c)) {
      i++
    } else if ((c === '-' && s[i + 1] === '-') || (dialect === 'cql' && c === '/' && s[i + 1] === '/')) {
      const end = s.indexOf('\n', i)
      i = end < 0 ? s.length : end + 1
    } else if (c === '/' && s[i + 1] === '*') {
      // SQL block comments nest (PostgreSQL grammar, which DuckDB follows); CQL's do not.
      let depth = 1
      i += 2
      while (i < s.length && depth > 0) {
        if (s[i] === '*' && s[i + 1] === '/') {
          depth--
          i += 2
        } else if (dialect === 'sql' && s[i] === '/' && s[i + 1] === '*') {
          depth++
          i += 2
        } else i++
      }
      if (depth > 0) throw refuse('unterminated', 'a comment is not closed')
    } else if (c === "'" || ((c === 'E' || c === 'e') && s[i + 1] === "'" && dialect === 'sql')) {
      const escapes = c !== "'"
      i += escapes ? 2 : 1
      let text = ''
      for (;;) {
        if (i >= s.length) throw refuse('unterminated', 'a string literal is not closed')
        const ch = s[i]!
        if (escapes && ch === '\\') {
          text += s[i + 1] ?? ''
          i += 2
        } else if (ch === "'" && s[i + 1] === "'") {
          text += "'"
          i += 2
        } else if (ch === "'") {
          i++
          break
        } else {
          text += ch
          i++
        }
      }
      tokens.push({ kind: 'string', text })
    } else if (c === '"') {
      i++
      let text = ''
      for (;;) {
        if (i >= s.length) throw refuse('unterminated', 'a quoted identifier is not closed')
        if (s[i] === '"' && s[i + 1] === '"') {
          text += '"'
          i += 2
        } else if (s[i] === '"') {
          i++
          break
        } else text += s[i++]
      }
      tokens.push({ kind: 'quoted', text })
    } else if (c === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(s.slice(i))
      if (!tag) {
        tokens.push({ kind: 'symbol', text: c }) // $1 parameters
        i++
        continue
      }
      const end = s.indexOf(tag[0], i + tag[0].length)
      if (end < 0) throw refuse('unterminated', 'a dollar-quoted string is not closed')
      tokens.push({ kind: 'string', text: s.slice(i + tag[0].length, end) })
      i = end + tag[0].length
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(s.slice(i))!
      tokens.push({ kind: 'word', text: m[0].toUpperCase() })
      i += m[0].length
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9][0-9A-Za-z_.]*/.exec(s.slice(i))!
      tokens.push({ kind: 'number', text: m[0] })
      i += m[0].length
    } else {
      tokens.push({ kind: 'symbol', text: c })
      i++
    }
  }
  return tokens
}

/** Statements and clauses that change data, schema, settings, sessions or files, or run other statements. */
const WRITE_OR_CONTROL = new Set([
  'INSERT',
  'UPDATE',
  'DELETE',
  'DROP',
  'TRUNCATE',
  'ALTER',
  'CREATE',
  'GRANT',
  'REVOKE',
  'MERGE',
  'UPSERT',
  'COPY',
  'ATTACH',
  'DETACH',
  'INSTALL',
  'LOAD',
  'FORCE',
  'PRAGMA',
  'SET',
  'RESET',
  'CALL',
  'EXECUTE',
  'PREPARE',
  'DEALLOCATE',
  'EXPORT',
  'IMPORT',
  'VACUUM',
  'CHECKPOINT',
  'ANALYZE',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'ABORT',
  'USE',
  'BATCH',
  'APPLY',
  'COMMENT',
  'SECRET',
])

/** DuckDB table and scalar functions that read or write files or the network, or run SQL given as text. */
const DUCKDB_FILE_FUNCTIONS = new Set([
  'GLOB',
  'SNIFF_CSV',
  'QUERY',
  'QUERY_TABLE',
  'FORCE_CHECKPOINT',
  'CHECKPOINT',
  'GETENV',
  'LOAD_EXTENSION',
  'DUCKDB_SECRETS',
  'WHICH_SECRET',
  'ICEBERG_METADATA',
  'ICEBERG_SNAPSHOTS',
  'DELTA_SCAN',
  'HTTP_GET',
  'HTTP_POST',
  'WRITE_CSV',
  'WRITE_PARQUET',
])
const DUCKDB_FILE_PATTERNS = [/^READ_/, /_SCAN$/, /_ATTACH$/, /^PARQUET_/, /^WRITE_/, /^HTTP/]

function isFileFunction(name: string): boolean {
  return DUCKDB_FILE_FUNCTIONS.has(name) || DUCKDB_FILE_PATTERNS.some((p) => p.test(name))
}

/** Drops trailing `;` and refuses any other one: exactly one statement. */
function singleStatement(tokens: Token[]): Token[] {
  let end = tokens.length
  while (end > 0 && tokens[end - 1]!.kind === 'symbol' && tokens[end - 1]!.text === ';') end--
  const body = tokens.slice(0, end)
  if (body.length === 0) throw refuse('empty', 'the statement is empty')
  if (body.some((t) => t.kind === 'symbol' && t.text === ';'))
    throw refuse('multiple_statements', 'only one statement may run; remove the `;` that starts another')
  return body
}

function forbiddenWords(tokens: Token[]): void {
  const word = tokens.find((t) => t.kind === 'word' && WRITE_OR_CONTROL.has(t.text))
  if (word) throw refuse('forbidden_keyword', `${word.text} is not allowed; the console only reads`)
}

/**
 * Checks a DuckDB SQL statement: one SELECT (or WITH … SELECT, FROM-first, VALUES), with no write or control keyword
 * and no call of a function that reaches files, the network or other SQL, and no file path in FROM.
 */
export function checkSqlStatement(statement: string): void {
  const tokens = singleStatement(tokenize(statement, 'sql'))
  let first = 0
  while (tokens[first]?.kind === 'symbol' && tokens[first]!.text === '(') first++
  const lead = tokens[first]
  if (lead?.kind !== 'word' || !['SELECT', 'WITH', 'FROM', 'VALUES'].includes(lead.text))
    throw refuse('not_read_only', 'the statement must be a SELECT (or WITH … SELECT)')
  forbiddenWords(tokens)
  tokens.forEach((t, i) => {
    const name = t.kind === 'word' ? t.text : t.kind === 'quoted' ? t.text.toUpperCase() : undefined
    const next = tokens[i + 1]
    const called = next?.kind === 'symbol' && next.text === '('
    if (name !== undefined && called && isFileFunction(name))
      throw refuse('file_or_network_access', `${name.toLowerCase()} reaches files, the network or other SQL`)
    const previous = tokens[i - 1]
    if (t.kind === 'string' && previous?.kind === 'word' && (previous.text === 'FROM' || previous.text === 'JOIN'))
      throw refuse('file_or_network_access', 'a string after FROM or JOIN names a file')
  })
}

/**
 * Checks a CQL statement: one SELECT, with no write or control keyword, reading a table of `keyspace` (unqualified
 * names resolve to it).
 */
export function checkCqlStatement(statement: string, keyspace: string): void {
  const tokens = singleStatement(tokenize(statement, 'cql'))
  if (tokens[0]?.kind !== 'word' || tokens[0].text !== 'SELECT')
    throw refuse('not_read_only', 'the statement must be a CQL SELECT')
  forbiddenWords(tokens)
  const from = tokens.findIndex((t) => t.kind === 'word' && t.text === 'FROM')
  if (from < 0) throw refuse('not_read_only', 'a CQL SELECT needs FROM <table>')
  const name = tokens[from + 1]
  const dot = tokens[from + 2]
  if (name && dot?.kind === 'symbol' && dot.text === '.') {
    const named = name.kind === 'quoted' ? name.text : name.text.toLowerCase()
    if (named !== keyspace) throw refuse('other_keyspace', `only tables of keyspace ${keyspace} may be read`)
  }
}
