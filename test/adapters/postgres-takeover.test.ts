/**
 * When a follower ends a holder's session, on a private server: only when every lease of that
 * session is over (one adapter holds all its locks on one session), never because the server's wall
 * clock stepped, never past a renew that reached the server first, and never cancelled by a role's
 * statement_timeout or lock_timeout. Holders here are bare adapters: a lease not renewed is a paused
 * holder's.
 */
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresLock, postgresLock } from '../../adapters/postgres.js';
import type { Lease } from '../../src/adapter.js';
import { type Election, elect } from '../../src/elector.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres-server.js';
import { pause, until } from '../helpers/until.js';

describe('postgres takeovers', () => {
  let server: PostgresServer;
  let admin: pg.Client;
  let locks: PostgresLock[] = [];
  let elections: Election[] = [];
  const lockOf = (url = server.url) => {
    const lock = postgresLock({ connectionString: url, connectTimeout: 2000, livenessInterval: 50 });
    locks.push(lock);
    return lock;
  };
  const acquired = async (lock: PostgresLock, name: string, ttl: number): Promise<Lease> => {
    const lease = await lock.acquire(name, createHolderIdentity(), ttl);
    if (!lease) throw new Error(`no lease for ${name}`);
    return lease;
  };
  /** What a holder on another host looks like to us: its lease note names another monotonic clock. */
  const onAnotherHost = (names: string[]) =>
    admin.query(`UPDATE primacy_locks SET holder = jsonb_set(holder, '{_lease,clock}', '"another-host"') WHERE name = ANY($1)`, [names]);
  /** Resolves once some backend waits for a row lock (so statements queue in a known order). */
  const waiters = async () =>
    (await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`)).rows[0]?.n ?? 0;

  beforeAll(async () => {
    server = await startPostgres();
    admin = await server.admin();
  });
  afterEach(async () => {
    await Promise.all(elections.map((election) => election.stop()));
    elections = [];
    for (const lock of locks) await lock.close();
    locks = [];
  });
  afterAll(() => server?.stop());

  for (const clock of ['same host', 'another host'] as const) {
    it(`one session, two leases (${clock}): an expired one does not get the session of a live one ended`, async () => {
      const [x, y, z] = [lockOf(), lockOf(), lockOf()];
      const [long, short] = [`long-${clock}`, `short-${clock}`];
      // long's 3 s leave it well inside its lease after the pause below, however late that ends on a busy machine.
      const longLease = await acquired(x, long, 3000);
      const shortLease = await acquired(x, short, 300);
      if (clock === 'another host') await onAnotherHost([long, short]);
      expect(await y.acquire(short, createHolderIdentity(), 5000)).toBeNull(); // y sees the row now
      await pause(700); // short is over (by either judgment); long has 2.3 s to go
      expect(await y.acquire(short, createHolderIdentity(), 5000)).toBeNull();
      expect(await z.acquire(long, createHolderIdentity(), 5000)).toBeNull();
      expect(x.isIntact(longLease) && x.isIntact(shortLease)).toBe(true);
      // Once every lease of that session is over, it is ended: short is taken over after all.
      const taken = await until(() => y.acquire(short, createHolderIdentity(), 5000), 8000, 'short taken once long is over too');
      expect(taken.token).toBeGreaterThan(shortLease.token);
      await until(() => !x.isIntact(longLease), 5000, "x's leases end with its session");
    });
  }

  it('two followers ending one paused session at once (for two of its leases) both take over: no deadlock', async () => {
    const [x, y, z] = [lockOf(), lockOf(), lockOf()];
    const paused = [await acquired(x, 'pair-1', 300), await acquired(x, 'pair-2', 300)];
    await pause(500);
    const [first, second] = await Promise.all([
      y.acquire('pair-1', createHolderIdentity(), 5000),
      z.acquire('pair-2', createHolderIdentity(), 5000),
    ]);
    // One ends the session; the other finds it ended (the lock free) on its second try, or right after.
    expect(first?.token ?? (await until(() => y.acquire('pair-1', createHolderIdentity(), 5000), 3000, 'pair-1'))?.token).toBeGreaterThan(
      paused[0]?.token as number,
    );
    expect(second?.token ?? (await until(() => z.acquire('pair-2', createHolderIdentity(), 5000), 3000, 'pair-2'))?.token).toBeGreaterThan(
      paused[1]?.token as number,
    );
  });

  for (const clock of ['same host', 'another host'] as const) {
    it(`a forward step of the server's clock (${clock}) does not get a live, renewing holder ended`, async () => {
      const name = `stepped-${clock}`;
      const options = { name, ttl: 1000, retryInterval: 100, handleSignals: false, logger: false } as const;
      const holder = elect({ ...options, lock: lockOf() });
      elections.push(holder);
      await holder.ready;
      const follower = elect({ ...options, lock: lockOf() }); // its watcher looks every 50 ms
      elections.push(follower);
      await follower.ready;
      let revoked = false;
      holder.on('revoked', () => {
        revoked = true;
      });
      // To the server's clock, stepped an hour ahead, every renew it stamped is an hour old.
      const shift = `UPDATE primacy_locks SET renewed_at = renewed_at - interval '1 hour', expires_at = expires_at - interval '1 hour'
        ${clock === 'another host' ? `, holder = jsonb_set(holder, '{_lease,clock}', '"another-host"')` : ''}
        WHERE name = $1 AND expires_at > now()`;
      const end = performance.now() + 2000; // two TTLs
      while (performance.now() < end) {
        await admin.query(shift, [name]);
        await pause(20);
      }
      expect(revoked).toBe(false);
      expect(holder.isPrimary).toBe(true);
      expect(follower.isPrimary).toBe(false);
    });
  }

  it('a renew that reached the server before the takeover wins: the holder is kept, the follower gets nothing', async () => {
    const [x, y] = [lockOf(), lockOf()];
    const name = 'raced';
    const lease = await acquired(x, name, 300);
    expect(await y.acquire(name, createHolderIdentity(), 5000)).toBeNull();
    await pause(500); // x's lease is over by y's judgment: y will end its session
    // The row is locked a moment, so that x's renew and then y's takeover queue on it, in that order.
    await admin.query('BEGIN');
    await admin.query('SELECT 1 FROM primacy_locks WHERE name = $1 FOR UPDATE', [name]);
    const renew = x.renew(lease, 5000);
    await until(async () => (await waiters()) === 1, 5000, "x's renew waits for the row");
    const takeover = y.acquire(name, createHolderIdentity(), 5000);
    await until(async () => (await waiters()) === 2, 5000, "y's takeover waits for the row");
    await admin.query('COMMIT');
    expect(await renew).not.toBeNull();
    expect(await takeover).toBeNull();
    expect(x.isIntact(lease)).toBe(true);
    expect(await x.renew(lease, 5000)).not.toBeNull();
  });

  for (const setting of ['statement_timeout = 100', 'lock_timeout = 50']) {
    it(`a role's ${setting} does not cancel a takeover that waits`, async () => {
      const role = `r_${setting.split(' ')[0]}`;
      await admin.query(`CREATE ROLE ${role} LOGIN SUPERUSER`);
      await admin.query(`ALTER ROLE ${role} SET ${setting}`);
      const url = `postgres://${role}@127.0.0.1:${server.port}/postgres`;
      const [x, y] = [lockOf(url), lockOf(url)];
      const name = `waited-${role}`;
      const lease = await acquired(x, name, 300);
      expect(await y.acquire(name, createHolderIdentity(), 5000)).toBeNull();
      await pause(500);
      // The row is locked for 300 ms (another takeover, a renew, a DBA): the takeover waits it out.
      await admin.query('BEGIN');
      await admin.query('SELECT 1 FROM primacy_locks WHERE name = $1 FOR UPDATE', [name]);
      const takeover = y.acquire(name, createHolderIdentity(), 5000);
      await until(async () => (await waiters()) === 1, 5000, 'the takeover waits for the row');
      await pause(300);
      await admin.query('COMMIT');
      const taken = await takeover;
      expect(taken?.token).toBeGreaterThan(lease.token);
      await until(() => !x.isIntact(lease), 5000, "the paused holder's lease ends with its session");
    });
  }
});
