/**
 * The chaos report: pure functions over a run's log (log.ts), so each rule can be tested on a
 * hand-made log. Violations are what must never happen; everything else is a measurement.
 *
 * Safety is judged three ways, from the strongest evidence to the weakest:
 * - stale reads: a write carries the time its writer read `isPrimary === true`; if that read came
 *   after another lease with a higher token was elected, two processes believed at once. Exact,
 *   since every process stamps the same monotonic clock.
 * - the store: accepted tokens never decrease, and no token is accepted from two pids; elected
 *   tokens increase across holders.
 * - overlaps of terms (from `elected` to `revoked`): the older holder may still *report* belief
 *   while it is paused (a SIGSTOPped or blocked process cannot emit `revoked` until it resumes,
 *   though its `isPrimary` reads false from its deadline on). Such an overlap is harmless when that
 *   holder was paused when the newer one was elected, its term ended within `RESUME_GRACE` of the
 *   resume, and it read no `isPrimary === true` after the newer election; its writes still in
 *   flight are the stale writes the store rejects. It is *paused-and-fenced* if the pause was a
 *   SIGSTOP, *busy-and-fenced* if its event loop was blocked. Connection-bound takeover (Redis,
 *   Redlock) may elect a newer holder while a busy one's lease has not run out by its own clock
 *   (client-kill-busy-primary): the busy holder sees its connection closed only when its loop
 *   next handles I/O, and the timers that run first after the block (before the poll phase) still
 *   read `isPrimary === true`. Those reads, up to the block's first I/O turn, belong to the block
 *   (`readInBlock`) and are what the README documents; any read after it is a violation, as is any
 *   other overlap.
 *
 * A late write from a paused holder that reaches the store before the newer holder's first write is
 * accepted: the store orders writes by token, so it is ordered before the newer holder's writes,
 * which is what fencing promises. It is counted (`staleAccepted`), not a violation.
 */

import { findOverlaps, type Overlap, type Span } from '../harness/overlaps.js';
import { percentile } from '../harness/percentile.js';
import { isHarmlessKind } from './faults.js';
import { complement, type LeaseTerm, length, served, terms } from './intervals.js';
import type { FaultRecord, Pause, RunLog } from './log.js';
import { falseHangs, orphans } from './manager-checks.js';
import type { WriteRecord } from './protocol.js';

/** How soon after resuming a paused holder must have reported `revoked` (its due timers run first). */
export const RESUME_GRACE = 500;

/** paused: the older holder was SIGSTOPped; busy: its event loop was blocked; other: a violation. */
export type OverlapClass = 'paused' | 'busy' | 'other';

/** Two believers at once, judged: harmless when the older one was paused and fenced. */
export interface ClassifiedOverlap extends Overlap<LeaseTerm> {
  harmless: boolean;
  class: OverlapClass;
  why: string;
}

interface OverlapStats {
  count: number;
  totalMs: number;
  longestMs: number;
}

export interface Report {
  windowMs: number;
  faults: {
    total: number;
    byKind: Record<string, number>;
    /** Each fault: ms from the window's start, how long it lasted, what it hit, who was primary. */
    list: Array<{ kind: string; at: number; ms: number; target: string; primary: number | null }>;
  };
  elections: number;
  writes: { total: number; accepted: number; rejected: number; staleAccepted: number };
  overlaps: { paused: OverlapStats; busy: OverlapStats; other: number; list: ClassifiedOverlap[] };
  /** Share of the window during which a process able to act believed it was primary. */
  availability: number;
  gaps: { count: number; longestMs: number };
  /** Per fault kind: ms from the injection until a primary was serving again (0: no interruption). */
  failover: Record<string, { n: number; p50: number; p99: number; max: number }>;
  crashes: number;
  /** Manager fleets: workers their manager killed as hung, and those of them it should not have. */
  hangs?: { total: number; unexplained: number };
  violations: string[];
}

const ms = (n: number) => `${Math.round(n)} ms`;

/** Terms of different processes that intersect, each classified. */
export function overlaps(all: readonly LeaseTerm[], pauses: readonly Pause[], writes: readonly WriteRecord[]): ClassifiedOverlap[] {
  return findOverlaps(all).map((overlap) => ({ ...overlap, ...classify(overlap.older, overlap.newer, pauses, writes) }));
}

