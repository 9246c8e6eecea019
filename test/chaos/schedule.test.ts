/**
 * The chaos suite's other pure parts: the seeded fault schedule (kinds per adapter, shares of the
 * TTL, clock steps), the fleet's TTLs, and the CLI's options and replay command.
 */
import { describe, expect, it } from 'vitest';
import { parseOptions, replayCommand, UsageError } from '../../chaos/args.js';
import { clockStep, kindsFor, schedule, ttlBasis } from '../../chaos/faults.js';
import { mixedSplit } from '../../chaos/fleet-managed.js';
import { candidateTtl, heartbeatTimeoutOf, largestTtl } from '../../chaos/protocol.js';

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
    expect(long.every((f) => f.share > 1)).toBe(true);
  });

  it('keeps to the kinds it is given', () => {
    const plan = schedule({ ...options, seed: 1, kinds: ['kill-primary', 'majority-pause'] });
    expect(new Set(plan.map((f) => f.kind))).toEqual(new Set(['kill-primary', 'majority-pause']));
  });

  it('leaves each fault room for its share of the largest TTL, which the injector scales to the primary’s', () => {
    const plan = schedule({ ...options, seed: 3, largestTtl: 4000 });
    for (const f of plan) expect(f.duration).toBe(Math.round(f.share * 4000));
    for (const [i, f] of plan.entries()) {
      if (i > 0) expect(f.at).toBeGreaterThan((plan[i - 1]?.at ?? 0) + (plan[i - 1]?.duration ?? 0));
      expect(f.at + f.duration + 2 * 4000).toBeLessThanOrEqual(options.length);
    }
    expect(ttlBasis('stop-primary-long')).toBe('primary');
    expect(ttlBasis('stop-primary-hung')).toBe('largest'); // past the manager's heartbeat timeout
    expect(ttlBasis('stop-manager')).toBe('largest');
  });

  it('steps clocks by 10–15 s either way, and only in clock kinds', () => {
    const plan = schedule({ adapter: 'file', seed: 5, length: 600_000, ttl: 1000 });
    const steps = plan.filter((f) => f.kind.startsWith('clock-step-')).map((f) => f.step);
    expect(steps.length).toBeGreaterThan(10);
    for (const step of steps) expect(Math.abs(step)).toBeGreaterThanOrEqual(10_000);
    for (const step of steps) expect(Math.abs(step)).toBeLessThanOrEqual(15_000);
    expect(steps.some((s) => s < 0) && steps.some((s) => s > 0)).toBe(true);
    expect(plan.filter((f) => !f.kind.startsWith('clock-step-')).every((f) => f.step === 0)).toBe(true);
    expect([clockStep(0), clockStep(0.25), clockStep(0.5), clockStep(0.75)]).toEqual([-10_000, -12_500, 10_000, 12_500]);
  });

  it('has the new kinds where they apply', () => {
    const everywhere = ['expire-then-kill', 'clock-step-primary', 'clock-step-follower', 'clock-step-all'];
    expect(kindsFor('file')).toEqual(expect.arrayContaining([...everywhere, 'dir-removed']));
    expect(kindsFor('manager')).toEqual(expect.arrayContaining(everywhere));
    const connection = ['reset-in-flight', 'client-kill-busy-primary'];
    expect(kindsFor('redlock')).toEqual(expect.arrayContaining([...everywhere, ...connection, 'majority-flushall']));
    expect(kindsFor('redis')).toEqual(
      expect.arrayContaining([...everywhere, ...connection, 'redis-flushall', 'redis-evict', 'redis-empty-restart']),
    );
    expect(kindsFor('file')).not.toContain('reset-in-flight');
    // The manager's own faults, in both fleets with managers, and only there.
    expect(kindsFor('manager')).toEqual(expect.arrayContaining(['stop-manager', 'kill-manager', 'stop-primary-hung']));
    expect(kindsFor('mixed')).toEqual(kindsFor('manager'));
    expect(kindsFor('file')).not.toContain('kill-manager');
    expect(kindsFor('redlock')).not.toContain('redis-flushall');
  });

  it('gives the SQL and etcd backends their server faults and every candidate fault', () => {
    const candidate = ['kill-primary', 'kill-follower', 'stop-primary-long', 'stop-follower', 'busy-primary', 'clock-step-all'];
    const server = (name: string) => [`${name}-pause`, `${name}-kill-restart`, `${name}-restart-primary-stopped`];
    expect(kindsFor('postgres')).toEqual(expect.arrayContaining([...candidate, ...server('postgres'), 'postgres-terminate-holder']));
    expect(kindsFor('mysql')).toEqual(expect.arrayContaining([...candidate, ...server('mysql'), 'mysql-kill-holder']));
    expect(kindsFor('etcd')).toEqual(expect.arrayContaining([...candidate, ...server('etcd'), 'etcd-revoke-holder']));
    const cluster = [
      'minority-pause',
      'minority-kill-restart',
      'majority-pause',
      'majority-kill-restart',
      'majority-restart-primary-stopped',
    ];
    expect(kindsFor('etcd-cluster')).toEqual(expect.arrayContaining([...candidate, ...cluster, 'etcd-revoke-holder']));
    // Each backend's kinds are its own: no Redis command, no other server's session.
    expect(kindsFor('postgres').filter((k) => /^(redis|mysql|etcd|minority|majority)-|reset-in-flight/.test(k))).toEqual([]);
    expect(kindsFor('etcd-cluster')).not.toContain('etcd-kill-restart');
  });
});

