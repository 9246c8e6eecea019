/**
 * Real processes electing through a private Redis: crash, graceful stop, pause of the primary,
 * and the Redis server itself paused and restarted under a running election.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Child, killAll } from '../harness/child.js';
import { wallNow } from '../harness/clock.js';
import { allReady, countPrimaries, electedIn, signalPrimary } from './helpers/election-group.js';
import { type RedisServer, startRedis } from './helpers/redis-server.js';

const candidate = join(import.meta.dirname, 'fixtures/candidate.ts');

describe('several processes on one Redis lock', () => {
  let redis: RedisServer;
  const children: Child[] = [];
  let lockName = '';
  const spawnCandidates = (count: number, ttl: number, retryInterval: number) => {
    const spawned = Array.from({ length: count }, () => new Child(candidate, [redis.url, lockName, String(ttl), String(retryInterval)]));
    children.push(...spawned);
    return spawned;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    redis.resume();
    await killAll(children);
  });
  afterAll(() => redis.stop());

  it('replaces a SIGKILLed primary long before the TTL (its connection closed)', async () => {
    lockName = 'kill';
    const { first, next, takeover } = await signalPrimary(spawnCandidates(4, 10_000, 8000), 'SIGKILL');
    // The watcher saw its connection closed: not the TTL (10 s, 6 s after the kill at the soonest).
    expect(takeover).toBeLessThan(3000);
    expect(next.event.token as number).toBeGreaterThan(first.event.token as number);
  });

  it('hands over at once on SIGTERM (release publishes, followers wake)', async () => {
    lockName = 'term';
    const { first, next, takeover } = await signalPrimary(spawnCandidates(4, 10_000, 8000), 'SIGTERM');
    const revoked = await first.child.waitFor((e) => e.ev === 'revoked');
    expect(next.event.t).toBeGreaterThan(revoked.t);
    // Woken by the release: not the TTL (10 s) nor the followers' retry (8 s ± 20%).
    expect(takeover).toBeLessThan(3000);
  });

  it('replaces a SIGSTOPped primary only after its TTL; resumed, it reads isPrimary false with a lower token', async () => {
    lockName = 'stop';
    const ttl = 1500;
    const group = spawnCandidates(3, ttl, 200);
    const first = await electedIn(group, 0);
    await allReady(group);
    const stoppedAt = wallNow();
    first.child.kill('SIGSTOP');
    const next = await electedIn(
      group.filter((c) => c !== first.child),
      stoppedAt,
    );
    expect(next.event.t - stoppedAt).toBeGreaterThan(ttl * 0.5); // its connection stayed open: no early takeover
    first.child.kill('SIGCONT');
    // After the stop: a busy machine may have stalled it past the tick's 500 ms before, while it was
    // still primary, and that earlier 'resumed' is not what it reads on waking.
    const resumed = await first.child.waitFor((e) => e.ev === 'resumed' && e.t > stoppedAt);
    expect(resumed.isPrimary).toBe(false);
    expect(first.event.token as number).toBeLessThan(next.event.token as number);
  });

  it('steps down while Redis is paused, and elects again once it is back; no crash', async () => {
    lockName = 'pause';
    const ttl = 1500;
    const group = spawnCandidates(3, ttl, 200);
    const first = await electedIn(group, 0);
    await allReady(group);
    const pausedAt = wallNow();
    redis.pause();
    const stepDown = await first.child.waitFor((e) => e.ev === 'revoked' && e.t > pausedAt, 10_000);
    expect(stepDown.reason).toBe('expired');
    expect(stepDown.t - pausedAt).toBeLessThan(ttl + 500); // before anyone could take over
    await new Promise((r) => setTimeout(r, 1000));
    const resumedAt = wallNow();
    redis.resume();
    await electedIn(group, resumedAt);
    await new Promise((r) => setTimeout(r, 300));
    expect(await countPrimaries(group)).toBe(1);
    for (const child of group) expect(child.process.exitCode).toBeNull();
  });

  it('elects again after Redis restarts (empty); the old holder steps down as its connection is gone', async () => {
    lockName = 'restart';
    const group = spawnCandidates(3, 1500, 200);
    const first = await electedIn(group, 0);
    await allReady(group);
    const killedAt = wallNow();
    await redis.restart();
    const stepDown = await first.child.waitFor((e) => e.ev === 'revoked' && e.t > killedAt, 10_000);
    expect(stepDown.reason).toBe('lost');
    await electedIn(group, stepDown.t);
    await new Promise((r) => setTimeout(r, 1600));
    expect(await countPrimaries(group)).toBe(1);
    for (const child of group) expect(child.process.exitCode).toBeNull();
  });
});
