// Server-rendered SVG charts for the analytics page: a line over time buckets, or horizontal bars per group.
// No script and no inline style (the CSP allows neither): elements carry classes the page's stylesheet colours.

export interface ChartDatum {
  label: string
  /** null: no value for this bucket (a gap in the line, no bar). */
  value: number | null
}

export interface ChartProps {
  /** Prefix of the ids inside the chart; unique on the page. */
  id: string
  kind: 'line' | 'bar'
  title: string
  data: readonly ChartDatum[]
  /** How a value reads to people (tooltips, bar ends): money with its currency, a percentage, a count. */
  format: (value: number) => string
  /** How an axis tick reads, when shorter than a value (whole dollars); default: format. */
  formatTick?: (value: number) => string
}

export interface Scale {
  min: number
  max: number
  ticks: number[]
}

const WIDTH = 720
const LINE_HEIGHT = 280
const LINE_MARGIN = { top: 12, right: 24, bottom: 36, left: 88 }
const BAR_MARGIN = { top: 8, right: 96, bottom: 28, left: 184 }
const BAR_HEIGHT = 20
const BAR_GAP = 8
export const MAX_BARS = 25
const MAX_X_LABELS = 6
const LABEL_CHARS = 24

/** Rounds a coordinate to a tenth of a pixel: short attributes, no float noise. */
const px = (n: number): number => Math.round(n * 10) / 10

/**
 * A y (or bar) axis over the values and zero, ending on round numbers: steps of 1, 2, 2.5 or 5 times a power of ten.
 * Whole-number data (minor units of money, counts) never gets fractional steps.
 */
export function niceScale(values: readonly number[], tickCount = 4): Scale {
  const finite = values.filter((v) => Number.isFinite(v))
  let lo = Math.min(0, ...finite)
  let hi = Math.max(0, ...finite)
  if (lo === hi) hi = lo + 1
  const whole = finite.every((v) => Number.isInteger(v))
  const rough = (hi - lo) / tickCount
  const magnitude = 10 ** Math.floor(Math.log10(rough))
  const normal = rough / magnitude
  let step = (normal <= 1 ? 1 : normal <= 2 ? 2 : normal <= 2.5 ? 2.5 : normal <= 5 ? 5 : 10) * magnitude
  if (whole && step < 1) step = 1
  lo = Math.floor(lo / step) * step
  hi = Math.ceil(hi / step) * step
  const ticks: number[] = []
  const count = Math.round((hi - lo) / step)
  for (let k = 0; k <= count; k++) ticks.push(Number((lo + k * step).toPrecision(12)))
  return { min: ticks[0]!, max: ticks[ticks.length - 1]!, ticks }
}

export interface LineLayout {
  width: number
  height: number
  scale: Scale
  /** One polyline per run of consecutive values; a null breaks the line. */
  segments: { x: number; y: number }[][]
  points: { x: number; y: number; datum: ChartDatum & { value: number } }[]
  gridY: { y: number; tick: number }[]
  xLabels: { x: number; label: string; align: 'start' | 'middle' | 'end' }[]
  zeroY: number
}

export function lineLayout(data: readonly ChartDatum[]): LineLayout {
  const m = LINE_MARGIN
  const plotW = WIDTH - m.left - m.right
  const plotH = LINE_HEIGHT - m.top - m.bottom
  const scale = niceScale(data.flatMap((d) => (d.value === null ? [] : [d.value])))
  const n = data.length
  const x = (i: number) => px(m.left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1)))
  const y = (v: number) => px(m.top + ((scale.max - v) / (scale.max - scale.min)) * plotH)
  const segments: { x: number; y: number }[][] = []
  const points: LineLayout['points'] = []
  let run: { x: number; y: number }[] = []
  data.forEach((d, i) => {
    if (d.value === null) {
      if (run.length) segments.push(run)
      run = []
      return
    }
    const p = { x: x(i), y: y(d.value) }
    run.push(p)
    points.push({ ...p, datum: { label: d.label, value: d.value } })
  })
  if (run.length) segments.push(run)
  const labelCount = Math.min(n, MAX_X_LABELS)
  const labelIndexes =
    labelCount <= 1
      ? [0]
      : [...new Set(Array.from({ length: labelCount }, (_, k) => Math.round((k * (n - 1)) / (labelCount - 1))))]
  return {
    width: WIDTH,
    height: LINE_HEIGHT,
    scale,
    segments,
    points,
    gridY: scale.ticks.map((tick) => ({ y: y(tick), tick })),
    xLabels:
      n === 0
        ? []
        : labelIndexes.map((i) => ({
            x: x(i),
            label: data[i]!.label,
            align: n === 1 ? 'middle' : i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle',
          })),
    zeroY: y(0),
  }
}

export interface BarLayout {
  width: number
  height: number
  scale: Scale
  bars: { y: number; x: number; width: number; labelY: number; valueX: number; datum: ChartDatum; negative: boolean }[]
  gridX: { x: number; tick: number }[]
  zeroX: number
  plotTop: number
  plotBottom: number
}

