/**
 * What each bench chart shows, as a Vega-Lite spec (bench/charts.ts draws it): failover
 * distributions as dot rows on a log axis (primacy's 10 ms and a peer's 10 s differ ~1000×, which a
 * linear axis would flatten into one dot at 0), and rates as horizontal bars on a linear axis.
 * Layout, scales, axes and the SVG itself are the library's; this module only maps the measures.
 */
import type { TopLevelSpec } from 'vega-lite';
import { barLabel, rateLabel, ratioText } from './chart-text.js';
import type { Measure, MeasureRow } from './measures.js';
import { formatMs } from './stats.js';

type Layer = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];
type Encoding = NonNullable<Extract<Layer, { mark: unknown }>['encoding']>;

/** GitHub's <img> sandbox cannot fetch a web font, and every OS has one of these. */
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const COLORS = { text: '#1f2328', muted: '#57606a', grid: '#d0d7de', minorGrid: '#eef1f4', band: '#f6f8fa' };
const PRIMACY = '#0969da';
const PEER = '#bc4c00';
/** The whole chart, labels included, is this wide: bench/charts.ts fits the plot to what its labels leave. */
const WIDTH = 820;

/**
 * A log domain around the data: from a whole decade (1 at most, so the axis always reads 1, 10,
 * 100...) up to the first 1, 2 or 5 × 10^k at or above the largest value, so a 10.5 s sample does
 * not stretch the axis to 100 s (the library's `nice` would round up to the next decade).
 */
export function logDomain(values: readonly number[]): [number, number] {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (!positive.length) return [1, 10];
  const lo = Math.min(1, 10 ** Math.floor(Math.log10(Math.min(...positive))));
  const max = Math.max(...positive);
  const decade = 10 ** Math.floor(Math.log10(max));
  const hi = ([1, 2, 5, 10].find((m) => m * decade >= max * 0.9999) ?? 10) * decade;
  return [lo, Math.max(hi, lo * 10)];
}

/** Powers of ten in the domain (labelled ticks), and their 2..9 multiples (a lighter grid). */
function logTicks([lo, hi]: [number, number]): { major: number[]; minor: number[] } {
  const major: number[] = [];
  const minor: number[] = [];
  for (let exponent = Math.round(Math.log10(lo)); 10 ** exponent <= hi * 1.0001; exponent++) {
    const decade = 10 ** exponent;
    major.push(Number(decade.toPrecision(12)));
    for (let k = 2; k <= 9 && k * decade <= hi * 1.0001; k++) minor.push(Number((k * decade).toPrecision(12)));
  }
  return { major, minor };
}

const role = (row: MeasureRow) => (row.primacy ? 'primacy' : 'peer');

/** Blue for primacy, orange for a peer; a legend only where there is a peer (the manager's own figures have none). */
function colorOf(measure: Measure): Encoding['color'] {
  if (measure.rows.every((r) => r.primacy)) return { field: 'role', type: 'nominal', scale: { range: [PRIMACY] }, legend: null };
  const legend = { title: null, orient: 'bottom', direction: 'horizontal', symbolOpacity: 1 } as const;
  return { field: 'role', type: 'nominal', scale: { domain: ['primacy', 'peer'], range: [PRIMACY, PEER] }, legend };
}

/** Shared by both kinds: title and caption, the white page (readable in GitHub's dark theme), fonts and colours. */
function frame(measure: Measure) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: measure.title, subtitle: measure.caption, anchor: 'start', fontSize: 16, subtitleFontSize: 12, offset: 14 },
    width: WIDTH,
    padding: 16,
    background: '#ffffff',
    config: {
      font: FONT,
      title: { color: COLORS.text, subtitleColor: COLORS.muted },
      axis: { labelColor: COLORS.muted, titleColor: COLORS.muted, titleFontWeight: 'normal', titleFontSize: 12, labelFontSize: 12 },
      axisX: { gridColor: COLORS.grid, domainColor: COLORS.muted, tickColor: COLORS.grid, tickSize: 5 },
      legend: { labelColor: COLORS.muted, labelFontSize: 12 },
      view: { stroke: null },
    },
  } as const;
}

/** Row labels left of the plot, bold for primacy, and (for a distribution) its p50 · p95 in grey beneath. */
function labelLayers(y: Encoding['y'], sub: boolean): Layer[] {
  const left = { x: { value: 0 }, y };
  const label = (filter: string, fontWeight: 'bold' | 'normal'): Layer => ({
    mark: { type: 'text', align: 'right', dx: -12, dy: sub ? -5 : 0, fontSize: 13, fontWeight, fill: COLORS.text },
    encoding: { ...left, text: { field: 'label' } },
    transform: [{ filter }],
  });
  const summary: Layer = {
    mark: { type: 'text', align: 'right', dx: -12, dy: 10, fontSize: 11, fill: COLORS.muted },
    encoding: { ...left, text: { field: 'sub' } },
  };
  return [label("datum.role === 'primacy'", 'bold'), label("datum.role !== 'primacy'", 'normal'), ...(sub ? [summary] : [])];
}

