/** The report as text, for people (the JSON form is the report object itself). */
import type { Report } from './report.js';

const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(1) : Math.round(n).toString()) : 'n/a');

const fenced = (o: Report['overlaps']['paused'], what: string) =>
  `${o.count} ${what}-and-fenced${o.count ? ` (total ${ms(o.totalMs)} ms, longest ${ms(o.longestMs)} ms)` : ''}`;

export function formatReport(report: Report, heading: string, replay: string, errors: ReadonlyMap<string, number>): string {
  const { faults, writes, overlaps, failover } = report;
  const kinds = Object.entries(faults.byKind)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  const lines = [
    '',
    heading,
    `window            ${(report.windowMs / 1000).toFixed(1)} s, ${report.elections} elections`,
    `faults            ${faults.total}${kinds ? ` (${kinds})` : ''}`,
    `writes            ${writes.accepted} accepted, ${writes.rejected} rejected as stale by the store; ${writes.staleAccepted} late writes of an old holder accepted before any newer token`,
    `two believers     ${fenced(overlaps.paused, 'paused')}; ${fenced(overlaps.busy, 'busy')}; ${overlaps.other} other`,
    `availability      ${(report.availability * 100).toFixed(2)} % of the window with a primary able to act; ${report.gaps.count} gaps, longest ${ms(report.gaps.longestMs)} ms`,
    'primary back after (ms from the fault; 0 = never interrupted):',
    ...Object.entries(failover).map(
      ([kind, s]) =>
        `  ${kind.padEnd(33)} n=${String(s.n).padEnd(3)} p50 ${ms(s.p50).padStart(6)}  p99 ${ms(s.p99).padStart(6)}  max ${ms(s.max).padStart(6)}`,
    ),
  ];
  if (report.hangs) {
    const { total, unexplained } = report.hangs;
    lines.splice(7, 0, `workers hung      ${total} killed as hung by their manager, ${unexplained} of them neither stopped nor busy`);
  }
  if (errors.size > 0) {
    lines.push('candidate error events (reported and survived):');
    for (const [message, n] of errors) lines.push(`  ${n} × ${message}`);
  }
  lines.push(report.violations.length === 0 ? 'violations        none' : `VIOLATIONS        ${report.violations.length}`);
  for (const v of report.violations) lines.push(`  ✗ ${v}`);
  lines.push(`replay            ${replay}`, '');
  return lines.join('\n');
}
