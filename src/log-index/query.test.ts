import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { EmporiumError } from '../core/errors.ts'
import { formatQuery, parseQuery, QUERY_LIMITS } from './query.ts'

const parsed = (q: string | undefined): string => formatQuery(parseQuery(q))

/** Asserts EMP_VALIDATION with fields.q matching `reason` and the 1-based position. */
function rejects(q: unknown, reason: RegExp, position?: number): void {
  assert.throws(
    () => parseQuery(q),
    (error: unknown) => {
      assert.ok(error instanceof EmporiumError, `not an EmporiumError: ${String(error)}`)
      assert.equal(error.code, 'EMP_VALIDATION')
      assert.equal(error.statusCode, 400)
      assert.match(error.fields?.q ?? '', reason)
      if (position !== undefined) {
        assert.equal(error.details?.position, position, error.fields?.q)
        assert.match(error.fields?.q ?? '', new RegExp(`at position ${position}\\)$`))
      }
      return true
    },
    `expected ${JSON.stringify(q)} to be rejected`,
  )
}

describe('query parser', () => {
  describe('fields and values', () => {
    const cases: [string, string][] = [
      ['level:error', '(term log.level "error")'],
      ['level:ERROR', '(term log.level "error")'],
      ['log.level:warn', '(term log.level "warn")'],
      ['status:500', '(term http.response.status_code 500)'],
      ['http.response.status_code:404', '(term http.response.status_code 404)'],
      ['path:/api/v1/checkout', '(term url.path "/api/v1/checkout")'],
      ['route:/api/v1/orders/:id', '(term url.route "/api/v1/orders/:id")'],
      ['method:POST', '(term http.request.method "POST")'],
      ['category:security', '(term event.category "security")'],
      ['user:usr_01936b2e', '(term user.id "usr_01936b2e")'],
      ['trace:4bf92f3577b34da6a3ce929d0e0e4736', '(term trace.id "4bf92f3577b34da6a3ce929d0e0e4736")'],
      ['ip:10.0.0.7', '(term client.ip "10.0.0.7")'],
      ['ip:::1', '(term client.ip "::1")'],
      ['ip:2001:db8::1', '(term client.ip "2001:db8::1")'],
      ['duration:1500', '(term event.duration 1500)'],
      ['service.name:emporium-web', '(term service.name "emporium-web")'],
      ['user:"a b"', '(term user.id "a b")'],
      ['user:a\\ b', '(term user.id "a b")'],
      ['user:"say \\"hi\\""', '(term user.id "say \\"hi\\"")'],
      ['path:a\\(b\\)', '(term url.path "a(b)")'],
      ['status:"500"', '(term http.response.status_code 500)'],
      ['message:timeout', '(text message "timeout")'],
      ['message:"gateway timeout"', '(text message "gateway timeout")'],
      ['error.message:refused', '(text error.message "refused")'],
      ['user.id:12345', '(term user.id "12345")'],
      ['event.id:018f3c1e-7b5a-7cc3-9d2e-4f1a2b3c4d5e', '(term event.id "018f3c1e-7b5a-7cc3-9d2e-4f1a2b3c4d5e")'],
    ]
    for (const [q, ast] of cases) it(q, () => assert.equal(parsed(q), ast))
  })

  describe('text', () => {
    it('a bare word searches message and error.message', () => {
      assert.equal(parsed('timeout'), '(text message,error.message "timeout")')
    })
    it('a quoted phrase keeps its words and order', () => {
      assert.equal(parsed('"payment gateway timeout"'), '(text message,error.message "payment gateway timeout")')
    })
    it('a word with punctuation is kept whole (matched as a phrase)', () => {
      assert.equal(parsed('checkout-failed'), '(text message,error.message "checkout-failed")')
    })
    it('a trailing * is a lower-cased single-word prefix', () => {
      assert.equal(parsed('Time*'), '(text-prefix message,error.message "time")')
      assert.equal(parsed('message:gate*'), '(text-prefix message "gate")')
    })
    it('non-ASCII words', () => {
      assert.equal(parsed('Zahlung'), '(text message,error.message "Zahlung")')
      assert.equal(parsed('"paiement refusé"'), '(text message,error.message "paiement refusé")')
      assert.equal(parsed('支払い'), '(text message,error.message "支払い")')
    })
    it('lower-case and/or/not are words, not operators', () => {
      assert.equal(parsed('not found'), '(and (text message,error.message "not") (text message,error.message "found"))')
      assert.equal(parsed('ANDROID'), '(text message,error.message "ANDROID")')
    })
    it('a colon after something that is not a field name stays in the word', () => {
      assert.equal(parsed('12:30'), '(text message,error.message "12:30")')
      assert.equal(parsed('foo\\:bar'), '(text message,error.message "foo:bar")')
    })
  })

  describe('operators', () => {
    it('adjacent clauses are ANDed', () => {
      assert.equal(
        parsed('level:error url.path:/checkout "timeout"'),
        '(and (term log.level "error") (term url.path "/checkout") (text message,error.message "timeout"))',
      )
    })
    it('AND, OR and NOT', () => {
      assert.equal(
        parsed('level:error AND NOT status:500'),
        '(and (term log.level "error") (not (term http.response.status_code 500)))',
      )
      assert.equal(parsed('level:warn OR level:error'), '(or (term log.level "warn") (term log.level "error"))')
    })
    it('AND binds tighter than OR', () => {
      assert.equal(
        parsed('level:warn OR level:error AND status:500'),
        '(or (term log.level "warn") (and (term log.level "error") (term http.response.status_code 500)))',
      )
      assert.equal(
        parsed('a b OR c'),
        '(or (and (text message,error.message "a") (text message,error.message "b")) (text message,error.message "c"))',
      )
    })
    it('NOT binds tighter than AND', () => {
      assert.equal(
        parsed('NOT level:info status:200'),
        '(and (not (term log.level "info")) (term http.response.status_code 200))',
      )
    })
    it('parentheses group', () => {
      assert.equal(
        parsed('(status:409 OR status:502) AND method:POST'),
        '(and (or (term http.response.status_code 409) (term http.response.status_code 502)) (term http.request.method "POST"))',
      )
      assert.equal(parsed('NOT(level:info)'), '(not (term log.level "info"))')
      assert.equal(parsed('((level:info))'), '(term log.level "info")')
    })
    it('- negates the clause right after it', () => {
      assert.equal(parsed('-user.id:u1'), '(not (term user.id "u1"))')
      assert.equal(parsed('-"health check"'), '(not (text message,error.message "health check"))')
      assert.equal(
        parsed('level:error -(status:500 OR status:502)'),
        '(and (term log.level "error") (not (or (term http.response.status_code 500) (term http.response.status_code 502))))',
      )
    })
    it('a - inside a word is part of the word', () => {
      assert.equal(parsed('service:emporium-web'), '(term service.name "emporium-web")')
    })
    it('double negation cancels out', () => {
      assert.equal(parsed('NOT NOT level:info'), '(term log.level "info")')
      assert.equal(parsed('--level:info'), '(term log.level "info")')
    })
    it('nested ANDs and ORs are flattened', () => {
      assert.equal(
        parsed('a OR (b OR c)'),
        '(or (text message,error.message "a") (text message,error.message "b") (text message,error.message "c"))',
      )
    })
    it('operators need no spaces around parentheses and quotes', () => {
      assert.equal(parsed('(level:warn)OR(level:error)'), '(or (term log.level "warn") (term log.level "error"))')
      assert.equal(parsed('NOT"x y"'), '(not (text message,error.message "x y"))')
    })
  })

  describe('ranges and comparisons', () => {
    const cases: [string, string][] = [
      ['status:>=500', '(range http.response.status_code gte 500)'],
      ['status:>499', '(range http.response.status_code gt 499)'],
      ['status:<300', '(range http.response.status_code lt 300)'],
      ['status:<=299', '(range http.response.status_code lte 299)'],
      ['status:[400 TO 499]', '(range http.response.status_code gte 400 lte 499)'],
      ['status:{400 TO 499}', '(range http.response.status_code gt 400 lt 499)'],
      ['status:[400 TO 499}', '(range http.response.status_code gte 400 lt 499)'],
      ['status:[500 TO *]', '(range http.response.status_code gte 500)'],
      ['status:[* TO 299]', '(range http.response.status_code lte 299)'],
      ['status:[* TO *]', '(exists http.response.status_code)'],
      ['status:[ 400   TO   499 ]', '(range http.response.status_code gte 400 lte 499)'],
      ['event.duration:[1000 TO 5000]', '(range event.duration gte 1000 lte 5000)'],
      ['duration:>1s', '(range event.duration gt 1000000000)'],
      ['duration:>=250ms', '(range event.duration gte 250000000)'],
      ['duration:<1.5ms', '(range event.duration lt 1500000)'],
      ['duration:[100us TO 2m]', '(range event.duration gte 100000 lte 120000000000)'],
      ['duration:>500ns', '(range event.duration gt 500)'],
      ['http.response.body.bytes:>1048576', '(range http.response.body.bytes gt 1048576)'],
      ['@timestamp:>=2026-03-01T12:00:00Z', '(range @timestamp gte 1772366400000)'],
      ['@timestamp:[2026-03-01 TO 2026-03-02}', '(range @timestamp gte 1772323200000 lt 1772409600000)'],
      ['@timestamp:["2026-03-01T12:00:00+01:00" TO *]', '(range @timestamp gte 1772362800000)'],
      ['timestamp:1772366400000', '(range @timestamp gte 1772366400000 lte 1772366400000)'],
      ['status:>=-1', '(range http.response.status_code gte -1)'],
    ]
    for (const [q, ast] of cases) it(q, () => assert.equal(parsed(q), ast))
  })

  describe('prefixes and existence', () => {
    it('a trailing * on a keyword is a case-sensitive prefix', () => {
      assert.equal(parsed('path:/checkout*'), '(prefix url.path "/checkout")')
      assert.equal(parsed('route:/API*'), '(prefix url.route "/API")')
    })
    it('field:* is existence', () => {
      assert.equal(parsed('user:*'), '(exists user.id)')
      assert.equal(parsed('status:*'), '(exists http.response.status_code)')
      assert.equal(parsed('-trace:*'), '(not (exists trace.id))')
    })
    it('an escaped * is literal', () => {
      assert.equal(parsed('path:/a\\*'), '(term url.path "/a*")')
      assert.equal(parsed('path:a\\*b*'), '(prefix url.path "a*b")')
    })
    it('a lone * matches everything', () => {
      assert.equal(parsed('*'), '*')
      assert.equal(parsed('* AND level:error'), '(term log.level "error")')
      assert.equal(parsed('* OR level:error'), '*')
    })
  })

  describe('empty queries match everything', () => {
    for (const q of [undefined, '', '   ', '\t\n']) it(JSON.stringify(q), () => assert.equal(parsed(q), '*'))
    it('null', () => assert.equal(formatQuery(parseQuery(null)), '*'))
  })

  describe('errors name the reason and the position', () => {
    const cases: [unknown, RegExp, number][] = [
      ['foo:bar', /unknown field "foo" \(known: level, status/, 1],
      ['level:error AND bogus.field:1', /unknown field "bogus.field"/, 17],
      ['level:', /level: needs a value/, 7],
      ['level: error', /level: needs a value/, 7],
      ['(level:error', /"\(" is never closed/, 1],
      ['level:error)', /unmatched "\)"/, 12],
      ['()', /empty parentheses/, 1],
      ['"unterminated', /the quote is never closed/, 1],
      ['message:"x', /the quote is never closed/, 9],
      ['AND level:error', /AND needs a clause on its left/, 1],
      ['level:error AND', /AND needs a clause on its right/, 13],
      ['level:error AND OR x', /AND needs a clause on its right/, 13],
      ['OR x', /OR needs a clause on its left/, 1],
      ['x OR', /OR needs a clause on its right/, 3],
      ['x OR OR y', /OR needs a clause on its right/, 3],
      ['NOT', /NOT needs a clause after it/, 1],
      ['x NOT', /NOT needs a clause after it/, 3],
      ['-', /"-" needs a clause right after it/, 1],
      ['x - y', /"-" needs a clause right after it/, 3],
      ['status:abc', /status: "abc" is not a whole number/, 8],
      ['status:5.5', /not a whole number/, 8],
      ['status:99999999999999999999', /not a whole number/, 8],
      ['status:>=', /status:>= needs a value right after it/, 10],
      ['status:> 500', /needs a value right after it/, 9],
      ['status:>=5*', /\* cannot be used in a comparison/, 10],
      ['status:[500 599]', /a range needs the form \[low TO high\]/, 13],
      ['status:[500 TO 599', /the range is never closed/, 8],
      ['status:[500 TO', /the range is never closed/, 15],
      ['status:[ TO 5]', /a range bound is missing/, 10],
      ['status:[500 TO ]', /a range bound is missing/, 16],
      ['status:[a TO b]', /status: "a" is not a whole number/, 9],
      ['status:5*', /status is a numeric field: a \* prefix works on text and keyword fields/, 8],
      ['path:[a TO b]', /path is a keyword field: ranges and comparisons need a number or date field/, 1],
      ['message:>5', /message is a text field: ranges/, 1],
      ['level:(error OR warn)', /level:\(…\) is not supported; write \(level:a OR level:b\)/, 7],
      ['duration:>5sec', /"5sec" is not a duration/, 11],
      ['duration:>5parsecs', /"5parsecs" is not a duration/, 11],
      ['@timestamp:>yesterday', /"yesterday" is not a date/, 13],
      ['@timestamp:2026-02-30', /is not a date/, 12],
      ['a*b', /only a trailing \* is supported/, 2],
      ['path:/a*/b', /only a trailing \* is supported/, 8],
      ['path:**', /only a trailing \* is supported/, 6],
      ['gate-way*', /a \* prefix on text works on a single word/, 1],
      ['"!!!"', /"!!!" has no letters or digits to search for/, 1],
      ['???', /has no letters or digits/, 1],
      ['x\\', /a trailing "\\" escapes nothing/, 2],
      ['"x\\', /the quote is never closed/, 1],
    ]
    for (const [q, reason, position] of cases) it(String(q), () => rejects(q, reason, position))
    it('a non-string query', () => {
      rejects(42, /must be a string/, 1)
      rejects({ q: 'x' }, /must be a string/, 1)
    })
    it('the error message repeats the reason for logs', () => {
      try {
        parseQuery('foo:bar')
        assert.fail('accepted')
      } catch (error) {
        assert.match((error as Error).message, /^The query is not valid: unknown field "foo"/)
      }
    })
  })

  describe('hostile input', () => {
    it(`longer than ${QUERY_LIMITS.maxLength} characters`, () => {
      rejects('a'.repeat(QUERY_LIMITS.maxLength + 1), /is longer than 1000 characters/, 1001)
      assert.equal(parsed('a'.repeat(QUERY_LIMITS.maxLength)), `(text message,error.message "${'a'.repeat(1000)}")`)
    })
    it('deeply nested parentheses fail at the limit, without overflowing the stack', () => {
      rejects(`${'('.repeat(400)}x${')'.repeat(400)}`, /nests parentheses or negations deeper than 12/, 13)
      const ok = `${'('.repeat(QUERY_LIMITS.maxDepth)}x${')'.repeat(QUERY_LIMITS.maxDepth)}`
      assert.equal(parsed(ok), '(text message,error.message "x")')
    })
    it('long chains of negations fail at the limit', () => {
      rejects('NOT '.repeat(100) + 'x', /deeper than 12/)
      rejects('-'.repeat(400) + 'x', /deeper than 12/, 13)
    })
    it(`more than ${QUERY_LIMITS.maxClauses} clauses`, () => {
      const many = Array.from({ length: QUERY_LIMITS.maxClauses + 1 }, (_, i) => `status:${i}`).join(' OR ')
      rejects(many, /has more than 64 clauses/)
      const max = Array.from({ length: QUERY_LIMITS.maxClauses }, (_, i) => `s${i}`).join(' ')
      assert.doesNotThrow(() => parseQuery(max))
    })
    it('control characters and NUL bytes', () => {
      rejects('level:error\u0000', /control or unpaired character U\+0000/, 12)
      rejects('a\u001b[31mred', /U\+001B/, 2)
      rejects('x\u007f', /U\+007F/, 2)
    })
    it('unpaired surrogates', () => {
      rejects('abc\ud800', /U\+D800/, 4)
      rejects('\udc00x', /U\+DC00/, 1)
      assert.equal(parsed('emoji😀'), '(text message,error.message "emoji😀")')
    })
    it('SQL and DSL fragments are plain values', () => {
      assert.equal(parsed(`user:"'; DROP TABLE logs; --"`), `(term user.id "'; DROP TABLE logs; --")`)
      assert.equal(parsed("path:/x'OR'1'='1"), `(term url.path "/x'OR'1'='1")`)
      assert.equal(parsed('"\\"} OR 1=1 --"'), '(text message,error.message "\\"} OR 1=1 --")')
      assert.equal(parsed('message:"NEAR(a b)"'), '(text message "NEAR(a b)")')
      rejects('user:{"$ne":null}', /a range needs the form/)
      assert.equal(
        parsed('user:\\{"$ne":null}'),
        '(and (term user.id "{") (text message,error.message "$ne") (text message,error.message ":null}"))',
      )
    })
    it('FTS5 syntax inside a phrase is text', () => {
      assert.equal(parsed('"a" OR "b*"'), '(or (text message,error.message "a") (text message,error.message "b*"))')
      assert.equal(parsed('"col : x ^ y"'), '(text message,error.message "col : x ^ y")')
    })
    it('a huge number of spaces', () => {
      assert.equal(parsed(`${' '.repeat(500)}x${' '.repeat(499)}`), '(text message,error.message "x")')
    })
    it('random bytes never crash the parser with anything but EMP_VALIDATION', () => {
      let seed = 42
      const next = () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        return seed
      }
      const alphabet = 'ab:()"\\-*[]{}<>= TONDRA\t'
      for (let n = 0; n < 3000; n++) {
        const length = next() % 40
        let q = ''
        for (let i = 0; i < length; i++) q += alphabet[next() % alphabet.length]
        try {
          parseQuery(q)
        } catch (error) {
          assert.ok(error instanceof EmporiumError && error.code === 'EMP_VALIDATION', `${JSON.stringify(q)}: ${error}`)
          assert.match(error.fields?.q ?? '', /\(at position \d+\)$/)
        }
      }
    })
  })
})