export function distributionSpec(measure: Measure): TopLevelSpec {
  const domain = logDomain(measure.rows.flatMap((r) => r.samples));
  const { major, minor } = logTicks(domain);
  const rows = measure.rows.map((row, i) => {
    const { text, against } = ratioText(row, measure);
    const s = row.summary;
    const figures = s ? { ...s, sub: `p50 ${formatMs(s.p50)} · p95 ${formatMs(s.p95)} ${measure.unit}` } : { sub: '' };
    const tips = s ? { p50Tip: `p50 ${formatMs(s.p50)} ms`, p95Tip: `p95 ${formatMs(s.p95)} ms` } : {};
    return { label: row.label, role: role(row), even: i % 2 === 0, ratio: text, against, ...figures, ...tips };
  });
  // Equal values would hide behind each other: dots are nudged up and down (five lanes) so they stay countable.
  const dots = measure.rows.flatMap((row) =>
    row.samples.map((v, i) => ({ label: row.label, role: role(row), v, lane: (i % 5) - 2, tip: `round ${i + 1}: ${formatMs(v)} ms` })),
  );
  const x = { type: 'quantitative', scale: { type: 'log', domain, nice: false }, title: `${measure.unit}, log scale` } as const;
  const axis = { values: major, format: '~r', labelFlush: false, grid: false };
  const y: Encoding['y'] = { field: 'label', type: 'nominal', scale: { domain: rows.map((r) => r.label), padding: 0 }, axis: null };
  const color = colorOf(measure);
  const tick = (field: 'p50' | 'p95', size: number, style: { thickness: number; strokeDash?: number[] }): Layer => ({
    mark: { type: 'tick', color: COLORS.text, opacity: 1, size, ...style },
    encoding: { x: { ...x, field }, y, description: { field: `${field}Tip` } },
    transform: [{ filter: `isValid(datum.${field})` }],
  });
  const right = { x: { value: 'width' }, y } as const;
  const ratio = (filter: string, dy: number): Layer => ({
    mark: { type: 'text', align: 'left', dx: 12, dy, fontWeight: 'bold', fontSize: 12 },
    encoding: { ...right, text: { field: 'ratio' }, color },
    transform: [{ filter }],
  });
  return {
    ...frame(measure),
    height: { step: 42 },
    datasets: { rows, dots, minor: minor.map((v) => ({ v })), major: major.map((v) => ({ v })) },
    data: { name: 'rows' },
    layer: [
      {
        mark: { type: 'rect', fill: COLORS.band },
        transform: [{ filter: 'datum.even' }],
        encoding: { y, x: { value: 0 }, x2: { value: 'width' } },
      },
      // Grid lines as marks, so they show on the grey bands (an axis grid is drawn under every mark).
      { data: { name: 'minor' }, mark: { type: 'rule', color: COLORS.minorGrid }, encoding: { x: { ...x, field: 'v' } } },
      { data: { name: 'major' }, mark: { type: 'rule', color: COLORS.grid }, encoding: { x: { ...x, field: 'v', axis } } },
      { mark: { type: 'rule', opacity: 0.35 }, encoding: { x: { ...x, field: 'min' }, x2: { field: 'max' }, y, color } },
      {
        data: { name: 'dots' },
        mark: { type: 'point', filled: true, size: 50, opacity: 0.5, strokeWidth: 0.8 },
        encoding: {
          x: { ...x, field: 'v' },
          y,
          yOffset: { field: 'lane', type: 'quantitative', scale: { domain: [-8, 8] } },
          color,
          description: { field: 'tip' },
        },
      },
      tick('p50', 26, { thickness: 2.5 }),
      tick('p95', 18, { thickness: 1, strokeDash: [2, 2] }),
      ...labelLayers(y, true),
      // The ratio sits a line higher when a second line names the primacy row it is taken against.
      ratio("datum.ratio !== '' && datum.against === ''", 0),
      ratio("datum.against !== ''", -6),
      {
        mark: { type: 'text', align: 'left', dx: 12, dy: 9, fontSize: 11, fill: COLORS.muted },
        encoding: { ...right, text: { field: 'against' } },
        transform: [{ filter: "datum.against !== ''" }],
      },
    ],
  };
}

export function barSpec(measure: Measure): TopLevelSpec {
  const rows = measure.rows.map((row) => {
    const end = barLabel(row, measure);
    // The value label goes past the bar and past its rightmost slice dot.
    return {
      label: row.label,
      role: role(row),
      value: row.value,
      end,
      tip: `${row.label}: ${end}`,
      endAt: Math.max(row.value, ...row.samples),
    };
  });
  const slices = measure.rows.flatMap((row) =>
    row.samples.map((v, j) => ({ label: row.label, v, tip: `slice ${j + 1}: ${rateLabel(v)}` })),
  );
  const x = { type: 'quantitative', scale: { zero: true }, title: measure.unit, axis: { format: '~r', tickCount: 6 } } as const;
  const y: Encoding['y'] = { field: 'label', type: 'nominal', scale: { domain: rows.map((r) => r.label) }, axis: null };
  const end = { type: 'text', align: 'left', dx: 8, fontSize: 12, fill: COLORS.text } as const;
  return {
    ...frame(measure),
    height: { step: 32 },
    datasets: { rows, slices },
    data: { name: 'rows' },
    layer: [
      {
        mark: { type: 'bar', size: 16, opacity: 0.8 },
        encoding: { x: { ...x, field: 'value' }, y, color: colorOf(measure), description: { field: 'tip' } },
      },
      {
        // White-ringed, so a dot stays visible on the bar it sits on.
        data: { name: 'slices' },
        mark: { type: 'point', filled: true, size: 25, color: COLORS.text, stroke: '#ffffff', strokeWidth: 0.8, opacity: 1 },
        encoding: { x: { ...x, field: 'v' }, y, description: { field: 'tip' } },
      },
      ...labelLayers(y, false),
      { mark: end, encoding: { x: { ...x, field: 'endAt' }, y, text: { field: 'end' }, description: { field: 'end' } } },
      // Fitting the chart to its width counts marks where they are drawn, and these labels move with
      // the plot's width: an invisible copy of each at the right edge reserves room for the longest.
      { mark: { ...end, opacity: 0, aria: false }, encoding: { x: { value: 'width' }, y, text: { field: 'end' } } },
    ],
  };
}
