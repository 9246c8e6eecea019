/**
 * SIGTERM hand-over, step by step, for every contender whose rounds recorded it: from the signal
 * sent, when the holder stepped down (its own stamp), when the next holder became primary (its own
 * stamp: the headline figure), when the bench process read that line, when the holder's process
 * exited. Tells a reader which part of a hand-over is whose, and what an outside harness that stamps
 * lines as it reads them would see instead.
 */
import type { ContenderRun } from './failover.js';
import { formatMs, percentile } from './stats.js';

const p50 = (values: readonly number[]) => (values.length ? formatMs(percentile(values, 0.5)) : '–');

export function handOverTable(runs: readonly ContenderRun[]): string {
  const rows: string[][] = [];
  for (const run of runs) {
    const result = run.results.SIGTERM;
    const rounds = result?.rounds;
    if (!result || !rounds?.length) continue;
    const stepDowns = rounds.flatMap((r) => (r.stepDownMs === null ? [] : [r.stepDownMs]));
    const afterStepDown = rounds.flatMap((r, i) => (r.stepDownMs === null ? [] : [(result.samples[i] as number) - r.stepDownMs]));
    const delivery = rounds.map((r, i) => r.seenMs - (result.samples[i] as number));
    rows.push([
      run.label,
      `**${p50(result.samples)}**`,
      p50(stepDowns),
      p50(afterStepDown),
      p50(rounds.map((r) => r.seenMs)),
      p50(delivery),
      p50(rounds.flatMap((r) => (r.exitMs === null ? [] : [r.exitMs]))),
      result.cpuBusy === undefined ? '–' : `${(result.cpuBusy * 100).toFixed(0)} %`,
    ]);
  }
  if (!rows.length) return '(no SIGTERM rounds with a step-by-step record)';
  const head = [
    'contender (p50, ms)',
    'signal → next primary',
    'signal → holder stepped down',
    'stepped down → next primary',
    'signal → bench read the line',
    'of which delivery',
    'signal → holder exited',
    'machine CPU busy',
  ];
  return [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export function handOverSection(runs: readonly ContenderRun[]): string {
  return `## SIGTERM hand-over, step by step

Every SIGTERM round above, split at the moments the processes stamped (p50 of each step over the rounds; the steps' p50s
need not add up). *signal → next primary* is the headline figure of the tables above: from the moment the bench sent
SIGTERM to the moment another contender became primary, by that contender's own stamp (primacy: its \`elected\` event).
*stepped down* is the holder's own stamp of its step-down (primacy: \`revoked\`, when \`isPrimary\` reads false, before the
release). *bench read the line* is when the bench process read the new primary's line from its stdout: what a harness
that stamps a child's output as it reads it would measure; *delivery* is that minus the headline (pipe, and the bench's
own event loop, on a busy machine most of all). *holder exited*: when the bench saw the signalled process end (primacy
re-raises SIGTERM once its release is done).

${handOverTable(runs)}
`;
}
