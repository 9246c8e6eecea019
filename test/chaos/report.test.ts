/**
 * The chaos report's rules on hand-made logs: what counts as a violation, how an overlap of two
 * believers is classified (paused / busy / other), and the figures (availability, gaps, failover).
 */
import { describe, expect, it } from 'vitest';
import { complement, served, terms } from '../../chaos/intervals.js';
import type { FaultRecord, Hang, Pause, RunLog, TermEvent } from '../../chaos/log.js';
import type { WriteRecord } from '../../chaos/protocol.js';
import { buildReport, overlaps, staleReads, tokenViolations, unexplainedGaps } from '../../chaos/report.js';
import { percentile } from '../../harness/percentile.js';

const elected = (pid: number, t: number, token: number): TermEvent => ({ ev: 'elected', pid, t, token });
const revoked = (pid: number, t: number, token: number): TermEvent => ({ ev: 'revoked', pid, t, token, reason: 'expired' });
const died = (pid: number, t: number): TermEvent => ({ ev: 'died', pid, t, how: 'SIGKILL' });
const write = (pid: number, token: number, checkedAt: number, t: number, accepted = true): WriteRecord => ({
  pid,
  token,
  seq: 0,
  checkedAt,
  t,
  accepted,
});
const fault = (kind: FaultRecord['kind'], at: number, end = at): FaultRecord => ({ kind, at, end, target: 'pid 1', primary: 1 });
const log = (fields: Partial<RunLog>): RunLog => ({
  start: 0,
  end: 10_000,
  events: [],
  pauses: [],
  faults: [],
  writes: [],
  crashes: [],
  gapBound: 5000,
  ...fields,
});

// pid 1 holds token 1 from 0, is SIGSTOPped at 1000 for 3 s; pid 2 takes over at 2100 with token 2;
// pid 1 resumes at 4000 and reports `revoked` at 4010. Its write checked at 990 arrives at 4005.
const pausedEvents = [elected(1, 0, 1), elected(2, 2100, 2), revoked(1, 4010, 1)];
const stop: Pause = { pid: 1, from: 1000, to: 4000, cause: 'stop' };

describe('chaos report: two believers', () => {
  it('classifies an overlap whose older holder was paused, and wrote nothing after the takeover, as harmless', () => {
    const writes = [write(1, 1, 900, 910), write(2, 2, 2150, 2160), write(1, 1, 990, 4005, false)];
    const [overlap, ...rest] = overlaps(terms(pausedEvents, 10_000), [stop], writes);
    expect(rest).toEqual([]);
    expect(overlap).toMatchObject({ start: 2100, end: 4010, harmless: true });
    expect(buildReport(log({ events: pausedEvents, pauses: [stop], writes })).violations).toEqual([]);
  });

  it('calls an overlap a violation when the older holder was not paused', () => {
    const [overlap] = overlaps(terms(pausedEvents, 10_000), [], []);
    expect(overlap).toMatchObject({ harmless: false });
    expect(overlap?.why).toContain('pid 1 was not paused');
    expect(buildReport(log({ events: pausedEvents })).violations).toEqual([expect.stringContaining('overlap of 1910 ms')]);
  });

  it('calls an overlap a violation when the paused holder read isPrimary true after the takeover, and reports the stale read', () => {
    const writes = [write(2, 2, 2150, 2160), write(1, 1, 4002, 4004, false)];
    const [overlap] = overlaps(terms(pausedEvents, 10_000), [stop], writes);
    expect(overlap).toMatchObject({ harmless: false });
    expect(staleReads({ events: pausedEvents, writes, pauses: [stop] })).toEqual([
      'stale read: pid 1 read isPrimary true with token 1 1× (1902 ms to 1902 ms) after pid 2 was elected with token 2',
    ]);
  });

  // pid 1's loop is blocked from 1000 to 4000, its connection closed by the server meanwhile; pid 2
  // takes over at 2100 by connection binding; pid 1's first timer after the block reads at 4001,
  // before its loop first handles I/O at 4003, then it sees the close and reports revoked at 4004.
  const busyBlock: Pause = { pid: 1, from: 1000, to: 4000, cause: 'busy', io: 4003 };
  const busyEvents = [elected(1, 0, 1), elected(2, 2100, 2), revoked(1, 4004, 1)];

  it('counts a busy holder’s reads up to its first I/O turn after the block as the busy class', () => {
    const writes = [write(2, 2, 2150, 2160), write(1, 1, 4001, 4020, false)];
    const [overlap] = overlaps(terms(busyEvents, 10_000), [busyBlock], writes);
    expect(overlap).toMatchObject({ harmless: true, class: 'busy' });
    expect(staleReads({ events: busyEvents, writes, pauses: [busyBlock] })).toEqual([]);
    expect(buildReport(log({ events: busyEvents, pauses: [busyBlock], writes })).violations).toEqual([]);
  });

  it('calls a busy holder’s read after its first I/O turn a stale read', () => {
    const writes = [write(2, 2, 2150, 2160), write(1, 1, 4003.5, 4020, false)];
    const [overlap] = overlaps(terms(busyEvents, 10_000), [busyBlock], writes);
    expect(overlap).toMatchObject({ harmless: false, class: 'other' });
    expect(staleReads({ events: busyEvents, writes, pauses: [busyBlock] })).toHaveLength(1);
  });

  it('does not excuse a pause that ended long before the older holder reported revoked', () => {
    const early: Pause = { pid: 1, from: 1000, to: 2500, cause: 'busy' };
    expect(overlaps(terms(pausedEvents, 10_000), [early], [])[0]).toMatchObject({ harmless: false });
  });

  it('ends a killed holder’s term at its death, so a takeover after the kill is no overlap', () => {
    const events = [elected(1, 0, 1), died(1, 1000), elected(2, 1012, 2)];
    expect(terms(events, 5000).map(({ pid, start, end }) => ({ pid, start, end }))).toEqual([
      { pid: 1, start: 0, end: 1000 },
      { pid: 2, start: 1012, end: 5000 },
    ]);
    expect(overlaps(terms(events, 5000), [], [])).toEqual([]);
  });
});

