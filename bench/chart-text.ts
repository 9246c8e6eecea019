/**
 * The words and figures the bench charts print (bench/chart-spec.ts places them), at the precision
 * of the tables in RESULTS.md, so a chart and its table never disagree.
 */
import type { Measure, MeasureRow } from './measures.js';
import { formatMs } from './stats.js';

/** 918×, 8.3×, 0.11×. */
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

export const rateLabel = (value: number) => (Math.abs(value) >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1));

/** A bar's value label: "4585 ops/s · 1.2× primacy redis". */
export function barLabel(row: MeasureRow, measure: Measure): string {
  const ratio = ratioText(row, measure).text;
  return `${rateLabel(row.value)} ${measure.unit}${ratio ? ` · ${ratio}` : ''}`;
}

/** What a screen reader announces for a chart: every row's figure, as the tables print it. */
export function describe(measure: Measure): string {
  const parts = measure.rows.map((row) => {
    const figure = measure.kind === 'distribution' ? `p50 ${formatMs(row.value)} ms` : `${rateLabel(row.value)} ${measure.unit}`;
    const { text: ratio, against } = ratioText(row, measure);
    return `${row.label}: ${figure}${ratio ? ` (${[ratio, against].filter(Boolean).join(' ')})` : ''}`;
  });
  return `${measure.caption}. ${parts.join('; ')}.`;
}
