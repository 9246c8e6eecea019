/** Interval arithmetic over the run's log: terms (who believed it was primary when), unions, gaps. */
import type { Span, Term } from '../harness/overlaps.js';
import type { Pause, TermEvent } from './log.js';

/** A term as a chaos candidate reports it: from `elected` to `revoked` or death, with its lease's fencing token. */
export interface LeaseTerm extends Term {
  token: number;
}

/**
 * The terms in the log, by start. A term still open at `end` (the window's end) is cut there; one
 * whose process died without a `revoked` ends at the death (a SIGKILLed process believes nothing).
 */
export function terms(events: readonly TermEvent[], end: number): LeaseTerm[] {
  const open = new Map<number, { start: number; token: number }>();
  const dead = new Set<number>();
  const result: LeaseTerm[] = [];
  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    if (dead.has(e.pid)) continue;
    const current = open.get(e.pid);
    if (e.ev === 'elected') {
      if (!current) open.set(e.pid, { start: e.t, token: e.token });
      continue;
    }
    if (e.ev === 'died') dead.add(e.pid);
    if (current) {
      result.push({ pid: e.pid, token: current.token, start: current.start, end: e.t, endedBy: e.ev === 'died' ? e.how : e.reason });
      open.delete(e.pid);
    }
  }
  for (const [pid, { start, token }] of open) result.push({ pid, token, start, end: Math.max(start, end), endedBy: 'end of run' });
  return result.sort((a, b) => a.start - b.start);
}

/** Sorted, disjoint spans covering the same time as `spans`. */
export function union(spans: readonly Span[]): Span[] {
  const merged: Span[] = [];
  for (const { start, end } of [...spans].filter((s) => s.end > s.start).sort((a, b) => a.start - b.start)) {
    const last = merged.at(-1);
    if (last && start <= last.end) last.end = Math.max(last.end, end);
    else merged.push({ start, end });
  }
  return merged;
}

/** `span` less the `holes`. */
export function subtract(span: Span, holes: readonly Span[]): Span[] {
  let pieces: Span[] = [{ ...span }];
  for (const hole of holes) {
    pieces = pieces.flatMap((p) => {
      if (hole.end <= p.start || hole.start >= p.end) return [p];
      const left = { start: p.start, end: hole.start };
      const right = { start: hole.end, end: p.end };
      return [left, right].filter((s) => s.end > s.start);
    });
  }
  return pieces;
}

/** The parts of `window` not covered by `covered` (which must be sorted and disjoint, as `union` returns). */
export function complement(covered: readonly Span[], window: Span): Span[] {
  const gaps: Span[] = [];
  let cursor = window.start;
  for (const { start, end } of covered) {
    if (end <= cursor) continue;
    if (start >= window.end) break;
    if (start > cursor) gaps.push({ start: cursor, end: start });
    cursor = Math.max(cursor, end);
  }
  if (cursor < window.end) gaps.push({ start: cursor, end: window.end });
  return gaps;
}

export const length = (spans: readonly Span[]): number => spans.reduce((sum, s) => sum + (s.end - s.start), 0);

/**
 * When some process that could act believed it was primary: every term less its own process's
 * pauses (a stopped or blocked primary does no work, whatever it believes), merged.
 */
export function served(allTerms: readonly LeaseTerm[], pauses: readonly Pause[]): Span[] {
  return union(
    allTerms.flatMap((term) =>
      subtract(
        term,
        // A stall nobody injected is not counted against availability or a fault's recovery.
        pauses.filter((p) => p.pid === term.pid && p.cause !== 'stall').map((p) => ({ start: p.from, end: p.to })),
      ),
    ),
  );
}
