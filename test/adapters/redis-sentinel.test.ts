/**
 * redisLock on Redis Sentinel, for real: a private deployment (1 primary, 2 replicas, 3 Sentinels,
 * test/helpers/redis-sentinel.ts) driven by ioredis's Sentinel client. The conformance suite, then
 * elections of several contenders across failovers, each contender's terms read from outside
 * (test/helpers/redis-replicated-field.ts): SENTINEL FAILOVER, SIGKILL of the primary, a grant the
 * replicas never got, and the window in which a former primary still serves the clients connected
 * to it. What holds with and without `waitForReplicas` is summed up in adapters/redis/replicas.ts.
 */
import type { RedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockKeys } from '../../adapters/redis/keys.js';
import { type RedisLockOptions, redisLock } from '../../adapters/redis.js';
import type { LockAdapter } from '../../src/adapter.js';
import { PrimacyBackendError } from '../../src/errors.js';
import { createHolderIdentity } from '../../src/identity.js';
import { describeLockAdapter } from '../conformance.js';
import { Field } from '../helpers/redis-replicated-field.js';
import { type SentinelDeployment, startSentinels } from '../helpers/redis-sentinel.js';
import { startRedis } from '../helpers/redis-server.js';
import { pause, until } from '../helpers/until.js';

const prefix = 'sentinel-test:';
/** Reconnect every 200 ms (ioredis's default backs off to 2 s), so a failover is followed promptly. */
const reconnect: RedisOptions = { retryStrategy: () => 200 };

/** `attempt()`'s answer once the server answers: a client that reconnects after a failover fails fast meanwhile. */
async function answered<T>(attempt: () => Promise<T>, within = 10_000): Promise<T> {
  const deadline = performance.now() + within;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof PrimacyBackendError) || performance.now() > deadline) throw error;
      await pause(100);
    }
  }
}