// client-kill-busy-primary: pid 1's event loop is blocked from 1000 to 1800; the server closes its
// connection at 1050 and pid 2 takes over at 1120 (connection-bound, before pid 1's lease ran out);
// pid 1 runs again at 1800 and reports `revoked` at 1805.
const busyEvents = [elected(1, 0, 1), elected(2, 1120, 2), revoked(1, 1805, 1)];
const busy: Pause = { pid: 1, from: 1000, to: 1800, cause: 'busy' };

describe('chaos report: busy holders and the classes of overlap', () => {
  it('classifies a busy holder that read nothing after the takeover as busy-and-fenced, apart from paused ones', () => {
    const writes = [write(1, 1, 990, 1010), write(2, 2, 1130, 1140), write(1, 1, 995, 1801, false)];
    const [overlap] = overlaps(terms(busyEvents, 10_000), [busy], writes);
    expect(overlap).toMatchObject({ start: 1120, end: 1805, harmless: true, class: 'busy' });
    const report = buildReport(log({ events: busyEvents, pauses: [busy], writes }));
    expect(report.violations).toEqual([]);
    expect(report.overlaps).toMatchObject({ paused: { count: 0 }, busy: { count: 1, totalMs: 685, longestMs: 685 }, other: 0 });
  });

  it('counts a SIGSTOPped holder as paused, not busy', () => {
    const report = buildReport(log({ events: pausedEvents, pauses: [stop], writes: [] }));
    expect(report.overlaps).toMatchObject({ paused: { count: 1, totalMs: 1910 }, busy: { count: 0, totalMs: 0 }, other: 0 });
  });

  it('calls it a violation when the busy holder read isPrimary true once it ran again, after the takeover', () => {
    // Its lease had not run out by its own clock: the first timer after the busy loop read true.
    const writes = [write(2, 2, 1130, 1140), write(1, 1, 1801, 1820, false)];
    const [overlap] = overlaps(terms(busyEvents, 10_000), [busy], writes);
    expect(overlap).toMatchObject({ harmless: false, class: 'other' });
    const report = buildReport(log({ events: busyEvents, pauses: [busy], writes }));
    expect(report.overlaps).toMatchObject({ busy: { count: 0 }, other: 1 });
    expect(report.violations).toEqual([
      'stale read: pid 1 read isPrimary true with token 1 1× (681 ms to 681 ms) after pid 2 was elected with token 2',
      'overlap of 685 ms: pid 1 read isPrimary true 681 ms after pid 2 was elected',
    ]);
  });

  it('does not excuse a busy window that began after the takeover (the holder was running when it was replaced)', () => {
    const late: Pause = { pid: 1, from: 1200, to: 1800, cause: 'busy' };
    expect(overlaps(terms(busyEvents, 10_000), [late], [])[0]).toMatchObject({ harmless: false, class: 'other' });
  });
});

