/**
 * The rules for what managers do to their workers, over a run's log (pure, like report.ts):
 *
 * - A worker killed as hung must have been silent for real: stopped or spinning by our doing (it
 *   was `held` then), or its own loop blocked for a good part of the heartbeat timeout before. A
 *   healthy worker killed as hung is a violation, above all just after its manager resumed from a
 *   SIGSTOP (stop-manager), where a manager that counted its own gap against its workers used to
 *   kill every one of them.
 * - A worker must exit with its manager: one still alive the largest TTL after its manager's
 *   SIGKILL (kill-manager) is an orphan, a violation (the run kills it and goes on).
 */
import type { RunLog } from './log.js';

type Label = (t: number) => string;

/** Hangs of workers that were not silent by our doing nor by a block of their own. */
export function falseHangs(log: Pick<RunLog, 'hangs' | 'heartbeatTimeout' | 'pauses' | 'faults' | 'start'>, label: Label): string[] {
  const timeout = log.heartbeatTimeout ?? 0;
  return (log.hangs ?? []).flatMap((hang) => {
    const silent = log.pauses.some(
      (p) => p.pid === hang.pid && p.from <= hang.t && p.to >= hang.t - timeout && p.to - p.from > timeout / 2,
    );
    if (hang.held || silent) return [];
    const resume = log.faults.filter((f) => f.kind === 'stop-manager' && f.end <= hang.t && hang.t - f.end <= timeout).at(-1);
    const when = resume
      ? ` ${Math.round(hang.t - resume.end)} ms after ${resume.target.split(',')[0]} resumed from a ${Math.round(resume.end - resume.at)} ms stop (stop-manager at +${((resume.at - log.start) / 1000).toFixed(1)} s)`
      : label(hang.t);
    return [
      `manager pid ${hang.manager} killed worker pid ${hang.pid} as hung (silent ${hang.silentFor} ms by its count), though the worker was neither stopped nor busy${when}`,
    ];
  });
}

export function orphans(log: Pick<RunLog, 'orphans'>, label: Label): string[] {
  return (log.orphans ?? []).map(
    (o) => `worker pid ${o.pid} was still alive ${o.waited} ms after its manager pid ${o.manager} was SIGKILLed${label(o.t)}`,
  );
}
