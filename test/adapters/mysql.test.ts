/**
 * The MySQL lock against a private MariaDB, attacked as an adversary would: the holder's session
 * killed server-side, a connection reset with a statement in flight, the fencing row and table
 * deleted under a live holder, a holder paused past its TTL, a watching follower paused, two
 * adapters with one holder id. (Privileges, options, inspect and wait_timeout: mysql-setup.test.ts.)
 */
import mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockNames } from '../../adapters/mysql/names.js';
import { mysqlLock } from '../../adapters/mysql.js';
import type { LockAdapter } from '../../src/adapter.js';
import { PrimacyBackendError } from '../../src/errors.js';
import { createHolderIdentity } from '../../src/identity.js';
import { elect } from '../../src/index.js';
import { type MariadbServer, startMariadb, startProxy, type TcpProxy } from '../helpers/mariadb-server.js';
import { pause, until } from '../helpers/until.js';

let server: MariadbServer;
let admin: mysql.Connection;
const adapters: LockAdapter[] = [];
const proxies: TcpProxy[] = [];
let name = '';
let table = '';
let serial = 0;

const lock = (options: Parameters<typeof mysqlLock>[0] | Record<string, never> = {}) => {
  const adapter = mysqlLock({ uri: server.uri, table, timeout: 3000, ...options } as Parameters<typeof mysqlLock>[0]);
  adapters.push(adapter);
  return adapter;
};
const proxied = async (options: Record<string, unknown> = {}) => {
  const proxy = await startProxy(server.port);
  proxies.push(proxy);
  return { proxy, adapter: lock({ uri: `mysql://root@127.0.0.1:${proxy.port}/test`, ...options }) };
};
const holderSession = async (lockName = `primacy:${name}`) => {
  const [rows] = await admin.query('SELECT IS_USED_LOCK(?) AS id', [lockName]);
  return (rows as Array<{ id: number | null }>)[0]?.id ?? null;
};

beforeAll(async () => {
  server = await startMariadb();
  admin = await server.admin();
}, 60_000);
afterEach(async () => {
  server.resume();
  await Promise.all(adapters.splice(0).map((adapter) => adapter.close?.()));
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  name = `lock-${++serial}`;
});
afterAll(() => server?.stop(), 30_000);
name = 'lock-0';
table = 'primacy_locks';

