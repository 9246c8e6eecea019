/**
 * `primacy start --lock SPEC`: the lock the manager holds on behalf of its workers. The same
 * lock the app's other processes use, so all of them elect one primary together.
 *   file          the default file lock (the private per-user directory), as a plain process uses
 *   file:DIR      a file lock in DIR (e.g. a directory shared with other managers or containers)
 *   redis://...   a Redis lock (primacy/redis; needs ioredis), also rediss://; without connection
 *                 binding, so a crashed manager's lease is taken over at its TTL (a crashed worker's
 *                 is still handed over at once)
 */
import type { LockAdapter } from '../adapter.js';
import { PrimacyUsageError } from '../errors.js';

export const LOCK_SPECS = 'file, file:DIR, redis://HOST:PORT or rediss://...';

export async function lockFromSpec(spec: string): Promise<LockAdapter> {
  if (spec === 'file' || spec.startsWith('file:')) {
    const { fileLock } = await import('../../adapters/file.js');
    const dir = spec.slice('file:'.length);
    if (spec !== 'file' && dir === '') throw new PrimacyUsageError('--lock file:DIR needs a directory, e.g. --lock file:/srv/locks');
    return spec === 'file' ? fileLock() : fileLock({ dir });
  }
  if (/^rediss?:\/\//.test(spec)) {
    // Loaded only here: file-lock users need not install ioredis. Not bound to the manager's
    // connection: the worker acting on the lease could not see that connection close in time.
    const { redisLock } = await import('../../adapters/redis.js');
    return redisLock({ url: spec, connectionBinding: false });
  }
  throw new PrimacyUsageError(`--lock must be one of ${LOCK_SPECS}, got "${spec}"`);
}
