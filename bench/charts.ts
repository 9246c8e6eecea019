/**
 * The bench charts, one SVG per measure (bench/measures.ts): failover distributions as dot rows on a
 * log axis (primacy's 10 ms and a peer's 10 s differ ~1000×, which a linear axis would flatten into
 * one dot at 0), and rates as horizontal bars on a linear axis.
 */
import type { Measure, MeasureRow } from './measures.js';
import { formatMs } from './stats.js';
import {
  COLORS,
  el,
  line,
  linearScale,
  linearTicks,
  logDomain,
  logScale,
  logTicks,
  type Scale,
  svgDocument,
  text,
  textWidth,
  tickLabel,
  tooltip,
} from './svg.js';

const WIDTH = 820;
const PAD = 16;
const TOP = 66;

/** 918×, 8.3×, 0.11×: the precision of the tables in RESULTS.md. */
export function times(ratio: number): string {
  return `${ratio.toFixed(ratio >= 10 ? 0 : ratio >= 1 ? 1 : 2)}×`;
}

/**
 * A peer's standing against its primacy row: "918× slower p50" (a faster peer says so the same way),
 * `against` naming that row when the chart has more than one; for a rate, "2.3× primacy redis".
 */
export function ratioText(row: MeasureRow, measure: Measure): { text: string; against: string } {
  if (!row.versus) return { text: '', against: '' };
  const { ratio, label } = row.versus;
  if (measure.kind === 'bars') return { text: `${times(ratio)} ${label}`, against: '' };
  const against = measure.rows.filter((r) => r.primacy).length > 1 ? `than ${label}` : '';
  return { text: ratio >= 1 ? `${times(ratio)} slower p50` : `${times(1 / ratio)} faster p50`, against };
}

const rateLabel = (value: number) => (Math.abs(value) >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1));

function header(measure: Measure): string[] {
  return [text(PAD, 28, measure.title, { 'font-size': 16, 'font-weight': 'bold' }), text(PAD, 48, measure.caption, { fill: COLORS.muted })];
}

/** Width of the label column: the longest label, within sane bounds. */
function labelColumn(rows: readonly MeasureRow[]): number {
  return Math.min(320, Math.max(110, ...rows.map((r) => textWidth(r.label, 13, r.primacy) + 8)));
}

function describe(measure: Measure): string {
  const parts = measure.rows.map((row) => {
    const figure = measure.kind === 'distribution' ? `p50 ${formatMs(row.value)} ms` : `${rateLabel(row.value)} ${measure.unit}`;
    const { text: ratio, against } = ratioText(row, measure);
    return `${row.label}: ${figure}${ratio ? ` (${[ratio, against].filter(Boolean).join(' ')})` : ''}`;
  });
  return `${measure.caption}. ${parts.join('; ')}.`;
}

export function distributionChart(measure: Measure): string {
  const { rows } = measure;
  const rowHeight = 42;
  const labelWidth = labelColumn(rows);
  const ratioWidth = Math.max(
    0,
    ...rows.map((r) => {
      const { text: ratio, against } = ratioText(r, measure);
      return ratio ? Math.max(textWidth(ratio, 12, true), textWidth(against, 11)) + 14 : 0;
    }),
  );
  const x0 = PAD + labelWidth + 12;
  const x1 = WIDTH - PAD - Math.max(ratioWidth, 12);
  const [lo, hi] = logDomain(rows.flatMap((r) => r.samples));
  const x = logScale(lo, hi, x0, x1);
  const bottom = TOP + rows.length * rowHeight;
  const body: string[] = header(measure);

  rows.forEach((_, i) => {
    if (i % 2 === 0)
      body.push(el('rect', { x: PAD, y: TOP + i * rowHeight, width: WIDTH - 2 * PAD, height: rowHeight, fill: COLORS.band }));
  });
  const { major, minor } = logTicks(lo, hi);
  for (const v of minor) body.push(line(x(v), TOP, x(v), bottom, { stroke: COLORS.minorGrid }));
  for (const v of major) {
    body.push(line(x(v), TOP, x(v), bottom + 5, { class: 'tick' }));
    body.push(text(x(v), bottom + 19, tickLabel(v), { 'text-anchor': 'middle', fill: COLORS.muted, class: 'tick-label' }));
  }
  body.push(line(x0, bottom, x1, bottom, { stroke: COLORS.muted }));
  body.push(text((x0 + x1) / 2, bottom + 37, `${measure.unit}, log scale`, { 'text-anchor': 'middle', fill: COLORS.muted }));

  rows.forEach((row, i) => {
    const cy = TOP + i * rowHeight + rowHeight / 2;
    const color = row.primacy ? COLORS.primacy : COLORS.peer;
    body.push(el('g', { class: 'row', 'data-label': row.label }, ...rowMarks(row, cy, x, color)));
    body.push(text(x0 - 12, cy - 3, row.label, { 'text-anchor': 'end', 'font-size': 13, 'font-weight': row.primacy ? 'bold' : undefined }));
    if (row.summary) {
      const sub = `p50 ${formatMs(row.summary.p50)} · p95 ${formatMs(row.summary.p95)} ${measure.unit}`;
      body.push(text(x0 - 12, cy + 13, sub, { 'text-anchor': 'end', 'font-size': 11, fill: COLORS.muted }));
    }
    const { text: ratio, against } = ratioText(row, measure);
    if (ratio) body.push(text(x1 + 12, against ? cy - 2 : cy + 4, ratio, { 'font-weight': 'bold', fill: color, class: 'ratio' }));
    if (against) body.push(text(x1 + 12, cy + 12, against, { 'font-size': 11, fill: COLORS.muted, class: 'ratio-against' }));
  });

  const legendY = bottom + 58;
  body.push(
    el('circle', { cx: PAD + 6, cy: legendY - 4, r: 4, fill: COLORS.primacy, 'fill-opacity': 0.55 }),
    text(PAD + 16, legendY, 'one round'),
    line(PAD + 96, legendY - 11, PAD + 96, legendY + 3, { stroke: COLORS.text, 'stroke-width': 2.5 }),
    text(PAD + 104, legendY, 'p50'),
    line(PAD + 146, legendY - 9, PAD + 146, legendY + 1, { stroke: COLORS.text, 'stroke-dasharray': '2 2' }),
    text(PAD + 154, legendY, 'p95'),
  );
  if (rows.some((r) => !r.primacy)) body.push(text(PAD + 196, legendY, 'blue: primacy · orange: peer', { fill: COLORS.muted }));
  return svgDocument({ width: WIDTH, height: legendY + 14 }, measure.title, describe(measure), body);
}

