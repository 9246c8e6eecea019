import { lstat, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { HolderIdentity } from '../../src/adapter.js';
import { fileSystemError } from '../../src/adapter-kit.js';
import { PrimacyBackendError } from '../../src/errors.js';
import { readRecord, renameIfPresent, scan } from './state.js';
import { untrustedLink } from './trusted-path.js';

/** What `forceReleaseLockDir` released. */
export interface ForcedRelease {
  readonly dir: string;
  readonly token: number;
  /** The holder whose lease was released, or null if its state file was unreadable. */
  readonly holder: HolderIdentity | null;
}

/**
 * Releases a lock on its holder's behalf (`lock-status --release`): the same compare-and-delete
 * rename as a normal release, `<T>.held` → `<T>.free`. A live holder notices at its next renew
 * (its `utimes` on `<T>.held` fails) and steps down. With `token`, only that lease is released, so
 * a lease that changed hands since the operator looked is left alone. Resolves null when there
 * was nothing (left) to release; `dir` in the result is the lock directory's real path.
 */
export async function forceReleaseLockDir(dir: string, options: { token?: number } = {}): Promise<ForcedRelease | null> {
  try {
    let current: Awaited<ReturnType<typeof scan>>['current'];
    try {
      ({ current } = await scan(dir));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    if (current?.state !== 'held') return null;
    const real = await realLockDir(dir);
    if (options.token !== undefined && current.token !== options.token) return null;
    const held = join(real, current.file);
    // The content of `<T>.held` never changes (it is installed with link()), so reading it first is safe.
    const record = await readRecord(held).catch(() => 'corrupt' as const);
    if (!(await renameIfPresent(held, join(real, `${current.token}.free`)))) return null;
    return { dir: real, token: current.token, holder: record === 'corrupt' ? null : record.holder };
  } catch (error) {
    throw fileSystemError('file', 'force-release', dir, error);
  }
}

/**
 * The real path of the lock directory `dir`. As root, an operator would otherwise rename files in
 * whatever directory a planted link names: a link in its place is refused, and so is one of another
 * user's on the way to it (/tmp → /private/tmp, root's, is fine: the real path is what is released).
 */
async function realLockDir(dir: string): Promise<string> {
  if ((await lstat(dir)).isSymbolicLink()) {
    const problem = `${dir}: it is a symbolic link (to ${await readlink(dir)}); give the directory it points to, if that is really the lock`;
    throw new PrimacyBackendError('file', 'force-release', problem);
  }
  const link = untrustedLink(dir);
  if (link !== null) {
    const problem = `${dir}: ${link}; give the real path (${await realpath(dir)}), if that is really the lock`;
    throw new PrimacyBackendError('file', 'force-release', problem);
  }
  return realpath(dir);
}
