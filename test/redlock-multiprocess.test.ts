/**
 * Real processes electing through a quorum of 3 private Redis nodes: crash failover, a minority of
 * nodes down (still a primary), a majority down (nobody, and the holder steps down), then back.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Child, killAll } from '../harness/child.js';
import { wallNow } from '../harness/clock.js';
import { allReady, countPrimaries, electedIn, signalPrimary } from './helpers/election-group.js';
import { type RedisServer, startRedis } from './helpers/redis-server.js';

const candidate = join(import.meta.dirname, 'fixtures/candidate.ts');

describe('several processes on a Redlock quorum of 3 nodes', () => {
  let nodes: RedisServer[] = [];
  const children: Child[] = [];
  const spawnCandidates = (name: string, count: number, ttl: number, retryInterval: number) => {
    const where = nodes.map((node) => node.url).join(',');
    const spawned = Array.from({ length: count }, () => new Child(candidate, [where, name, String(ttl), String(retryInterval)]));
    children.push(...spawned);
    return spawned;
  };

  beforeAll(async () => {
    nodes = await Promise.all([startRedis(), startRedis(), startRedis()]);
  });
  afterEach(async () => {
    await killAll(children);
  });
  afterAll(() => Promise.all(nodes.map((node) => node.stop())));

  it('replaces a SIGKILLed primary long before the TTL', async () => {
    const { first, next, takeover } = await signalPrimary(spawnCandidates('kill', 4, 10_000, 8000), 'SIGKILL');
    // Its connections seen closed: not the TTL (10 s, 6 s after the kill at the soonest).
    expect(takeover).toBeLessThan(3000);
    expect(next.event.token as number).toBeGreaterThan(first.event.token as number);
  });

  it('keeps a primary with 1 of 3 nodes down; with 2 down nobody is primary; back up, a primary again', async () => {
    const ttl = 2000;
    const group = spawnCandidates('quorum', 3, ttl, 300);
    const first = await electedIn(group, 0);
    await allReady(group);

    await nodes[0]?.down();
    await new Promise((r) => setTimeout(r, ttl * 1.5)); // several renewals with one node gone
    expect(await countPrimaries(group)).toBe(1);
    expect(first.child.events.some((e) => e.ev === 'revoked')).toBe(false);

    const majorityDownAt = wallNow();
    await nodes[1]?.down();
    const stepDown = await first.child.waitFor((e) => e.ev === 'revoked' && e.t > majorityDownAt, 10_000);
    expect(stepDown.t - majorityDownAt).toBeLessThan(ttl + 500); // at its deadline at the latest
    await new Promise((r) => setTimeout(r, 500));
    expect(await countPrimaries(group)).toBe(0);

    const backAt = wallNow();
    await nodes[0]?.up();
    await nodes[1]?.up();
    const again = await electedIn(group, backAt);
    expect(again.event.token as number).toBeGreaterThan(first.event.token as number);
    await new Promise((r) => setTimeout(r, 300));
    expect(await countPrimaries(group)).toBe(1);
    for (const child of group) expect(child.process.exitCode).toBeNull();
  });
});
