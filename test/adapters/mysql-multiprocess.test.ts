/**
 * Real processes electing through a private MariaDB: the primary SIGKILLed (its session dies with
 * it: a follower takes over long before the TTL), SIGTERMed (released: handed over at once),
 * SIGSTOPped (its session stays open: taken over only after its TTL, by KILL CONNECTION, and once
 * resumed it does not act as primary), its session killed by an administrator (it steps down at
 * once), and the server itself SIGKILLed and restarted with its data (tokens go on rising).
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { allReady, countPrimaries, electedIn, signalPrimary } from '../helpers/election-group.js';
import { type MariadbServer, startMariadb } from '../helpers/mariadb-server.js';

const candidate = join(import.meta.dirname, '../fixtures/mysql-candidate.ts');

describe('several processes on one MySQL lock (MariaDB)', () => {
  let server: MariadbServer;
  const children: Child[] = [];
  let lockName = '';
  const spawnCandidates = (count: number, ttl: number, retryInterval: number) => {
    const args = [server.uri, lockName, String(ttl), String(retryInterval)];
    const spawned = Array.from({ length: count }, () => new Child(candidate, args));
    children.push(...spawned);
    return spawned;
  };

  beforeAll(async () => {
    server = await startMariadb();
  }, 60_000);
  afterEach(async () => {
    server.resume();
    await killAll(children);
  });
  afterAll(() => server?.stop());

  it('replaces a SIGKILLed primary long before the TTL (the server freed its lock with its session)', async () => {
    lockName = 'kill';
    const { first, next, takeover } = await signalPrimary(spawnCandidates(4, 10_000, 8000), 'SIGKILL');
    expect(takeover).toBeLessThan(1500);
    expect(next.event.token as number).toBeGreaterThan(first.event.token as number);
  });

  it('hands over at once on SIGTERM (released; the waiting watcher is handed the lock)', async () => {
    lockName = 'term';
    const { first, next, takeover } = await signalPrimary(spawnCandidates(3, 10_000, 8000), 'SIGTERM');
    const revoked = await first.child.waitFor((e) => e.ev === 'revoked');
    expect(next.event.t).toBeGreaterThan(revoked.t);
    expect(takeover).toBeLessThan(1500);
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
    const takeover = next.event.t - stoppedAt;
    expect(takeover).toBeGreaterThan(ttl * 0.5); // its session stayed open: no early takeover
    expect(takeover).toBeLessThan(ttl + 3000); // but one soon after its lease ran out
    first.child.kill('SIGCONT');
    const resumed = await first.child.waitFor((e) => e.ev === 'resumed');
    expect(resumed.isPrimary).toBe(false);
    expect(first.event.token as number).toBeLessThan(next.event.token as number);
    await new Promise((r) => setTimeout(r, 300));
    expect(await countPrimaries(group)).toBe(1);
  });

  it("steps down at once when an administrator kills the primary's session, and another takes over", async () => {
    lockName = 'admin-kill';
    const group = spawnCandidates(3, 10_000, 8000);
    const first = await electedIn(group, 0);
    await allReady(group);
    const admin = await server.admin();
    const [rows] = await admin.query("SELECT IS_USED_LOCK('primacy:admin-kill') AS id");
    const killedAt = wallNow();
    await admin.query('KILL CONNECTION ?', [(rows as Array<{ id: number }>)[0]?.id]);
    const stepDown = await first.child.waitFor((e) => e.ev === 'revoked' && e.t > killedAt, 5000);
    expect(stepDown.reason).toBe('lost');
    expect(stepDown.t - killedAt).toBeLessThan(1000);
    const next = await electedIn(group, killedAt);
    expect(next.event.t - killedAt).toBeLessThan(1500);
    expect(await countPrimaries(group)).toBe(1);
  });

  it('steps down while the server is paused, and elects one primary once it is back; no crash', async () => {
    lockName = 'server-pause';
    const ttl = 1500;
    const group = spawnCandidates(3, ttl, 200);
    const first = await electedIn(group, 0);
    await allReady(group);
    const pausedAt = wallNow();
    server.pause();
    const stepDown = await first.child.waitFor((e) => e.ev === 'revoked' && e.t > pausedAt, 10_000);
    expect(stepDown.t - pausedAt).toBeLessThan(ttl + 500); // before anyone could take over
    await new Promise((r) => setTimeout(r, 1000));
    const resumedAt = wallNow();
    server.resume();
    const next = await electedIn(group, resumedAt, 20_000);
    expect(next.event.token as number).toBeGreaterThan(first.event.token as number);
    await new Promise((r) => setTimeout(r, 500));
    expect(await countPrimaries(group)).toBe(1);
    for (const child of group) expect(child.process.exitCode).toBeNull();
  });

  it('elects again after the server is SIGKILLed and restarted with its data; tokens go on rising', async () => {
    lockName = 'restart';
    const group = spawnCandidates(3, 1500, 200);
    const first = await electedIn(group, 0);
    await allReady(group);
    const killedAt = wallNow();
    await server.restart();
    const stepDown = await first.child.waitFor((e) => e.ev === 'revoked' && e.t > killedAt, 10_000);
    expect(stepDown.reason).toBe('lost');
    const next = await electedIn(group, stepDown.t, 20_000);
    expect(next.event.token as number).toBeGreaterThan(first.event.token as number);
    await new Promise((r) => setTimeout(r, 500));
    expect(await countPrimaries(group)).toBe(1);
    for (const child of group) expect(child.process.exitCode).toBeNull();
  });
});