describe('redisLock on Redis Sentinel (1 primary, 2 replicas, 3 Sentinels)', () => {
  let sentinel: SentinelDeployment;
  const fields: Field[] = [];
  const locks: LockAdapter[] = [];

  /** An adapter on its own Sentinel client, as another process would have. */
  const lockOn = (options: Partial<RedisLockOptions> = {}, clientOptions: RedisOptions = {}) => {
    const lock = redisLock({ client: sentinel.client({ ...reconnect, ...clientOptions }), prefix, ...options });
    locks.push(lock);
    return lock;
  };
  /** A field of `labels.length` contenders for `name`, each on its own client. */
  const field = (
    name: string,
    ttl: number,
    labels: string[],
    options: Partial<RedisLockOptions> = {},
    clientOptions: RedisOptions = {},
  ) => {
    const made = new Field(name, ttl);
    fields.push(made);
    for (const label of labels) join(made, label, options, clientOptions);
    return made;
  };
  const join = (into: Field, label: string, options: Partial<RedisLockOptions> = {}, clientOptions: RedisOptions = {}) => {
    const client = sentinel.client({ ...reconnect, ...clientOptions });
    into.add(label, redisLock({ client, prefix, ...options }), () => client.disconnect());
  };
  const expectOnePrimaryAtATime = (made: Field) => {
    expect(made.overlaps(), made.describe()).toEqual([]);
    expect(made.regressions(), made.describe()).toEqual([]);
  };

  beforeAll(async () => {
    sentinel = await startSentinels();
    await sentinel.settled();
  });
  afterEach(async () => {
    await Promise.all(fields.splice(0).map((f) => f.stop()));
    await Promise.all(locks.splice(0).map((l) => l.close?.()));
    for (const node of sentinel.nodes) node.resume();
  });
  afterAll(() => sentinel?.stop());

  for (const [label, options] of [
    ['redis on Sentinel', {}],
    ["redis on Sentinel, waitForReplicas: 'all'", { waitForReplicas: 'all' }],
  ] as const) {
    describeLockAdapter(label, async () => {
      const made: LockAdapter[] = [];
      const clients: Array<{ disconnect(): void }> = [];
      return {
        make: () => {
          // Fail fast once the clients are broken, so the broken-backend case answers within the test.
          const client = sentinel.client({ maxRetriesPerRequest: 0, retryStrategy: () => 100 });
          clients.push(client);
          const lock = redisLock({ client, prefix: `conformance-${label.length}:`, ...options });
          made.push(lock);
          return lock;
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

  it('SENTINEL FAILOVER, clients with failoverDetector: the holder steps down as its client leaves the old primary, then one primary again, tokens up', async () => {
    const contenders = field('failover', 2000, ['a', 'b', 'c'], {}, { failoverDetector: true });
    await contenders.electedAfter(0, 10_000);
    await pause(300); // everyone has campaigned once
    const failedOverAt = performance.now();
    await sentinel.failover();
    const next = await contenders.electedAfter(failedOverAt, 10_000);
    expect(next.start - failedOverAt).toBeLessThan(5000);
    await sentinel.settled(); // the old primary is a replica again: nobody can still be talking to it
    await pause(500);
    expectOnePrimaryAtATime(contenders);
    expect(contenders.primaries(), contenders.describe()).toHaveLength(1);
  });

  it('SIGKILL of the primary: the holder steps down at once (its connection closed), one primary after the failover, tokens up; a follower does not take over a holder whose CLIENT ID the new primary does not know', async () => {
    const ttl = 3000;
    const contenders = field('kill', ttl, ['a', 'b', 'c']);
    await contenders.electedAfter(0, 10_000);
    // A holder outside any election, with a long lease, and a follower of it.
    const holder = lockOn();
    const follower = lockOn();
    const held = await holder.acquire('kill-held', createHolderIdentity(), 20_000);
    expect(held).not.toBeNull();
    await pause(300);
    const old = await sentinel.primary();
    const killedAt = performance.now();
    await old.down();
    await sentinel.primaryOtherThan(old);
    const next = await contenders.electedAfter(killedAt, 15_000);
    // The Sentinels' failover (~2 s), then at most one retry: not the holder's TTL on top.
    expect(next.start - killedAt).toBeLessThan(8000);
    const firstTerm = contenders.terms()[0];
    // Its closed connection ended it: not its deadline (ttl 3 s, 1.8 s after the kill at the soonest).
    expect(firstTerm?.end ?? Number.POSITIVE_INFINITY).toBeLessThan(killedAt + 1000);
    // The lease replicated before the kill names a connection of the dead server: unknown, not gone.
    await until(async () => (await follower.inspect('kill-held').catch(() => null))?.state === 'held', 5000, 'the follower reads the lock');
    expect(await answered(() => follower.acquire('kill-held', createHolderIdentity(), 5000))).toBeNull();
    expect((await follower.inspect('kill-held'))?.alive).toBeNull();
    await sentinel.revive(old);
    await sentinel.settled();
    expectOnePrimaryAtATime(contenders);
    expect(contenders.primaries(), contenders.describe()).toHaveLength(1);
  });

  it('a former primary still serving its clients (SENTINEL FAILOVER, no failoverDetector): two primaries without waitForReplicas; with it, none', async () => {
    const ttl = 1000;
    const plain = field('stale-plain', ttl, ['a', 'b']);
    const waiting = field('stale-wait', ttl, ['a', 'b'], { waitForReplicas: 'all' });
    await Promise.all([plain.electedAfter(0, 10_000), waiting.electedAfter(0, 10_000)]);
    await pause(500); // renewed at least once, acknowledged by the replicas
    await sentinel.failover();
    // Connected now, a newcomer (a restarted process) reaches the new primary, where the holder's
    // lease is no longer renewed: it expires there within the TTL.
    join(plain, 'newcomer');
    join(waiting, 'newcomer', { waitForReplicas: 'all' });
    await sentinel.settled(); // the Sentinels turn the old primary into a replica (~4 s here)
    await pause(ttl + 500);
    // Without the option: the holder renewed on the old primary while the newcomer was elected on
    // the new one. This is the limit adapters/redis/replicas.ts documents.
    expect(plain.overlaps().length, plain.describe()).toBeGreaterThan(0);
    // With it: the old primary, cut off from its replicas, acknowledged no renew; its holder stepped
    // down at its deadline, before the lease's copy on the new primary expired.
    expectOnePrimaryAtATime(waiting);
    expect(waiting.primaries(), waiting.describe()).toHaveLength(1);
  });

  it('a grant the replicas never got: the new primary forgets it (and may issue its token again) unless waitForReplicas refused it', async () => {
    const primary = await sentinel.primary();
    const admin = sentinel.admin(primary);
    // Counters far above the server clock (as after a failover to a primary whose clock is behind):
    // the next token is the counter's, so a lost bump would show.
    for (const name of ['lost-fresh', 'lost-seen', 'lost-wait']) await admin.set(lockKeys(prefix, name).token, '8000000000000000');
    await admin.call('WAIT', 2, 2000);
    const plain = lockOn();
    const seer = lockOn();
    const waiting = lockOn({ waitForReplicas: 'all' });
    // The waiting lock has seen this primary with its replicas (a running process has).
    const warmUp = await waiting.acquire('lost-wait', createHolderIdentity(), 20_000);
    if (!warmUp) throw new Error('no lease before the replicas were cut off');
    await waiting.release(warmUp);

    // The replicas stop and lose their link: what the primary writes now reaches none of them.
    const replicas = sentinel.nodes.filter((node) => node !== primary);
    for (const replica of replicas) replica.pause();
    await admin.call('CLIENT', 'KILL', 'TYPE', 'replica');
    const fresh = await plain.acquire('lost-fresh', createHolderIdentity(), 20_000);
    const seen = await plain.acquire('lost-seen', createHolderIdentity(), 20_000);
    expect(await seer.acquire('lost-seen', createHolderIdentity(), 20_000)).toBeNull(); // it saw `seen`'s token
    await expect(waiting.acquire('lost-wait', createHolderIdentity(), 5000)).rejects.toThrow(
      /only 0 of the 2 replica acknowledgements required .*'all'.* came within 1000 ms; the primary has 0 online/,
    );
    if (!fresh || !seen) throw new Error('no lease while the replicas were cut off');

    await primary.down();
    for (const replica of replicas) replica.resume();
    const promoted = await sentinel.primaryOtherThan(primary);
    expect(await sentinel.admin(promoted).get(lockKeys(prefix, 'lost-fresh').lock)).toBeNull();
    // A candidate that never saw the lost grant gets its token again: tokens stay increasing only
    // while the new primary's clock is not behind (in µs, it is the floor of every token).
    const again = await answered(() => lockOn().acquire('lost-fresh', createHolderIdentity(), 5000));
    expect(again?.token).toBe(fresh.token);
    // One that saw it asks for more (SeenHolders' token floor).
    const above = await answered(() => seer.acquire('lost-seen', createHolderIdentity(), 5000));
    expect(above?.token).toBeGreaterThan(seen.token);
    // The refused grant was never a lease: the next one is above every lease counted before.
    const counted = await answered(() => waiting.acquire('lost-wait', createHolderIdentity(), 5000));
    if (!counted) throw new Error('no lease after the failover');
    expect(counted.token).toBeGreaterThan(warmUp.token);
    await sentinel.revive(primary);
    await sentinel.settled();
  });

  it('waitForReplicas: a number counts a lease once that many replicas have it; more than there are refuses every grant, naming why, and leaves the lock free', async () => {
    const two = lockOn({ waitForReplicas: 2 });
    const lease = await two.acquire('wait-two', createHolderIdentity(), 2000);
    if (!lease) throw new Error('no lease with both replicas acknowledging');
    expect(await two.renew(lease, 2000)).not.toBeNull();
    await two.release(lease);
    const three = lockOn({ waitForReplicas: 3 });
    await expect(three.acquire('wait-three', createHolderIdentity(), 1000)).rejects.toThrow(
      /acquire failed: only 2 of the 3 replica acknowledgements required \(waitForReplicas: 3\) came within 200 ms: not counted \(Sentinels /,
    );
    expect((await lockOn().inspect('wait-three'))?.state).toBe('free');
  });
});

describe('waitForReplicas', () => {
  it('is checked at construction', () => {
    const url = 'redis://127.0.0.1:1';
    for (const value of [-1, 1.5, 'auto', '2', Number.NaN]) {
      expect(() => redisLock({ url, waitForReplicas: value as never })).toThrow(
        /Expected `waitForReplicas` to be 'all', or a whole number/,
      );
    }
    const client = { evalsha() {}, eval() {}, call() {}, get() {}, pttl() {}, duplicate() {}, on() {} };
    expect(() => redisLock({ client: client as never, waitForReplicas: 'all' })).toThrow(
      /Expected `client` to be an ioredis client .*with pipeline\(\), for waitForReplicas/,
    );
  });

  it("'all' costs no WAIT on a primary without replicas", async () => {
    const server = await startRedis();
    const lock = redisLock({ url: server.url, waitForReplicas: 'all' });
    try {
      const lease = await lock.acquire('alone', createHolderIdentity(), 2000);
      if (!lease) throw new Error('no lease');
      expect(await lock.renew(lease, 2000)).not.toBeNull();
      await lock.release(lease);
      const stats = String(await server.admin().info('commandstats'));
      expect(stats).toMatch(/cmdstat_info:calls=[1-9]/);
      expect(stats).not.toMatch(/cmdstat_wait:/);
    } finally {
      await lock.close?.();
      await server.stop();
    }
  });
});
