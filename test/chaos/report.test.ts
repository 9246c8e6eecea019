/**
 * The chaos report's rules on hand-made logs, and the seeded fault schedule. These are the pure
 * parts of chaos/: what counts as a violation, and the figures (availability, gaps, percentiles).
 */
import { describe, expect, it } from 'vitest';
import { parseOptions, UsageError } from '../../chaos/args.js';
import { kindsFor, schedule } from '../../chaos/faults.js';
import { complement, percentile, served, terms } from '../../chaos/intervals.js';
import type { FaultRecord, Pause, RunLog, TermEvent } from '../../chaos/log.js';
import type { WriteRecord } from '../../chaos/protocol.js';
import { buildReport, overlaps, staleReads, tokenViolations, unexplainedGaps } from '../../chaos/report.js';

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
    expect(staleReads({ events: pausedEvents, writes })).toEqual([
      'stale read: pid 1 read isPrimary true with token 1 1× (1902 ms to 1902 ms) after pid 2 was elected with token 2',
    ]);
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
  });
});

describe('chaos fault schedule', () => {
  const options = { adapter: 'redlock' as const, length: 120_000, ttl: 2000 };

  it('is the same for the same seed and different for another', () => {
    expect(schedule({ ...options, seed: 42 })).toEqual(schedule({ ...options, seed: 42 }));
    expect(schedule({ ...options, seed: 43 })).not.toEqual(schedule({ ...options, seed: 42 }));
  });

  it('deals every kind once per round, in order, with faults that never overlap and end before the run does', () => {
    const plan = schedule({ ...options, seed: 7 });
    const kinds = kindsFor('redlock');
    expect(new Set(plan.slice(0, kinds.length).map((f) => f.kind))).toEqual(new Set(kinds));
    for (const [i, f] of plan.entries()) {
      expect(f.at + f.duration + 2 * options.ttl).toBeLessThanOrEqual(options.length);
      if (i > 0) expect(f.at).toBeGreaterThan((plan[i - 1]?.at ?? 0) + (plan[i - 1]?.duration ?? 0));
    }
    const long = plan.filter((f) => f.kind === 'stop-primary-long');
    expect(long.every((f) => f.duration > options.ttl)).toBe(true);
  });

  it('keeps to the kinds it is given', () => {
    const plan = schedule({ ...options, seed: 1, kinds: ['kill-primary', 'majority-pause'] });
    expect(new Set(plan.map((f) => f.kind))).toEqual(new Set(['kill-primary', 'majority-pause']));
  });
});

describe('chaos CLI options', () => {
  const parse = (...argv: string[]) => parseOptions(argv, () => 99);

  it('has the documented defaults, with a random seed', () => {
    expect(parse()).toMatchObject({ adapter: 'file', seconds: 60, candidates: 5, ttl: 2000, seed: 99, json: false });
  });

  it.each([
    [['--adapter', 'etcd'], /--adapter to be one of file, redis, redlock, manager, got "etcd"/],
    [['--seconds', '3'], /--seconds to be a whole number from 5 to 86400, got "3"/],
    [['--candidates=many'], /--candidates to be a whole number from 2 to 32, got "many"/],
    [['--seed', '1.5'], /--seed to be a whole number/],
    [['--kinds', 'kill-primary,redis-pause'], /--kinds to list fault kinds of the file adapter/],
    [['--frobnicate'], /frobnicate/],
  ])('rejects %j with an error naming the option', (argv, message) => {
    expect(() => parse(...argv)).toThrow(UsageError);
    expect(() => parse(...argv)).toThrow(message);
  });
});
