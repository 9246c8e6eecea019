/**
 * The MySQL lock's setup on a private MariaDB: a user without the privileges to create the table
 * or to end a paused holder's session (the errors say what to run or grant), inspect, errors that
 * name the server, options checked at construction, lock names, and a server that closes idle
 * sessions after 2 s.
 */
import type mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockNames } from '../../adapters/mysql/names.js';
import { mysqlLock } from '../../adapters/mysql.js';
import type { LockAdapter } from '../../src/adapter.js';
import { PrimacyBackendError } from '../../src/errors.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type MariadbServer, startMariadb } from '../helpers/mariadb-server.js';
import { pause, until } from '../helpers/until.js';

let server: MariadbServer;
let admin: mysql.Connection;
const adapters: LockAdapter[] = [];
let name = '';
let table = '';
let serial = 0;

const lock = (options: Parameters<typeof mysqlLock>[0] | Record<string, never> = {}) => {
  const adapter = mysqlLock({ uri: server.uri, table, timeout: 3000, ...options } as Parameters<typeof mysqlLock>[0]);
  adapters.push(adapter);
  return adapter;
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
  name = `lock-${++serial}`;
});
afterAll(() => server?.stop(), 30_000);
name = 'lock-0';
table = 'primacy_locks';

describe('mysqlLock: privileges', () => {
  const weakUri = () => `mysql://weak:weak-pw@127.0.0.1:${server.port}/test`;
  beforeAll(async () => {
    await admin.query("CREATE USER IF NOT EXISTS 'weak'@'127.0.0.1' IDENTIFIED BY 'weak-pw'");
    await admin.query("GRANT SELECT, INSERT, UPDATE ON test.* TO 'weak'@'127.0.0.1'");
  });

  it('names the statement to run when it may not create its table', async () => {
    const weak = lock({ uri: weakUri(), table: 'weak_missing' });
    const failure = await weak.acquire(name, createHolderIdentity(), 5000).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PrimacyBackendError);
    expect(String((failure as Error).message)).toMatch(/CREATE TABLE IF NOT EXISTS `weak_missing`/);
    expect(String((failure as Error).message)).toMatch(/GRANT SELECT, INSERT, UPDATE ON weak_missing/);
  });

  it('names what to grant when it may not end a paused holder of another user', async () => {
    const holder = lock();
    const lease = await holder.acquire(name, createHolderIdentity(), 500);
    if (!lease) throw new Error('no lease');
    await pause(800);
    const weak = lock({ uri: weakUri() });
    const failure = await weak.acquire(name, createHolderIdentity(), 5000).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PrimacyBackendError);
    expect(String((failure as Error).message)).toMatch(
      /KILL CONNECTION \d+ was refused.*GRANT CONNECTION ADMIN ON \*\.\* TO 'weak'@'127\.0\.0\.1'/s,
    );
    expect(holder.isIntact?.(lease)).toBe(true);
  });
});