export function classify(
  older: LeaseTerm,
  newer: LeaseTerm,
  pauses: readonly Pause[],
  writes: readonly WriteRecord[],
): Pick<ClassifiedOverlap, 'harmless' | 'class' | 'why'> {
  const read = writes.find(
    (w) => w.pid === older.pid && w.token === older.token && w.checkedAt > newer.start && !readInBlock(w, newer.start, pauses),
  );
  if (read) {
    const why = `pid ${older.pid} read isPrimary true ${ms(read.checkedAt - newer.start)} after pid ${newer.pid} was elected`;
    return { harmless: false, class: 'other', why };
  }
  const pause = pauses.find((p) => p.pid === older.pid && p.from <= newer.start && older.end <= p.to + RESUME_GRACE);
  if (pause && pause.cause !== 'stop')
    return { harmless: true, class: 'busy', why: `pid ${older.pid} was ${pause.cause === 'stall' ? 'stalled' : 'busy'} and fenced` };
  if (pause) return { harmless: true, class: 'paused', why: `pid ${older.pid} was paused (stop) and fenced` };
  return { harmless: false, class: 'other', why: `pid ${older.pid} was not paused when pid ${newer.pid} was elected` };
}

/**
 * Whether `write`'s read came while its process was blocked (busy) since before `electedAt`, and
 * before it first handled I/O again: it could not yet have seen the server close its connection
 * (connection-bound takeover), so the read belongs to the busy class, where the token fences it.
 */
export function readInBlock(write: WriteRecord, electedAt: number, pauses: readonly Pause[]): boolean {
  return pauses.some((p) => p.cause !== 'stop' && p.pid === write.pid && p.from <= electedAt && write.checkedAt <= (p.io ?? p.to));
}

function stats(overlaps: readonly ClassifiedOverlap[]): OverlapStats {
  return { count: overlaps.length, totalMs: length(overlaps), longestMs: Math.max(0, ...overlaps.map((o) => o.end - o.start)) };
}

/**
 * Writes whose `isPrimary` read came after a lease with a higher token had been elected: one
 * violation per (reader, token, newer lease), with how many reads and how late.
 */
export function staleReads(log: Pick<RunLog, 'events' | 'writes' | 'pauses'>, label: Label = () => ''): string[] {
  const elections = log.events.filter((e) => e.ev === 'elected').sort((a, b) => a.t - b.t);
  const found = new Map<string, { write: WriteRecord; newer: (typeof elections)[number]; lates: number[] }>();
  for (const write of log.writes) {
    const newer = elections.find((e) => e.t < write.checkedAt && e.token > write.token);
    if (!newer || readInBlock(write, newer.t, log.pauses)) continue;
    const key = `${write.pid}/${write.token}/${newer.pid}/${newer.token}`;
    const entry = found.get(key) ?? { write, newer, lates: [] };
    entry.lates.push(write.checkedAt - newer.t);
    found.set(key, entry);
  }
  return [...found.values()].map(
    ({ write, newer, lates }) =>
      `stale read: pid ${write.pid} read isPrimary true with token ${write.token} ${lates.length}× (${ms(Math.min(...lates))} to ${ms(Math.max(...lates))}) after pid ${newer.pid} was elected with token ${newer.token}${label(newer.t)}`,
  );
}

/** The store's log is monotone, no token is accepted from two pids, and elected tokens increase across holders. */
export function tokenViolations(log: Pick<RunLog, 'events' | 'writes'>, label: Label = () => ''): string[] {
  const violations: string[] = [];
  let highest = Number.NEGATIVE_INFINITY;
  const owner = new Map<number, number>();
  for (const w of log.writes.filter((w) => w.accepted)) {
    if (w.token < highest) violations.push(`store accepted token ${w.token} from pid ${w.pid} after token ${highest}${label(w.t)}`);
    highest = Math.max(highest, w.token);
    const first = owner.get(w.token) ?? w.pid;
    owner.set(w.token, first);
    if (first !== w.pid) violations.push(`store accepted token ${w.token} from two pids: ${first} and ${w.pid}${label(w.t)}`);
  }
  const elections = log.events.filter((e) => e.ev === 'elected').sort((a, b) => a.t - b.t);
  elections.forEach((e, i) => {
    const earlier = elections.slice(0, i).find((p) => (p.pid === e.pid ? p.token > e.token : p.token >= e.token));
    if (earlier) {
      violations.push(`pid ${e.pid} was elected with token ${e.token} after pid ${earlier.pid} had token ${earlier.token}${label(e.t)}`);
    }
  });
  return [...new Set(violations)];
}

/** Appends to a violation the fault it happened under, if any: ` (under <kind> at +<s> s)`. */
type Label = (t: number) => string;

