/**
 * postgresLock's options, its inspect forms, and what a real election on it does, on a private
 * server: release wakes a follower at once, two elections sharing one lock instance never both
 * win (advisory locks are re-entrant within a session), and the idle cost of many followers stays
 * per lock.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectPostgresLock, postgresLock } from '../../adapters/postgres.js';
import type { LockAdapter } from '../../src/adapter.js';
import { elect } from '../../src/elector.js';
import { PrimacyConfigError } from '../../src/errors.js';
import { createHolderIdentity } from '../../src/identity.js';
import { measureIdleCost, startCountingServer } from '../helpers/postgres-idle-cost.js';
import type { PostgresServer } from '../helpers/postgres-server.js';
import { until } from '../helpers/until.js';

describe('postgresLock() options', () => {
  const url = 'postgres://u@127.0.0.1:5432/db';
  const refused = (options: unknown, pattern: RegExp) => {
    expect(() => postgresLock(options as never)).toThrow(PrimacyConfigError);
    expect(() => postgresLock(options as never)).toThrow(pattern);
  };

  it('wants exactly one of pool, client and connectionString', () => {
    refused({}, /\[primacy\] \[postgres\] Expected `connectionString` to be exactly one of `pool` \(a pg.Pool\), `client`/);
    refused({ connectionString: url, pool: new pg.Pool() }, /Expected `pool` to be exactly one of/);
    refused({ pool: {} }, /Expected `pool` to be a pg.Pool/);
    refused({ client: { query() {} } }, /Expected `client` to be a pg.Client/);
    refused(
      { connectionString: 'mysql://x' },
      /Expected `connectionString` to be a postgres:\/\/ or postgresql:\/\/ URL, got "mysql:\/\/x"/,
    );
    refused({ connectionString: url, tabel: 'x' }, /"tabel".*"table"/);
  });

  it('checks namespace, table and timings', () => {
    refused(
      { connectionString: url, namespace: 2 ** 31 },
      /Expected `namespace` to be a whole number from -2147483648 to 2147483647, or a non-empty string/,
    );
    refused({ connectionString: url, namespace: '' }, /Expected `namespace`/);
    refused({ connectionString: url, table: 'locks; DROP TABLE x' }, /Expected `table` to be a table name of lower-case letters/);
    refused({ connectionString: url, table: 'Locks' }, /Expected `table`/);
    refused({ connectionString: url, table: 'a.b.c' }, /Expected `table`/);
    refused({ connectionString: url, livenessInterval: 5 }, /Expected `livenessInterval` to be a number of ms from 10 to 60000, got 5/);
    refused({ connectionString: url, connectTimeout: Number.NaN }, /Expected `connectTimeout`/);
    refused({ connectionString: url, queryTimeout: -1 }, /Expected `queryTimeout`/);
  });

  it('takes a pool, a client or a URL, and schema-qualified tables', () => {
    const pool = new pg.Pool({ connectionString: url });
    const client = new pg.Client({ connectionString: url });
    for (const lock of [
      postgresLock({ pool }),
      postgresLock({ client, namespace: -7 }),
      postgresLock({ connectionString: url, namespace: 'app', table: 'app.locks' }),
    ]) {
      expect(lock.kind).toBe('postgres');
      expect(lock.connectionBound).toBe(true);
    }
    void pool.end();
  });
});

describe('postgresLock on a private server', () => {
  let server: PostgresServer;
  const locks: LockAdapter[] = [];
  const lockOf = (options: { namespace?: string; table?: string } = {}) => {
    const lock = postgresLock({ connectionString: server.url, ...options });
    locks.push(lock);
    return lock;
  };

  beforeAll(async () => {
    server = await startCountingServer();
  });
  afterAll(async () => {
    for (const lock of locks) await lock.close?.();
    await server?.stop();
  });

  it('uses a pool and a client only for their settings, and never closes them', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 1 });
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    for (const lock of [postgresLock({ pool }), postgresLock({ client })]) {
      const lease = await lock.acquire('settings', createHolderIdentity(), 5000);
      expect(lease).not.toBeNull();
      if (lease) await lock.release(lease);
      await lock.close();
    }
    expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    expect(pool.totalCount).toBe(1); // ours only: the lock took no pooled connection
    await pool.end();
    await client.end();
  });

  it('readies its session for holding locks: no idle timeouts, server-side keepalives and tcp_user_timeout', async () => {
    const lock = postgresLock({ connectionString: server.url, queryTimeout: 4000 });
    locks.push(lock);
    await lock.inspect('anything');
    // This lock's own session is the one with its queryTimeout as tcp_user_timeout.
    const settings = [...server.log().matchAll(/statement: (SET idle_in_transaction_session_timeout = 0;.*)/g)]
      .map((match) => match[1] ?? '')
      .find((line) => line.includes('SET tcp_user_timeout = 4000'));
    expect(settings).toContain('SET idle_session_timeout = 0');
    expect(settings).toMatch(/SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3/);
  });

  it('creates a missing table once when many sessions open on it at the same moment', async () => {
    const racers = Array.from({ length: 8 }, () => lockOf({ table: 'raced_locks' }));
    const leases = await Promise.all(racers.map((lock) => lock.acquire('raced', createHolderIdentity(), 5000)));
    expect(leases.filter(Boolean)).toHaveLength(1);
  });

  it('inspects held, dead and free locks; inspectPostgresLock creates nothing', async () => {
    expect(await inspectPostgresLock(server.url, 'never', { table: 'no_such_table' })).toBeNull();
    const a = lockOf({ namespace: 'inspect' });
    const lease = await a.acquire('looked-at', createHolderIdentity('pod-1'), 5000);
    if (!lease) throw new Error('no lease');
    const held = await inspectPostgresLock(server.url, 'looked-at', { namespace: 'inspect' });
    expect(held).toMatchObject({ state: 'held', token: lease.token, alive: true, holder: { id: lease.holder.id, label: 'pod-1' } });
    expect(held?.expiresAt).toBeGreaterThan(Date.now());
    expect(held?.location).toMatch(/^postgres:\/\/127\.0\.0\.1:\d+\/postgres table public\.primacy_locks namespace -?\d+$/);
    await a.close(); // its session ends without a release: a dead holder
    expect(await inspectPostgresLock(server.url, 'looked-at', { namespace: 'inspect' })).toMatchObject({ state: 'held', alive: false });
    const b = lockOf({ namespace: 'inspect' });
    const next = await b.acquire('looked-at', createHolderIdentity(), 5000);
    if (!next) throw new Error('no lease');
    await b.release(next);
    expect(await b.inspect('looked-at')).toMatchObject({ state: 'free', token: next.token, alive: null, expiresAt: null });
    const admin = await server.admin();
    expect((await admin.query(`SELECT to_regclass('no_such_table') AS t`)).rows[0].t).toBeNull();
  });

  it('grants one of two elections that share one lock instance (one session), and hands over on stop', async () => {
    const lock = lockOf();
    const options = { name: 'shared-instance', lock, ttl: 5000, handleSignals: false, logger: false } as const;
    const first = elect(options);
    const second = elect(options);
    await Promise.all([first.ready, second.ready]);
    expect([first.isPrimary, second.isPrimary].filter(Boolean)).toHaveLength(1);
    const [primary, other] = first.isPrimary ? [first, second] : [second, first];
    const token = primary.token as number;
    await primary.stop();
    await until(() => other.isPrimary, 5000, 'the other election takes over');
    expect(other.token).toBeGreaterThan(token);
    await other.stop();
  });

  it('wakes a waiting follower at once on release (NOTIFY), long before its retry', async () => {
    const options = { name: 'wake', ttl: 10_000, retryInterval: 30_000, handleSignals: false, logger: false } as const;
    const first = elect({ ...options, lock: lockOf() });
    await first.ready;
    const second = elect({ ...options, lock: lockOf() });
    await second.ready;
    expect(second.isPrimary).toBe(false);
    const stoppedAt = performance.now();
    await first.stop();
    await until(() => second.isPrimary, 5000, 'the follower wakes');
    expect(performance.now() - stoppedAt).toBeLessThan(5000);
    await second.stop();
  });

  it('costs the server a few statements a second however many followers wait (at most 20 at 30)', async () => {
    const few = await measureIdleCost(server, 1, 3, 1500);
    const many = await measureIdleCost(server, 30, 3, 2000);
    expect(many.perSecond).toBeLessThanOrEqual(20);
    expect(many.perSecond).toBeLessThan(few.perSecond + 8); // grows with locks, not followers
  }, 60_000);
});
