/** The lock `lock-status` looks at: a file lock (by name or path), a Redis lock or a Redlock quorum. */
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { fileLockPath, inspectLockDir } from '../../adapters/file.js';
import type { LockRecord } from '../adapter.js';
import { PrimacyError } from '../errors.js';
import { defaultLockName } from '../is-primary-worker.js';
import type { Target } from './args.js';

export interface LockTarget {
  readonly name: string;
  /** The lock directory, or the Redis URL(s). */
  readonly location: string;
  readonly inspect: () => Promise<LockRecord | null>;
  readonly close?: () => Promise<void>;
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
  return { name, location, inspect: () => inspectLockDir(location, name) };
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

/** A Redis or Redlock lock, through clients that fail fast instead of reconnecting forever. */
async function redisTarget(name: string, urls: string[], kind: 'redis' | 'redlock'): Promise<LockTarget> {
  // Loaded only here: file-lock users need not install ioredis.
  const [{ Redis }, { redisLock }, { redlockLock }] = await Promise.all([
    import('ioredis'),
    import('../../adapters/redis.js'),
    import('../../adapters/redlock.js'),
  ]);
  // ioredis rejects connect() with a bare "Connection is closed."; the cause (ECONNREFUSED, host
  // and port) arrives as an `error` event first: keep it for the message.
  const causes = new Map<string, Error>();
  const clients = urls.map((url) => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
    client.on('error', (error: Error) => causes.set(url, error));
    return client;
  });
  const close = async () => {
    for (const client of clients) client.disconnect();
  };
  // A Redlock quorum tolerates a minority of unreachable nodes; a single Redis does not.
  const connected = await Promise.allSettled(clients.map((client) => client.connect()));
  const failed = connected.flatMap((c, i) => (c.status === 'rejected' ? [{ url: urls[i] as string, reason: c.reason as Error }] : []));
  if (failed.length > 0 && (kind === 'redis' || failed.length >= urls.length / 2)) {
    await close();
    const described = failed.map(({ url, reason }) => {
      const cause = causes.get(url) ?? reason;
      return { url, cause, code: (cause as NodeJS.ErrnoException).code ?? 'ECONNECTION' };
    });
    const detail = described.map(({ url, cause }) => `${redact(url)}: ${cause.message}`).join('; ');
    const what = kind === 'redis' ? 'Redis' : `a Redlock quorum (${failed.length} of ${urls.length} nodes unreachable)`;
    const [first] = described;
    throw new LockTargetError(name, urls.map(redact).join(','), `cannot reach ${what} at ${detail}`, first?.code ?? 'ECONNECTION', {
      cause: first?.cause,
    });
  }
  const adapter = kind === 'redis' ? redisLock({ client: clients[0] as never }) : redlockLock({ clients: clients as never });
  return { name, location: urls.map(redact).join(','), inspect: () => adapter.inspect(name), close };
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
