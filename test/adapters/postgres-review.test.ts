/**
 * An outside review of the Postgres lock, on a private server: what holds under role settings a
 * DBA may impose, names that look like SQL, a connection reset as the acquire statement is sent,
 * two elections of one name on one lock, a row's token edited down under its holder, and `close()`
 * with calls in flight. (The defects it found are fixed: postgres-review-fixes.test.ts, postgres-takeover.test.ts.)
 */
import { connect, createServer, type Socket } from 'node:net';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresLock, postgresLock } from '../../adapters/postgres.js';
import type { Lease } from '../../src/adapter.js';
import { elect } from '../../src/elector.js';
import { PrimacyBackendError } from '../../src/errors.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres-server.js';
import { pause, until } from '../helpers/until.js';

/** A TCP relay that resets both ends when the client sends a statement containing `trigger`: before forwarding it, or once its answer is back. */
interface TripRelay {
  port: number;
  tripped: boolean;
  close(): Promise<void>;
}

function startTripRelay(target: number, trigger: string, when: 'before' | 'after'): Promise<TripRelay> {
  const sockets = new Set<Socket>();
  const relay: TripRelay = { port: 0, tripped: false, close: async () => undefined };
  const server = createServer((inbound) => {
    const outbound = connect(target, '127.0.0.1');
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    const cut = () => {
      relay.tripped = true;
      inbound.resetAndDestroy();
      outbound.resetAndDestroy();
    };
    let armed = false;
    inbound.on('data', (chunk: Buffer) => {
      if (!relay.tripped && chunk.includes(trigger)) {
        if (when === 'before') return cut();
        armed = true;
      }
      outbound.write(chunk);
    });
    outbound.on('data', (chunk: Buffer) => (armed ? cut() : inbound.write(chunk)));
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      relay.port = (server.address() as { port: number }).port;
      relay.close = () =>
        new Promise<void>((done) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => done());
        });
      resolve(relay);
    }),
  );
}

