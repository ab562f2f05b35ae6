// The operator query syntax of the log explorer (a Lucene-like subset), parsed into an AST both LogIndex adapters compile.
//
//   level:error AND path:/checkout* "payment declined"     fields, trailing-* prefixes, phrases; adjacency means AND
//   status:>=500   status:[400 TO 499]   duration:{1s TO *}   comparisons and ranges ([ ] inclusive, { } exclusive)
//   NOT user:u1   -user:u1   (level:warn OR level:error)      NOT binds tighter than AND, AND tighter than OR
//   timeout   time*   message:"gateway timeout"   user:*     bare words/phrases search message and error.message
//
// Values with spaces or specials are quoted ("…") or backslash-escaped; only the first `:` separates field from value
// (`route:/api/v1/orders/:id`). `event.duration` takes nanoseconds or a unit: 500ms, 1.5s, 250us, 2m. Dates take
// ISO-8601 or epoch ms. Bad input fails with EMP_VALIDATION, `fields.q` naming the reason and the 1-based position.
import { ValidationFailed } from '../core/errors.ts'
import { DEFAULT_TEXT_FIELDS, type FieldSpec, knownFieldNames, resolveField } from './fields.ts'
import { parseTimestamp } from './time.ts'

export type QueryNode =
  | { kind: 'all' }
  | { kind: 'and'; children: QueryNode[] }
  | { kind: 'or'; children: QueryNode[] }
  | { kind: 'not'; child: QueryNode }
  /** A phrase (one word is a phrase of one) over text fields; `prefix`: one lower-cased word, matched as a prefix. */
  | { kind: 'text'; fields: string[]; text: string; prefix: boolean }
  /** Exact value of a keyword (string) or numeric (number) field. */
  | { kind: 'term'; field: string; value: string | number }
  /** Case-sensitive prefix of a keyword field. */
  | { kind: 'prefix'; field: string; value: string }
  /** Numeric or date (epoch ms) bounds; absent bounds are open. */
  | { kind: 'range'; field: string; gt?: number; gte?: number; lt?: number; lte?: number }
  | { kind: 'exists'; field: string }

export const QUERY_LIMITS = { maxLength: 1000, maxDepth: 12, maxClauses: 64 } as const

export const MATCH_ALL: QueryNode = { kind: 'all' }

class QuerySyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly index: number,
  ) {
    super(reason)
  }
}

/** Parses operator syntax into an AST; an absent or blank query matches everything. Throws EMP_VALIDATION. */
export function parseQuery(q: unknown): QueryNode {
  if (q === undefined || q === null) return MATCH_ALL
  if (typeof q !== 'string') throw invalid('must be a string', 0)
  try {
    return new Parser(q).parse()
  } catch (error) {
    if (error instanceof QuerySyntaxError) throw invalid(error.reason, error.index)
    throw error
  }
}

function invalid(reason: string, index: number) {
  const position = index + 1
  const where = `${reason} (at position ${position})`
  return new ValidationFailed(`The query is not valid: ${where}`).withFields({ q: where }).withDetails({ position })
}

const FIELD_PREFIX = /[A-Za-z_@][A-Za-z0-9_.@]*:/y
const UNPAIRED_SURROGATE = /\p{Cs}/u
const WORD_CHARS = /[\p{L}\p{N}]/u
const SINGLE_WORD = /^[\p{L}\p{N}_]+$/u
/** Index of the first control character other than tab/newline/return, or of an unpaired surrogate; else -1. */
function forbiddenCharacter(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return i
  }
  return s.search(UNPAIRED_SURROGATE)
}

const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c)

interface Word {
  text: string
  /** An unescaped `*` ended the word (and is not in `text`). */
  prefix: boolean
  /** Index of an unescaped `*` before the end, or -1. */
  innerStar: number
}

class Parser {
  private i = 0
  private depth = 0
  private clauses = 0

  constructor(private readonly s: string) {}

  parse(): QueryNode {
    if (this.s.length > QUERY_LIMITS.maxLength)
      this.fail(`is longer than ${QUERY_LIMITS.maxLength} characters`, QUERY_LIMITS.maxLength)
    const bad = forbiddenCharacter(this.s)
    if (bad >= 0) {
      const code = this.s.charCodeAt(bad).toString(16).toUpperCase().padStart(4, '0')
      this.fail(`contains the control or unpaired character U+${code}`, bad)
    }
    this.skipSpace()
    if (this.atEnd()) return MATCH_ALL
    const node = this.parseOr()
    this.skipSpace()
    if (!this.atEnd()) this.fail('unmatched ")"', this.i)
    return node
  }

