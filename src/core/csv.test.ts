// CSV cells are quoted by RFC 4180 and never start a spreadsheet formula; numbers stay numbers.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { csvCell, toCsv } from './csv.ts'

describe('csvCell', () => {
  it('writes plain text and numbers as they are, null and undefined as empty cells', () => {
    assert.equal(csvCell('2026-08-01'), '2026-08-01')
    assert.equal(csvCell('prd_01abc'), 'prd_01abc')
    assert.equal(csvCell(1234.56), '1234.56')
    assert.equal(csvCell(0), '0')
    assert.equal(csvCell(true), 'true')
    assert.equal(csvCell(null), '')
    assert.equal(csvCell(undefined), '')
    assert.equal(csvCell(Number.NaN), '')
  })

  it('quotes commas, quotes and line breaks, doubling the quotes', () => {
    assert.equal(csvCell('Socks, wool'), '"Socks, wool"')
    assert.equal(csvCell('The "best" mug'), '"The ""best"" mug"')
    assert.equal(csvCell('two\nlines'), '"two\nlines"')
    assert.equal(csvCell('cr\rhere'), '"cr\rhere"')
  })

  it('gives text that starts with = + - @ a leading apostrophe, so a spreadsheet shows it instead of running it', () => {
    assert.equal(csvCell('=1+2'), "'=1+2")
    assert.equal(csvCell('+44 20 7946 0000'), "'+44 20 7946 0000")
    assert.equal(csvCell('-5OFF'), "'-5OFF")
    assert.equal(csvCell('@SUM(A1:A9)'), "'@SUM(A1:A9)")
    assert.equal(csvCell('\t=cmd'), "'\t=cmd")
    assert.equal(csvCell('\r=cmd'), `"'\r=cmd"`)
  })

  it('escapes before it quotes: a formula with a comma or quotes stays one inert cell', () => {
    assert.equal(
      csvCell('=HYPERLINK("http://evil.example","click")'),
      `"'=HYPERLINK(""http://evil.example"",""click"")"`,
    )
    assert.equal(csvCell('-2,3'), `"'-2,3"`)
  })

  it('leaves a formula character inside the text alone', () => {
    assert.equal(csvCell('a=b'), 'a=b')
    assert.equal(csvCell('x-1'), 'x-1')
    assert.equal(csvCell('me@example.com'), 'me@example.com')
  })

  it('keeps negative numbers and decimals numeric: only text is escaped', () => {
    assert.equal(csvCell(-12.5), '-12.5')
    assert.equal(csvCell(-0.05), '-0.05')
    assert.equal(csvCell({ decimal: '-149.10' }), '-149.10')
    assert.equal(csvCell({ decimal: '2036.30' }), '2036.30')
  })

  it('treats a decimal that is not a number as text', () => {
    assert.equal(csvCell({ decimal: '-1+2' }), "'-1+2")
    assert.equal(csvCell({ decimal: '=1,5' }), `"'=1,5"`)
  })
})

describe('toCsv', () => {
  it('writes the header and the rows, each line ended by CRLF', () => {
    const csv = toCsv(
      ['day', 'coupon', 'revenue (USD)'],
      [
        ['2026-08-01', '=EVIL()', 1234.56],
        ['2026-08-02', null, -5],
      ],
    )
    assert.equal(csv, "day,coupon,revenue (USD)\r\n2026-08-01,'=EVIL(),1234.56\r\n2026-08-02,,-5\r\n")
  })

  it('escapes the header too', () => {
    assert.equal(toCsv(['=name', 'a,b'], []), `'=name,"a,b"\r\n`)
  })
})
