/**
 * Real processes electing through a private PostgreSQL: the primary SIGKILLed (its session ends,
 * the server frees the lock, the watcher sees it), SIGTERMed (release + NOTIFY), SIGSTOPped (its
 * session keeps the lock: replaced only once its lease has ended, judged on the followers'
 * monotonic clock, by ending its session; resumed, it reads isPrimary false), and the server itself
 * restarted with its data.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { allReady, countPrimaries, electedIn, signalPrimary } from '../helpers/election-group.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres-server.js';

const candidate = join(import.meta.dirname, '../fixtures/postgres-candidate.ts');

describe('several processes on one Postgres lock', () => {
  let server: PostgresServer;
  const children: Child[] = [];
  let lockName = '';
  const spawnCandidates = (count: number, ttl: number, retryInterval: number) => {
    const spawned = Array.from({ length: count }, () => new Child(candidate, [server.url, lockName, String(ttl), String(retryInterval)]));
    children.push(...spawned);
    return spawned;
  };

  beforeAll(async () => {
    server = await startPostgres();
  });
  afterEach(async () => {
    server.resume();
    await killAll(children);
  });
  afterAll(() => server?.stop());

  it('replaces a SIGKILLed primary long before the TTL (its session ended)', async () => {
    lockName = 'kill';
    const { first, next, takeover } = await signalPrimary(spawnCandidates(4, 10_000, 8000), 'SIGKILL');
    // Its session ended, the watcher saw the lock free: not the TTL (10 s, 6 s after the kill at
    // the soonest) nor the followers' retry (8 s ± 20%).
    expect(takeover).toBeLessThan(3000);
    expect(next.event.token as number).toBeGreaterThan(first.event.token as number);
  });

  it('hands over at once on SIGTERM (release NOTIFYs, followers wake)', async () => {
    lockName = 'term';
    const { first, next, takeover } = await signalPrimary(spawnCandidates(3, 10_000, 8000), 'SIGTERM');
    const revoked = await first.child.waitFor((e) => e.ev === 'revoked');
    expect(next.event.t).toBeGreaterThan(revoked.t);
    // Woken by the NOTIFY: not the TTL (10 s) nor the followers' retry (8 s ± 20%).
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
    expect(next.event.t - stoppedAt).toBeGreaterThan(ttl * 0.5); // its session kept the lock: no early takeover
    first.child.kill('SIGCONT');
    // After the stop: a busy machine may have stalled it past the tick's 500 ms before, while it was
    // still primary, and that earlier 'resumed' is not what it reads on waking.
    const resumed = await first.child.waitFor((e) => e.ev === 'resumed' && e.t > stoppedAt);
    expect(resumed.isPrimary).toBe(false);
    expect(first.event.token as number).toBeLessThan(next.event.token as number);
    // Its session was ended: it campaigns again as a follower, never as a second primary.
    await new Promise((r) => setTimeout(r, 500));
    expect(await countPrimaries(group)).toBe(1);
  });

  it('replaces a SIGKILLed primary before the TTL even when the other followers (the watcher among them, maybe) are paused', async () => {
    lockName = 'watcher-paused';
    const ttl = 10_000;
    const group = spawnCandidates(4, ttl, 1000);
    const first = await electedIn(group, 0);
    await allReady(group);
    const [awake, ...paused] = group.filter((c) => c !== first.child);
    for (const child of paused) child.kill('SIGSTOP');
    const killedAt = wallNow();
    first.child.kill('SIGKILL');
    // The watcher, if paused, sees nothing: the awake follower's own tries (a few a second across
    // the lock's followers) find the lock free.
    const next = await electedIn([awake as Child], killedAt);
    expect(next.event.t - killedAt).toBeLessThan(ttl * 0.8);
    for (const child of paused) child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 500));
    expect(await countPrimaries(group.filter((c) => c !== first.child))).toBe(1);
  });

  it('elects again after the server restarts with its data; tokens keep growing', async () => {
    lockName = 'restart';
    const group = spawnCandidates(3, 1500, 200);
    const first = await electedIn(group, 0);
    await allReady(group);
    const killedAt = wallNow();
    await server.restart();
    const stepDown = await first.child.waitFor((e) => e.ev === 'revoked' && e.t > killedAt, 10_000);
    expect(stepDown.reason).toBe('lost');
    const next = await electedIn(group, stepDown.t);
    expect(next.event.token as number).toBeGreaterThan(first.event.token as number);
    await new Promise((r) => setTimeout(r, 500));
    expect(await countPrimaries(group)).toBe(1);
    for (const child of group) expect(child.process.exitCode).toBeNull();
  });
});
