/**
 * Just enough SVG to draw the bench charts by hand: elements as strings, escaping, scales and
 * ticks. No dependency: the charts are a handful of lines, dots and labels, and a plotting library
 * would outweigh everything else the bench installs. Output stays plain SVG 1.1 with no fonts,
 * scripts or styles from outside, because GitHub shows an SVG through <img>, which loads none of them.
 */

export type Attrs = Record<string, string | number | undefined>;

/** A system font stack: GitHub's <img> sandbox cannot fetch a web font, and every OS has one of these. */
export const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

export const COLORS = {
  text: '#1f2328',
  muted: '#57606a',
  grid: '#d0d7de',
  minorGrid: '#eef1f4',
  band: '#f6f8fa',
  primacy: '#0969da',
  peer: '#bc4c00',
} as const;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Coordinates to 0.1 px: finer is invisible and only makes the files larger. */
export const px = (n: number) => Math.round(n * 10) / 10;

function attributes(attrs: Attrs): string {
  return Object.entries(attrs)
    .map(([name, value]) => (value === undefined ? '' : ` ${name}="${escapeXml(typeof value === 'number' ? String(px(value)) : value)}"`))
    .join('');
}

/** An element; children are already-rendered markup. Self-closing when it has none. */
export function el(tag: string, attrs: Attrs, ...children: string[]): string {
  return children.length ? `<${tag}${attributes(attrs)}>${children.join('')}</${tag}>` : `<${tag}${attributes(attrs)}/>`;
}

export function text(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return el('text', { x, y, 'font-size': 12, fill: COLORS.text, ...attrs }, escapeXml(content));
}

/** A hover text for one mark (browsers show it when the SVG is opened on its own; screen readers read it). */
export const tooltip = (content: string) => el('title', {}, escapeXml(content));

export function line(x1: number, y1: number, x2: number, y2: number, attrs: Attrs = {}, ...children: string[]): string {
  return el('line', { x1, y1, x2, y2, stroke: COLORS.grid, 'stroke-width': 1, ...attrs }, ...children);
}

/**
 * A whole document. The white background keeps dark text readable in GitHub's dark theme (a
 * transparent SVG would put it on near-black); <title> and <desc> are what a screen reader announces.
 */
export function svgDocument(size: { width: number; height: number }, title: string, desc: string, body: string[]): string {
  const { width, height } = size;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${px(width)}" height="${px(height)}" viewBox="0 0 ${px(width)} ${px(height)}"` +
      ` role="img" aria-labelledby="chart-title chart-desc" font-family="${escapeXml(FONT)}">`,
    el('title', { id: 'chart-title' }, escapeXml(title)),
    el('desc', { id: 'chart-desc' }, escapeXml(desc)),
    el('rect', { x: 0, y: 0, width, height, rx: 6, fill: '#ffffff', stroke: COLORS.grid }),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * Width of a string, erring wide: layout needs it and there are no font metrics here. The factors
 * fit DejaVu Sans (wide; what Linux falls back to), so narrower system fonts only leave some room.
 */
export function textWidth(content: string, fontSize = 12, bold = false): number {
  let units = 0;
  for (const ch of content) units += /[ilj.,:;'|!()[\]·]/.test(ch) ? 0.34 : /[A-Z@%×→…mwMW]/.test(ch) ? 0.82 : 0.62;
  return units * fontSize * (bold ? 1.1 : 1);
}

export type Scale = (value: number) => number;

/** [lo, hi] onto [x0, x1], log10; values at or below 0 land on the left edge (a log axis has no 0). */
export function logScale(lo: number, hi: number, x0: number, x1: number): Scale {
  const a = Math.log10(lo);
  const span = Math.log10(hi) - a;
  return (value) => x0 + ((value > 0 ? Math.max(Math.log10(value), a) - a : 0) / span) * (x1 - x0);
}

export function linearScale(lo: number, hi: number, x0: number, x1: number): Scale {
  return (value) => x0 + ((value - lo) / (hi - lo)) * (x1 - x0);
}

/**
 * A log domain around the data: from a whole decade (1 at most, so the axis always reads 1, 10,
 * 100...) up to the first 1, 2 or 5 × 10^k at or above the largest value, so a 10.5 s sample does
 * not stretch the axis to 100 s.
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

/** Powers of ten from lo to hi (labelled), and the 2..9 multiples up to hi for the minor grid. */
export function logTicks(lo: number, hi: number): { major: number[]; minor: number[] } {
  const major: number[] = [];
  const minor: number[] = [];
  for (let exponent = Math.round(Math.log10(lo)); 10 ** exponent <= hi * 1.0001; exponent++) {
    const decade = 10 ** exponent;
    major.push(Number(decade.toPrecision(12)));
    for (let k = 2; k <= 9 && k * decade <= hi * 1.0001; k++) minor.push(k * decade);
  }
  return { major, minor };
}

/** 0 and evenly spaced round ticks (1, 2 or 5 × 10^k apart) up to at least `max`. */
export function linearTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let t = 0; t < max + step * 0.999; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** A tick label: 0.1, 1, 10, 1000, 10000 (no grouping: the axis title names the unit). */
export const tickLabel = (value: number) => (value >= 1 ? value.toFixed(0) : String(Number(value.toPrecision(3))));
