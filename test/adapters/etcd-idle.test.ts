/**
 * What idle followers cost etcd: 200 followers of one lock (in one process, on 20 clients, each
 * follower with its own lock adapter as a process would have) wait on their watch, not on polls.
 * Counted by etcd itself (`grpc_server_started_total`). The follower's retryInterval is 500 ms:
 * polling at that pace would be 400 requests/s; the budget is 20/s for the lock, its holder's
 * renewals included. A release still hands over at once.
 */
import { Etcd3 } from 'etcd3';
import { type Election, elect } from 'primacy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdLock } from '../../adapters/etcd.js';
import { type EtcdServer, grpcCalls, startEtcd } from '../helpers/etcd-server.js';
import { pause, timeUntil, until } from '../helpers/until.js';

const FOLLOWERS = 200;
const WINDOW_MS = 6000;

const total = (calls: Map<string, number>) => [...calls.values()].reduce((a, b) => a + b, 0);

describe('idle followers of one etcd lock', () => {
  let etcd: EtcdServer;
  const clients: Etcd3[] = [];
  const elections: Election[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await Promise.all(elections.map((e) => e.stop()));
    for (const client of clients) client.close();
    await etcd?.stop();
  });

  it(`cost at most 20 requests/s in all at ${FOLLOWERS} followers, and are woken at once by a release`, async () => {
    const options = { name: 'idle', ttl: 3000, retryInterval: 500, logger: false, handleSignals: false } as const;
    const holder = elect({ ...options, lock: etcdLock({ hosts: etcd.urls }) });
    elections.push(holder);
    await until(() => holder.isPrimary, 5000, 'holder elected');
    for (let i = 0; i < 20; i++) clients.push(new Etcd3({ hosts: etcd.urls }));
    const locks = Array.from({ length: FOLLOWERS }, (_, i) => etcdLock({ client: clients[i % clients.length] as Etcd3 }));
    for (const lock of locks) elections.push(elect({ ...options, lock }));
    await Promise.all(elections.map((e) => e.ready));
    // Past start-up: every watch connected (each wakes its follower once when it connects), and those rounds over.
    await until(() => locks.every((lock) => lock.idleRetry?.('idle') !== undefined), 20_000, 'every watch connected');
    await pause(1500);
    const before = await grpcCalls(etcd.urls[0] as string);
    const started = performance.now();
    await pause(WINDOW_MS);
    const after = await grpcCalls(etcd.urls[0] as string);
    const seconds = (performance.now() - started) / 1000;
    const perSecond = (total(after) - total(before)) / seconds;
    const byMethod = [...after]
      .filter(([method, n]) => n > (before.get(method) ?? 0))
      .map(([method, n]) => `${method} ${((n - (before.get(method) ?? 0)) / seconds).toFixed(1)}/s`);
    console.info(`[etcd idle] ${FOLLOWERS} followers + 1 holder: ${perSecond.toFixed(1)} requests/s (${byMethod.join(', ')})`);
    expect(perSecond).toBeLessThanOrEqual(20);
    expect(holder.isPrimary).toBe(true);

    const releasedAt = performance.now();
    await holder.stop();
    const handover = await timeUntil(() => elections.some((e) => e !== holder && e.isPrimary), 20_000, 'a follower elected');
    // The watch woke them: their idle retries (30 s ± 20 %) are due no sooner than 24 s after the
    // last wake, at their watches' connect, which was under 10 s ago. The bound leaves room for 200
    // followers' wake-ups on a machine with one core busy elsewhere (2153 ms was seen there).
    expect(handover).toBeLessThan(8000);
    expect(performance.now() - releasedAt).toBeLessThan(12_000);
  });
});
