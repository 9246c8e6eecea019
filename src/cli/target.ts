/** The lock `lock-status` looks at: a file lock (by name or path), a Redis lock, a Redlock quorum, or a Postgres, MySQL/MariaDB or etcd lock. */
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { fileLockPath, inspectLockDir } from '../../adapters/file.js';
import { bounded } from '../_internal/bounded.js';
import type { LockAdapter, LockRecord } from '../adapter.js';
import { PrimacyError } from '../errors.js';
import { defaultLockName } from '../is-primary-worker.js';
import { LOOK_TIMEOUT, type ServerKind, type Target } from './args.js';

export interface LockTarget {
  readonly name: string;
  /** The lock directory, or the Redis URL(s). */
  readonly location: string;
  readonly inspect: () => Promise<Look>;
  readonly close?: () => Promise<void>;
}

/** One look at a lock. */
export interface Look {
  readonly record: LockRecord | null;
  /** Redlock nodes that did not answer this look (`URL: reason`); the quorum answered without them. */
  readonly unreachable: readonly string[];
}

/**
 * The lock cannot be looked at: a directory given that does not exist, a server that does not
 * answer. `code` is the errno (`ENOENT`, `ECONNREFUSED`...) when there is one; `location` is the
 * directory or the address, so a script reading `--json` knows which.
 */
export class LockTargetError extends PrimacyError {
  override name = 'LockTargetError';
  readonly location: string;
  readonly lock: string;
  constructor(lock: string, location: string, message: string, code: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.lock = lock;
    this.location = location;
  }
}

export async function resolveTarget(target: Target, cwd: string): Promise<LockTarget> {
  if (target.kind === 'redis' || target.kind === 'redlock') {
    return redisTarget(target.name ?? defaultLockName(cwd), target.kind === 'redis' ? [target.url] : target.urls, target.kind);
  }
  if ('url' in target) return serverTarget(target.name ?? defaultLockName(cwd), target.kind, target.url);
  let name: string;
  let location: string;
  if (target.kind === 'path') {
    location = resolve(cwd, target.path);
    // `primacy-<name>.lock` → name (a hashed unsafe name shows in its file-safe form).
    name = /^primacy-(.+)\.lock$/.exec(basename(location))?.[1] ?? basename(location);
  } else {
    name = target.name ?? defaultLockName(cwd);
    location = target.dir === undefined ? fileLockPath(name) : fileLockPath(name, resolve(cwd, target.dir));
  }
  // A lock directory that does not exist is a lock never taken; a parent directory the user named
  // that does not exist is a typo or a wrong host, not "free". (The default root appears with the
  // first lock taken on this machine: its absence does mean never taken.)
  if (target.kind === 'path' || target.dir !== undefined) await assertDirectory(name, dirname(location));
  return { name, location, inspect: async () => ({ record: await inspectLockDir(location, name), unreachable: [] }) };
}

async function assertDirectory(name: string, dir: string): Promise<void> {
  let code: string;
  let problem: string;
  try {
    if ((await stat(dir)).isDirectory()) return;
    [code, problem] = ['ENOTDIR', 'not a directory'];
  } catch (error) {
    code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    // "ENOENT: no such file or directory, stat '/x'" → "no such file or directory"
    problem = (error as Error).message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '');
  }
  throw new LockTargetError(name, dir, `cannot read lock directory ${dir}: ${code} (${problem})`, code);
}

