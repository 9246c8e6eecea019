/**
 * Regressions for the defects a review of the one-watcher design (e8dd387) found; each of these
 * failed on 39666ac: a process watching its own holder (D1), a claim left behind by a watcher that
 * stopped (D2), a double fault bounded by the followers' count (D3: resting waits were not
 * memoryless), a sole holder stepping down during a Cluster slot migration (D5: RENEW had a second
 * key), and followers that never subscribed after a long outage (D6). D7, found later, failed on
 * e16e893: after an empty restart the watcher went on polling the lost holder's connection, which
 * no poll can judge, and nobody watched the holder granted after the restart.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockKeys } from '../../adapters/redis/keys.js';
import { type RedisClientLike, redisLock } from '../../adapters/redis.js';
import { Child, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import type { LockAdapter } from '../../src/adapter.js';
import { type Election, elect } from '../../src/elector.js';
import { type ClusterDeployment, startCluster } from '../helpers/redis-cluster.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { eventually, pause, until } from '../helpers/until.js';

const candidate = join(import.meta.dirname, '../fixtures/redis-watcher-candidate.ts');
const keysOf = (name: string) => lockKeys('primacy:', name);

describe('redis watcher defects (standalone)', () => {
  let redis: RedisServer;
  let admin: Redis;
  const children: Child[] = [];
  const elections: Election[] = [];
  const adapters: LockAdapter[] = [];
  /** Clients a test made itself (a caller's client is not closed by its lock). */
  const ownClients: Redis[] = [];
  const follow = (name: string, count: number, ttl: number) =>
    Array.from({ length: count }, () => {
      const lock = redisLock({ url: redis.url });
      adapters.push(lock);
      const e = elect({ name, lock, ttl, retryInterval: 200, handleSignals: false, logger: false });
      e.on('error', () => undefined);
      elections.push(e);
      return e;
    });
  const spawn = (name: string, ttl: number, count = 1) => {
    const child = new Child(candidate, [redis.url, name, String(ttl), '200', String(count)]);
    children.push(child);
    return child;
  };
  /** What every release publishes: the followers campaign, then rest in step. */
  const restInStep = async (name: string) => {
    // Twice: a follower reads its share from the subscriber count of its previous claim, low for
    // followers that started together (their SUBSCRIBEs were still in flight), right the second time.
    for (const wait of [1000, 300]) {
      await admin.publish(keysOf(name).events, 'released');
      await pause(wait);
    }
  };
  beforeAll(async () => {
    redis = await startRedis();
    admin = redis.admin();
  });
  afterEach(async () => {
    await killAll(children);
    await Promise.all(elections.splice(0).map((e) => e.stop()));
    await Promise.all(adapters.splice(0).map((a) => a.close?.()));
    for (const client of ownClients.splice(0)) client.disconnect();
  });
  afterAll(() => redis.stop());

  it('D1: a process with two elections of one name on one adapter does not watch its own holder; its SIGKILL is taken over fast', async () => {
    const ttl = 10_000;
    const pair = spawn('self', ttl, 2); // election 0 holds, election 1 follows on the same adapter
    await pair.waitFor((e) => e.ev === 'ready' && e.i === 1, 15_000);
    const others = follow('self', 20, ttl);
    await Promise.all(others.map((e) => e.ready));
    await until(() => admin.get(keysOf('self').watcher), 10_000, 'a watcher');
    await restInStep('self');
    const killedAt = wallNow();
    pair.kill('SIGKILL');
    await until(() => others.some((e) => e.isPrimary), 120_000, 'a takeover');
    const took = wallNow() - killedAt;
    console.log(
      `D1 SIGKILL of a process holding and following, 20 followers resting: taken over after ${Math.round(took)} ms (ttl ${ttl})`,
    );
    expect(took).toBeLessThan(ttl / 4); // crash: fast (it was 18-46 s when the process watched itself)
  }, 150_000);

  it('D2: a watcher on redisLock({ url }) that stops gives its claim up (UNCLAIM by EVAL, before the idle close)', async () => {
    const holderLock = redisLock({ url: redis.url });
    adapters.push(holderLock);
    const holder = elect({ name: 'leak', lock: holderLock, ttl: 10_000, handleSignals: false, logger: false });
    elections.push(holder);
    await until(() => holder.isPrimary, 5000, 'a primary');
    const [watcher] = follow('leak', 1, 10_000);
    await (watcher as Election).ready;
    await until(() => admin.get(keysOf('leak').watcher), 5000, 'a claim');
    await (watcher as Election).stop();
    await pause(200);
    const left = await admin.pttl(keysOf('leak').watcher);
    console.log(`D2 claim left after the watcher stopped: pttl ${left} ms`);
    expect(left).toBe(-2);
  });

  it("D3: watcher SIGSTOPped and holder SIGKILLed, 20 followers resting: taken over at the resting followers' next try (about 2 s on average for all together), well before the TTL", async () => {
    const ttl = 10_000;
    const holder = spawn('double', ttl);
    await holder.waitFor((e) => e.ev === 'elected', 15_000);
    const watcher = spawn('double', ttl);
    await watcher.waitFor((e) => e.ev === 'ready', 15_000);
    await until(() => admin.get(keysOf('double').watcher), 5000, 'a claim');
    const others = follow('double', 20, ttl);
    await Promise.all(others.map((e) => e.ready));
    await restInStep('double');
    const at = wallNow();
    watcher.kill('SIGSTOP');
    holder.kill('SIGKILL');
    await until(() => others.some((e) => e.isPrimary), 120_000, 'a takeover');
    const took = wallNow() - at;
    console.log(`D3 watcher SIGSTOP + holder SIGKILL, 20 followers in step: taken over after ${Math.round(took)} ms (ttl ${ttl})`);
    expect(took).toBeLessThan(ttl + 5000); // in step, before the fix: 19-27 s
  }, 150_000);

  /** One in-process follower that tries on its own only every minute: what wakes it is the watch. */
  const patientFollower = (name: string, ttl: number) => {
    const lock = redisLock({ url: redis.url });
    adapters.push(lock);
    const e = elect({ name, lock, ttl, retryInterval: 60_000, handleSignals: false, logger: false });
    e.on('error', () => undefined);
    elections.push(e);
    return e;
  };
  /** Redis restarted empty, with `dead` SIGKILLed while it was down: their connections end with the server's run. */
  const restartEmptyWithout = async (...dead: Child[]) => {
    await redis.down();
    for (const child of dead) child.kill('SIGKILL');
    await Promise.all(dead.map((child) => child.exited));
    await redis.up();
  };
  /** SIGKILLs `holder` and waits for `follower` to take over: how many ms that took. */
  const takeoverAfterKill = async (holder: Child, follower: Election, within: number) => {
    const killedAt = wallNow();
    holder.kill('SIGKILL');
    await until(() => follower.isPrimary, within, 'a takeover');
    return wallNow() - killedAt;
  };

  // The follower finds the lock gone without a release (its counter too) and waits out the lost
  // holder's TTL; the new holder, a candidate that saw none, is granted it at once. Before the fix
  // the watcher went on polling the lost holder's connection, whose liveness a server that
  // restarted cannot tell, so the new holder's SIGKILL was noticed only at the end of that wait
  // or of the new holder's lease (several seconds here), not by the watch.
  it('D7: a watcher that keeps its claim through an empty restart watches the holder granted after it, so that one SIGKILLed is taken over fast', async () => {
    const ttl = 10_000;
    const first = spawn('restart-kept', ttl);
    await first.waitFor((e) => e.ev === 'elected', 15_000);
    const watcher = patientFollower('restart-kept', ttl); // the only follower: the watcher
    await watcher.ready;
    await until(() => admin.get(keysOf('restart-kept').watcher), 5000, 'a claim');
    await restartEmptyWithout(first);
    // Its claim refresh (every 2 s) writes the claim again on the empty server.
    await until(() => admin.get(keysOf('restart-kept').watcher), 10_000, 'the claim written again');
    const second = spawn('restart-kept', ttl);
    await second.waitFor((e) => e.ev === 'elected', 15_000);
    await pause(500);
    const took = await takeoverAfterKill(second, watcher, 3 * ttl);
    console.log(
      `D7 watcher kept its claim through an empty restart, the next holder SIGKILLed: taken over after ${Math.round(took)} ms (ttl ${ttl})`,
    );
    expect(took).toBeLessThan(2000); // a poll (150 ms) and the grace on a busy machine; before the fix 5-9 s
  }, 60_000);

  it('D7: a follower that takes the claim after an empty restart (the new holder asks for a watcher) watches that holder, not the one it saw before', async () => {
    const ttl = 15_000;
    const first = spawn('restart-asked', ttl);
    await first.waitFor((e) => e.ev === 'elected', 15_000);
    const oldWatcher = spawn('restart-asked', ttl);
    await oldWatcher.waitFor((e) => e.ev === 'ready', 15_000);
    await until(() => admin.get(keysOf('restart-asked').watcher), 5000, 'a claim');
    const follower = patientFollower('restart-asked', ttl); // rests: the claim is taken
    await follower.ready;
    await restartEmptyWithout(first, oldWatcher);
    // What every release publishes: the follower looks, finds the key lost and waits out its TTL.
    const numsub = async () => ((await admin.call('PUBSUB', 'NUMSUB', keysOf('restart-asked').events)) as [string, number])[1];
    await until(async () => (await numsub()) >= 1, 10_000, 'the follower subscribed again');
    await admin.publish(keysOf('restart-asked').events, 'released');
    const second = spawn('restart-asked', ttl);
    await second.waitFor((e) => e.ev === 'elected', 15_000);
    // Its first renew (ttl/3) finds no claim and asks for a watcher: the follower is the only one.
    await until(() => admin.get(keysOf('restart-asked').watcher), ttl, 'a claim asked for by the new holder');
    await pause(500);
    const took = await takeoverAfterKill(second, follower, 3 * ttl);
    console.log(`D7 claim taken after an empty restart, its holder SIGKILLed: taken over after ${Math.round(took)} ms (ttl ${ttl})`);
    expect(took).toBeLessThan(2000); // before the fix 5-10 s
  }, 90_000);

  it('D6: followers started while Redis is down for longer than their reconnection attempts subscribe once it is back', async () => {
    await redis.down();
    // ioredis gives a queued SUBSCRIBE up after 20 reconnection attempts (maxRetriesPerRequest):
    // ~10.5 s at its default backoff; at a fixed 50 ms between attempts (the duplicate the followers
    // subscribe on inherits it) the same give-up comes within about 1 s, and the outage lasts 3 s.
    const clients = Array.from({ length: 6 }, () => {
      const client = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => 50 });
      client.on('error', () => undefined);
      ownClients.push(client);
      return client as unknown as RedisClientLike;
    });
    const others = clients.map((client) => {
      const lock = redisLock({ client });
      adapters.push(lock);
      const e = elect({ name: 'late', lock, ttl: 10_000, retryInterval: 200, handleSignals: false, logger: false });
      e.on('error', () => undefined);
      elections.push(e);
      return e;
    });
    await pause(3000);
    await redis.up();
    await until(() => others.some((e) => e.isPrimary), 20_000, 'a primary');
    const numsub = async () => ((await admin.call('PUBSUB', 'NUMSUB', keysOf('late').events)) as [string, number])[1];
    const subscribers = await eventually(numsub, (n) => n === 6, 5000);
    console.log(`D6 subscribers of the lock's channel: ${subscribers} of 6 candidates`);
    expect(subscribers).toBe(6);
  }, 60_000);
});

describe('redis watcher defects (Cluster)', () => {
  let cluster: ClusterDeployment;
  beforeAll(async () => {
    cluster = await startCluster();
  }, 120_000);
  afterAll(() => cluster?.stop());

  it('D5: a sole holder on a Cluster keeps the lock through a migration of its slot (RENEW has one key)', async () => {
    const ttl = 1500;
    const lock = redisLock({ client: cluster.client() as unknown as RedisClientLike, prefix: 'wr:' });
    const election = elect({ name: 'solo', lock, ttl, logger: false, handleSignals: false });
    const revoked: string[] = [];
    election.on('revoked', ({ reason }) => revoked.push(reason));
    election.on('error', () => undefined);
    await until(() => election.isPrimary, 10_000, 'a primary');
    await cluster.moveSlot(await cluster.slotOf(lockKeys('wr:', 'solo').lock), () => pause(ttl * 2));
    await pause(ttl);
    const during = [...revoked];
    console.log(`D5 revoked during the migration: ${during.join(', ') || 'never'}`);
    await election.stop();
    await lock.close?.();
    expect(during).toEqual([]);
  }, 60_000);
});