/**
 * The fault a moment falls under: the last one injected at or before it, if the moment is within
 * `bound` of that fault's end (the time its failover may take). For people reading violations,
 * and for tests that expect violations from one kind only.
 */
export function faultLabel(log: Pick<RunLog, 'faults' | 'start'>, bound: number): Label {
  return (t) => {
    const fault = log.faults.filter((f) => f.at <= t).at(-1);
    if (!fault || t > fault.end + bound) return '';
    return ` (under ${fault.kind} at +${((fault.at - log.start) / 1000).toFixed(1)} s)`;
  };
}

/** Gaps longer than the bound beyond the end of every fault that could explain them. */
export function unexplainedGaps(gaps: readonly Span[], faults: readonly FaultRecord[], bound: number): string[] {
  return gaps.flatMap((gap) => {
    const causes = faults.filter((f) => !isHarmlessKind(f.kind) && f.at <= gap.end);
    const excess = Math.min(gap.end - gap.start, ...causes.map((f) => gap.end - Math.max(gap.start, f.end)));
    return excess > bound ? [`no primary for ${ms(gap.end - gap.start)} (${ms(excess)} unexplained by any fault; bound ${ms(bound)})`] : [];
  });
}

/** ms from each fault's injection (or `recoverFrom`) until a primary serves again (0 if it never stopped). */
export function recoveries(faults: readonly FaultRecord[], gaps: readonly Span[], bound: number, end: number): Map<string, number[]> {
  const byKind = new Map<string, number[]>();
  faults.forEach((f, i) => {
    const from = f.recoverFrom ?? f.at;
    const limit = Math.min(faults[i + 1]?.at ?? end, f.end + bound);
    const gap = gaps.find((g) => g.end > from && g.start < limit);
    byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), gap ? gap.end - from : 0]);
  });
  return byKind;
}

export function buildReport(log: RunLog): Report {
  const window = { start: log.start, end: log.end };
  const all = terms(log.events, log.end).filter((t) => t.end > window.start);
  const found = overlaps(all, log.pauses, log.writes);
  const gaps = complement(served(all, log.pauses), window).filter((g) => g.end - g.start > 0.5);
  const elections = log.events.filter((e) => e.ev === 'elected');
  const stale = log.writes.filter((w) => elections.some((e) => e.t < w.t && e.token > w.token));
  const failover: Report['failover'] = {};
  for (const [kind, samples] of recoveries(log.faults, gaps, log.gapBound, log.end)) {
    failover[kind] = { n: samples.length, p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), max: Math.max(...samples) };
  }
  const byKind: Record<string, number> = {};
  for (const f of log.faults) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  const label = faultLabel(log, log.gapBound);
  const violations = [
    ...staleReads(log, label),
    ...tokenViolations(log, label),
    ...found.filter((o) => !o.harmless).map((o) => `overlap of ${ms(o.end - o.start)}: ${o.why}${label(o.newer.start)}`),
    ...unexplainedGaps(gaps, log.faults, log.gapBound),
    ...log.crashes.map((c) => `${c.process ?? 'candidate'} ${c.pid} exited unexpectedly (${c.how})`),
  ];
  const wrongHangs = falseHangs(log, label);
  violations.push(...wrongHangs, ...orphans(log, label));
  return {
    windowMs: log.end - log.start,
    faults: {
      total: log.faults.length,
      byKind,
      list: log.faults.map((f) => ({ kind: f.kind, at: f.at - log.start, ms: f.end - f.at, target: f.target, primary: f.primary })),
    },
    elections: elections.filter((e) => e.t >= log.start && e.t <= log.end).length,
    writes: {
      total: log.writes.length,
      accepted: log.writes.filter((w) => w.accepted).length,
      rejected: log.writes.filter((w) => !w.accepted).length,
      staleAccepted: stale.filter((w) => w.accepted).length,
    },
    overlaps: {
      paused: stats(found.filter((o) => o.class === 'paused')),
      busy: stats(found.filter((o) => o.class === 'busy')),
      other: found.filter((o) => o.class === 'other').length,
      list: found,
    },
    availability: 1 - length(gaps) / (log.end - log.start),
    gaps: { count: gaps.length, longestMs: Math.max(0, ...gaps.map((g) => g.end - g.start)) },
    failover,
    crashes: log.crashes.length,
    ...(log.hangs ? { hangs: { total: log.hangs.length, unexplained: wrongHangs.length } } : {}),
    violations,
  };
}