describe('mysqlLock: inspect, errors and options', () => {
  it('shows a held lock, a released one, and one whose holder crashed', async () => {
    const looker = lock();
    expect(await looker.inspect(name)).toBeNull();
    const elsewhere = lock({ table: 'never_created' }); // a CLI's look creates nothing
    expect(await elsewhere.inspect(name)).toBeNull();
    expect(await elsewhere.readOutcome?.(name)).toBeNull();
    const holder = lock();
    const lease = await holder.acquire(name, createHolderIdentity(), 10_000);
    if (!lease) throw new Error('no lease');
    const held = await looker.inspect(name);
    expect(held).toMatchObject({ state: 'held', token: lease.token, alive: true, holder: { id: lease.holder.id } });
    expect(Math.abs((held?.expiresAt ?? 0) - (Date.now() + 10_000))).toBeLessThan(2000);
    await admin.query('KILL CONNECTION ?', [await holderSession()]);
    expect(await until(() => looker.inspect(name).then((r) => r?.state === 'free' && r), 2000, 'free')).toMatchObject({ alive: false });
    const next = await holder.acquire(name, createHolderIdentity(), 10_000);
    if (!next) throw new Error('no lease');
    await holder.release(next);
    expect(await looker.inspect(name)).toMatchObject({ state: 'free', token: next.token, alive: null });
  });

  it('reports an unreachable server with its address and errno', async () => {
    const down = mysqlLock({ uri: 'mysql://root@127.0.0.1:1/test', timeout: 2000 });
    adapters.push(down);
    const failure = await down.acquire(name, createHolderIdentity(), 5000).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PrimacyBackendError);
    expect((failure as Error).message).toMatch(/cannot reach mysql:\/\/root@127\.0\.0\.1:1\/test: .*ECONNREFUSED/);
  });

  it('refuses bad options at construction, naming the option, the value and what was expected', () => {
    const uri = 'mysql://root@127.0.0.1/test';
    expect(() => mysqlLock({})).toThrow(/Expected `pool` to be a mysql2 pool, or `uri` or `connection` instead \(exactly one/);
    expect(() => mysqlLock({ uri, connection: {} })).toThrow(/exactly one of the three/);
    expect(() => mysqlLock({ uri: 'postgres://x' })).toThrow(/Expected `uri` to be a mysql:\/\/ URI/);
    expect(() => mysqlLock({ pool: {} })).toThrow(/Expected `pool` to be a mysql2 pool/);
    expect(() => mysqlLock({ uri, table: 'locks; DROP TABLE x' })).toThrow(/Expected `table` to be a table name/);
    expect(() => mysqlLock({ uri, table: 'a.b.c' })).toThrow(/`table`/);
    expect(() => mysqlLock({ uri, takeoverMargin: -1 })).toThrow(/Expected `takeoverMargin` to be a number of ms from 0 to 60000, got -1/);
    expect(() => mysqlLock({ uri, followerWait: 10 })).toThrow(/`followerWait`/);
    expect(() => mysqlLock({ uri, prefix: 5 as unknown as string })).toThrow(/`prefix`/);
    expect(() => mysqlLock({ uri, tabel: 'x' } as never)).toThrow(/tabel/);
    expect(mysqlLock({ uri, table: 'test.primacy_locks' }).kind).toBe('mysql');
  });

  it('names locks within 64 characters: long and mixed-case names hashed, distinct and readable', () => {
    expect(lockNames('primacy:', 'reports').lock).toBe('primacy:reports');
    const long = lockNames('primacy:', 'x'.repeat(200));
    expect([...long.lock].length).toBeLessThanOrEqual(64);
    expect(long.lock).toMatch(/^primacy:xxx+#[0-9a-f]{16}$/);
    expect(lockNames('primacy:', `${'x'.repeat(200)}y`).lock).not.toBe(long.lock);
    expect(lockNames('primacy:', 'Reports').lock).not.toBe(lockNames('primacy:', 'reports').lock);
    expect(lockNames('primacy:', 'reports').watch).not.toBe(lockNames('primacy:', 'reports').lock);
    expect([...lockNames('p:', 'é'.repeat(100)).watch].length).toBeLessThanOrEqual(64);
  });
});

describe('mysqlLock: a server that closes idle sessions after 2 s', () => {
  let strict: MariadbServer;
  beforeAll(async () => {
    strict = await startMariadb({ args: ['--wait-timeout=2', '--interactive-timeout=2'] });
  }, 60_000);
  afterAll(() => strict?.stop(), 30_000);

  it('keeps a held lock through several idle seconds', async () => {
    const holder = mysqlLock({ uri: strict.uri });
    adapters.push(holder);
    const lease = await holder.acquire(name, createHolderIdentity(), 10_000);
    if (!lease) throw new Error('no lease');
    await pause(3500); // wait_timeout 2 s: any session of ours the server took for idle would be closed by now
    expect(holder.isIntact?.(lease)).toBe(true);
    expect(await holder.renew(lease, 10_000)).not.toBeNull();
    const other = mysqlLock({ uri: strict.uri });
    adapters.push(other);
    expect(await other.acquire(name, createHolderIdentity(), 10_000)).toBeNull();
  });
});
