/**
 * etcdLock on a private etcd: its options, its errors, inspect from a CLI, what a holder sees when
 * its key or lease is removed under it, state deleted or lost, tokens across etcd restarts, and
 * the takeover rule for a holder on another clock.
 */
import { Etcd3 } from 'etcd3';
import { elect, PrimacyBackendError, PrimacyConfigError } from 'primacy';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { etcdLock } from '../../adapters/etcd.js';
import type { Lease, LockAdapter } from '../../src/adapter.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';
import { freePort } from '../helpers/free-port.js';
import { pause, timeUntil, until } from '../helpers/until.js';

let etcd: EtcdServer;
let admin: Etcd3;
const cleanups: Array<() => unknown> = [];
const lock = (options: Parameters<typeof etcdLock>[0] = { hosts: etcd.urls }): LockAdapter => {
  const made = etcdLock(options);
  cleanups.push(() => made.close?.());
  return made;
};
const fresh = () => `t-${Math.random().toString(36).slice(2)}`;

beforeAll(async () => {
  etcd = await startEtcd();
  admin = new Etcd3({ hosts: etcd.urls });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  admin?.close();
  await etcd?.stop();
});

describe('etcdLock options', () => {
  it('refuses bad options at construction, naming the option, the value and what is expected', () => {
    const fails = (options: unknown, pattern: RegExp) => {
      expect(() => etcdLock(options as never)).toThrow(PrimacyConfigError);
      expect(() => etcdLock(options as never)).toThrow(pattern);
    };
    fails({}, /\[primacy\] \[etcd\] Expected `client` to be an Etcd3 client, or `hosts` instead \(exactly one of them\), got undefined/);
    fails({ client: admin, hosts: 'http://127.0.0.1:2379' }, /Expected `client` to be an Etcd3 client, or `hosts` instead/);
    fails(
      { client: { get() {} } },
      /Expected `client` to be an Etcd3 client from etcd3 .*missing kv\.txn, leaseClient\.leaseGrant, watch, prefix/,
    );
    fails({ hosts: '127.0.0.1:2379' }, /Expected `hosts` to be an http:\/\/ or https:\/\/ URL/);
    fails({ hosts: [] }, /Expected `hosts` to be/);
    fails({ hosts: ['http://a:2379', 'https://b:2379'] }, /all http:\/\/ or all https:\/\//);
    fails({ hosts: 'http://a:2379', prefix: 3 }, /Expected `prefix` to be a string, got 3 \(number\)/);
    fails({ hosts: 'http://a:2379', callTimeout: 5 }, /Expected `callTimeout` to be a number of ms from 100 to 60000, got 5/);
    fails({ hosts: 'http://a:2379', idleRetry: 120_000 }, /Expected `idleRetry` to be a number of ms from 1000 to 60000/);
    fails({ hosts: 'http://a:2379', host: 'x' }, /host/);
  });
});

describe('etcdLock errors', () => {
  it('names the endpoint and the cause when etcd refuses connections, for { hosts } and { client }', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const client = new Etcd3({ hosts: url });
    cleanups.push(() => client.close());
    for (const adapter of [lock({ hosts: url }), lock({ client })]) {
      const started = performance.now();
      const error = await adapter.acquire(fresh(), createHolderIdentity(), 5000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PrimacyBackendError);
      expect((error as Error).message).toMatch(
        new RegExp(`^\\[primacy\\] \\[etcd\\] acquire failed: cannot reach ${url}: .*(ECONNREFUSED|UNAVAILABLE)`),
      );
      expect(performance.now() - started).toBeLessThan(4000); // bounded by callTimeout (2 s), not etcd3's retries
    }
  });

  it('answers within callTimeout when etcd is paused, and close() is prompt', async () => {
    const paused = await startEtcd();
    cleanups.push(() => paused.stop());
    const adapter = etcdLock({ hosts: paused.urls, callTimeout: 500 });
    expect(await adapter.inspect(fresh())).toBeNull(); // connected first
    await paused.members[0]?.pause();
    const started = performance.now();
    const error = await adapter.acquire(fresh(), createHolderIdentity(), 5000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrimacyBackendError);
    expect((error as Error).message).toContain(paused.urls[0]);
    // callTimeout's 500 ms (a 600 ms timer): not the default 2 s, nor etcd3's retries (no deadline).
    expect(performance.now() - started).toBeLessThan(1500);
    const closing = performance.now();
    await adapter.close?.();
    // It waits for nothing from the paused member (which would never answer).
    expect(performance.now() - closing).toBeLessThan(2000);
    paused.members[0]?.resume();
  });
});