describe('mysqlLock: the holder', () => {
  it('steps down at once when its session is killed server-side: isIntact false, a hint, renew null; a follower takes over', async () => {
    const holder = lock();
    let hints = 0;
    const stop = holder.watch?.(name, () => hints++);
    const lease = await holder.acquire(name, createHolderIdentity(), 10_000);
    if (!lease) throw new Error('no lease');
    await admin.query('KILL CONNECTION ?', [await holderSession()]);
    await until(() => holder.isIntact?.(lease) === false, 2000, 'the holder sees its session gone');
    expect(hints).toBeGreaterThan(0);
    expect(await holder.renew(lease, 10_000)).toBeNull();
    expect(
      await holder.writeOutcome?.(lease, { status: 'completed', token: lease.token, holder: lease.holder, startedAt: 0, finishedAt: 0 }),
    ).toBe(false);
    const next = await lock().acquire(name, createHolderIdentity(), 10_000);
    expect(next?.token).toBeGreaterThan(lease.token);
    await holder.release(lease); // a stale release frees nothing
    expect((await lock().inspect(name))?.state).toBe('held');
    stop?.();
  });

  it('lets a holder whose session ended without a release see it before a follower is elected (takeoverGrace), not after a release', async () => {
    // The holder's grace is long too: the release at the end must hand it the lock without one.
    const holder = elect({ name, lock: lock({ takeoverGrace: 5000 }), ttl: 10_000, logger: false });
    await until(() => holder.isPrimary, 5000, 'the holder elected');
    const follower = elect({ name, lock: lock({ takeoverGrace: 1000 }), ttl: 10_000, logger: false });
    await follower.ready;
    // It watches (it holds the watch lock), then its wait on the lock itself is queued in the server.
    await until(async () => (await holderSession(lockNames('primacy:', name).watch)) !== null, 5000, 'the follower watching');
    await pause(300);
    let revokedAt = 0;
    holder.on('revoked', () => (revokedAt = performance.now()));
    const killedAt = performance.now();
    await admin.query('KILL CONNECTION ?', [await holderSession()]);
    await until(() => follower.isPrimary, 5000, 'the follower elected');
    const electedAt = performance.now();
    expect(revokedAt).toBeGreaterThan(0);
    expect(electedAt - killedAt).toBeGreaterThanOrEqual(1000);
    expect(electedAt).toBeGreaterThan(revokedAt);
    // A release is no crash: the next one is elected without the grace.
    expect(holder.isPrimary).toBe(false);
    await pause(300); // the old holder's new wait is queued in the server
    const releasedAt = performance.now();
    await follower.stop();
    await until(() => holder.isPrimary, 8000, 'the holder elected again');
    // Not after its grace (5 s), nor once the follower's lease (10 s) ran out.
    expect(performance.now() - releasedAt).toBeLessThan(2500);
    await holder.stop();
  });

  it('never leaves a valid-looking lease when the connection resets with a renew in flight', async () => {
    const { proxy, adapter } = await proxied();
    const lease = await adapter.acquire(name, createHolderIdentity(), 5000);
    if (!lease) throw new Error('no lease');
    await server.pause();
    const renewing = adapter.renew(lease, 5000).then(
      (renewed) => ({ renewed }),
      (error: unknown) => ({ error }),
    );
    await pause(200);
    proxy.cut();
    const outcome = await renewing;
    expect('renewed' in outcome ? outcome.renewed : null).toBeNull();
    expect(adapter.isIntact?.(lease)).toBe(false);
    server.resume();
    // The server frees the lock as soon as it sees the session's socket closed.
    const other = lock();
    const next = await until(() => other.acquire(name, createHolderIdentity(), 5000), 5000, 'the lock freed');
    expect(next.token).toBeGreaterThan(lease.token);
  });

  it('grants no lease when the connection resets with an acquire in flight', async () => {
    const { proxy, adapter } = await proxied();
    await adapter.inspect(name); // the table exists, the control path is open
    await server.pause();
    const acquiring = adapter.acquire(name, createHolderIdentity(), 5000);
    await pause(200);
    proxy.cut();
    await expect(acquiring).rejects.toBeInstanceOf(PrimacyBackendError);
    server.resume();
    const other = lock();
    expect(await until(() => other.acquire(name, createHolderIdentity(), 5000), 5000, 'the lock free')).toBeTruthy();
  });

  it('keeps its lease when its row, or the whole table, is deleted under it; tokens still rise', async () => {
    const holder = lock();
    const warnings: string[] = [];
    const context = { warn: (message: string) => warnings.push(message) };
    const lease = await holder.acquire(name, createHolderIdentity(), 10_000);
    if (!lease) throw new Error('no lease');
    await admin.query(`DELETE FROM ${table} WHERE lock_name = ?`, [`primacy:${name}`]);
    expect(await holder.renew(lease, 10_000, context)).not.toBeNull();
    expect(warnings.join()).toMatch(/deleted under its live holder/);
    expect((await lock().inspect(name))?.holder?.id).toBe(lease.holder.id);
    expect(await lock().acquire(name, createHolderIdentity(), 10_000)).toBeNull();
    await admin.query(`DROP TABLE ${table}`);
    expect(await holder.renew(lease, 10_000, context)).not.toBeNull();
    await holder.release(lease);
    const next = await lock().acquire(name, createHolderIdentity(), 10_000);
    expect(next?.token).toBeGreaterThan(lease.token);
  });

  it("holds the lock on a session of its own, made with a pool's settings, and never closes the pool", async () => {
    const pool = mysql.createPool({ uri: server.uri, connectionLimit: 1 });
    try {
      const pooled = mysqlLock({ pool, table });
      const lease = await pooled.acquire(name, createHolderIdentity(), 10_000);
      if (!lease) throw new Error('no lease');
      const [rows] = await pool.query('SELECT CONNECTION_ID() AS id, IS_USED_LOCK(?) AS holder', [`primacy:${name}`]);
      const { id, holder } = (rows as Array<{ id: number; holder: number }>)[0] ?? { id: 0, holder: null };
      expect(holder).not.toBeNull();
      expect(holder).not.toBe(id); // the pool's only connection is not the lock's
      expect((await pooled.inspect(name))?.holder?.id).toBe(lease.holder.id); // answered by the pool
      await pooled.close?.();
      await until(async () => (await holderSession()) === null, 3000, 'the lock freed by close()');
      await expect(pool.query('SELECT 1')).resolves.toBeTruthy(); // and left the pool alone
    } finally {
      await pool.end();
    }
  });

  it('refuses a second adapter that uses the same holder id', async () => {
    const identity = createHolderIdentity();
    expect(await lock().acquire(name, identity, 10_000)).not.toBeNull();
    expect(await lock().acquire(name, identity, 10_000)).toBeNull();
  });

  it('elects one of two elections sharing one adapter, and the other once the first stops', async () => {
    const shared = lock();
    const first = elect({ name, lock: shared, ttl: 5000, logger: false });
    const second = elect({ name, lock: shared, ttl: 5000, logger: false });
    await Promise.all([first.ready, second.ready]);
    expect([first.isPrimary, second.isPrimary].filter(Boolean)).toHaveLength(1);
    const [primary, other] = first.isPrimary ? [first, second] : [second, first];
    await primary.stop();
    await until(() => other.isPrimary, 3000, 'the other election elected');
    await other.stop();
  });
});

