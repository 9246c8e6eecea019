/**
 * A private PostgreSQL (test/helpers/postgres-server.ts: as the postgres user) or MariaDB
 * (test/helpers/mariadb-server.ts) server for a run: paused, killed and restarted with its data
 * (the token table survives: a SIGKILL loses nothing the OS has been handed, even with fsync off),
 * and an admin session that ends the lock holder's session the way an administrator or a
 * connection reaper would (`pg_terminate_backend`, `KILL CONNECTION`).
 *
 * The helpers restart a server in one step; a run needs it down for a while, so `down` SIGKILLs
 * the server's processes itself and `up` is the helper's restart, whose kill then finds them gone.
 * The admin sessions are opened for each use: a restart ends every session.
 */
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { lockNames, quoteTable } from '../adapters/mysql/names.js';
import { resolveMysqlOptions } from '../adapters/mysql/options.js';
import { lockKeys } from '../adapters/postgres/keys.js';
import { resolvePostgresOptions } from '../adapters/postgres/options.js';
import { isRunning, signal } from '../harness/pids.js';
import { startMariadb } from '../test/helpers/mariadb-server.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { type Backend, type HolderOf, lacking, within } from './backend.js';

/** How long an admin session may take to connect and answer. */
const ADMIN_TIMEOUT = 2000;

/** `pid` and its children (a postmaster's backends), SIGKILLed at once; resolves once `pid` is gone. */
async function killTree(pid: number): Promise<void> {
  let children: number[] = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)])
      .toString()
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((n) => n > 0);
  } catch {
    // No children (ps exits 1), or the process is gone already.
  }
  for (const target of [pid, ...children]) {
    signal(target, 'SIGCONT');
    signal(target, 'SIGKILL');
  }
  const deadline = performance.now() + 10_000;
  while (isRunning(pid)) {
    if (performance.now() > deadline) throw new Error(`server pid ${pid} still runs 10 s after SIGKILL`);
    await sleep(10);
  }
}

/** One ended session, for the fault's record. */
const ended = (what: string, session: string | number, holder: HolderOf) =>
  `${what} ${session} of pid ${holder.pid} (token ${holder.token})`;

export async function startPostgresBackend(): Promise<Backend> {
  const server = await startPostgres();
  // The lock's own defaults (candidate.ts passes only the URL): where its advisory lock and row are.
  const { namespace, table } = resolvePostgresOptions({ connectionString: server.url });
  const admin = async <T>(use: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: ADMIN_TIMEOUT, application_name: 'chaos-admin' });
    client.on('error', () => undefined);
    try {
      await within(ADMIN_TIMEOUT, `postgres on port ${server.port}`, client.connect());
      return await within(ADMIN_TIMEOUT, `postgres on port ${server.port}`, use(client));
    } finally {
      void client.end().catch(() => undefined);
    }
  };
  return {
    ...lacking('postgres'),
    where: server.url,
    nodes: 1,
    pause: async () => server.pause(), // single-threaded processes: stopped before they run again
    resume: () => server.resume(),
    down: () => killTree(server.pid),
    up: () => server.restart(),
    // One statement: the backend holding the lock's advisory key, ended only while the lock's row
    // names that backend and the primary's pid and token (never a session that took over since).
    endHolder: (name, holder) =>
      admin(async (client) => {
        const { rows } = await client.query<{ backend: number; terminated: boolean }>(
          `SELECT l.pid AS backend, pg_terminate_backend(l.pid) AS terminated
           FROM pg_locks l JOIN ${table.sql} t ON t.namespace = $1::int AND t.name = $2::text AND t.backend_pid = l.pid
           WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND l.classid = $1::int::oid AND l.objid = $3::int::oid AND l.objsubid = 2 AND l.granted
             AND t.state = 'held' AND t.token = $4::bigint AND (t.holder->>'pid')::int = $5::int`,
          [namespace, name, lockKeys(namespace, name).key, holder.token, holder.pid],
        );
        const row = rows[0];
        return row?.terminated ? ended('pg_terminate_backend of backend', row.backend, holder) : null;
      }),
    close: () => server.stop(),
    pids: () => [server.pid],
  };
}

interface MysqlHolderRow {
  used_by: number | null;
  connection_id: number | null;
  token: string | null;
  holder: string | null;
}

export async function startMysqlBackend(): Promise<Backend> {
  const server = await startMariadb();
  const { table, prefix } = resolveMysqlOptions({ uri: server.uri });
  const admin = async <T>(use: (connection: mysql.Connection) => Promise<T>): Promise<T> => {
    const what = `mariadb on port ${server.port}`;
    const connection = await within(ADMIN_TIMEOUT, what, mysql.createConnection({ uri: server.uri, connectTimeout: ADMIN_TIMEOUT }));
    connection.on('error', () => undefined);
    try {
      return await within(ADMIN_TIMEOUT, what, use(connection));
    } finally {
      connection.destroy();
    }
  };
  return {
    ...lacking('mysql'),
    where: server.uri,
    nodes: 1,
    pause: () => server.pause(),
    resume: () => server.resume(),
    down: () => killTree(server.pid),
    up: () => server.restart(),
    // The session IS_USED_LOCK names, ended only if the lock's row was written by that session for
    // the primary's pid and token. Connection ids are not reused while the server runs.
    endHolder: (name, holder) =>
      admin(async (connection) => {
        const lock = lockNames(prefix, name).lock;
        const [rows] = await connection.query(
          `SELECT IS_USED_LOCK(?) AS used_by, connection_id, CAST(token AS CHAR) AS token, holder FROM ${quoteTable(table)} WHERE lock_name = ?`,
          [lock, lock],
        );
        const row = (rows as MysqlHolderRow[])[0];
        const pid = row?.holder ? (JSON.parse(row.holder) as { pid?: number }).pid : undefined;
        const ours = row && row.used_by !== null && Number(row.used_by) === Number(row.connection_id);
        if (!ours || row.token !== String(holder.token) || pid !== holder.pid) return null;
        await connection.query('KILL CONNECTION ?', [Number(row.used_by)]);
        return ended('KILL CONNECTION', Number(row.used_by), holder);
      }),
    close: () => server.stop(),
    pids: () => [server.pid],
  };
}
