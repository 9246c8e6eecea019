/**
 * primacy/metrics in prom-client: real elections (a memory lock shared by two, standing for two
 * processes, each with its own registry as each process has; then a private redis-server paused
 * under a primary), scraped as Prometheus scrapes them: the registry's text exposition.
 */

import { type Election, elect, MemoryLockStore, memoryLock, PrimacyConfigError } from 'primacy';
import { prometheusMetrics } from 'primacy/metrics';
import { redisLock } from 'primacy/redis';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheus, type Sample, sampleValue, typesOf } from '../helpers/prometheus-text.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { until } from '../helpers/until.js';

const quiet = { handleSignals: false, logger: false as const };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One "process": an election and the registry its /metrics would serve. */
function instance(election: Election, options: { prefix?: string } = {}) {
  const registry = new Registry();
  const metrics = prometheusMetrics({ registry, ...options });
  metrics.observe(election);
  cleanups.push(
    () => election.stop(),
    () => metrics.close(),
  );
  const scrape = async () => parsePrometheus(await registry.metrics());
  return { election, registry, metrics, scrape };
}

const count = (samples: Sample[], name: string, labels: Record<string, string>) => sampleValue(samples, name, labels) ?? 0;

describe('prometheusMetrics', () => {
  it('reports role, token, transitions, attempts, renew latency and a failover, by Prometheus rules', async () => {
    const store = new MemoryLockStore();
    const name = `metrics-${process.pid}`;
    const start = () =>
      elect({ name, lock: memoryLock({ store }), ttl: 1500, renewInterval: 100, retryInterval: 200, jitter: 0, ...quiet });
    const a = instance(start());
    await a.election.ready;
    const b = instance(start());
    await b.election.ready;
    expect(a.election.isPrimary).toBe(true);

    // The renew histogram fills as A renews (every 100 ms); B loses a round every 200 ms.
    await until(
      async () => count(await a.scrape(), 'primacy_renew_duration_seconds_count', { name, result: 'renewed' }) >= 3,
      10_000,
      'renews',
    );
    await until(
      async () => count(await b.scrape(), 'primacy_acquire_attempts_total', { name, result: 'lost' }) >= 2,
      10_000,
      'lost rounds',
    );
    const text = await a.registry.metrics();
    expect(typesOf(text)).toMatchObject({
      leader_election_master_status: 'gauge',
      primacy_fencing_token: 'gauge',
      primacy_transitions_total: 'counter',
      primacy_acquire_attempts_total: 'counter',
      primacy_renew_duration_seconds: 'histogram',
      primacy_failovers_total: 'counter',
    });
    const sa = await a.scrape();
    const sb = await b.scrape();
    expect(sampleValue(sa, 'leader_election_master_status', { name })).toBe(1);
    expect(sampleValue(sb, 'leader_election_master_status', { name })).toBe(0);
    expect(sampleValue(sa, 'primacy_fencing_token', { name })).toBe(a.election.token);
    expect(sampleValue(sb, 'primacy_fencing_token', { name })).toBe(0);
    expect(sampleValue(sa, 'primacy_transitions_total', { name, to: 'primary' })).toBe(1);
    expect(sampleValue(sa, 'primacy_transitions_total', { name, to: 'follower' })).toBe(0);
    expect(sampleValue(sa, 'primacy_acquire_attempts_total', { name, result: 'won' })).toBe(1);
    expect(sampleValue(sb, 'primacy_acquire_attempts_total', { name, result: 'won' })).toBe(0);
    expect(sampleValue(sb, 'primacy_acquire_attempts_total', { name, result: 'error' })).toBe(0);
    expect(sampleValue(sb, 'primacy_failovers_total', { name })).toBe(0);
    // Every renew fell in a bucket (the last bound is 10 s) and took well under the renew interval.
    const renews = count(sa, 'primacy_renew_duration_seconds_count', { name, result: 'renewed' });
    expect(sampleValue(sa, 'primacy_renew_duration_seconds_bucket', { name, result: 'renewed', le: '10' })).toBe(renews);
    expect(count(sa, 'primacy_renew_duration_seconds_sum', { name, result: 'renewed' })).toBeLessThan(renews * 0.5);

    // A hands over (a graceful stop); B takes over and saw the lock pass from A to B.
    await a.election.stop();
    await until(() => b.election.isPrimary, 10_000, 'B elected');
    const after = await b.scrape();
    expect(sampleValue(after, 'leader_election_master_status', { name })).toBe(1);
    expect(sampleValue(after, 'primacy_fencing_token', { name })).toBe(b.election.token);
    expect(b.election.token).toBeGreaterThan(sampleValue(sa, 'primacy_fencing_token', { name }) as number);
    expect(sampleValue(after, 'primacy_transitions_total', { name, to: 'primary' })).toBe(1);
    expect(sampleValue(after, 'primacy_failovers_total', { name })).toBe(1);
    expect(sampleValue(after, 'primacy_acquire_attempts_total', { name, result: 'won' })).toBe(1);
    // A stopped: its gauges read 0, its counters stay (with its step down).
    const gone = await a.scrape();
    expect(sampleValue(gone, 'leader_election_master_status', { name })).toBe(0);
    expect(sampleValue(gone, 'primacy_fencing_token', { name })).toBe(0);
    expect(sampleValue(gone, 'primacy_transitions_total', { name, to: 'follower' })).toBe(1);
  });

  it('counts acquire and renew errors when the backend stops answering, and the primary steps down', async () => {
    const redis: RedisServer = await startRedis();
    cleanups.push(() => redis.stop());
    const lock = redisLock({ url: redis.url });
    cleanups.push(() => lock.close?.());
    const name = `metrics-redis-${process.pid}`;
    const a = instance(elect({ name, lock, ttl: 1500, renewInterval: 200, retryInterval: 200, jitter: 0, ...quiet }), { prefix: 'app_' });
    a.election.on('error', () => {}); // reported (and counted), not thrown
    await a.election.ready;
    expect(a.election.isPrimary).toBe(true);
    redis.pause();
    cleanups.push(() => redis.resume());
    await until(
      async () => {
        const samples = await a.scrape();
        return (
          count(samples, 'app_primacy_renew_duration_seconds_count', { name, result: 'error' }) >= 1 &&
          count(samples, 'app_primacy_acquire_attempts_total', { name, result: 'error' }) >= 1
        );
      },
      15_000,
      'renew and acquire errors',
    );
    const samples = await a.scrape();
    expect(sampleValue(samples, 'leader_election_master_status', { name })).toBe(0);
    expect(sampleValue(samples, 'app_primacy_transitions_total', { name, to: 'follower' })).toBe(1);
    // An answer that never came is counted at its bound: about the time left on the lease.
    const errorSeconds = count(samples, 'app_primacy_renew_duration_seconds_sum', { name, result: 'error' });
    expect(errorSeconds).toBeGreaterThan(0.5);
    expect(errorSeconds).toBeLessThan(1.5 * count(samples, 'app_primacy_renew_duration_seconds_count', { name, result: 'error' }));
    redis.resume();
    await until(() => a.election.isPrimary, 15_000, 'primary again once Redis answers');
    expect(sampleValue(await a.scrape(), 'app_primacy_transitions_total', { name, to: 'primary' })).toBe(2);
  });

  it('refuses bad options, a second election of one name, and a registry that already has the names', async () => {
    const error = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(PrimacyConfigError);
        return (e as Error).message;
      }
      throw new Error('did not throw');
    };
    expect(error(() => prometheusMetrics({ prefix: '1app_' }))).toBe(
      '[primacy] [metrics] Expected `prefix` to be a Prometheus name prefix such as \'myapp_\' (letters, digits, _ and :, not first a digit), got "1app_" (string)',
    );
    expect(error(() => prometheusMetrics({ registry: {} as never }))).toContain('Expected `registry` to be a prom-client Registry');
    expect(error(() => prometheusMetrics({ buckets: [0.1, 0.05] }))).toContain(
      'Expected `buckets[1]` to be a non-empty array of increasing',
    );
    expect(error(() => prometheusMetrics({ registy: new Registry() } as never))).toMatch(/registy.*registry/);

    const registry = new Registry();
    const metrics = prometheusMetrics({ registry });
    cleanups.push(() => metrics.close());
    // The one name a prefix does not change: the message does not suggest one.
    const conflict = error(() => prometheusMetrics({ registry, prefix: 'other_' }));
    expect(conflict).toContain('the registry already has a metric named leader_election_master_status');
    expect(conflict).not.toContain('prefix');
    expect(error(() => metrics.observe({} as never))).toContain('Expected `election` to be an Election (from elect())');
    const store = new MemoryLockStore();
    const name = `metrics-twice-${process.pid}`;
    const first = elect({ name, lock: memoryLock({ store }), ...quiet });
    const second = elect({ name, lock: memoryLock({ store }), ...quiet });
    cleanups.push(
      () => first.stop(),
      () => second.stop(),
    );
    metrics.observe(first);
    expect(metrics.observe(first)).toBeTypeOf('function'); // the same election again: no-op
    expect(error(() => metrics.observe(second))).toContain(`already observing a running election named "${name}"`);
    // Once the first has stopped, the name is free for the next.
    await first.stop();
    metrics.observe(second);
    await second.ready;
    await until(
      async () => sampleValue(parsePrometheus(await registry.metrics()), 'leader_election_master_status', { name }) === 1,
      5000,
      'second',
    );

    // close() unregisters: the same names can be registered again.
    metrics.close();
    expect((await registry.metrics()).trim()).toBe('');
    // Closed: it observes nothing more (its metrics are gone), and says so; a second close is a no-op.
    expect(() => metrics.observe(second)).toThrow('[primacy] [metrics] observe(): this metrics instance was closed; create another');
    metrics.close();
    const again = prometheusMetrics({ registry });
    again.close();
  });
});
