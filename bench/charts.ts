/**
 * Draws a bench chart (bench/chart-spec.ts) as a standalone SVG with Vega: compiled from Vega-Lite
 * and rendered headless (`renderer: 'none'` needs neither a browser nor a native canvas; text is
 * measured by estimate, which errs wide). The output is plain SVG with no fonts, scripts or styles
 * from outside, because GitHub shows an SVG through <img>, which loads none of them.
 */
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { barSpec, distributionSpec } from './chart-spec.js';
import { describe } from './chart-text.js';
import type { Measure } from './measures.js';

/**
 * Text widths for layout. Without a canvas Vega guesses 0.8 em a character, which leaves a third
 * of the plot empty beside long labels; these factors fit DejaVu Sans (wide; what Linux falls back
 * to), so narrower system fonts only leave some room. Replacing `textMetrics.width` is how headless
 * Vega users bring their own metrics (vega-scenegraph checks for it); it also keeps the charts the
 * same on a machine that happens to have the optional `canvas` package. Not in vega's typings.
 */
interface TextItem {
  text?: unknown;
  fontSize?: number;
  fontWeight?: string | number;
}
function textWidth(item: TextItem, line?: unknown): number {
  const text = String(line ?? item.text ?? '');
  const size = item.fontSize ?? 11;
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
  let units = 0;
  for (const ch of text) units += /[ilj.,:;'|!()[\]·]/.test(ch) ? 0.34 : /[A-Z@%×→…mwMW]/.test(ch) ? 0.82 : 0.62;
  return units * size * (bold ? 1.1 : 1);
}
(vega as unknown as { textMetrics: { width: typeof textWidth } }).textMetrics.width = textWidth;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Coordinates to 0.1 px: finer is invisible and only makes the files (and their diffs) larger.
 * Only geometry attributes are touched, never text, where "0.11×" is a figure.
 */
function roundGeometry(svg: string): string {
  return svg.replace(/ (transform|d|x2|y2|width|height|viewBox)="([^"]*)"/g, (_, name: string, value: string) => {
    const rounded = value.replace(/-?\d+\.\d+/g, (n) => String(Math.round(Number(n) * 10) / 10));
    return ` ${name}="${rounded}"`;
  });
}

/**
 * Vega's SVG has no <title> or <desc> (in a page, the container element carries them): add them,
 * since they are what a screen reader announces, and a browser's tab shows, for an image on its own.
 */
function labelled(svg: string, measure: Measure): string {
  const open = svg.indexOf('>') + 1;
  const head = svg.slice(0, open - 1);
  const a11y = `<title id="chart-title">${escapeXml(measure.title)}</title><desc id="chart-desc">${escapeXml(describe(measure))}</desc>`;
  return `${head} role="img" aria-labelledby="chart-title chart-desc">${a11y}${svg.slice(open)}\n`;
}

export async function renderChart(measure: Measure): Promise<string> {
  const spec = measure.kind === 'distribution' ? distributionSpec(measure) : barSpec(measure);
  // The whole chart, labels included, fits the spec's width. Set on the Vega spec: Vega-Lite warns about
  // "fit-y" whenever the height is by step, although "fit-x" asks for none.
  const autosize = { type: 'fit-x', contains: 'padding' } as const;
  const view = new vega.View(vega.parse({ ...compile(spec).spec, autosize }), { renderer: 'none' });
  try {
    return labelled(roundGeometry(await view.toSVG()), measure);
  } finally {
    view.finalize();
  }
}
