/**
 * Where the lock lives during a run, and the faults done to it: a fresh lock directory, private
 * redis-servers (backend-redis.ts), a private PostgreSQL or MariaDB server (backend-sql.ts) or
 * private etcd members (backend-etcd.ts), each started by the run, on free ports, and stopped at
 * its end. A missing server binary is an error, never a skip.
 *
 * Every server keeps its data across a kill and restart (Redis's append-only file, the SQL servers'
 * token table, etcd's data dir), so the fencing counters survive as they would in production: a
 * restart that lost them would put every new token below the store's and get every write rejected.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startEtcdBackend } from './backend-etcd.js';
import { startRedisBackend } from './backend-redis.js';
import { startMysqlBackend, startPostgresBackend } from './backend-sql.js';
import type { Adapter } from './faults.js';

/** The primary as a session fault aims at it: the lock's holder on the server must be this pid with this token. */
export interface HolderOf {
  pid: number;
  token: number;
}

export interface Backend {
  /** What a candidate needs to reach the lock: a directory, a URL, or comma-separated URLs ('' for the manager). */
  readonly where: string;
  /** Server processes (Redis nodes, etcd members; 1 for a SQL server; 0 for file and manager). */
  readonly nodes: number;
  /** SIGSTOP these nodes (for a SQL server, every process of it); resolves once they are stopped. */
  pause(nodes: readonly number[]): Promise<void>;
  resume(nodes: readonly number[]): void;
  /** SIGKILL these nodes and leave them down. */
  down(nodes: readonly number[]): Promise<void>;
  /** Start them again on the same ports, with the data they had. */
  up(nodes: readonly number[]): Promise<void>;
  /** Redis only: SIGKILL these nodes and delete their data files, so `up` starts them empty. */
  wipe(nodes: readonly number[]): Promise<void>;
  /** Redis only: a command on a node's admin connection (not a candidate's), answered within 2 s or rejected. */
  command(node: number, name: string, ...args: Array<string | number>): Promise<unknown>;
  /**
   * SQL and etcd only: ends the session (etcd: revokes the lease) that holds lock `name` on the
   * server, from an admin connection, if the lock's record there names `holder` (its pid and
   * token). Resolves what it ended, for the report, or null if the server names another holder or
   * none (the fault is then skipped). Rejects if the server does not answer within 2 s.
   */
  endHolder(name: string, holder: HolderOf): Promise<string | null>;
  close(): Promise<void>;
  /** The servers' pids, for a last-resort SIGKILL if the orchestrator exits abruptly. */
  pids(): number[];
}

/** `promise`, or a rejection naming `what` if it does not settle within `ms` (a paused server never answers). */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The methods a backend lacks: calling one is a bug of the fault table (a kind given to the wrong adapter). */
export function lacking(adapter: Adapter): Omit<Backend, 'where' | 'nodes' | 'close' | 'pids'> {
  const no = (what: string) => () => {
    throw new Error(`the ${adapter} backend has no ${what}`);
  };
  return {
    pause: no('node to pause'),
    resume: no('node to resume'),
    down: no('node to kill'),
    up: no('node to start'),
    wipe: no('data files to wipe'),
    command: no('Redis command'),
    endHolder: no('holder session to end'),
  };
}

export async function startBackend(adapter: Adapter, workDir: string): Promise<Backend> {
  if (adapter === 'redis' || adapter === 'redlock') return startRedisBackend(adapter === 'redis' ? 1 : 3, workDir);
  if (adapter === 'postgres') return startPostgresBackend();
  if (adapter === 'mysql') return startMysqlBackend();
  if (adapter === 'etcd' || adapter === 'etcd-cluster') return startEtcdBackend(adapter === 'etcd' ? 1 : 3);
  // file: a fresh lock directory; manager and mixed use the default lock (XDG_RUNTIME_DIR, run.ts).
  const lockDir = join(workDir, 'locks');
  if (adapter === 'file') mkdirSync(lockDir);
  return {
    ...lacking(adapter),
    where: adapter === 'file' ? lockDir : '',
    nodes: 0,
    close: async () => undefined,
    pids: () => [],
  };
}