describe('chaos report: the store and the tokens', () => {
  it('flags a store that accepted a token lower than one it had accepted', () => {
    const writes = [write(1, 3, 0, 10), write(2, 2, 15, 20)];
    expect(tokenViolations({ events: [], writes })).toEqual(['store accepted token 2 from pid 2 after token 3']);
  });

  it('flags one token accepted from two pids', () => {
    const writes = [write(1, 3, 0, 10), write(2, 3, 15, 20)];
    expect(tokenViolations({ events: [], writes })).toEqual(['store accepted token 3 from two pids: 1 and 2']);
  });

  it('flags an election whose token does not exceed an earlier holder’s, and accepts a rejected stale write', () => {
    const events = [elected(1, 0, 5), revoked(1, 100, 5), elected(2, 200, 5)];
    expect(tokenViolations({ events, writes: [write(1, 5, 0, 10), write(2, 4, 5, 20, false)] })).toEqual([
      'pid 2 was elected with token 5 after pid 1 had token 5',
    ]);
  });
});

describe('chaos report: availability, gaps, failover', () => {
  it('does not count a stall nobody injected against availability or a fault’s recovery', () => {
    const all = terms([elected(1, 0, 1)], 10_000);
    const stall: Pause = { pid: 1, from: 3000, to: 3040, cause: 'stall', io: 3041 };
    expect(complement(served(all, [stall]), { start: 0, end: 10_000 })).toEqual([]);
    const report = buildReport(log({ events: [elected(1, 0, 1)], pauses: [stall], faults: [fault('clock-step-all', 1000, 2000)] }));
    expect(report.failover['clock-step-all']?.max).toBe(0);
  });

  it('counts a paused primary as unavailable and measures the gaps', () => {
    const all = terms([elected(1, 0, 1), died(1, 4000), elected(2, 4050, 2)], 10_000);
    const gaps = complement(served(all, [{ pid: 1, from: 1000, to: 1500, cause: 'busy' }]), { start: 0, end: 10_000 });
    expect(gaps).toEqual([
      { start: 1000, end: 1500 },
      { start: 4000, end: 4050 },
    ]);
    const report = buildReport(
      log({
        events: [elected(1, 0, 1), died(1, 4000), elected(2, 4050, 2)],
        pauses: [{ pid: 1, from: 1000, to: 1500, cause: 'busy' }],
        faults: [fault('busy-primary', 1000, 1500), fault('kill-primary', 4000)],
      }),
    );
    expect(report.availability).toBeCloseTo(1 - 550 / 10_000, 10);
    expect(report.gaps).toEqual({ count: 2, longestMs: 500 });
    expect(report.failover['busy-primary']).toEqual({ n: 1, p50: 500, p99: 500, max: 500 });
    expect(report.failover['kill-primary']).toEqual({ n: 1, p50: 50, p99: 50, max: 50 });
    expect(report.violations).toEqual([]);
  });

  it('measures expire-then-kill from the kill of the new primary, not from the busy spell before it', () => {
    // pid 1 busy 1000–3000, pid 2 takes over at 2200, pid 1 steps down; pid 2 is killed at 3500, pid 3 at 3530.
    const events = [elected(1, 0, 1), elected(2, 2200, 2), revoked(1, 3005, 1), died(2, 3500), elected(3, 3530, 3)];
    const pauses: Pause[] = [{ pid: 1, from: 1000, to: 3000, cause: 'busy' }];
    const expireThenKill: FaultRecord = { ...fault('expire-then-kill', 1000, 3500), recoverFrom: 3500 };
    const report = buildReport(log({ events, pauses, faults: [expireThenKill] }));
    expect(report.failover['expire-then-kill']).toEqual({ n: 1, p50: 30, p99: 30, max: 30 });
    expect(report.overlaps.busy.count).toBe(1);
    expect(report.violations).toEqual([]);
  });

  it('flags tokens that go backwards after the lock’s state was lost (a counter that restarted)', () => {
    const events = [elected(1, 0, 7), died(1, 1000), elected(2, 1100, 1)];
    const report = buildReport(log({ events, faults: [fault('redis-flushall', 500)] }));
    // Named with the fault it happened under, so a run's violations can be told apart by kind.
    expect(report.violations).toEqual(['pid 2 was elected with token 1 after pid 1 had token 7 (under redis-flushall at +0.5 s)']);
    const later = buildReport(log({ events, faults: [fault('redis-flushall', 500)], gapBound: 100 }));
    expect(later.violations).toEqual(['pid 2 was elected with token 1 after pid 1 had token 7']);
  });

  it('reports a gap longer than the bound beyond the fault that explains it, and not one within it', () => {
    const gap = { start: 2000, end: 9000 };
    expect(unexplainedGaps([gap], [fault('redis-pause', 2000, 6000)], 5000)).toEqual([]);
    expect(unexplainedGaps([gap], [fault('redis-pause', 2000, 3000)], 5000)).toEqual([
      'no primary for 7000 ms (6000 ms unexplained by any fault; bound 5000 ms)',
    ]);
    // A follower's death cannot explain the primary's absence.
    expect(unexplainedGaps([gap], [fault('kill-follower', 2000)], 5000)).toHaveLength(1);
    expect(unexplainedGaps([gap], [], 5000)).toHaveLength(1);
  });

  it('computes percentiles by linear interpolation between ranks', () => {
    expect(percentile([10, 20, 30, 40], 0.5)).toBe(25);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.99)).toBeCloseTo(10.9, 10);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('reports a candidate that exited on its own as a violation', () => {
    const report = buildReport(log({ events: [elected(1, 0, 1)], crashes: [{ pid: 7, t: 100, how: 'exit code 1' }] }));
    expect(report.violations).toEqual(['candidate 7 exited unexpectedly (exit code 1)']);
    const manager = buildReport(
      log({ events: [elected(1, 0, 1)], crashes: [{ pid: 9, t: 100, how: 'SIGSEGV', process: 'manager "chaos-a" pid' }] }),
    );
    expect(manager.violations).toEqual(['manager "chaos-a" pid 9 exited unexpectedly (SIGSEGV)']);
  });
});