/** A row's dots (one per sample, nudged up and down so equal values stay countable), its p50 and p95 ticks. */
function rowMarks(row: MeasureRow, cy: number, x: Scale, color: string): string[] {
  const marks = [line(x(Math.min(...row.samples)), cy, x(Math.max(...row.samples)), cy, { stroke: color, 'stroke-opacity': 0.35 })];
  row.samples.forEach((sample, i) => {
    const dy = ((i % 5) - 2) * 2.6;
    const attrs = { cx: x(sample), cy: cy + dy, r: 4, fill: color, 'fill-opacity': 0.5, stroke: color, 'stroke-width': 0.8 };
    marks.push(el('circle', attrs, tooltip(`round ${i + 1}: ${formatMs(sample)} ms`)));
  });
  if (row.summary) {
    const { p50, p95 } = row.summary;
    marks.push(
      line(
        x(p50),
        cy - 13,
        x(p50),
        cy + 13,
        { stroke: COLORS.text, 'stroke-width': 2.5, class: 'p50' },
        tooltip(`p50 ${formatMs(p50)} ms`),
      ),
    );
    marks.push(line(x(p95), cy - 9, x(p95), cy + 9, { stroke: COLORS.text, 'stroke-dasharray': '2 2', class: 'p95' }));
  }
  return marks;
}

export function barChart(measure: Measure): string {
  const { rows } = measure;
  const rowHeight = 32;
  const labelWidth = labelColumn(rows);
  const endLabel = (row: MeasureRow) => {
    const ratio = ratioText(row, measure).text;
    return `${rateLabel(row.value)} ${measure.unit}${ratio ? ` · ${ratio}` : ''}`;
  };
  const endWidth = Math.max(...rows.map((r) => textWidth(endLabel(r), 12))) + 20;
  const x0 = PAD + labelWidth + 12;
  const x1 = WIDTH - PAD - endWidth;
  const ticks = linearTicks(Math.max(0, ...rows.flatMap((r) => [r.value, ...r.samples])));
  const x = linearScale(0, ticks[ticks.length - 1] as number, x0, x1);
  const bottom = TOP + rows.length * rowHeight;
  const body: string[] = header(measure);

  for (const v of ticks) {
    body.push(line(x(v), TOP, x(v), bottom + 5, { class: 'tick' }));
    body.push(text(x(v), bottom + 19, tickLabel(v), { 'text-anchor': 'middle', fill: COLORS.muted, class: 'tick-label' }));
  }
  body.push(line(x0, bottom, x1, bottom, { stroke: COLORS.muted }));
  body.push(text((x0 + x1) / 2, bottom + 37, measure.unit, { 'text-anchor': 'middle', fill: COLORS.muted }));

  rows.forEach((row, i) => {
    const cy = TOP + i * rowHeight + rowHeight / 2;
    const color = row.primacy ? COLORS.primacy : COLORS.peer;
    const width = Math.max(0, x(row.value) - x0);
    const marks = [el('rect', { x: x0, y: cy - 8, width, height: 16, fill: color, 'fill-opacity': 0.8 }, tooltip(endLabel(row)))];
    row.samples.forEach((sample, j) => {
      // White-ringed, so a dot stays visible on the bar it sits on.
      const dot = { cx: x(sample), cy, r: 2.8, fill: COLORS.text, stroke: '#ffffff', 'stroke-width': 0.8 };
      marks.push(el('circle', dot, tooltip(`slice ${j + 1}: ${rateLabel(sample)}`)));
    });
    body.push(el('g', { class: 'row', 'data-label': row.label }, ...marks));
    body.push(text(x0 - 12, cy + 4, row.label, { 'text-anchor': 'end', 'font-size': 13, 'font-weight': row.primacy ? 'bold' : undefined }));
    const valueX = Math.max(x(row.value), ...row.samples.map(x)) + 8;
    body.push(text(valueX, cy + 4, endLabel(row), { class: 'value' }));
  });
  return svgDocument({ width: WIDTH, height: bottom + 50 }, measure.title, describe(measure), body);
}

export function renderChart(measure: Measure): string {
  return measure.kind === 'distribution' ? distributionChart(measure) : barChart(measure);
}