describe('chaos mixed fleet', () => {
  it('is two managers of equal size and one plain candidate for an odd total, two for an even one', () => {
    expect([3, 4, 5, 6, 7, 8].map(mixedSplit)).toEqual([
      { perManager: 1, plain: 1 },
      { perManager: 1, plain: 2 },
      { perManager: 2, plain: 1 },
      { perManager: 2, plain: 2 },
      { perManager: 3, plain: 1 },
      { perManager: 3, plain: 2 },
    ]);
  });

  it('plans the manager stop past the heartbeat timeout (2 × the largest TTL)', () => {
    const plan = schedule({ adapter: 'mixed', seed: 9, length: 120_000, ttl: 1000, largestTtl: 2000 });
    const stops = plan.filter((f) => f.kind === 'stop-manager');
    expect(stops.length).toBeGreaterThan(0);
    for (const stop of stops) expect(stop.duration).toBeGreaterThan(heartbeatTimeoutOf({ ttl: 1000, ttlFactors: [1, 1.5, 2] }));
  });
});

describe('chaos fleet TTLs', () => {
  it('alternates the factors by slot and bounds the run by the largest', () => {
    const settings = { ttl: 1000, ttlFactors: [1, 1.5, 2] };
    expect([0, 1, 2, 3, 4].map((slot) => candidateTtl(settings, slot))).toEqual([1000, 1500, 2000, 1000, 1500]);
    expect(largestTtl(settings)).toBe(2000);
    expect(largestTtl({ ttl: 1000, ttlFactors: [1] })).toBe(1000);
  });
});

describe('chaos CLI options', () => {
  const parse = (...argv: string[]) => parseOptions(argv, () => 99);

  it('has the documented defaults, with a random seed, one shared identity and mixed TTLs', () => {
    expect(parse()).toMatchObject({ adapter: 'file', seconds: 60, candidates: 5, ttl: 2000, seed: 99, json: false });
    expect(parse()).toMatchObject({ identity: 'chaos-pod', mixedTtls: true });
  });

  it('opts out of the shared identity and of mixed TTLs, and the replay command keeps that', () => {
    const options = parse('--distinct-identities', '--uniform-ttl', '--seed', '7');
    expect(options).toMatchObject({ identity: undefined, mixedTtls: false });
    expect(replayCommand(options)).toBe(
      'npm run chaos -- --adapter file --seconds 60 --candidates 5 --ttl 2000 --uniform-ttl --distinct-identities --seed 7',
    );
    expect(replayCommand(parse('--identity', 'web-1', '--seed', '7'))).toContain('--ttl 2000 --identity "web-1" --seed 7');
    expect(replayCommand(parse('--seed', '7'))).toBe('npm run chaos -- --adapter file --seconds 60 --candidates 5 --ttl 2000 --seed 7');
  });

  it.each([
    [
      ['--adapter', 'zookeeper'],
      /--adapter to be one of file, redis, redlock, postgres, mysql, etcd, etcd-cluster, manager, mixed, got "zookeeper"/,
    ],
    [['--adapter', 'postgres', '--kinds', 'mysql-kill-holder'], /--kinds to list fault kinds of the postgres adapter/],
    [['--adapter', 'mixed', '--candidates', '2'], /--candidates to be a whole number from 3 to 32, got "2"/],
    [['--seconds', '3'], /--seconds to be a whole number from 5 to 86400, got "3"/],
    [['--candidates=many'], /--candidates to be a whole number from 2 to 32, got "many"/],
    [['--seed', '1.5'], /--seed to be a whole number/],
    [['--kinds', 'kill-primary,redis-pause'], /--kinds to list fault kinds of the file adapter/],
    [['--identity', 'x', '--distinct-identities'], /either --identity or --distinct-identities/],
    [['--identity='], /--identity to be a non-empty label/],
    [['--frobnicate'], /frobnicate/],
  ])('rejects %j with an error naming the option', (argv, message) => {
    expect(() => parse(...argv)).toThrow(UsageError);
    expect(() => parse(...argv)).toThrow(message);
  });
});
