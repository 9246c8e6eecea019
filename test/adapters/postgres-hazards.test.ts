/**
 * What can end or share a session under a Postgres lock, each on a private server: PgBouncer in
 * transaction mode (refused) and session mode (works), idle_session_timeout (survived),
 * keepalives (on), an administrator's pg_terminate_backend of the holder (steps down, a follower
 * takes over), and roles without the privileges the lock needs (errors naming what to run).
 */
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresLock } from '../../adapters/postgres.js';
import type { Lease, LockAdapter } from '../../src/adapter.js';
import { elect } from '../../src/elector.js';
import { PrimacyBackendError } from '../../src/errors.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type PgBouncer, type PostgresServer, startPgBouncer, startPostgres } from '../helpers/postgres-server.js';
import { pause, until } from '../helpers/until.js';

const locks: LockAdapter[] = [];
const track = <T extends LockAdapter>(lock: T): T => {
  locks.push(lock);
  return lock;
};
const holder = () => createHolderIdentity();

async function acquired(lock: LockAdapter, name: string, ttl = 5000): Promise<Lease> {
  const lease = await lock.acquire(name, holder(), ttl);
  if (!lease) throw new Error(`no lease for ${name}`);
  return lease;
}

describe('postgres lock hazards', () => {
  let server: PostgresServer;
  let admin: pg.Client;
  const bouncers: PgBouncer[] = [];

  beforeAll(async () => {
    server = await startPostgres({ idle_session_timeout: '1s', idle_in_transaction_session_timeout: '1s' });
    admin = await server.admin();
  });
  afterAll(async () => {
    for (const lock of locks) await lock.close?.();
    for (const bouncer of bouncers) await bouncer.stop();
    await server?.stop();
  });

  it('refuses PgBouncer in transaction mode with an error that says why and what to do', async () => {
    const bouncer = await startPgBouncer(server, 'transaction');
    bouncers.push(bouncer);
    const lock = track(postgresLock({ connectionString: bouncer.url }));
    const attempt = lock.acquire('bounced', holder(), 5000);
    await expect(attempt).rejects.toBeInstanceOf(PrimacyBackendError);
    await expect(attempt).rejects.toThrow(/pool_mode = transaction.*session advisory lock needs a session of its own.*pool_mode = session/);
    // Nothing is left locked on the pooler's server connections (not even the refused session's probe).
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`);
    expect(rows[0].n).toBe(0);
  });

  it('works through PgBouncer in session mode, and a closed holder is replaced at once', async () => {
    const bouncer = await startPgBouncer(server, 'session');
    bouncers.push(bouncer);
    const a = track(postgresLock({ connectionString: bouncer.url }));
    const b = track(postgresLock({ connectionString: bouncer.url }));
    const lease = await acquired(a, 'session-mode');
    expect(await b.acquire('session-mode', holder(), 5000)).toBeNull();
    await a.close(); // the pooler resets the server connection (DISCARD ALL): the lock is freed
    const next = await until(() => b.acquire('session-mode', holder(), 5000), 5000, 'b takes over');
    expect(next.token).toBeGreaterThan(lease.token);
  });

  it('keeps a lock through idle_session_timeout = 1s: the session sets it to 0', async () => {
    const a = track(postgresLock({ connectionString: server.url }));
    const b = track(postgresLock({ connectionString: server.url }));
    const lease = await acquired(a, 'idle');
    await pause(3000); // three idle timeouts
    expect(a.isIntact?.(lease)).toBe(true);
    expect(await a.renew(lease, 5000)).not.toBeNull();
    expect(await b.acquire('idle', holder(), 5000)).toBeNull();
  });

  it('turns TCP keepalives on, on both ends of the lock connection', async () => {
    const a = track(postgresLock({ connectionString: server.url }));
    await acquired(a, 'keepalive');
    const { rows } = await admin.query<{ pid: number }>(`SELECT backend_pid AS pid FROM primacy_locks WHERE name = 'keepalive'`);
    const { rows: ports } = await admin.query<{ port: number }>('SELECT client_port AS port FROM pg_stat_activity WHERE pid = $1', [
      rows[0]?.pid,
    ]);
    const clientPort = ports[0]?.port as number;
    // /proc/net/tcp: timer 2 is the keepalive timer, armed only on sockets with SO_KEEPALIVE.
    // tm->when is in 1/100 s: at most the 10 s primacy asks for, not the 2 h the kernel defaults to.
    const armed = (local: number, remote: number) =>
      tcpTimers().find((s) => s.local === local && s.remote === remote && s.timer === 2 && s.when <= 1000);
    await until(() => armed(clientPort, server.port), 5000, 'keepalive armed on our end');
    await until(() => armed(server.port, clientPort), 5000, "keepalive armed on the server's end");
  });

  it("steps down at once when an administrator ends the holder's session; a primary again within ms", async () => {
    const name = 'terminated';
    const lockOf = () => track(postgresLock({ connectionString: server.url }));
    const first = elect({ name, lock: lockOf(), ttl: 10_000, retryInterval: 8000, handleSignals: false, logger: false });
    await first.ready;
    const second = elect({ name, lock: lockOf(), ttl: 10_000, retryInterval: 8000, handleSignals: false, logger: false });
    await second.ready;
    try {
      expect(first.isPrimary).toBe(true);
      const lease = first.lease as Lease;
      const { rows } = await admin.query<{ pid: number }>('SELECT backend_pid AS pid FROM primacy_locks WHERE name = $1', [name]);
      const started = performance.now();
      const revoked = new Promise((resolve) => first.once('revoked', resolve));
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
      expect(await revoked).toMatchObject({ reason: 'lost' });
      // The next primary (the follower, or the old holder on a new session) with a higher token,
      // well before the 10 s TTL, and never two at once.
      const next = await until(() => (first.isPrimary ? first : second.isPrimary ? second : null), 5000, 'a primary again');
      expect(performance.now() - started).toBeLessThan(5000);
      expect(next.token as number).toBeGreaterThan(lease.token);
      expect(first.isPrimary && second.isPrimary).toBe(false);
    } finally {
      await first.stop();
      await second.stop();
    }
  });

  it('names the CREATE TABLE to run when the role may not create the lock table', async () => {
    await admin.query('CREATE ROLE carol LOGIN');
    const lock = track(postgresLock({ connectionString: `postgres://carol@127.0.0.1:${server.port}/postgres`, table: 'carol_locks' }));
    const attempt = lock.acquire('no-table', holder(), 5000);
    await expect(attempt).rejects.toBeInstanceOf(PrimacyBackendError);
    await expect(attempt).rejects.toThrow(
      /CREATE TABLE IF NOT EXISTS "carol_locks" \([\s\S]*GRANT SELECT, INSERT, UPDATE ON "carol_locks" TO "carol"/,
    );
  });

  it('names the GRANT to run when a follower may not end an expired holder of another role', async () => {
    await admin.query('CREATE TABLE shared_locks (LIKE primacy_locks INCLUDING ALL)');
    for (const role of ['dave', 'erin']) {
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      await admin.query(`GRANT SELECT, INSERT, UPDATE ON shared_locks TO ${role}`);
    }
    const url = (role: string) => `postgres://${role}@127.0.0.1:${server.port}/postgres`;
    const dave = track(postgresLock({ connectionString: url('dave'), table: 'shared_locks' }));
    const erin = track(postgresLock({ connectionString: url('erin'), table: 'shared_locks' }));
    const stale = await acquired(dave, 'foreign', 300);
    await pause(500); // dave never renews: paused, as far as anyone can tell
    const attempt = erin.acquire('foreign', holder(), 5000);
    await expect(attempt).rejects.toThrow(/past its TTL.*role "erin" may not end its session.*GRANT pg_signal_backend TO "erin"/);
    await admin.query('GRANT pg_signal_backend TO erin');
    const taken = await erin.acquire('foreign', holder(), 5000);
    expect(taken?.token).toBeGreaterThan(stale.token);
    await until(() => dave.isIntact?.(stale) === false, 2000, "dave's lease ends with its session");
  });
});

/** Every TCP socket of this host: its ports and which timer is armed (/proc/net/tcp's `tr`). */
function tcpTimers(): Array<{ local: number; remote: number; timer: number; when: number }> {
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 5)
    .map((fields) => ({
      local: Number.parseInt(fields[1]?.split(':')[1] ?? '', 16),
      remote: Number.parseInt(fields[2]?.split(':')[1] ?? '', 16),
      timer: Number.parseInt(fields[5]?.split(':')[0] ?? '', 16),
      when: Number.parseInt(fields[5]?.split(':')[1] ?? '', 16),
    }));
}