  private parseOr(): QueryNode {
    const children = [this.parseAnd()]
    while (this.peekKeyword('OR')) {
      const at = this.i
      this.i += 2
      if (!this.hasOperand()) this.fail('OR needs a clause on its right', at)
      children.push(this.parseAnd())
    }
    return combine('or', children)
  }

  private parseAnd(): QueryNode {
    const children: QueryNode[] = []
    for (;;) {
      this.skipSpace()
      if (this.atEnd() || this.s[this.i] === ')' || this.peekKeyword('OR')) break
      if (this.peekKeyword('AND')) {
        const at = this.i
        if (children.length === 0) this.fail('AND needs a clause on its left', at)
        this.i += 3
        if (!this.hasOperand()) this.fail('AND needs a clause on its right', at)
      }
      children.push(this.parseUnary())
    }
    if (children.length === 0) {
      if (this.peekKeyword('OR')) this.fail('OR needs a clause on its left', this.i)
      this.fail('expected a clause', this.i)
    }
    return combine('and', children)
  }

  private parseUnary(): QueryNode {
    this.skipSpace()
    const at = this.i
    if (this.peekKeyword('NOT')) {
      this.i += 3
      if (!this.hasOperand()) this.fail('NOT needs a clause after it', at)
      return this.nested(at, () => negate(this.parseUnary()))
    }
    if (this.s[this.i] === '-') {
      const next = this.s[this.i + 1]
      if (next === undefined || isSpace(next) || next === ')') this.fail('"-" needs a clause right after it', at)
      this.i++
      return this.nested(at, () => negate(this.parseUnary()))
    }
    return this.parsePrimary()
  }

  private parsePrimary(): QueryNode {
    const at = this.i
    const c = this.s[this.i]
    if (c === '(') {
      return this.nested(at, () => {
        this.i++
        this.skipSpace()
        if (this.s[this.i] === ')') this.fail('empty parentheses', at)
        const inner = this.parseOr()
        this.skipSpace()
        if (this.s[this.i] !== ')') this.fail('"(" is never closed', at)
        this.i++
        return inner
      })
    }
    if (c === '"') return this.leaf(at, this.textNode([...DEFAULT_TEXT_FIELDS], this.readQuoted(), false, at))
    FIELD_PREFIX.lastIndex = this.i
    const field = FIELD_PREFIX.exec(this.s)
    if (field) {
      this.i += field[0].length
      return this.leaf(at, this.parseFieldValue(field[0].slice(0, -1), at))
    }
    const word = this.readWord()
    if (word.innerStar >= 0) this.fail('only a trailing * is supported', word.innerStar)
    if (word.prefix && word.text === '') return MATCH_ALL
    return this.leaf(at, this.textNode([...DEFAULT_TEXT_FIELDS], word.text, word.prefix, at))
  }

  private parseFieldValue(name: string, at: number): QueryNode {
    const field = resolveField(name)
    if (!field) {
      const known = knownFieldNames().slice(0, 14).join(', ')
      this.fail(`unknown field "${name}" (known: ${known}, …)`, at)
    }
    const valueAt = this.i
    const c = this.s[this.i]
    if (c === undefined || isSpace(c) || c === ')') this.fail(`${name}: needs a value`, valueAt)
    if (c === '(') this.fail(`${name}:(…) is not supported; write (${name}:a OR ${name}:b)`, valueAt)
    if (c === '"') return this.valueNode(field, name, this.readQuoted(), valueAt)
    if (c === '[' || c === '{') return this.parseRange(field, name, at)
    if (c === '>' || c === '<') {
      const op = this.s[this.i + 1] === '=' ? `${c}=` : c
      this.i += op.length
      const boundAt = this.i
      const word = this.readWord()
      if (word.text === '' && !word.prefix) this.fail(`${name}:${op} needs a value right after it`, boundAt)
      if (word.prefix || word.innerStar >= 0) this.fail('* cannot be used in a comparison', boundAt)
      this.requireOrdered(field, name, at)
      const bound = this.bound(field, name, word.text, boundAt)
      const key = ({ '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte' } as const)[op as '>' | '>=' | '<' | '<=']
      return { kind: 'range', field: field.path, [key]: bound }
    }
    const word = this.readWord()
    if (word.innerStar >= 0) this.fail('only a trailing * is supported', word.innerStar)
    if (word.prefix && word.text === '') return { kind: 'exists', field: field.path }
    if (word.prefix) {
      if (field.type === 'keyword') return { kind: 'prefix', field: field.path, value: word.text }
      if (field.type === 'text') return this.textNode([field.path], word.text, true, valueAt)
      this.fail(`${name} is a ${typeName(field)} field: a * prefix works on text and keyword fields`, valueAt)
    }
    return this.valueNode(field, name, word.text, valueAt)
  }

