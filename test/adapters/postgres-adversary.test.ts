/**
 * Attacks on a Postgres lock, on a private server: two instances with one holder identity, the
 * lock's row deleted under a live holder, the connection reset with a renew in flight, the server
 * SIGKILLed, paused and restarted under a holder. Each ends with exactly one holder, or none for a
 * moment, and tokens that never go back.
 */
import { type AddressInfo, createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_SPACE } from '../../adapters/postgres/keys.js';
import { postgresLock } from '../../adapters/postgres.js';
import type { Lease, LockAdapter } from '../../src/adapter.js';
import { elect } from '../../src/elector.js';
import { PrimacyBackendError } from '../../src/errors.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type PostgresServer, type Relay, startPostgres, startRelay } from '../helpers/postgres-server.js';
import { pause, until } from '../helpers/until.js';

describe('postgres lock under attack', () => {
  let server: PostgresServer;
  let locks: LockAdapter[] = [];
  const relays: Relay[] = [];
  const lockOf = (port?: number, options: { queryTimeout?: number; livenessInterval?: number } = {}) => {
    const url = port === undefined ? server.url : `postgres://postgres@127.0.0.1:${port}/postgres`;
    const lock = postgresLock({ connectionString: url, connectTimeout: 1000, ...options });
    locks.push(lock);
    return lock;
  };
  const acquired = async (lock: LockAdapter, name: string, ttl = 5000, holder = createHolderIdentity()): Promise<Lease> => {
    const lease = await lock.acquire(name, holder, ttl);
    if (!lease) throw new Error(`no lease for ${name}`);
    return lease;
  };

  beforeAll(async () => {
    server = await startPostgres();
  });
  afterEach(async () => {
    server.resume();
    for (const lock of locks) await lock.close?.();
    locks = [];
    for (const relay of relays.splice(0)) await relay.close();
  });
  afterAll(() => server?.stop());

  it('two instances with one holder identity: the second is refused, and its forged release frees nothing', async () => {
    const [a, b] = [lockOf(), lockOf()];
    const holder = createHolderIdentity();
    const lease = await acquired(a, 'twins', 5000, holder);
    expect(await b.acquire('twins', holder, 5000)).toBeNull();
    await b.release(lease); // the lease of another session: not b's to release
    expect(await b.renew(lease, 5000)).toBeNull();
    expect(await b.acquire('twins', holder, 5000)).toBeNull();
    expect(await a.renew(lease, 5000)).not.toBeNull();
  });

  it("puts a deleted row back on renew, so the next holder's token is still higher", async () => {
    const [a, b] = [lockOf(), lockOf()];
    const lease = await acquired(a, 'deleted');
    const admin = await server.admin();
    await admin.query(`DELETE FROM primacy_locks WHERE name = 'deleted'`);
    expect(await a.renew(lease, 5000)).not.toBeNull();
    expect((await b.inspect('deleted'))?.token).toBe(lease.token);
    await a.release(lease);
    expect((await acquired(b, 'deleted')).token).toBeGreaterThan(lease.token);
  });

  it('a follower that saw a token never goes below it, even if the row is deleted while the lock is free', async () => {
    const [a, b] = [lockOf(), lockOf()];
    const lease = await acquired(a, 'floor');
    expect(await b.acquire('floor', createHolderIdentity(), 5000)).toBeNull(); // b sees the token
    await a.release(lease);
    const admin = await server.admin();
    await admin.query(`DELETE FROM primacy_locks WHERE name = 'floor'`);
    expect((await acquired(b, 'floor')).token).toBeGreaterThan(lease.token);
  });

  it('a connection reset with a renew in flight ends the lease, and a follower takes over fast', async () => {
    const relay = await startRelay(server.port);
    relays.push(relay);
    const holderLock = lockOf(relay.port);
    const follower = lockOf();
    const name = 'reset';
    const lease = await acquired(holderLock, name, 10_000);
    const woken = new Promise<void>((resolve) => follower.watch?.(name, resolve));
    expect(await follower.acquire(name, createHolderIdentity(), 10_000)).toBeNull(); // now its watcher
    const renew = holderLock.renew(lease, 10_000);
    relay.cut();
    expect(await renew.catch((error) => error)).toSatisfy((r: unknown) => r === null || r instanceof PrimacyBackendError);
    expect(holderLock.isIntact?.(lease)).toBe(false);
    await woken; // the watcher saw the lock free and said so
    const taken = await until(() => follower.acquire(name, createHolderIdentity(), 10_000), 5000, 'the follower takes over');
    expect(taken.token).toBeGreaterThan(lease.token);
  });

  it('the server SIGKILLed under a holder: it steps down at once (watch hint, isIntact), and tokens go on after the restart', async () => {
    const lock = lockOf();
    const name = 'server-killed';
    let hinted = false;
    lock.watch?.(name, () => {
      hinted = true;
    });
    const lease = await acquired(lock, name);
    await server.restart();
    await until(() => hinted && lock.isIntact?.(lease) === false, 5000, 'the holder hears of it');
    expect(await lock.renew(lease, 5000)).toBeNull();
    await lock.release(lease); // nothing to release: the server freed it
    expect((await acquired(lock, name)).token).toBeGreaterThan(lease.token); // the data survived
  });

  it('a paused server: calls fail within queryTimeout naming it, the lease ends; after the pause a new session works', async () => {
    const lock = lockOf(undefined, { queryTimeout: 500 });
    const lease = await acquired(lock, 'paused-server');
    server.pause();
    const started = performance.now();
    const renewed = await lock.renew(lease, 5000).catch((error) => error);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(renewed === null || String(renewed).includes('within 500 ms')).toBe(true);
    expect(lock.isIntact?.(lease)).toBe(false);
    server.resume();
    const next = await until(() => lock.acquire('paused-server', createHolderIdentity(), 5000).catch(() => null), 10_000, 'a new lease');
    expect(next.token).toBeGreaterThan(lease.token);
  });

  it('a release the server fails still unlocks (the table renamed away under the holder)', async () => {
    const [a, b] = [lockOf(), lockOf()];
    const lease = await acquired(a, 'renamed');
    const admin = await server.admin();
    await admin.query('ALTER TABLE primacy_locks RENAME TO primacy_locks_away');
    try {
      await a.release(lease).catch(() => undefined);
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND granted AND classid <> $1::int::oid
            AND pid = (SELECT backend_pid FROM primacy_locks_away WHERE name = 'renamed')`,
        [PROBE_SPACE],
      );
      expect(rows[0].n).toBe(0);
    } finally {
      await admin.query('ALTER TABLE primacy_locks_away RENAME TO primacy_locks');
    }
    expect((await until(() => b.acquire('renamed', createHolderIdentity(), 5000).catch(() => null), 5000, 'b')).token).toBeGreaterThan(
      lease.token,
    );
  });

  it('a dropped table is created again by the next session, and tokens go on (at least the server clock in µs)', async () => {
    const lock = lockOf();
    const before = await acquired(lock, 'dropped');
    await lock.release(before);
    const admin = await server.admin();
    await admin.query('DROP TABLE primacy_locks');
    const attempt = () =>
      lockOf()
        .acquire('dropped', createHolderIdentity(), 5000)
        .catch(() => null);
    expect((await until(attempt, 5000, 'a lease after the drop')).token).toBeGreaterThan(before.token);
  });

  it('a server that drops every connection is retried at the election pace, not in a tight loop', async () => {
    let connections = 0;
    const dropper = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    const { port } = dropper.address() as AddressInfo;
    const election = elect({ name: 'dropped', lock: lockOf(port), retryInterval: 1000, handleSignals: false, logger: false });
    try {
      await election.ready;
      await pause(2000);
      expect(connections).toBeGreaterThan(0);
      expect(connections).toBeLessThan(10);
    } finally {
      await election.stop();
      dropper.close();
    }
  });

  it('a server that cannot be reached fails acquire with its address and errno', async () => {
    const relay = await startRelay(server.port);
    await relay.close();
    const lock = lockOf(relay.port);
    await expect(lock.acquire('unreachable', createHolderIdentity(), 5000)).rejects.toThrow(
      new RegExp(`\\[primacy\\] \\[postgres\\] acquire failed: cannot reach 127\\.0\\.0\\.1:${relay.port}/postgres: .*ECONNREFUSED`),
    );
  });
});
