/**
 * Mutual exclusion, checked from the outside: every contender's holding intervals must be disjoint.
 * A term runs from the contender's `acquired` event to its `lost`/`released` event, both stamped
 * when the contender's belief changed: primacy emits `elected` once the lease is set and `revoked`
 * once `isPrimary` reads false (before it releases); the proper-lockfile loop reports `acquired`
 * when `lock()` resolves and `released` just before it calls `release()`. A SIGKILLed holder's
 * term ends at the kill; one that exits without a word, at its exit.
 */
import type { Contender } from './field.js';

export interface Interval {
  pid: number;
  start: number;
  end: number;
  /** How the term ended, for the report: `lost (reason)`, `released`, `SIGKILL`, `exit`. */
  endedBy: string;
}

export interface OverlapReport {
  intervals: number;
  overlaps: number;
  /** Longest overlap in ms (0 if none). */
  worst: number;
  details: string[];
}

export function holdingIntervals(contender: Contender, phaseEnd: number): Interval[] {
  const killedAt = contender.signalled?.signal === 'SIGKILL' ? contender.signalled.t : Number.POSITIVE_INFINITY;
  const intervals: Interval[] = [];
  let start: number | null = null;
  for (const { ev, t, detail } of contender.events) {
    if (ev === 'acquired' && start === null) start = t;
    else if ((ev === 'lost' || ev === 'released') && start !== null) {
      const endedBy = t > killedAt ? 'SIGKILL' : detail && ev === 'lost' ? `lost (${detail})` : ev;
      intervals.push({ pid: contender.pid, start, end: Math.min(t, killedAt), endedBy });
      start = null;
    }
  }
  if (start !== null) {
    // Still holding when it died: a SIGKILLed process stops believing at the kill, any other at its exit.
    const end = Math.min(killedAt, contender.exit?.t ?? phaseEnd);
    intervals.push({ pid: contender.pid, start, end, endedBy: end === killedAt ? 'SIGKILL' : 'exit' });
  }
  return intervals;
}

export function findOverlaps(contenders: readonly Contender[], phaseEnd: number, phaseStart = 0): OverlapReport {
  const at = (t: number) => `${((t - phaseStart) / 1000).toFixed(3)} s`;
  const all = contenders.flatMap((c) => holdingIntervals(c, phaseEnd)).sort((a, b) => a.start - b.start);
  let overlaps = 0;
  let worst = 0;
  const details: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const a = all[i] as Interval;
    for (let j = i + 1; j < all.length; j++) {
      const b = all[j] as Interval;
      if (b.start >= a.end) break;
      if (b.pid === a.pid) continue;
      const length = Math.min(a.end, b.end) - b.start;
      overlaps++;
      worst = Math.max(worst, length);
      if (details.length < 10) {
        details.push(
          `both held for ${length.toFixed(2)} ms: pid ${a.pid} (from ${at(a.start)}, ended by ${a.endedBy} at ${at(a.end)}) and ` +
            `pid ${b.pid} (from ${at(b.start)}, ended by ${b.endedBy} at ${at(b.end)})`,
        );
      }
    }
  }
  return { intervals: all.length, overlaps, worst, details };
}