/** A Redis or Redlock lock, through clients that fail fast while a server is down and reconnect when it is back. */
async function redisTarget(name: string, urls: string[], kind: 'redis' | 'redlock'): Promise<LockTarget> {
  // Loaded only here: file-lock users need not install ioredis.
  const [{ Redis }, { redisLock }, { redlockLock }] = await Promise.all([
    import('ioredis'),
    import('../../adapters/redis.js'),
    import('../../adapters/redlock.js'),
  ]);
  const location = urls.map(redact).join(',');
  // ioredis rejects connect() with a bare "Connection is closed."; the cause (ECONNREFUSED, host
  // and port) arrives as an `error` event first: keep it for the message.
  const causes = new Map<string, Error>();
  const clients = urls.map((url) => {
    // Reconnects for ever (a --watch sees a restarted server again; a client that gave up would be
    // 'end', and a lock never reopens a client it did not create). Calls do not wait for it: the
    // adapter fails them at once with the cause while the last connection attempt failed.
    const retryStrategy = (times: number) => Math.min(times * 100, 1000);
    // disconnectTimeout: a paused server never acknowledges the close; the socket is destroyed
    // after 2 s by default, keeping the process alive that long after its answer.
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy,
      connectTimeout: LOOK_TIMEOUT,
      disconnectTimeout: 100,
    });
    client.on('error', (error: Error) => causes.set(url, error));
    client.on('ready', () => causes.delete(url));
    return client;
  });
  const close = async () => {
    for (const client of clients) client.disconnect();
  };
  // A Redlock quorum tolerates a minority of unreachable nodes; a single Redis does not.
  const connected = await Promise.allSettled(clients.map((client) => within(client.connect(), LOOK_TIMEOUT, 'connect')));
  const failed = connected.flatMap((c, i) => (c.status === 'rejected' ? [{ url: urls[i] as string, reason: c.reason as Error }] : []));
  if (failed.length > 0 && (kind === 'redis' || failed.length >= urls.length / 2)) {
    await close();
    const described = failed.map(({ url, reason }) => {
      const cause = reason instanceof NoAnswer ? reason : (causes.get(url) ?? reason);
      return { url, cause, code: (cause as NodeJS.ErrnoException).code ?? 'ECONNECTION' };
    });
    const detail = described.map(({ url, cause }) => `${redact(url)}: ${cause.message}`).join('; ');
    const what = kind === 'redis' ? 'Redis' : `a Redlock quorum (${failed.length} of ${urls.length} nodes unreachable)`;
    const [first] = described;
    throw new LockTargetError(name, location, `cannot reach ${what} at ${detail}`, first?.code ?? 'ECONNECTION', { cause: first?.cause });
  }
  // A Redlock look reads the nodes up to three times in turn (values, counters, releases): each
  // read gets a third of the bound.
  const nodeTimeout = Math.floor(LOOK_TIMEOUT / 3);
  const adapter = kind === 'redis' ? redisLock({ client: clients[0] as never }) : redlockLock({ clients: clients as never, nodeTimeout });
  // The nodes that do not answer a PING in time, named: a quorum answers without them.
  const unanswered = async (): Promise<string[]> => {
    const pings = await Promise.all(
      clients.map((client, i) =>
        within(client.ping(), nodeTimeout, 'ping').then(
          () => null,
          (error: Error) =>
            `${redact(urls[i] as string)}: ${(error instanceof NoAnswer ? error : (causes.get(urls[i] as string) ?? error)).message}`,
        ),
      ),
    );
    return pings.filter((p) => p !== null);
  };
  const inspect = async (): Promise<Look> => {
    try {
      const [record, unreachable] = await Promise.all([
        within(adapter.inspect(name), LOOK_TIMEOUT, 'inspect'),
        kind === 'redlock' ? unanswered() : [],
      ]);
      return { record, unreachable };
    } catch (error) {
      if (!(error instanceof NoAnswer)) throw error;
      const what = kind === 'redis' ? 'Redis' : 'a Redlock quorum';
      throw new LockTargetError(name, location, `cannot reach ${what} at ${location}: ${error.message}`, error.code, { cause: error });
    }
  };
  return { name, location, inspect, close };
}

/**
 * A Postgres, MySQL/MariaDB or etcd lock, read through its adapter (loaded only here, so users of
 * other backends need not install its client). The adapter's errors name the server and the errno;
 * a server that accepts the connection and never answers is cut short like Redis.
 */
/** The client package each server option needs (an optional peer dependency). */
const CLIENTS: Record<ServerKind, string> = { postgres: 'pg', mysql: 'mysql2', etcd: 'etcd3' };

async function serverTarget(name: string, kind: ServerKind, url: string): Promise<LockTarget> {
  const location = url.split(',').map(redact).join(',');
  let adapter: Pick<LockAdapter, 'inspect' | 'close'>;
  try {
    // Postgres: a one-shot read that creates nothing (no table, no LISTEN, no session settings).
    if (kind === 'postgres') {
      const { inspectPostgresLock } = await import('../../adapters/postgres.js');
      adapter = { inspect: (lock) => inspectPostgresLock(url, lock) };
    } else if (kind === 'mysql') adapter = (await import('../../adapters/mysql.js')).mysqlLock({ uri: url });
    else adapter = (await import('../../adapters/etcd.js')).etcdLock({ hosts: url.split(',') });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    const client = CLIENTS[kind];
    throw new LockTargetError(
      name,
      location,
      `reading ${kind} locks needs the ${client} package: npm install ${client}`,
      'ERR_MODULE_NOT_FOUND',
      {
        cause: error,
      },
    );
  }
  const inspect = async (): Promise<Look> => {
    try {
      return { record: await within(adapter.inspect(name), LOOK_TIMEOUT, 'inspect'), unreachable: [] };
    } catch (error) {
      if (!(error instanceof NoAnswer)) throw error;
      throw new LockTargetError(name, location, `cannot reach ${kind} at ${location}: ${error.message}`, error.code, { cause: error });
    }
  };
  return { name, location, inspect, close: async () => adapter.close?.() };
}

/** A server that accepted the connection but did not answer in time (paused, hung). */
class NoAnswer extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/** `operation`'s value, or a `NoAnswer` after `ms` (its ETIMEDOUT is lock-status's exit code's cause). */
function within<T>(operation: Promise<T>, ms: number, what: string): Promise<T> {
  return bounded(operation, { ms, adapter: 'lock-status', operation: what, timeoutError: () => new NoAnswer(ms) });
}

/** A URL as shown: without its password. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