describe('etcdLock watch', () => {
  it('makes idleRetry long only while the watch is connected: short once etcd is gone, long again once it is back', async () => {
    const server = await startEtcd();
    cleanups.push(() => server.stop());
    const adapter = lock({ hosts: server.urls });
    const name = fresh();
    let hints = 0;
    cleanups.push(adapter.watch?.(name, () => hints++) ?? (() => undefined));
    expect(adapter.idleRetry?.(name)).toBeUndefined(); // not connected yet: the election's own pace
    await until(() => adapter.idleRetry?.(name) === 30_000, 5000, 'watch connected');
    expect(hints).toBe(1); // woken once on connection: a change may have come before it
    await server.members[0]?.kill();
    await until(() => adapter.idleRetry?.(name) === undefined, 5000, 'watch broken');
    await server.members[0]?.start();
    await until(() => adapter.idleRetry?.(name) === 30_000, 10_000, 'watch connected again');
    expect(hints).toBe(2);
  });
});

describe('etcdLock watch after etcd lost its data', () => {
  it('is replaced (the old one would wait for a revision far ahead): a release after an empty restart still wakes followers', async () => {
    const server = await startEtcd();
    cleanups.push(() => server.stop());
    const name = fresh();
    const follower = lock({ hosts: server.urls });
    let hints = 0;
    cleanups.push(follower.watch?.(name, () => hints++) ?? (() => undefined));
    const other = lock({ hosts: server.urls });
    // Revisions well ahead of where an empty etcd starts.
    for (let i = 0; i < 30; i++) await other.release((await other.acquire(name, createHolderIdentity(), 5000)) as Lease);
    await until(() => follower.idleRetry?.(name) !== undefined, 5000, 'watch connected');
    await server.members[0]?.restartEmpty();
    await until(() => follower.idleRetry?.(name) !== undefined, 10_000, 'watch connected again');
    const lease = await until(() => other.acquire(name, createHolderIdentity(), 5000).catch(() => null), 5000, 'lease');
    const before = hints;
    await other.release(lease);
    await until(() => hints > before, 2000, 'woken by the release');
  });
});

describe('etcdLock inspect', () => {
  it('is usable from a CLI: one { hosts } lock, a read, close(); never taken, held, then free with the last token', async () => {
    const name = fresh();
    const cli = etcdLock({ hosts: etcd.urls });
    expect(await cli.inspect(name)).toBeNull();
    const holder = createHolderIdentity();
    const owner = lock();
    const lease = (await owner.acquire(name, holder, 5000)) as Lease;
    const held = await cli.inspect(name);
    expect(held).toMatchObject({ name, state: 'held', token: lease.token, holder: { id: holder.id, pid: process.pid }, alive: null });
    expect(held?.location).toBe(`${etcd.urls[0]} primacy/${name}/lock`);
    expect(held?.expiresAt).toBe((held?.renewedAt as number) + 5000);
    await owner.release(lease);
    expect(await cli.inspect(name)).toMatchObject({ state: 'free', token: lease.token, holder: null });
    await cli.close?.();
  });

  it('works through a namespaced client (keys under the namespace, the client of the caller left open)', async () => {
    const client = new Etcd3({ hosts: etcd.urls });
    cleanups.push(() => client.close());
    const name = fresh();
    const adapter = lock({ client: client.namespace('app/') as unknown as Etcd3, prefix: 'locks/' });
    const lease = await adapter.acquire(name, createHolderIdentity(), 5000);
    expect(lease).not.toBeNull();
    expect(await admin.get(`app/locks/${name}/lock`).string()).toContain(process.pid.toString());
    await adapter.close?.();
    expect(await client.get(`app/locks/${name}/lock`).exists()).toBe(true); // still usable: not closed by us
  });
});

