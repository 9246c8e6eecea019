/**
 * Elections on a private three-member etcd cluster: with a minority of members stopped (killed, or
 * paused with their sockets open) the lock keeps working; with a majority stopped or paused the
 * holder steps down by its deadline, nobody is elected until quorum is back, then someone is.
 * Never two primaries; tokens only rise.
 */
import { type Election, elect } from 'primacy';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { etcdLock } from '../../adapters/etcd.js';
import { type EtcdMember, type EtcdServer, startEtcdCluster } from '../helpers/etcd-server.js';
import { pause, until } from '../helpers/until.js';

const TTL = 2000;

async function isLeader(member: EtcdMember): Promise<boolean> {
  const metrics = await (await fetch(`${member.url}/metrics`)).text();
  return /^etcd_server_is_leader 1$/m.test(metrics);
}

describe('elections on a three-member etcd cluster', () => {
  let cluster: EtcdServer;
  let elections: Election[] = [];
  let sampler: NodeJS.Timeout | undefined;
  let overlaps = 0;
  /** The wall time (Date.now()) each term's last successful renew began at, by token. */
  const renewals = new Map<number, number>();
  const terms: Array<{ token: number; at: number }> = [];
  const revocations: string[] = [];

  const start = (name: string) => {
    overlaps = 0;
    terms.length = 0;
    revocations.length = 0;
    elections = Array.from({ length: 3 }, () => {
      const election = elect({
        name,
        lock: etcdLock({ hosts: cluster.urls }),
        ttl: TTL,
        retryInterval: 200,
        logger: false,
        handleSignals: false,
      });
      election.on('elected', (lease) => terms.push({ token: lease.token, at: performance.now() }));
      election.on('revoked', ({ reason }) => revocations.push(reason));
      return election;
    });
    sampler = setInterval(() => {
      if (elections.filter((e) => e.isPrimary).length > 1) overlaps++;
      for (const { lease } of elections) if (lease) renewals.set(lease.token, lease.renewedAt);
    }, 5);
  };
  const primary = (within = 15_000) => until(() => elections.find((e) => e.isPrimary), within, 'a primary');
  /** The members that do not lead the cluster (stopping one of them costs no raft election). */
  const followers = async () => {
    const leading = await Promise.all(cluster.members.map(isLeader));
    return cluster.members.filter((_, i) => !leading[i]);
  };

  beforeAll(async () => {
    cluster = await startEtcdCluster(3);
  });
  afterEach(async () => {
    clearInterval(sampler);
    for (const member of cluster.members) member.resume();
    await Promise.all(cluster.members.filter((m) => !m.running).map((m) => m.start()));
    await Promise.all(elections.map((e) => e.stop()));
    expect(overlaps).toBe(0);
    for (let i = 1; i < terms.length; i++) expect(terms[i]?.token).toBeGreaterThan(terms[i - 1]?.token as number);
  });
  afterAll(() => cluster?.stop());

  it('a minority killed, then a minority paused: the holder stays primary throughout, and hand-over still works', async () => {
    start('minority');
    const holder = await primary();
    const [killed, paused] = await followers();
    await killed?.kill();
    await pause(TTL);
    expect(holder.isPrimary).toBe(true);
    await killed?.start();
    await paused?.pause();
    await pause(TTL);
    expect(holder.isPrimary).toBe(true);
    expect(revocations).toEqual([]); // not one term lost while a minority was down
    const handedAt = performance.now();
    await holder.stop();
    const next = await primary();
    expect(next).not.toBe(holder);
    // Hand-over works with a member paused: a call that lands on it (the release, a follower's
    // attempt) waits out its 2 s callTimeout before another member is tried, so this is liveness
    // (2233 ms was seen on a busy machine), not the immediacy of a wake-up, which the single-node
    // tests prove.
    expect(performance.now() - handedAt).toBeLessThan(3 * TTL);
    expect(terms).toHaveLength(2);
  });

  it('a majority killed: the holder steps down by its deadline, nobody is elected until quorum is back', async () => {
    start('majority-killed');
    const holder = await primary();
    const [a, b] = cluster.members;
    const token = holder.token as number;
    const [stoppedAt, stoppedWall] = [performance.now(), Date.now()];
    await Promise.all([a?.kill(), b?.kill()]);
    await until(() => !holder.isPrimary, TTL + 1500, 'the holder stepped down');
    // By its deadline: its term was last renewed before the kill, so it ended within a TTL of it.
    // The bound is that, with room for a late poll on a busy machine; not a second TTL.
    expect(renewals.get(token)).toBeLessThanOrEqual(stoppedWall);
    expect(performance.now() - stoppedAt).toBeLessThan(TTL + 1000);
    const elected = terms.length;
    await pause(TTL);
    expect(elections.filter((e) => e.isPrimary)).toHaveLength(0);
    expect(terms).toHaveLength(elected);
    await Promise.all([a?.start(), b?.start()]);
    await primary(TTL * 4);
  });

  it('a majority paused: the holder steps down by its deadline, nobody is elected until they resume', async () => {
    start('majority-paused');
    const holder = await primary();
    const [a, b] = cluster.members;
    const token = holder.token as number;
    await Promise.all([a?.pause(), b?.pause()]);
    const [pausedAt, pausedWall] = [performance.now(), Date.now()];
    await until(() => !holder.isPrimary, TTL + 1500, 'the holder stepped down');
    // By its deadline: no renew of its term begun after the pause landed succeeded (renewedAt is
    // when a renew began), so it ended within a TTL of the pause. The bound is that, with room for
    // a late poll on a busy machine; not a second TTL.
    expect(renewals.get(token)).toBeLessThanOrEqual(pausedWall);
    expect(performance.now() - pausedAt).toBeLessThan(TTL + 1000);
    const elected = terms.length;
    await pause(TTL);
    expect(elections.filter((e) => e.isPrimary)).toHaveLength(0);
    expect(terms).toHaveLength(elected);
    a?.resume();
    b?.resume();
    await primary(TTL * 4);
  });
});
