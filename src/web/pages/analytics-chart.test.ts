// The analytics page's SVG charts: round axes, lines broken at gaps, bars either side of zero, escaped labels.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { h } from 'preact'
import { renderToString } from 'preact-render-to-string'
import { barLayout, Chart, type ChartDatum, lineLayout, MAX_BARS, niceScale, shortLabel } from './analytics-chart.tsx'

const usd = (cents: number) => `$${(cents / 100).toFixed(2)}`
const render = (props: Parameters<typeof Chart>[0]) => renderToString(h(Chart, props))
const count = (html: string, re: RegExp) => (html.match(re) ?? []).length

describe('niceScale', () => {
  it('spans zero and the data, ending on round steps', () => {
    assert.deepEqual(niceScale([120, 380, 950]), { min: 0, max: 1000, ticks: [0, 250, 500, 750, 1000] })
    assert.deepEqual(niceScale([-300, 700]).ticks, [-500, -250, 0, 250, 500, 750])
    assert.deepEqual(niceScale([-40, -10]).ticks, [-40, -30, -20, -10, 0])
  })
  it('has a usable axis for no data, all zeros and a single value', () => {
    assert.deepEqual(niceScale([]).ticks, [0, 1])
    assert.deepEqual(niceScale([0, 0]).ticks, [0, 1])
    assert.deepEqual(niceScale([5]).ticks, [0, 2, 4, 6])
  })
  it('never steps by a fraction for whole numbers, but does for rates', () => {
    assert.deepEqual(niceScale([1, 2]).ticks, [0, 1, 2])
    assert.deepEqual(niceScale([0.12, 0.31]).ticks, [0, 0.1, 0.2, 0.3, 0.4])
  })
})

describe('lineLayout', () => {
  const data: ChartDatum[] = [
    { label: '2026-08-01', value: 100 },
    { label: '2026-08-02', value: 300 },
    { label: '2026-08-03', value: null },
    { label: '2026-08-04', value: 200 },
    { label: '2026-08-05', value: 0 },
  ]
  it('places points left to right and higher values higher, and breaks the line at a gap', () => {
    const l = lineLayout(data)
    assert.equal(l.points.length, 4)
    const xs = l.points.map((p) => p.x)
    assert.deepEqual(
      xs,
      [...xs].sort((a, b) => a - b),
    )
    const [p100, p300, p200, p0] = l.points.map((p) => p.y)
    assert.ok(p300! < p200! && p200! < p100! && p100! < p0!, 'y grows downwards as values fall')
    assert.equal(p0, l.zeroY)
    assert.deepEqual(
      l.segments.map((s) => s.length),
      [2, 2],
    )
  })
  it('labels at most six buckets, the first and last among them', () => {
    const many = Array.from({ length: 90 }, (_, i) => ({ label: `d${i}`, value: i }))
    const labels = lineLayout(many).xLabels
    assert.equal(labels.length, 6)
    assert.equal(labels[0]!.label, 'd0')
    assert.equal(labels[0]!.align, 'start')
    assert.equal(labels.at(-1)!.label, 'd89')
    assert.equal(labels.at(-1)!.align, 'end')
  })
  it('centres a single point', () => {
    const l = lineLayout([{ label: 'only', value: 5 }])
    assert.equal(l.points.length, 1)
    assert.deepEqual(
      l.xLabels.map((x) => x.align),
      ['middle'],
    )
  })
})

describe('barLayout', () => {
  it('draws bars from zero: positive to the right, negative to the left, longer for larger values', () => {
    const l = barLayout([
      { label: 'a', value: 400 },
      { label: 'b', value: 100 },
      { label: 'c', value: -200 },
      { label: 'd', value: null },
    ])
    const [a, b, c, d] = l.bars
    assert.equal(a!.x, l.zeroX)
    assert.ok(a!.width > b!.width && b!.width > 0)
    assert.ok(Math.abs(a!.width / b!.width - 4) < 0.01, 'widths are proportional to the values')
    assert.equal(c!.negative, true)
    assert.equal(c!.x + c!.width, l.zeroX)
    assert.equal(d!.width, 0)
    assert.ok(a!.y < b!.y && b!.y < c!.y, 'bars keep the order given')
  })
  it(`shows at most ${MAX_BARS} bars`, () => {
    const l = barLayout(Array.from({ length: 40 }, (_, i) => ({ label: `p${i}`, value: i })))
    assert.equal(l.bars.length, MAX_BARS)
  })
})

describe('Chart', () => {
  it('renders a line chart as an SVG image labelled by its caption, with a tooltip per point', () => {
    const html = render({
      id: 'result',
      kind: 'line',
      title: 'Revenue by day',
      data: [
        { label: '2026-08-01', value: 12_345 },
        { label: '2026-08-02', value: 6_789 },
      ],
      format: usd,
    })
    assert.match(html, /^<figure class="chart"><svg class="chart-svg line-chart" viewBox="0 0 720 280" role="img"/)
    assert.match(html, /aria-labelledby="result-title"/)
    assert.match(html, /<figcaption id="result-caption">Revenue by day<\/figcaption>/)
    assert.equal(count(html, /<polyline class="chart-line" points="[\d., ]+"/g), 1)
    assert.equal(count(html, /<circle /g), 2)
    assert.match(html, /<title>2026-08-01: \$123\.45<\/title>/)
    assert.match(html, />\$0\.00</, 'the axis is formatted like the values')
    assert.doesNotMatch(html, /style=|<script|NaN|undefined/)
  })

  it('escapes labels: a product name cannot inject markup into the SVG', () => {
    const html = render({
      id: 'x',
      kind: 'bar',
      title: 'Revenue by product <b>',
      data: [{ label: '<script>alert(1)</script>"&', value: 5 }],
      format: String,
    })
    assert.doesNotMatch(html, /<script>|<b>/)
    assert.match(html, /&lt;script>alert\(1\)&lt;\/script>&quot;&amp;/)
    assert.match(html, /Revenue by product &lt;b>/)
  })

  it('renders bars with their values and cuts long labels, keeping the whole label in the tooltip', () => {
    const long = 'A very long product name that goes on and on'
    const html = render({
      id: 'bars',
      kind: 'bar',
      title: 'Orders by product',
      data: [
        { label: long, value: 12 },
        { label: 'Refunded', value: -3 },
      ],
      format: String,
    })
    assert.equal(count(html, /<rect class="chart-bar"/g), 1)
    assert.equal(count(html, /<rect class="chart-bar negative"/g), 1)
    assert.match(html, new RegExp(`>${shortLabel(long)}<`))
    assert.ok(shortLabel(long).endsWith('…') && [...shortLabel(long)].length === 24)
    assert.match(html, new RegExp(`<title>${long}: 12</title>`))
  })

  it('says how many bars it leaves out', () => {
    const html = render({
      id: 'many',
      kind: 'bar',
      title: 'Units by product',
      data: Array.from({ length: 30 }, (_, i) => ({ label: `p${i}`, value: i })),
      format: String,
    })
    assert.match(html, /Units by product \(the first 25 of 30\)/)
    assert.equal(count(html, /<rect /g), 25)
  })
})
