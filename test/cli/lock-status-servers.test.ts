/**
 * `lock-status --postgres / --mysql / --etcd`: the holder of a lock on the machine's PostgreSQL and
 * MariaDB and on a private etcd, free once released, and the usage and reachability errors.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdLock } from '../../adapters/etcd.js';
import { mysqlLock } from '../../adapters/mysql.js';
import { postgresLock } from '../../adapters/postgres.js';
import type { LockAdapter } from '../../src/adapter.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';
import { SHARED_URI } from '../helpers/mariadb-server.js';
import { SHARED_URL } from '../helpers/postgres-server.js';

const cli = join(import.meta.dirname, '../../src/cli/lock-status.ts');
const status = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', timeout: 30_000 });

let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(() => etcd?.stop());

const backends: Array<[string, () => string, (url: string) => LockAdapter, string]> = [
  ['postgres', () => SHARED_URL, (url) => postgresLock({ connectionString: url }), 'postgres://127.0.0.1:1/test'],
  ['mysql', () => SHARED_URI, (uri) => mysqlLock({ uri }), 'mysql://root@127.0.0.1:1/test'],
  ['etcd', () => etcd.urls.join(','), (hosts) => etcdLock({ hosts: hosts.split(',') }), 'http://127.0.0.1:1'],
];

describe.each(backends)('lock-status --%s', (option, url, makeLock, unreachableUrl) => {
  it('shows the holder and its token, then the lock free once released', async () => {
    const name = `status-${option}-${Math.random().toString(36).slice(2)}`;
    const lock = makeLock(url());
    try {
      const lease = await lock.acquire(name, createHolderIdentity(), 30_000);
      if (!lease) throw new Error('no lease');
      const held = status(name, `--${option}`, url(), '--json');
      expect(held.status, held.stderr).toBe(0);
      const json = JSON.parse(held.stdout);
      expect(json.record.holder.pid).toBe(process.pid);
      expect(json.record.token).toBe(lease.token);
      expect(json.verdict).toMatch(/held/);
      await lock.release(lease);
      const free = status(name, `--${option}`, url());
      expect(free.status, free.stdout + free.stderr).toBe(1);
      expect(status(`${name}-never`, `--${option}`, url()).status).toBe(1);
    } finally {
      await lock.close?.();
    }
  });

  it('refuses a bad URL, --release, two backends, and names an unreachable server', () => {
    const badUrl = status('x', `--${option}`, 'localhost:1');
    expect(badUrl.status).toBe(64);
    expect(badUrl.stderr).toMatch(new RegExp(`--${option} needs .*got "localhost:1"`));
    expect(status('x', `--${option}`, url(), '--release', '--yes').status).toBe(64);
    expect(status('x', `--${option}`, url(), '--redis', 'redis://127.0.0.1:6379').stderr).toMatch(/give one backend/);
    const unreachable = status('x', `--${option}`, unreachableUrl, '--json');
    expect(unreachable.status).toBe(3);
    expect(unreachable.stdout).toMatch(/ECONNREFUSED|127\.0\.0\.1:1/);
  });
});

describe('lock-status --postgres on a database never used by primacy', () => {
  it('answers "never taken" and creates nothing there (no table)', async () => {
    const { default: pg } = await import('pg');
    const admin = new pg.Client({ connectionString: SHARED_URL });
    await admin.connect();
    const database = `status_${Math.random().toString(36).slice(2)}`;
    await admin.query(`CREATE DATABASE ${database}`);
    try {
      const url = new URL(SHARED_URL);
      url.pathname = `/${database}`;
      const look = status('reports', '--postgres', url.toString());
      expect(look.status, look.stdout + look.stderr).toBe(1);
      const fresh = new pg.Client({ connectionString: url.toString() });
      await fresh.connect();
      const { rows } = await fresh.query("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'primacy_locks'");
      await fresh.end();
      expect(rows[0]?.n).toBe(0);
    } finally {
      await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
      await admin.end();
    }
  });
});