describe('postgres lock, reviewed', () => {
  let server: PostgresServer;
  let admin: pg.Client;
  let locks: PostgresLock[] = [];
  const relays: TripRelay[] = [];
  const lockOf = (url = server.url, options: { table?: string; queryTimeout?: number } = {}) => {
    const lock = postgresLock({ connectionString: url, connectTimeout: 2000, livenessInterval: 50, ...options });
    locks.push(lock);
    return lock;
  };
  const acquired = async (lock: PostgresLock, name: string, ttl = 5000): Promise<Lease> => {
    const lease = await lock.acquire(name, createHolderIdentity(), ttl);
    if (!lease) throw new Error(`no lease for ${name}`);
    return lease;
  };

  beforeAll(async () => {
    server = await startPostgres();
    admin = await server.admin();
  });
  afterEach(async () => {
    for (const lock of locks) await lock.close();
    locks = [];
    for (const relay of relays.splice(0)) await relay.close();
  });
  afterAll(() => server?.stop());

  it('role settings a DBA may impose change nothing: acquire, renew and the takeover of an expired holder', async () => {
    const settings = {
      timeouts: ['statement_timeout = 100', 'lock_timeout = 50'],
      serializable: ["default_transaction_isolation = 'serializable'"],
      styles: ["timezone = 'Pacific/Kiritimati'", "datestyle = 'SQL, DMY'", "intervalstyle = 'sql_standard'"],
      nopath: ["search_path = ''"],
    };
    for (const [role, lines] of Object.entries(settings)) {
      // Superusers: the takeover must be able to end the other session.
      await admin.query(`CREATE ROLE r_${role} LOGIN SUPERUSER`);
      for (const line of lines) await admin.query(`ALTER ROLE r_${role} SET ${line}`);
      const url = `postgres://r_${role}@127.0.0.1:${server.port}/postgres`;
      const table = `public.locks_${role}`; // qualified: an empty search_path finds nothing unqualified
      const [a, b] = [lockOf(url, { table }), lockOf(url, { table })];
      const name = `tuned-${role}`; // one advisory lock per name and namespace, whatever the table
      const lease = await acquired(a, name, 400);
      expect(await a.renew(lease, 400), role).not.toBeNull();
      expect(await b.acquire(name, createHolderIdentity(), 5000), role).toBeNull();
      await pause(700); // a never renews again: paused, as far as anyone can tell
      // The session's own settings win over the role's (statement_timeout, lock_timeout, isolation):
      // the first try after the lease is over takes over.
      const taken = await b.acquire(name, createHolderIdentity(), 5000);
      if (!taken) throw new Error(`${role}: no takeover`);
      expect(taken.token, role).toBeGreaterThan(lease.token);
      await until(() => a.isIntact?.(lease) === false, 5000, `${role}: the old holder's lease ends`);
      expect((await b.inspect(name))?.state, role).toBe('held');
    }
  });

  it('names are values, never SQL: each is its own lock, stored verbatim; a NUL name fails alone', async () => {
    const names = [`x'); DROP TABLE primacy_locks; --`, 'a"b', 'back\\slash', '$1', 'ünï©ødé 🗝', `${'n'.repeat(250)}'`];
    const [a, b] = [lockOf(), lockOf()];
    const leases = await Promise.all(names.map((name) => acquired(a, name)));
    for (const name of names) expect(await b.acquire(name, createHolderIdentity(), 5000)).toBeNull();
    const { rows } = await admin.query<{ name: string }>('SELECT name FROM primacy_locks ORDER BY name');
    expect(rows.map((row) => row.name).sort()).toEqual([...names].sort());
    await expect(a.acquire('nul\0name', createHolderIdentity(), 5000)).rejects.toBeInstanceOf(PrimacyBackendError);
    // The failed call took nothing and broke nothing: the session still renews what it holds.
    for (const lease of leases) expect(await a.renew(lease, 5000)).not.toBeNull();
  });

  for (const when of ['before', 'after'] as const) {
    it(`a reset as the acquire statement (lock and grant in one) is sent, ${when} it reached the server: a backend error, and the lock is not left held`, async () => {
      const relay = await startTripRelay(server.port, 'INSERT INTO', when);
      relays.push(relay);
      const name = `tripped-${when}`;
      const cut = lockOf(`postgres://postgres@127.0.0.1:${relay.port}/postgres`, { queryTimeout: 5000 });
      const other = lockOf();
      const previous = await acquired(other, name);
      await other.release(previous); // a used lock: the row exists
      const started = performance.now();
      // Rejects as a backend error naming the server, never a lease.
      const attempt = cut.acquire(name, createHolderIdentity(), 10_000);
      await expect(attempt).rejects.toBeInstanceOf(PrimacyBackendError);
      await expect(attempt).rejects.toThrow(/\[primacy\] \[postgres\] acquire failed: .*(ECONNRESET|connection)/);
      expect(relay.tripped).toBe(true);
      // The server saw the reset and freed the lock: taken long before the 10 s TTL.
      const taken = await until(() => other.acquire(name, createHolderIdentity(), 10_000), 5000, 'the lock is free');
      expect(performance.now() - started).toBeLessThan(5000);
      expect(taken.token).toBeGreaterThan(previous.token);
    });
  }

  it('two elections of one name on one lock (one session): never both primary; the second follows the first', async () => {
    const lock = lockOf();
    const options = { name: 'shared-instance', lock, ttl: 2000, retryInterval: 100, handleSignals: false, logger: false } as const;
    const [first, second] = [elect(options), elect(options)];
    let both = false;
    const check = () => {
      if (first.isPrimary && second.isPrimary) both = true;
    };
    first.on('elected', check);
    second.on('elected', check);
    try {
      await Promise.all([first.ready, second.ready]);
      const primary = await until(() => (first.isPrimary ? first : second.isPrimary ? second : null), 5000, 'a primary');
      const follower = primary === first ? second : first;
      await pause(2500); // more than a TTL of renews by the one and tries by the other
      expect(follower.isPrimary).toBe(false);
      const token = primary.token as number;
      await primary.stop();
      await until(() => follower.isPrimary, 5000, 'the other election of the same lock takes over');
      expect(follower.token as number).toBeGreaterThan(token);
      expect(both).toBe(false);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it("a row's token edited down under its holder: renew answers null, and the holder's next token is still above the held one", async () => {
    const lock = lockOf();
    for (let i = 0; i < 3; i++) await lock.release(await acquired(lock, 'edited'));
    const held = await acquired(lock, 'edited'); // token 4
    await admin.query(`UPDATE primacy_locks SET token = 1 WHERE name = 'edited'`);
    expect(await lock.renew(held, 5000)).toBeNull();
    await lock.release(held); // what the elector does next: the advisory lock is given back
    expect((await acquired(lock, 'edited')).token).toBeGreaterThan(held.token);
  });

  it('close(): calls in flight end as backend errors or null, later calls are refused, and no session is left', async () => {
    const lock = postgresLock({ connectionString: server.url });
    const holder = await acquired(lock, 'closing');
    const inFlight = Promise.allSettled([
      lock.acquire('closing-2', createHolderIdentity(), 5000),
      lock.renew(holder, 5000),
      lock.inspect('closing'),
    ]);
    await lock.close();
    for (const outcome of await inFlight) {
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(PrimacyBackendError);
    }
    await expect(lock.acquire('closing', createHolderIdentity(), 5000)).rejects.toThrow(/\[primacy\] \[postgres\].*close\(\) was called/);
    expect(await lock.renew(holder, 5000)).toBeNull();
    expect(lock.isIntact?.(holder)).toBe(false);
    await lock.close(); // twice: harmless
    const sessions = async () =>
      (await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'primacy%'`)).rows[0]
        ?.n;
    await until(async () => (await sessions()) === 0, 5000, 'no session left on the server');
    expect((await acquired(lockOf(), 'closing')).token).toBeGreaterThan(holder.token); // its lock went with it
  });
});
