/**
 * The bench's terms and its overlap report. A term runs from the contender's `acquired` event to its
 * `lost`/`released` event, both stamped when the contender's belief changed: primacy emits `elected`
 * once the lease is set and `revoked` once `isPrimary` reads false (before it releases); the
 * proper-lockfile loop reports `acquired` when `lock()` resolves and `released` just before it calls
 * `release()`. A SIGKILLed holder's term ends at the kill; one that exits without a word, at its exit.
 */
import { findOverlaps, type Term } from '../harness/overlaps.js';
import type { Contender } from './field.js';

export interface OverlapReport {
  /** How many terms there were. */
  intervals: number;
  overlaps: number;
  /** Longest overlap in ms (0 if none). */
  worst: number;
  details: string[];
}

/** A contender's terms; `endedBy` is `lost (reason)`, `released`, `SIGKILL` or `exit`. */
export function termsOf(contender: Contender, phaseEnd: number): Term[] {
  const killedAt = contender.signalled?.signal === 'SIGKILL' ? contender.signalled.t : Number.POSITIVE_INFINITY;
  const terms: Term[] = [];
  let start: number | null = null;
  for (const { ev, t, detail } of contender.events) {
    if (ev === 'acquired' && start === null) start = t;
    else if ((ev === 'lost' || ev === 'released') && start !== null) {
      const endedBy = t > killedAt ? 'SIGKILL' : detail && ev === 'lost' ? `lost (${detail})` : ev;
      terms.push({ pid: contender.pid, start, end: Math.min(t, killedAt), endedBy });
      start = null;
    }
  }
  if (start !== null) {
    // Still holding when it died: a SIGKILLed process stops believing at the kill, any other at its exit.
    const end = Math.min(killedAt, contender.exit?.t ?? phaseEnd);
    terms.push({ pid: contender.pid, start, end, endedBy: end === killedAt ? 'SIGKILL' : 'exit' });
  }
  return terms;
}

/** Every overlap of the phase's terms, with the first ten described (times in s from `phaseStart`). */
export function overlapReport(contenders: readonly Contender[], phaseEnd: number, phaseStart = 0): OverlapReport {
  const at = (t: number) => `${((t - phaseStart) / 1000).toFixed(3)} s`;
  const terms = contenders.flatMap((c) => termsOf(c, phaseEnd));
  const found = findOverlaps(terms);
  const details = found.slice(0, 10).map(({ start, end, older: a, newer: b }) => {
    const length = end - start;
    return (
      `both held for ${length.toFixed(2)} ms: pid ${a.pid} (from ${at(a.start)}, ended by ${a.endedBy} at ${at(a.end)}) and ` +
      `pid ${b.pid} (from ${at(b.start)}, ended by ${b.endedBy} at ${at(b.end)})`
    );
  });
  return { intervals: terms.length, overlaps: found.length, worst: Math.max(0, ...found.map((o) => o.end - o.start)), details };
}