  private valueNode(field: FieldSpec, name: string, value: string, at: number): QueryNode {
    switch (field.type) {
      case 'text':
        return this.textNode([field.path], value, false, at)
      case 'keyword':
        return { kind: 'term', field: field.path, value: field.path === 'log.level' ? value.toLowerCase() : value }
      case 'long':
        return { kind: 'term', field: field.path, value: this.bound(field, name, value, at) }
      case 'date': {
        const ms = this.bound(field, name, value, at)
        return { kind: 'range', field: field.path, gte: ms, lte: ms }
      }
    }
  }

  private parseRange(field: FieldSpec, name: string, fieldAt: number): QueryNode {
    const at = this.i
    const inclusiveLow = this.s[this.i] === '['
    this.i++
    this.skipSpace()
    const lowAt = this.i
    const low = this.readBound()
    this.skipSpace()
    if (low === 'TO') this.fail('a range bound is missing (use * for an open end)', lowAt)
    if (!(this.s.startsWith('TO', this.i) && (isSpace(this.s[this.i + 2]) || this.i + 2 === this.s.length)))
      this.fail('a range needs the form [low TO high]', this.i)
    this.i += 2
    this.skipSpace()
    const highAt = this.i
    const high = this.readBound()
    this.skipSpace()
    const close = this.s[this.i]
    if (close !== ']' && close !== '}') this.fail('the range is never closed with ] or }', at)
    this.i++
    this.requireOrdered(field, name, fieldAt)
    const node: Extract<QueryNode, { kind: 'range' }> = { kind: 'range', field: field.path }
    if (low !== '*') node[inclusiveLow ? 'gte' : 'gt'] = this.bound(field, name, low, lowAt)
    if (high !== '*') node[close === ']' ? 'lte' : 'lt'] = this.bound(field, name, high, highAt)
    if (low === '*' && high === '*') return { kind: 'exists', field: field.path }
    return node
  }

  private requireOrdered(field: FieldSpec, name: string, at: number): void {
    if (field.type !== 'long' && field.type !== 'date')
      this.fail(`${name} is a ${typeName(field)} field: ranges and comparisons need a number or date field`, at)
  }

