/**
 * redisLock on Redis Cluster, for real: a private 6-node cluster (3 primaries, 1 replica each,
 * test/helpers/redis-cluster.ts) driven by ioredis's Cluster client. The conformance suite, then
 * elections of several contenders while the lock's slot moves to another primary (held half-way,
 * the source answering ASK, across renews) and while the lock's primary fails over (CLUSTER
 * FAILOVER, and SIGKILL after a grant its replica never got). Each contender's terms are read from
 * outside (test/helpers/redis-replicated-field.ts). What holds with and without `waitForReplicas`
 * is summed up in adapters/redis/replicas.ts.
 */
import type { Cluster, ClusterOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockKeys } from '../../adapters/redis/keys.js';
import { type RedisClientLike, type RedisLockOptions, redisLock } from '../../adapters/redis.js';
import type { LockAdapter } from '../../src/adapter.js';
import { createHolderIdentity } from '../../src/identity.js';
import { describeLockAdapter } from '../conformance.js';
import { type ClusterDeployment, type ClusterNode, startCluster } from '../helpers/redis-cluster.js';
import { Field } from '../helpers/redis-replicated-field.js';
import { pause, until } from '../helpers/until.js';

const prefix = 'cluster-test:';

describe('redisLock on Redis Cluster (3 primaries, 1 replica each)', () => {
  let cluster: ClusterDeployment;
  const fields: Field[] = [];
  const locks: LockAdapter[] = [];
  const paused: ClusterNode[] = [];

  const lockOn = (options: Partial<RedisLockOptions> = {}, clientOptions: ClusterOptions = {}) => {
    const lock = redisLock({ client: cluster.client(clientOptions) as unknown as RedisClientLike, prefix, ...options });
    locks.push(lock);
    return lock;
  };
  const field = (name: string, ttl: number, labels: string[], options: Partial<RedisLockOptions> = {}) => {
    const made = new Field(name, ttl);
    fields.push(made);
    for (const label of labels) {
      const client = cluster.client();
      made.add(label, redisLock({ client: client as unknown as RedisClientLike, prefix, ...options }), () => client.disconnect());
    }
    return made;
  };
  const expectOnePrimaryAtATime = (made: Field) => {
    expect(made.overlaps(), made.describe()).toEqual([]);
    expect(made.regressions(), made.describe()).toEqual([]);
  };
  const slotOfLock = (name: string) => cluster.slotOf(lockKeys(prefix, name).lock);
  /** A lock name whose slot `primary` serves (names hash to slots: try until one lands there). */
  const nameServedBy = async (primary: ClusterNode, stem: string) => {
    for (let i = 0; ; i++) {
      if ((await cluster.ownerOf(await slotOfLock(`${stem}-${i}`))).primary === primary) return `${stem}-${i}`;
    }
  };

  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterEach(async () => {
    for (const node of paused.splice(0)) node.server.resume();
    await Promise.all(fields.splice(0).map((f) => f.stop()));
    await Promise.all(locks.splice(0).map((l) => l.close?.()));
  });
  afterAll(() => cluster?.stop());

  for (const [label, options] of [
    ['redis on Cluster', {}],
    ["redis on Cluster, waitForReplicas: 'all'", { waitForReplicas: 'all' }],
  ] as const) {
    describeLockAdapter(label, async () => {
      const clients: Cluster[] = [];
      return {
        make: () => {
          const client = cluster.client({ redisOptions: { maxRetriesPerRequest: 0 } });
          clients.push(client);
          return redisLock({ client: client as unknown as RedisClientLike, prefix: `conformance-${label.length}:`, ...options });
        },
        breakBackend: async () => {
          for (const client of clients) client.disconnect();
        },
        cleanup: async () => {
          for (const client of clients) client.disconnect();
        },
      };
    });
  }

  it("the lock's slot moves to another primary during an election (held half-way across renews): the holder stays primary throughout, followers never get it", async () => {
    const ttl = 1500;
    for (const options of [{}, { waitForReplicas: 'all' as const }]) {
      const contenders = field(`migrate-${options.waitForReplicas ?? 'plain'}`, ttl, ['a', 'b', 'c'], options);
      await contenders.electedAfter(0, 10_000);
      await pause(300);
      const slot = await slotOfLock(contenders.name);
      const keysBefore = Number(await (await cluster.ownerOf(slot)).primary.admin.call('CLUSTER', 'COUNTKEYSINSLOT', slot));
      // The keys are on the target, the source answers ASK: renews (every ttl/3) and follower
      // attempts go on for a TTL in that state.
      const { to } = await cluster.moveSlot(slot, () => pause(ttl));
      expect(Number(await to.admin.call('CLUSTER', 'COUNTKEYSINSLOT', slot))).toBe(keysBefore);
      await pause(ttl);
      expectOnePrimaryAtATime(contenders);
      expect(contenders.terms(), contenders.describe()).toHaveLength(1);
    }
  });

  it("CLUSTER FAILOVER of the lock's primary during an election: nothing is lost (the primary waits for its replica), the holder stays primary, tokens up", async () => {
    const ttl = 1500;
    const contenders = field('manual-failover', ttl, ['a', 'b', 'c']);
    const waiting = field('manual-failover-wait', ttl, ['a', 'b', 'c'], { waitForReplicas: 'all' });
    await Promise.all([contenders.electedAfter(0, 10_000), waiting.electedAfter(0, 10_000)]);
    await pause(300);
    for (const made of [contenders, waiting]) {
      const slot = await slotOfLock(made.name);
      const { primary, replicas } = await cluster.ownerOf(slot);
      await (replicas[0] as ClusterNode).admin.call('CLUSTER', 'FAILOVER');
      await until(async () => (await cluster.ownerOf(slot)).primary !== primary, 10_000, `slot ${slot} fails over`);
      await cluster.settled(slot);
    }
    await pause(ttl);
    for (const made of [contenders, waiting]) {
      expectOnePrimaryAtATime(made);
      expect(made.terms(), made.describe()).toHaveLength(1);
    }
  });

  it("SIGKILL of the lock's primary right after a grant its replica never got: without waitForReplicas the promoted replica forgets it and grants the lock again while the lease runs; with it the grant is refused, and an election goes on with one primary", async () => {
    const someSlot = await slotOfLock('killed');
    const { primary, replicas } = await cluster.ownerOf(someSlot);
    const replica = replicas[0] as ClusterNode;
    const [lost, refused] = [await nameServedBy(primary, 'lost'), await nameServedBy(primary, 'refused')];
    const contenders = field(await nameServedBy(primary, 'killed-election'), 3000, ['a', 'b', 'c'], { waitForReplicas: 'all' });
    const plain = lockOn();
    const waiting = lockOn({ waitForReplicas: 'all' });
    // Every key the locks use exists on the replica (a counter, a release marker), as in a lock in use.
    for (const [lock, name] of [
      [plain, lost],
      [waiting, refused],
    ] as const) {
      const lease = await lock.acquire(name, createHolderIdentity(), 5000);
      if (!lease) throw new Error(`${name}: no first lease`);
      await lock.release(lease);
    }
    await contenders.electedAfter(0, 10_000);
    await primary.admin.call('WAIT', 1, 2000);

    // The replica stops and loses its link: what its primary writes now never reaches it.
    replica.server.pause();
    paused.push(replica);
    await primary.admin.call('CLIENT', 'KILL', 'TYPE', 'replica');
    const granted = await plain.acquire(lost, createHolderIdentity(), 20_000);
    if (!granted) throw new Error('no lease while the replica was cut off');
    await expect(waiting.acquire(refused, createHolderIdentity(), 5000)).rejects.toThrow(
      /only 0 of the 1 replica acknowledgements required \(waitForReplicas: 'all'\) came within 1000 ms; the primary has 0 online/,
    );
    const killedAt = performance.now();
    await primary.server.down();
    replica.server.resume();
    await until(async () => (await cluster.ownerOf(someSlot)).primary === replica, 15_000, 'the replica is promoted');
    // The promoted replica never saw the grant: another holder gets the lock while the first
    // lease (20 s) runs. Its token is still higher (the server clock, in µs, is its floor).
    const again = await until(
      () =>
        lockOn()
          .acquire(lost, createHolderIdentity(), 5000)
          .catch(() => null),
      10_000,
      'a second lease',
    );
    expect(performance.now() - killedAt).toBeLessThan(granted.ttl);
    expect(again.token).toBeGreaterThan(granted.token);
    // The election on the same primary, with waitForReplicas: one primary again, tokens up.
    await contenders.electedAfter(killedAt, 15_000);
    await pause(500);
    expectOnePrimaryAtATime(contenders);
    expect(contenders.primaries(), contenders.describe()).toHaveLength(1);
    await primary.server.up(); // it rejoins as the replica of its replacement
    await cluster.settled(someSlot);
  });
});