describe('mysqlLock: paused processes', () => {
  it('ends a paused holder (its session open, no renewals) after its TTL, not before; resumed, it is not intact', async () => {
    const paused = lock();
    const lease = await paused.acquire(name, createHolderIdentity(), 1500);
    if (!lease) throw new Error('no lease');
    const startedAt = performance.now();
    const follower = elect({ name, lock: lock(), ttl: 1500, logger: false });
    await until(() => follower.isPrimary, 8000, 'the follower elected');
    expect(performance.now() - startedAt).toBeGreaterThan(1000);
    await until(() => paused.isIntact?.(lease) === false, 2000, 'the paused holder sees its session ended');
    expect(await paused.renew(lease, 1500)).toBeNull();
    expect(follower.token).toBeGreaterThan(lease.token);
    await follower.stop();
  });

  it('takes over when the watching follower is paused and the holder dies', async () => {
    const holder = lock();
    const lease = await holder.acquire(name, createHolderIdentity(), 2000);
    if (!lease) throw new Error('no lease');
    const renewals = setInterval(() => void holder.renew(lease, 2000).catch(() => undefined), 500);
    const { proxy, adapter } = await proxied({ followerWait: 1500 });
    const watcher = elect({ name, lock: adapter, ttl: 2000, logger: false });
    await watcher.ready;
    const { watch } = lockNames('primacy:', name);
    await until(async () => (await holderSession(watch)) !== null, 3000, 'the first follower watching');
    const other = elect({ name, lock: lock({ followerWait: 1500 }), ttl: 2000, logger: false });
    await other.ready;
    proxy.freeze(); // the watcher is "paused": its session open, silent
    clearInterval(renewals);
    await admin.query('KILL CONNECTION ?', [await holderSession()]);
    const killedAt = performance.now();
    await until(() => other.isPrimary, 15_000, 'the other follower elected');
    // followerWait, then the grace of a holder that never recorded itself (2 s or the last TTL).
    expect(performance.now() - killedAt).toBeLessThan(1500 + 2000 + 100 + 4000);
    await Promise.all([watcher.stop(), other.stop()]);
  });

  it('gives back a lock the server handed to a wait that nobody claims', async () => {
    const holder = lock();
    const lease = await holder.acquire(name, createHolderIdentity(), 10_000);
    if (!lease) throw new Error('no lease');
    const waiting = lock();
    let hints = 0;
    waiting.watch?.(name, () => hints++);
    expect(await waiting.acquire(name, createHolderIdentity(), 10_000)).toBeNull();
    await pause(300); // its wait is queued in the server
    await holder.release(lease);
    await until(() => hints > 0, 3000, 'the waiting adapter hinted');
    const other = lock();
    const next = await until(() => other.acquire(name, createHolderIdentity(), 10_000), 5000, 'the unclaimed lock given back');
    expect(next.token).toBeGreaterThan(lease.token);
  });
});