describe('chaos report: what managers do to their workers', () => {
  const heartbeatTimeout = 4000;
  const events = [elected(1, 0, 1)]; // a primary throughout: no gap to report
  const hang = (pid: number, t: number, held = false): Hang => ({ pid, manager: 50, t, silentFor: 4100, held });
  // Manager 50 stopped from 1000 to 7000; pid 2 killed as hung 30 ms after the resume.
  const stopManager: FaultRecord = { ...fault('stop-manager', 1000, 7000), target: 'manager "chaos-a" pid 50, its worker pid 2 primary' };

  it('calls a worker killed as hung just after its manager resumed, neither stopped nor busy itself, a violation', () => {
    const report = buildReport(log({ events, faults: [stopManager], hangs: [hang(2, 7030)], heartbeatTimeout }));
    expect(report.hangs).toEqual({ total: 1, unexplained: 1 });
    expect(report.violations).toEqual([
      'manager pid 50 killed worker pid 2 as hung (silent 4100 ms by its count), though the worker was neither stopped nor busy 30 ms after manager "chaos-a" pid 50 resumed from a 6000 ms stop (stop-manager at +1.0 s)',
    ]);
  });

  it('excuses a worker we had stopped (held), or whose own loop was blocked for much of the timeout', () => {
    const stopped = buildReport(log({ events, hangs: [hang(2, 5000, true)], heartbeatTimeout }));
    expect(stopped.violations).toEqual([]);
    const blocked: Pause = { pid: 2, from: 1000, to: 4900, cause: 'stall' };
    expect(buildReport(log({ events, hangs: [hang(2, 5000)], pauses: [blocked], heartbeatTimeout })).violations).toEqual([]);
    // A short stall long before is no excuse.
    const brief: Pause = { pid: 2, from: 1000, to: 1040, cause: 'stall' };
    expect(buildReport(log({ events, hangs: [hang(2, 5000)], pauses: [brief], heartbeatTimeout })).hangs).toEqual({
      total: 1,
      unexplained: 1,
    });
  });

  it('calls a worker that outlived its SIGKILLed manager a violation, and reports no hang figures for fleets without managers', () => {
    const report = buildReport(log({ events, orphans: [{ pid: 3, manager: 50, t: 2000, waited: 2000 }], hangs: [], heartbeatTimeout }));
    expect(report.violations).toEqual(['worker pid 3 was still alive 2000 ms after its manager pid 50 was SIGKILLed']);
    expect(buildReport(log({ events })).hangs).toBeUndefined();
  });
});