describe('a holder whose key or lease goes away', () => {
  const hold = async (name: string) => {
    const adapter = lock();
    const hints: number[] = [];
    cleanups.push(adapter.watch?.(name, () => hints.push(performance.now())) ?? (() => undefined));
    await until(() => adapter.idleRetry?.(name) !== undefined, 5000, 'watch connected');
    const lease = (await adapter.acquire(name, createHolderIdentity(), 5000)) as Lease;
    expect(adapter.isIntact?.(lease)).toBe(true);
    return { adapter, lease, hints };
  };

  it('lease revoked server-side: isIntact turns false at once with a hint, renew answers null', async () => {
    const name = fresh();
    const { adapter, lease, hints } = await hold(name);
    const before = hints.length;
    await admin.leaseClient.leaseRevoke({ ID: (lease.data as { leaseId: string }).leaseId });
    // Its watch saw the key go: nothing else here would tell it (no renew runs; the lease was 5 s).
    expect(await timeUntil(() => adapter.isIntact?.(lease) === false, 5000, 'lease void')).toBeLessThan(2500);
    expect(hints.length).toBeGreaterThan(before);
    expect(await adapter.renew(lease, 5000)).toBeNull();
  });

  it('key overwritten on another lease: isIntact false, and the old lease can neither renew nor release it', async () => {
    const name = fresh();
    const { adapter, lease } = await hold(name);
    const other = await admin.leaseClient.leaseGrant({ TTL: 10 });
    await admin.put(`primacy/${name}/lock`).value('someone else').lease(other.ID);
    await until(() => adapter.isIntact?.(lease) === false, 2000, 'lease void');
    expect(await adapter.renew(lease, 5000)).toBeNull();
    await adapter.release(lease);
    expect(await admin.get(`primacy/${name}/lock`).string()).toBe('someone else');
  });

  it('two adapters with one holder id: the second is refused, the first keeps the lock', async () => {
    const name = fresh();
    const holder = createHolderIdentity();
    const [a, b] = [lock(), lock()];
    const lease = (await a.acquire(name, holder, 5000)) as Lease;
    expect(await b.acquire(name, holder, 5000)).toBeNull();
    expect(await b.renew(lease, 5000)).toBeNull(); // not a lease b granted
    expect((await a.renew(lease, 5000))?.token).toBe(lease.token);
  });

  it('state deleted under a live holder: it steps down at once (its watch), and never two primaries', async () => {
    const name = fresh();
    // Its first renew is due 3.2-4.8 s after its election, its deadline 6 s after: neither can end
    // its term within the bound below, only its watch.
    const options = { name, ttl: 6000, renewInterval: 4000, retryInterval: 100, logger: false, handleSignals: false } as const;
    const holder = elect({ ...options, lock: lock() });
    cleanups.push(() => holder.stop());
    const revoked: Array<{ reason: string; at: number }> = [];
    holder.on('revoked', ({ reason }) => revoked.push({ reason, at: performance.now() }));
    await until(() => holder.isPrimary, 5000, 'holder elected');
    const follower = elect({ ...options, lock: lock() });
    cleanups.push(() => follower.stop());
    await follower.ready;
    await admin.delete().key(`primacy/${name}/lock`);
    const deletedAt = performance.now();
    // It may win again at once (it knows its own term ended): its revocation is what shows it stepped down.
    const stepDown = await until(() => revoked[0], 5000, 'holder stepped down');
    expect(stepDown.reason).toBe('lost');
    expect(stepDown.at - deletedAt).toBeLessThan(1000); // its watch, not its renew nor its deadline
    let both = 0;
    while (performance.now() - deletedAt < 2500) {
      if (holder.isPrimary && follower.isPrimary) both++;
      await pause(5);
    }
    expect(both).toBe(0);
    expect(holder.isPrimary || follower.isPrimary).toBe(true);
  });

  it('state deleted under a live holder: a follower that saw it waits out its TTL before taking over', async () => {
    const name = fresh();
    const ttl = 1500;
    // A holder that has no watch: only its deadline would end its term.
    const lease = await lock().acquire(name, createHolderIdentity(), ttl);
    expect(lease).not.toBeNull();
    const follower = elect({ name, lock: lock(), ttl, retryInterval: 100, logger: false, handleSignals: false });
    cleanups.push(() => follower.stop());
    await follower.ready;
    await admin.delete().key(`primacy/${name}/lock`);
    const elected = await timeUntil(() => follower.isPrimary, 10_000, 'follower elected');
    expect(elected).toBeGreaterThan(ttl - 100);
  });
});