/** Horizontal bars, one per datum in the given order (the first MAX_BARS). */
export function barLayout(data: readonly ChartDatum[]): BarLayout {
  const m = BAR_MARGIN
  const shown = data.slice(0, MAX_BARS)
  const plotW = WIDTH - m.left - m.right
  const plotH = shown.length * (BAR_HEIGHT + BAR_GAP)
  const scale = niceScale(
    shown.flatMap((d) => (d.value === null ? [] : [d.value])),
    4,
  )
  const x = (v: number) => px(m.left + ((v - scale.min) / (scale.max - scale.min)) * plotW)
  const zeroX = x(0)
  return {
    width: WIDTH,
    height: m.top + plotH + m.bottom,
    scale,
    bars: shown.map((datum, i) => {
      const top = m.top + i * (BAR_HEIGHT + BAR_GAP) + BAR_GAP / 2
      const end = datum.value === null ? zeroX : x(datum.value)
      return {
        y: px(top),
        x: Math.min(zeroX, end),
        width: px(Math.abs(end - zeroX)),
        labelY: px(top + BAR_HEIGHT / 2 + 4),
        valueX: px(Math.max(zeroX, end) + 6),
        datum,
        negative: datum.value !== null && datum.value < 0,
      }
    }),
    gridX: scale.ticks.map((tick) => ({ x: x(tick), tick })),
    zeroX,
    plotTop: m.top,
    plotBottom: m.top + plotH,
  }
}

/** A label cut to fit the label column; the whole label stays in the element's tooltip. */
export const shortLabel = (label: string): string =>
  [...label].length > LABEL_CHARS ? `${[...label].slice(0, LABEL_CHARS - 1).join('')}…` : label

function LineChart({ data, format, formatTick = format }: Pick<ChartProps, 'data' | 'format' | 'formatTick'>) {
  const l = lineLayout(data)
  return (
    <>
      {l.gridY.map((g) => (
        <g class="chart-grid">
          <line x1={LINE_MARGIN.left} x2={l.width - LINE_MARGIN.right} y1={g.y} y2={g.y} />
          <text class="chart-tick end" x={LINE_MARGIN.left - 8} y={px(g.y + 4)}>
            {formatTick(g.tick)}
          </text>
        </g>
      ))}
      {l.scale.min < 0 ? (
        <line class="chart-zero" x1={LINE_MARGIN.left} x2={l.width - LINE_MARGIN.right} y1={l.zeroY} y2={l.zeroY} />
      ) : null}
      {l.segments.map((s) => (
        <polyline class="chart-line" points={s.map((p) => `${p.x},${p.y}`).join(' ')} />
      ))}
      {l.points.map((p) => (
        <circle class={`chart-point${p.datum.value < 0 ? ' negative' : ''}`} cx={p.x} cy={p.y} r={3}>
          <title>{`${p.datum.label}: ${format(p.datum.value)}`}</title>
        </circle>
      ))}
      {l.xLabels.map((x) => (
        <text class={`chart-tick ${x.align}`} x={x.x} y={l.height - 12}>
          {x.label}
        </text>
      ))}
    </>
  )
}

function BarChart({ data, format, formatTick = format }: Pick<ChartProps, 'data' | 'format' | 'formatTick'>) {
  const l = barLayout(data)
  return (
    <>
      {l.gridX.map((g) => (
        <g class="chart-grid">
          <line x1={g.x} x2={g.x} y1={l.plotTop} y2={l.plotBottom} />
          <text class="chart-tick middle" x={g.x} y={l.plotBottom + 18}>
            {formatTick(g.tick)}
          </text>
        </g>
      ))}
      <line class="chart-zero" x1={l.zeroX} x2={l.zeroX} y1={l.plotTop} y2={l.plotBottom} />
      {l.bars.map((b) => (
        <g class="chart-bar-row">
          <title>{`${b.datum.label}: ${b.datum.value === null ? 'no value' : format(b.datum.value)}`}</title>
          <text class="chart-label end" x={BAR_MARGIN.left - 8} y={b.labelY}>
            {shortLabel(b.datum.label)}
          </text>
          {b.datum.value === null ? null : (
            <rect
              class={`chart-bar${b.negative ? ' negative' : ''}`}
              x={b.x}
              y={b.y}
              width={b.width}
              height={BAR_HEIGHT}
            />
          )}
          <text class="chart-value start" x={b.valueX} y={b.labelY}>
            {b.datum.value === null ? '—' : format(b.datum.value)}
          </text>
        </g>
      ))}
    </>
  )
}

/** The chart in a figure whose caption names it; the SVG is an image labelled by that caption. */
export function Chart(props: ChartProps) {
  const { id, kind, title, data, format, formatTick } = props
  const size =
    kind === 'line'
      ? { width: WIDTH, height: LINE_HEIGHT }
      : {
          width: WIDTH,
          height: BAR_MARGIN.top + Math.min(data.length, MAX_BARS) * (BAR_HEIGHT + BAR_GAP) + BAR_MARGIN.bottom,
        }
  return (
    <figure class="chart">
      <svg
        class={`chart-svg ${kind}-chart`}
        viewBox={`0 0 ${size.width} ${size.height}`}
        role="img"
        aria-labelledby={`${id}-title`}
        xmlns="http://www.w3.org/2000/svg"
      >
        <title id={`${id}-title`}>{title}</title>
        {kind === 'line' ? (
          <LineChart data={data} format={format} formatTick={formatTick ?? format} />
        ) : (
          <BarChart data={data} format={format} formatTick={formatTick ?? format} />
        )}
      </svg>
      <figcaption id={`${id}-caption`}>
        {title}
        {kind === 'bar' && data.length > MAX_BARS ? ` (the first ${MAX_BARS} of ${data.length})` : ''}
      </figcaption>
    </figure>
  )
}
