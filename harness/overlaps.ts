/**
 * Mutual exclusion, checked from the outside: the terms in which processes believed they held the
 * lock (were primary), by their own reports, must not intersect across processes. The bench and the
 * chaos runs build terms from different reports and judge an overlap differently; finding one is
 * the same for both.
 */

/** A stretch of time on one clock (see clock.ts), from `start` to `end`. */
export interface Span {
  start: number;
  end: number;
}

/** One process's belief that it holds the lock, from its report of acquiring to its loss, release or death. */
export interface Term extends Span {
  pid: number;
  /** How the belief ended, for the report: `revoked`, `released`, `SIGKILL`, `end of run`... */
  endedBy: string;
}

/** Two processes' terms that intersect: both believed they held the lock from `start` to `end`. */
export interface Overlap<T extends Term = Term> extends Span {
  /** The term that began first (or as first in `terms`, for two that began together). */
  older: T;
  newer: T;
}

/**
 * Every pair of terms of different processes that intersect, ordered by the older term's start.
 * Terms that only touch (one ends when the next starts) do not overlap: that is a hand-over. Two
 * terms of one process never count (a process re-elected is still one believer).
 */
export function findOverlaps<T extends Term>(terms: readonly T[]): Overlap<T>[] {
  // A stable sort: terms that began together keep their order, so the report is reproducible.
  const byStart = [...terms].sort((a, b) => a.start - b.start);
  const found: Overlap<T>[] = [];
  for (let i = 0; i < byStart.length; i++) {
    const older = byStart[i] as T;
    for (let j = i + 1; j < byStart.length; j++) {
      const newer = byStart[j] as T;
      if (newer.start >= older.end) break; // sorted by start: every later term also begins after `older` ended
      if (newer.pid === older.pid) continue;
      found.push({ start: newer.start, end: Math.min(older.end, newer.end), older, newer });
    }
  }
  return found;
}