describe('tokens across etcd restarts', () => {
  it('never go back: higher after a restart with data, and above the last one seen after an empty restart', async () => {
    const server = await startEtcd();
    cleanups.push(() => server.stop());
    const name = fresh();
    const warnings: string[] = [];
    const context = { warn: (message: string) => warnings.push(message) };
    const adapter = lock({ hosts: server.urls });
    const take = async () => {
      const lease = await until(() => adapter.acquire(name, createHolderIdentity(), 1000, context).catch(() => null), 10_000, 'lease');
      await adapter.release(lease);
      return lease.token;
    };
    const tokens = [await take(), await take()];
    await server.members[0]?.restart();
    tokens.push(await take());
    await server.members[0]?.restartEmpty();
    tokens.push(await take());
    // A process that never saw the old tokens learns the raised base from etcd.
    const newcomer = lock({ hosts: server.urls });
    const late = (await newcomer.acquire(name, createHolderIdentity(), 1000)) as Lease;
    tokens.push(late.token);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
    expect(warnings.some((w) => /tokens continue from/.test(w))).toBe(true);
  });
});

describe('a holder on another clock', () => {
  it('is taken over one TTL after its value was first seen, not by the expiry it recorded', async () => {
    const name = fresh();
    const ttl = 800;
    const lease = await admin.leaseClient.leaseGrant({ TTL: 30 });
    const holder = createHolderIdentity();
    // Recorded by another host: an expiry on its clock means nothing here.
    const record = { holder, acquiredAt: Date.now(), renewedAt: Date.now(), ttl, clock: 'another-host/time:[1]', expiresAt: 0 };
    await admin.put(`primacy/${name}/lock`).value(JSON.stringify(record)).lease(lease.ID);
    const adapter = lock();
    const firstSeen = performance.now();
    expect(await adapter.acquire(name, createHolderIdentity(), ttl)).toBeNull();
    await pause(ttl / 2);
    expect(await adapter.acquire(name, createHolderIdentity(), ttl)).toBeNull();
    const taken = await until(() => adapter.acquire(name, createHolderIdentity(), ttl), 5000, 'taken over');
    expect(performance.now() - firstSeen).toBeGreaterThanOrEqual(ttl);
    expect(taken.token).toBeGreaterThan(0);
  });

  it('a foreign value on the lock key: on a lease it waits for that lease; without one it goes once unchanged for a TTL', async () => {
    const ttl = 500;
    const adapter = lock();
    const onLease = fresh();
    const lease = await admin.leaseClient.leaseGrant({ TTL: 30 });
    await admin.put(`primacy/${onLease}/lock`).value('not a record').lease(lease.ID);
    expect(await adapter.acquire(onLease, createHolderIdentity(), ttl)).toBeNull();
    await pause(ttl + 100);
    expect(await adapter.acquire(onLease, createHolderIdentity(), ttl)).toBeNull(); // someone's lease still runs
    await admin.leaseClient.leaseRevoke({ ID: lease.ID });
    expect(await adapter.acquire(onLease, createHolderIdentity(), ttl)).not.toBeNull();

    const stray = fresh();
    await admin.put(`primacy/${stray}/lock`).value('left by hand');
    const firstSeen = performance.now();
    expect(await adapter.acquire(stray, createHolderIdentity(), ttl)).toBeNull();
    await until(() => adapter.acquire(stray, createHolderIdentity(), ttl), 5000, 'stray value taken over');
    expect(performance.now() - firstSeen).toBeGreaterThanOrEqual(ttl);
  });
});