  /** A bound of a numeric or date field: a whole number (event.duration: with a unit) or a date, as epoch ms. */
  private bound(field: FieldSpec, name: string, text: string, at: number): number {
    if (field.type === 'date') {
      const ms = parseTimestamp(text)
      if (ms === undefined) this.fail(`${name}: "${clip(text)}" is not a date (ISO-8601 or epoch ms)`, at)
      return ms
    }
    if (field.path === 'event.duration') {
      const m = /^(-?\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)?$/.exec(text)
      if (m) {
        const n = Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 'ns']!)
        if (Number.isSafeInteger(n)) return n
      }
      this.fail(`${name}: "${clip(text)}" is not a duration (nanoseconds, or a number with ns, us, ms, s, m, h)`, at)
    }
    if (/^-?\d{1,16}$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text)
    this.fail(`${name}: "${clip(text)}" is not a whole number`, at)
  }

  private textNode(fields: string[], text: string, prefix: boolean, at: number): QueryNode {
    if (prefix) {
      if (!SINGLE_WORD.test(text)) this.fail('a * prefix on text works on a single word of letters and digits', at)
      return { kind: 'text', fields, text: text.toLowerCase(), prefix: true }
    }
    if (!WORD_CHARS.test(text)) this.fail(`"${clip(text)}" has no letters or digits to search for`, at)
    return { kind: 'text', fields, text, prefix: false }
  }

  private leaf(at: number, node: QueryNode): QueryNode {
    if (++this.clauses > QUERY_LIMITS.maxClauses) this.fail(`has more than ${QUERY_LIMITS.maxClauses} clauses`, at)
    return node
  }

  private nested(at: number, parse: () => QueryNode): QueryNode {
    if (++this.depth > QUERY_LIMITS.maxDepth)
      this.fail(`nests parentheses or negations deeper than ${QUERY_LIMITS.maxDepth}`, at)
    const node = parse()
    this.depth--
    return node
  }

  private readQuoted(): string {
    const at = this.i
    this.i++
    let text = ''
    for (;;) {
      const c = this.s[this.i]
      if (c === undefined) this.fail('the quote is never closed', at)
      this.i++
      if (c === '"') return text
      if (c === '\\') {
        const next = this.s[this.i]
        if (next === undefined) this.fail('the quote is never closed', at)
        text += next
        this.i++
      } else text += c
    }
  }

  /** Reads up to a space, a parenthesis, a quote or the end; `\x` stands for x. */
  private readWord(): Word {
    let text = ''
    let innerStar = -1
    let starAt = -1
    while (!this.atEnd()) {
      const c = this.s[this.i]!
      if (isSpace(c) || c === '(' || c === ')' || c === '"') break
      if (c === '\\') {
        const next = this.s[this.i + 1]
        if (next === undefined) this.fail('a trailing "\\" escapes nothing', this.i)
        if (starAt >= 0 && innerStar < 0) innerStar = starAt
        text += next
        this.i += 2
        continue
      }
      if (starAt >= 0 && innerStar < 0) innerStar = starAt
      if (c === '*') starAt = this.i
      else text += c
      this.i++
    }
    if (starAt >= 0 && innerStar < 0) return { text, prefix: true, innerStar }
    return { text, prefix: false, innerStar }
  }

  private readBound(): string {
    if (this.atEnd()) this.fail('the range is never closed with ] or }', this.i)
    if (this.s[this.i] === '"') return this.readQuoted()
    const at = this.i
    while (!this.atEnd()) {
      const c = this.s[this.i]!
      if (isSpace(c) || c === ']' || c === '}') break
      this.i++
    }
    if (this.i === at) this.fail('a range bound is missing (use * for an open end)', at)
    return this.s.slice(at, this.i)
  }

  private hasOperand(): boolean {
    this.skipSpace()
    return !this.atEnd() && this.s[this.i] !== ')' && !this.peekKeyword('OR') && !this.peekKeyword('AND')
  }

  private peekKeyword(keyword: 'AND' | 'OR' | 'NOT'): boolean {
    if (!this.s.startsWith(keyword, this.i)) return false
    const after = this.s[this.i + keyword.length]
    return after === undefined || isSpace(after) || after === '(' || after === ')' || after === '"'
  }

  private skipSpace(): void {
    while (isSpace(this.s[this.i])) this.i++
  }

  private atEnd(): boolean {
    return this.i >= this.s.length
  }

  private fail(reason: string, index: number): never {
    throw new QuerySyntaxError(reason, index)
  }
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }

const typeName = (field: FieldSpec): string => (field.type === 'long' ? 'numeric' : field.type)
const clip = (text: string): string => (text.length > 40 ? `${text.slice(0, 40)}…` : text)

function negate(child: QueryNode): QueryNode {
  return child.kind === 'not' ? child.child : { kind: 'not', child }
}

function combine(kind: 'and' | 'or', parts: QueryNode[]): QueryNode {
  const children: QueryNode[] = []
  for (const part of parts) {
    if (part.kind === 'all') {
      if (kind === 'or') return MATCH_ALL
      continue
    }
    if (part.kind === kind) children.push(...part.children)
    else children.push(part)
  }
  if (children.length === 0) return MATCH_ALL
  if (children.length === 1) return children[0]!
  return { kind, children }
}

/** A compact S-expression of the AST, for tests and debug logs: `(and (term log.level "error") (not …))`. */
export function formatQuery(node: QueryNode): string {
  switch (node.kind) {
    case 'all':
      return '*'
    case 'and':
    case 'or':
      return `(${node.kind} ${node.children.map(formatQuery).join(' ')})`
    case 'not':
      return `(not ${formatQuery(node.child)})`
    case 'text':
      return `(${node.prefix ? 'text-prefix' : 'text'} ${node.fields.join(',')} ${JSON.stringify(node.text)})`
    case 'term':
      return `(term ${node.field} ${JSON.stringify(node.value)})`
    case 'prefix':
      return `(prefix ${node.field} ${JSON.stringify(node.value)})`
    case 'exists':
      return `(exists ${node.field})`
    case 'range': {
      const bounds = (['gt', 'gte', 'lt', 'lte'] as const)
        .filter((k) => node[k] !== undefined)
        .map((k) => `${k} ${node[k]}`)
      return `(range ${node.field} ${bounds.join(' ')})`
    }
  }
}
