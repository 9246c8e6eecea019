/**
 * Real processes electing through a private MariaDB: the primary SIGKILLed (its session dies with
 * it: a follower takes over long before the TTL), SIGTERMed (released: handed over at once),
 * SIGSTOPped (its session stays open: taken over only after its TTL, by KILL CONNECTION, and once
 * resumed it does not act as primary), its session killed by an administrator (it steps down at
 * once), and the server itself SIGKILLed and restarted with its data (tokens go on rising).
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockNames } from '../../adapters/mysql/names.js';
import { Child, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { allReady, countPrimaries, electedIn, signalPrimary } from '../helpers/election-group.js';
import { type MariadbServer, startMariadb } from '../helpers/mariadb-server.js';
import { until } from '../helpers/until.js';

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
    console.log(`takeover after SIGKILL of the primary: ${Math.round(takeover)} ms`);
    // The server freed the lock with the session: not the TTL (10 s, 6 s after the kill at the
    // soonest) nor the followers' retry (8 s ± 20%).
    expect(takeover).toBeLessThan(3000);
    expect(next.event.token as number).toBeGreaterThan(first.event.token as number);
  });

  it('hands over at once on SIGTERM (released; the waiting watcher is handed the lock)', async () => {
    lockName = 'term';
    const { first, next, takeover } = await signalPrimary(spawnCandidates(3, 10_000, 8000), 'SIGTERM');
    const revoked = await first.child.waitFor((e) => e.ev === 'revoked');
    expect(next.event.t).toBeGreaterThan(revoked.t);
    // The release woke the watcher: not the TTL (10 s) nor the followers' retry (8 s ± 20%).
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
    const takeover = next.event.t - stoppedAt;
    expect(takeover).toBeGreaterThan(ttl * 0.5); // its session stayed open: no early takeover
    expect(takeover).toBeLessThan(ttl + 3000); // but one soon after its lease ran out
    first.child.kill('SIGCONT');
    // After the stop: a busy machine may have stalled it past the tick's 500 ms before, while it was
    // still primary, and that earlier 'resumed' is not what it reads on waking.
    const resumed = await first.child.waitFor((e) => e.ev === 'resumed' && e.t > stoppedAt);
    expect(resumed.isPrimary).toBe(false);
    expect(first.event.token as number).toBeLessThan(next.event.token as number);
    await new Promise((r) => setTimeout(r, 300));
    expect(await countPrimaries(group)).toBe(1);
  });

  it('takes over when the primary dies while the watching follower is SIGSTOPped (it was handed the lock)', async () => {
    lockName = 'watcher-stopped';
    const args = (ttl: number) => [server.uri, lockName, String(ttl), '1000', 'primacy_locks', '2000'];
    const admin = await server.admin();
    const used = async (lock: string) => {
      const [rows] = await admin.query('SELECT IS_USED_LOCK(?) AS id', [lock]);
      return (rows as Array<{ id: number | null }>)[0]?.id ?? null;
    };
    const primary = new Child(candidate, args(2000));
    children.push(primary);
    await primary.waitFor((e) => e.ev === 'elected');
    // The first follower takes the watch lock: it queues on the lock itself for everyone.
    const watcher = new Child(candidate, args(2000));
    children.push(watcher);
    await watcher.waitFor((e) => e.ev === 'ready');
    await until(async () => (await used(lockNames('primacy:', lockName).watch)) !== null, 5000, 'a watcher');
    const awake = new Child(candidate, args(2000));
    children.push(awake);
    await awake.waitFor((e) => e.ev === 'ready');
    watcher.kill('SIGSTOP');
    const killedAt = wallNow();
    primary.kill('SIGKILL');
    // The server hands the lock to the stopped watcher's session; the awake follower finds it
    // unrecorded when its own wait runs out (2 s), and ends that session after the grace (2.1 s).
    const next = await awake.waitFor((e) => e.ev === 'elected' && e.t > killedAt, 15_000);
    console.log(`takeover with the watcher stopped: ${Math.round(next.t - killedAt)} ms`);
    expect(next.t - killedAt).toBeLessThan(2000 + 2100 + 5000);
    watcher.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 500));
    expect(await countPrimaries([watcher, awake])).toBe(1);
    expect(watcher.events.some((e) => e.ev === 'elected')).toBe(false);
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
    // Its closed session: not its next renew (3333 ms ± 20% after the last) nor its deadline (10 s).
    expect(stepDown.t - killedAt).toBeLessThan(2000);
    const next = await electedIn(group, killedAt);
    // Not the TTL (10 s, 6 s after the kill at the soonest) nor the followers' retry (8 s ± 20%).
    expect(next.event.t - killedAt).toBeLessThan(3000);
    expect(await countPrimaries(group)).toBe(1);
  });

  it('steps down while the server is paused, and elects one primary once it is back; no crash', async () => {
    lockName = 'server-pause';
    const ttl = 1500;
    const group = spawnCandidates(3, ttl, 200);
    const first = await electedIn(group, 0);
    await allReady(group);
    const pausedAt = wallNow();
    await server.pause();
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
