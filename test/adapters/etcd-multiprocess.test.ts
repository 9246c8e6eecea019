/**
 * Real processes electing through a private etcd. etcd cannot see a process die, so a SIGKILLed
 * primary is replaced once its lease has certainly ended (about a TTL after its last renew, never
 * before), and a SIGSTOPped one likewise; resumed, it reads isPrimary false, its token superseded.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { etcdLock } from '../../adapters/etcd.js';
import { Child, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { allReady, countPrimaries, electedIn } from '../helpers/election-group.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';

const candidate = join(import.meta.dirname, '../fixtures/etcd-candidate.ts');
const TTL = 2000;
/** The elector's drift margin for TTL (1% + 2 ms), and a few ms between its clock read and the record's. */
const MARGIN = TTL * 0.01 + 2 + 20;

describe('several processes on one etcd lock', () => {
  let etcd: EtcdServer;
  const children: Child[] = [];
  const spawnCandidates = (name: string, count: number, ttl = TTL) => {
    const spawned = Array.from({ length: count }, () => new Child(candidate, [etcd.urls.join(','), name, String(ttl), '300']));
    children.push(...spawned);
    return spawned;
  };
  /** When the current holder's lease could end at the earliest (wall ms): its last renew plus the TTL. */
  const leaseEnd = async (name: string) => {
    const lock = etcdLock({ hosts: etcd.urls });
    try {
      const record = await lock.inspect(name);
      if (record?.renewedAt == null) throw new Error(`no holder recorded for ${name}`);
      return record.renewedAt + TTL - MARGIN;
    } finally {
      await lock.close?.();
    }
  };

  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterEach(() => killAll(children));
  afterAll(() => etcd?.stop());

  it('replaces a SIGKILLed primary within about the TTL, never before its lease could have ended', async () => {
    const group = spawnCandidates('kill', 3);
    const first = await electedIn(group, 0);
    await allReady(group);
    const killedAt = wallNow();
    first.child.kill('SIGKILL');
    await first.child.exited;
    const ended = await leaseEnd('kill');
    const next = await electedIn(
      group.filter((c) => c !== first.child),
      killedAt,
    );
    expect(next.event.t).toBeGreaterThanOrEqual(ended);
    // At the lease's end (the followers' wake at it), not at their idle retry (30 s ± 20%).
    expect(next.event.t - killedAt).toBeLessThan(TTL + 2000);
    expect(next.event.token as number).toBeGreaterThan(first.event.token as number);
    const sinceRenew = next.event.t - (ended - TTL + MARGIN);
    console.info(
      `[etcd failover] SIGKILL to a follower elected: ${(next.event.t - killedAt).toFixed(0)} ms (TTL ${TTL} ms; ${sinceRenew.toFixed(0)} ms after the holder's last renew)`,
    );
  });

  it('replaces a SIGSTOPped primary only after its TTL; resumed, it reads isPrimary false with a lower token', async () => {
    const group = spawnCandidates('stop', 3);
    const first = await electedIn(group, 0);
    await allReady(group);
    const stoppedAt = wallNow();
    first.child.kill('SIGSTOP');
    const ended = await leaseEnd('stop');
    const next = await electedIn(
      group.filter((c) => c !== first.child),
      stoppedAt,
    );
    expect(next.event.t).toBeGreaterThanOrEqual(ended);
    // At the lease's end (the followers' wake at it), not at their idle retry (30 s ± 20%).
    expect(next.event.t - stoppedAt).toBeLessThan(TTL + 2000);
    first.child.kill('SIGCONT');
    // After the stop: a busy machine may have stalled it past the tick's 500 ms before, while it was
    // still primary, and that earlier 'resumed' is not what it reads on waking.
    const resumed = await first.child.waitFor((e) => e.ev === 'resumed' && e.t > stoppedAt);
    expect(resumed.isPrimary).toBe(false);
    expect(first.event.token as number).toBeLessThan(next.event.token as number);
    // Its renew finds the key on another lease: it steps down and stays a follower.
    await first.child.waitFor((e) => e.ev === 'revoked');
    expect(await countPrimaries(group)).toBe(1);
  });

  it('hands over at once on SIGTERM (the release deletes the key, the watch wakes a follower)', async () => {
    // A TTL of 10 s: a lease left to run out would end 6 s after the signal at the soonest.
    const group = spawnCandidates('term', 3, 10_000);
    const first = await electedIn(group, 0);
    await allReady(group);
    const signalledAt = wallNow();
    first.child.kill('SIGTERM');
    const next = await electedIn(
      group.filter((c) => c !== first.child),
      signalledAt,
    );
    // Followers retry every 30 s while their watch is connected: only the wake-up explains this.
    expect(next.event.t - signalledAt).toBeLessThan(3000);
  });
});
