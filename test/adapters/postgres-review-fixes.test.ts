/**
 * What the second Postgres review found, each on a private server: tokens that went back with a
 * restored or lost row, roles whose search_path led them to tables of their own, a lock taken with
 * no row naming its holder when the client went silent between two round trips, a read-only
 * standby taken for a primary, grant failures without the GRANT to run, and two names sharing one
 * 32-bit advisory key without a word.
 */
import { connect, createServer, type Socket } from 'node:net';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockKeys, PROBE_SPACE } from '../../adapters/postgres/keys.js';
import { type PostgresLock, postgresLock } from '../../adapters/postgres.js';
import type { Lease } from '../../src/adapter.js';
import { type Election, elect } from '../../src/elector.js';
import { PrimacyBackendError } from '../../src/errors.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres-server.js';
import { pause, until } from '../helpers/until.js';

interface FreezingRelay {
  port: number;
  frozen: boolean;
  close(): Promise<void>;
}

/** A TCP relay that goes silent (forwards nothing more, closes nothing: a partition) once the client sends `trigger`, before or after forwarding it. */
function startFreezingRelay(target: number, trigger: string, when: 'before' | 'after'): Promise<FreezingRelay> {
  const sockets: Socket[] = [];
  const relay: FreezingRelay = { port: 0, frozen: false, close: async () => undefined };
  const server = createServer((inbound) => {
    const outbound = connect(target, '127.0.0.1');
    sockets.push(inbound, outbound);
    for (const socket of [inbound, outbound]) socket.on('error', () => undefined);
    inbound.on('data', (chunk: Buffer) => {
      if (relay.frozen) return;
      if (chunk.includes(trigger)) {
        relay.frozen = true;
        if (when === 'before') return;
      }
      outbound.write(chunk);
    });
    outbound.on('data', (chunk: Buffer) => {
      if (!relay.frozen) inbound.write(chunk);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      relay.port = (server.address() as { port: number }).port;
      relay.close = () => {
        for (const socket of sockets) socket.destroy();
        return new Promise<void>((done) => server.close(() => done()));
      };
      resolve(relay);
    }),
  );
}

describe('postgres lock, second review', () => {
  let server: PostgresServer;
  let admin: pg.Client;
  let locks: PostgresLock[] = [];
  let elections: Election[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const urlOf = (role: string, port = server.port) => `postgres://${role}@127.0.0.1:${port}/postgres`;
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
    await Promise.all(elections.map((election) => election.stop()));
    elections = [];
    for (const lock of locks) await lock.close();
    locks = [];
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(() => server?.stop());

  it('tokens never go back: not past a row restored from an older copy, nor past a dropped table', async () => {
    const table = 'public.restored_locks';
    const first = lockOf(server.url, { table });
    let last = 0;
    for (let i = 0; i < 3; i++) {
      const lease = await acquired(first, 'restored');
      last = lease.token;
      await first.release(lease);
    }
    await admin.query(`UPDATE ${table} SET token = 1 WHERE name = 'restored'`); // a backup restored, a lagging replica promoted
    const second = lockOf(server.url, { table }); // a process that never saw a token
    const restored = await acquired(second, 'restored');
    expect(restored.token).toBeGreaterThan(last);
    await second.release(restored);
    await admin.query(`DROP TABLE ${table}`);
    const fresh = lockOf(server.url, { table });
    const lease = await until(() => fresh.acquire('restored', createHolderIdentity(), 5000).catch(() => null), 5000, 'a lease');
    expect(lease.token).toBeGreaterThan(restored.token);
  });

  it('roles with schemas of their own share the default table: one row per lock, a paused holder of another role is ended', async () => {
    await lockOf().inspect('made'); // the default table exists (created by its owner)
    for (const role of ['alice', 'bob']) {
      // "$user" comes first in the default search_path: primacy_locks alone would mean <role>.primacy_locks.
      await admin.query(`CREATE ROLE ${role} LOGIN; CREATE SCHEMA ${role} AUTHORIZATION ${role}; GRANT pg_signal_backend TO ${role}`);
      await admin.query(`GRANT SELECT, INSERT, UPDATE ON public.primacy_locks TO ${role}`);
      // What an unqualified default made when the role's app ran first: a table of the role's own.
      await admin.query(`CREATE TABLE ${role}.primacy_locks (LIKE public.primacy_locks INCLUDING ALL)`);
      await admin.query(`ALTER TABLE ${role}.primacy_locks OWNER TO ${role}`);
    }
    const [alice, bob] = [lockOf(urlOf('alice')), lockOf(urlOf('bob'))];
    const paused = await acquired(bob, 'shared-job', 300);
    expect((await alice.inspect('shared-job'))?.holder?.id).toBe(paused.holder.id);
    expect(await alice.acquire('shared-job', createHolderIdentity(), 5000)).toBeNull();
    await pause(500); // bob never renews: paused, as far as anyone can tell
    const taken = await alice.acquire('shared-job', createHolderIdentity(), 5000);
    expect(taken?.token).toBeGreaterThan(paused.token);
    await until(() => !bob.isIntact(paused), 5000, "bob's lease ends with its session");
  });

  for (const when of ['before', 'after'] as const) {
    it(`a client that goes silent as its acquire is sent (${when} it reaches the server) leaves no lock nobody can end`, async () => {
      const name = `silent-${when}`;
      const other = lockOf();
      await other.release(await acquired(other, name)); // a used lock: its row exists
      const relay = await startFreezingRelay(server.port, 'INSERT INTO', when);
      cleanups.push(() => relay.close());
      const silent = lockOf(urlOf('postgres', relay.port), { queryTimeout: 1000 });
      await expect(silent.acquire(name, createHolderIdentity(), 1000)).rejects.toBeInstanceOf(PrimacyBackendError);
      expect(relay.frozen).toBe(true);
      // Its session is still open on the server (nothing was closed): with the lock and a row naming
      // it (after), so a follower ends it once its 1 s lease is over; or without the lock (before).
      const election = elect({ name, lock: lockOf(), ttl: 1000, retryInterval: 200, handleSignals: false, logger: false });
      elections.push(election);
      await until(() => election.isPrimary, 6000, 'a follower becomes primary');
    });
  }

  it('a read-only standby is refused when the session opens: connect to the primary', async () => {
    await lockOf().inspect('replicated'); // the table exists, and is copied
    const standby = await startPostgres({}, { standbyOf: server });
    cleanups.push(() => standby.stop());
    const lock = lockOf(standby.url);
    const attempt = lock.acquire('replicated', createHolderIdentity(), 5000);
    await expect(attempt).rejects.toBeInstanceOf(PrimacyBackendError);
    await expect(attempt).rejects.toThrow(/127\.0\.0\.1:\d+\/postgres is a read-only standby .*: connect to the primary/);
  });

  it('a role that may read but not write the table: acquire fails as a backend error naming the GRANT, and holds nothing', async () => {
    await lockOf(server.url, { table: 'public.read_locks' }).inspect('read'); // made by its owner
    await admin.query('CREATE ROLE reader LOGIN; GRANT SELECT ON public.read_locks TO reader');
    const reader = lockOf(urlOf('reader'), { table: 'public.read_locks' });
    const attempt = reader.acquire('read', createHolderIdentity(), 5000);
    await expect(attempt).rejects.toBeInstanceOf(PrimacyBackendError);
    await expect(attempt).rejects.toThrow(/role "reader" may not use .*GRANT SELECT, INSERT, UPDATE ON "public"."read_locks" TO "reader"/);
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid)
        WHERE a.usename = 'reader' AND l.locktype = 'advisory' AND l.objsubid = 2 AND l.classid <> $1::int::oid`,
      [PROBE_SPACE],
    );
    expect(rows[0]?.n).toBe(0);
    expect(await lockOf(server.url, { table: 'public.read_locks' }).acquire('read', createHolderIdentity(), 5000)).not.toBeNull();
  });

  it('two names with one 32-bit advisory key: each keeps its own token, and the wait is explained', async () => {
    const [first, second] = ['job-45873', 'job-52859'];
    expect(lockKeys(0, first).key).toBe(lockKeys(0, second).key); // their hashes collide
    const [x, y] = [lockOf(), lockOf()];
    const held = await acquired(x, first);
    const warnings: string[] = [];
    const warn = (message: string) => warnings.push(message);
    expect(await y.acquire(second, createHolderIdentity(), 5000, { warn })).toBeNull();
    expect(warnings).toEqual([expect.stringMatching(/"job-52859" shares its advisory key with "job-45873"/)]);
    // The session that holds one is granted the other (advisory locks are re-entrant): said too.
    const both = await x.acquire(second, createHolderIdentity(), 5000, { warn });
    expect(both).not.toBeNull();
    expect(warnings[1]).toMatch(/"job-52859" shares its advisory key with "job-45873"/);
    await x.release(held);
    expect(await y.acquire(first, createHolderIdentity(), 5000)).toBeNull(); // still held, as the other name
  });
});
