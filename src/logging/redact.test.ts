import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import { describe, it } from 'node:test'
import type { EcsRecord } from './ecs.ts'
import { CARD, createRedactor, isSensitiveKey, luhnValid, REDACTED, redactRecord } from './redact.ts'

const base = (over: Partial<EcsRecord> = {}): EcsRecord => ({
  '@timestamp': '2026-01-15T12:00:00.000Z',
  message: 'hello',
  log: { level: 'info' },
  event: { id: '01936b2e-0000-7000-8000-000000000001' },
  service: { name: 'emporium' },
  ...over,
})
const msg = (message: string) => redactRecord(base({ message })).message
const emailHash = (address: string) => `email:${createHash('sha256').update(address).digest('hex').slice(0, 16)}`

describe('redact', () => {
  it('hashes e-mail addresses, the same address always the same way, case-insensitively', () => {
    assert.equal(
      msg('signed in as Joe.Doe+shop@Example.COM today'),
      `signed in as ${emailHash('joe.doe+shop@example.com')} today`,
    )
    assert.equal(msg('a@b.io and A@B.io'), `${emailHash('a@b.io')} and ${emailHash('a@b.io')}`)
  })

  it('hashes with a key when one is given, so a guessed address cannot be checked without it', () => {
    const keyed = createRedactor({ emailKey: 'k1' })(base({ message: 'a@b.io' })).message
    assert.equal(keyed, `email:${createHmac('sha256', 'k1').update('a@b.io').digest('hex').slice(0, 16)}`)
    assert.notEqual(keyed, emailHash('a@b.io'))
  })

  it('finds e-mails in query strings, encoded or not, and secrets beside them', () => {
    const r = redactRecord(
      base({ url: { path: '/login', query: 'email=joe%40example.com&password=hunter2&next=%2Fcart&token=abc123' } }),
    )
    assert.equal(
      r.url?.query,
      `email=${emailHash('joe@example.com')}&password=${REDACTED}&next=%2Fcart&token=${REDACTED}`,
    )
    assert.equal(
      redactRecord(base({ url: { path: '/users/joe@example.com/orders' } })).url?.path,
      `/users/${emailHash('joe@example.com')}/orders`,
    )
  })

  it('redacts secrets by key name in labels, nested values and free text', () => {
    const r = redactRecord(
      base({
        message: 'login {"password":"my secret pw","user":"x"} cookie: emp_sid=AbC; theme=dark',
        labels: {
          password: 'hunter2',
          newPassword: 'x',
          body_current_password: 'y',
          apiKey: 'k',
          'x-csrf-token': 't',
          authorization: 'Bearer abc.def.ghi',
          accesstoken: 'z',
          pin: 1234,
          tokenCount: 3,
          passengers: 'three',
          bypass: 'yes',
          compassHeading: 'north',
          hasPassword: true,
        },
      }),
    )
    assert.equal(r.message, `login {"password":"${REDACTED}","user":"x"} cookie: ${REDACTED}; theme=dark`)
    assert.equal(msg('sent emp_sid=AbC; theme=dark'), `sent emp_sid=${REDACTED}; theme=dark`)
    assert.deepEqual(r.labels, {
      password: REDACTED,
      newPassword: REDACTED,
      body_current_password: REDACTED,
      apiKey: REDACTED,
      'x-csrf-token': REDACTED,
      authorization: REDACTED,
      accesstoken: REDACTED,
      pin: REDACTED,
      tokenCount: 3,
      passengers: 'three',
      bypass: 'yes',
      compassHeading: 'north',
      hasPassword: true,
    })
  })

  it('keeps ids: user.id, event.id, trace.id and typed ids under secret-sounding keys (tokenId)', () => {
    const tokenId = 'tok_01936b2e00007000800000000000000a'
    const r = redactRecord(
      base({
        message: `API token revoked tokenId=${tokenId}`,
        user: { id: 'usr_01936b2e000070008000000000000001' },
        trace: { id: '01936b2e-aaaa-7000-8000-000000000002' },
        labels: { tokenId, orderId: 'ord_01936b2e000070008000000000000003' },
      }),
    )
    assert.equal(r.message, `API token revoked tokenId=${tokenId}`)
    assert.equal(r.user?.id, 'usr_01936b2e000070008000000000000001')
    assert.equal(r.event.id, '01936b2e-0000-7000-8000-000000000001')
    assert.deepEqual(r.labels, { tokenId, orderId: 'ord_01936b2e000070008000000000000003' })
  })

  it('redacts bearer tokens, emp_ API tokens and opaque session ids wherever they appear', () => {
    const apiToken = 'emp_Q2hhbmdlTWVQbGVhc2UtdGhpcy1pcy1hLXRva2Vu'
    const session = 'h7Rk2pXq9Lm4Vt8Wz1Yc6Nb3Fg5Jd0SaQe7Ui2Oo4Pr'
    assert.equal(msg(`authorization: Bearer ${apiToken}`), `authorization: ${REDACTED}`)
    assert.equal(msg(`got Bearer ${apiToken} from client`), `got Bearer ${REDACTED} from client`)
    assert.equal(msg(`token ${apiToken} used`), `token ${REDACTED} used`)
    assert.equal(msg(`session ${session} expired`), `session ${REDACTED} expired`)
    const r = redactRecord(base({ url: { path: `/reset/${session}` }, error: { message: `bad sid ${session}` } }))
    assert.equal(r.url?.path, `/reset/${REDACTED}`)
    assert.equal(r.error?.message, `bad sid ${REDACTED}`)
  })

  it('masks card numbers that pass Luhn, plain or grouped, and numbers in labels', () => {
    assert.equal(msg('card 4111111111111111 declined'), `card ${CARD} declined`)
    assert.equal(msg('card 4111 1111 1111 1111 declined'), `card ${CARD} declined`)
    assert.equal(msg('card 4111-1111-1111-1111'), `card ${CARD}`)
    assert.equal(msg('amex 3782 822463 10005'), `amex ${CARD}`)
    assert.equal(msg('card 4111 1111 1111 1111 123 exp'), `card ${CARD} 123 exp`, 'followed by a CVV')
    assert.equal(msg('4111111111111111,5500005555555559'), `${CARD},${CARD}`)
    const r = redactRecord(base({ labels: { card: 4111111111111111, cardText: 'x 5500 0055 5555 5559' } }))
    assert.deepEqual(r.labels, { card: CARD, cardText: `x ${CARD}` })
  })

  it('leaves numbers that are not cards alone', () => {
    const keep = [
      'card 4111111111111112 fails Luhn',
      'at 1768478400006 ms since epoch', // 13 digits, Luhn-valid, but no card starts with 1
      'took 0.41111111111111111 s', // a decimal
      'order ord_4111111111111111abc', // inside a word
      'id 01936b2e-0000-7000-8000-000000000001',
      'sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'price 12999 qty 3 phone +1 555 0100',
      '2026-01-15T12:00:00.000Z',
    ]
    assert.equal(luhnValid('1768478400006'), true, 'the epoch example passes Luhn: only the prefix rule keeps it')
    for (const text of keep) assert.equal(msg(text), text)
  })

  it('walks nested values of fields outside the schema', () => {
    const r = redactRecord({
      ...base(),
      extra: { deep: [{ password: 'p', note: 'mail me at a@b.io' }], secretKey: { any: 'thing' } },
    } as unknown as EcsRecord) as unknown as { extra: unknown }
    assert.deepEqual(r.extra, {
      deep: [{ password: REDACTED, note: `mail me at ${emailHash('a@b.io')}` }],
      secretKey: REDACTED,
    })
  })

  it('is idempotent: the pipeline may redact a record the router already redacted', () => {
    const once = redactRecord(
      base({
        message:
          'password=hunter2 token: "abc def" joe@example.com 4111111111111111 Bearer emp_abcdefghijklmnopqrstuvwxyz',
        url: { path: '/x', query: 'email=a%40b.io&password=x&sid=h7Rk2pXq9Lm4Vt8Wz1Yc6Nb3Fg5Jd0SaQe7Ui2Oo4Pr' },
        labels: { password: 'p', note: 'cookie: emp_sid=abc' },
      }),
    )
    assert.deepEqual(redactRecord(once), once)
    assert.equal(
      once.message,
      `password=${REDACTED} token: "${REDACTED}" ${emailHash('joe@example.com')} ${CARD} Bearer ${REDACTED}`,
    )
  })

  it('is pure: the input record is not changed', () => {
    const input = base({ message: 'a@b.io', labels: { password: 'p' }, url: { query: 'token=t' } })
    const copy = structuredClone(input)
    redactRecord(input)
    assert.deepEqual(input, copy)
  })

  it('classifies key names by word, not by substring', () => {
    for (const k of [
      'password',
      'x-api-key',
      'client_secret',
      'set-cookie',
      'sessionId',
      'refreshToken',
      'emp_sid',
      'cvv',
    ])
      assert.equal(isSensitiveKey(k), true, k)
    for (const k of ['passengers', 'bypass', 'author', 'keyboard', 'sku', 'orderId', 'route', 'monkey'])
      assert.equal(isSensitiveKey(k), false, k)
  })
})

describe('redact: URL-encoded card numbers', () => {
  it('masks a card number whose groups are separated by %20, + or %2D in a query string', () => {
    for (const query of ['q=4111%201111%201111%201111', 'q=4111+1111+1111+1111', 'q=4111%2D1111%2D1111%2D1111']) {
      const out = redactRecord({
        '@timestamp': '2026-01-01T00:00:00.000Z',
        message: 'request completed',
        log: { level: 'info' },
        event: { id: 'e1' },
        service: { name: 's' },
        url: { path: '/search', query },
      })
      assert.equal(out.url?.query, 'q=[CARD]', query)
    }
  })
})
