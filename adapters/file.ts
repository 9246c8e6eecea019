import { lutimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord, RunOutcome } from '../src/adapter.js';
import { fileSystemError } from '../src/adapter-kit.js';
import { type AcquireRequest, attemptAcquire } from './file/attempt.js';
import { BeaconServer } from './file/beacon.js';
import { Followers } from './file/followers.js';
import { inspectLockDir } from './file/inspect.js';
import { isStillOurs, leaseDir } from './file/lease.js';
import { ensureLockDir, type LockDirPolicy } from './file/lock-dir.js';
import { memoryOf } from './file/memory.js';
import { resolveFileOptions } from './file/options.js';
import { readOutcomeFile, writeOutcomeFile } from './file/outcome.js';
import { fileLockPath } from './file/path.js';
import { renameIfPresent, scan } from './file/state.js';

export interface FileLockOptions {
  /**
   * Directory that holds the locks (each lock is a directory `primacy-<name>.lock` inside it).
   * The default is private to the user: `$XDG_RUNTIME_DIR/primacy`, else `<os.tmpdir()>/primacy-<uid>`,
   * created 0700 and refused (with an error naming its owner and mode) if anyone else owns it, can
   * write it, or put a symlink in its place (and `$XDG_RUNTIME_DIR` if it is not the user's own).
   * A directory given here is used by its real path, created 0755 if missing, and refused if others
   * could move the locks in it away: writable by every user without the sticky bit (/tmp has it),
   * owned by another user (other than root; when `shared`, one that every user can write), or
   * reached through another user's symbolic link. Several users, or containers, elect together only in a
   * directory given here, with `shared: true`. On a shared volume across hosts, failover after a crash
   * waits for expiry, timed on each candidate's own monotonic clock: the hosts' clocks need not agree.
   * @default privateRoot(): `$XDG_RUNTIME_DIR/primacy`, else `<os.tmpdir()>/primacy-<uid>`
   */
  dir?: string;
  /**
   * The lock directories are shared on purpose by several users (or containers running as several
   * uids): a shared volume, a directory of a common group. Whoever can write a lock directory can
   * take part in the election, and so can also block or forge it; these are the permissions expected:
   *
   * - `false`: each lock directory must be a real directory (never a symlink) owned by this process's
   *   user and writable by no one else (no group or other write bit); it is created 0700. Any other
   *   is refused with an error naming its path, owner, mode and the fix.
   * - `true`: each lock directory may belong to any user, but must be a real directory, writable by
   *   its owner and group only (never by others), and readable and writable by this process; it is
   *   created 02770 (group read/write; setgid so that the files inside keep the directory's group).
   *   Give the directory a group of exactly the users (or, in Kubernetes, the `fsGroup`) that take
   *   part. Files are written 0644 whatever the umask, so every member can read them.
   *
   * Either way, files inside are never opened through a symlink, so one planted in a shared
   * directory is neither read nor written through. Requires `dir`: the default directory is private.
   * @default false
   */
  shared?: boolean;
}

/**
 * The embedded default: a lock in a directory of state files (see `file/state.ts` for the
 * protocol). A holder that died on this host is taken over at once (its pid is checked, guarded
 * against reuse); any other once its state file has stayed unrenewed for its TTL, as timed by the
 * candidate's own monotonic clock (file/memory.ts), so wall-clock steps expire nobody.
 */
export function fileLock(options: FileLockOptions = {}): LockAdapter & { path(name: string): string } {
  return new FileLock(options);
}

class FileLock implements LockAdapter {
  readonly kind = 'file';
  readonly #dir: string;
  readonly #policy: LockDirPolicy;
  readonly #beacons = new Map<string, BeaconServer>();
  readonly #followers = new Followers();

  constructor(options: FileLockOptions) {
    const { dir, policy } = resolveFileOptions(options);
    this.#dir = dir;
    this.#policy = policy;
  }

  path(name: string): string {
    return fileLockPath(name, this.#dir);
  }

  async acquire(name: string, holder: HolderIdentity, ttl: number, context?: AdapterCallContext): Promise<Lease | null> {
    const dir = this.path(name);
    const request: AcquireRequest = { dir, name, holder, ttl, start: Date.now(), context }; // start: display only, expiry never reads it
    try {
      await ensureLockDir(dir, this.#policy);
      // A state file may vanish between two of our looks (someone claimed it): look again, twice at most.
      for (let pass = 0; pass < 3; pass++) {
        const attempt = await attemptAcquire(request);
        if (attempt.kind === 'look-again') continue;
        if (attempt.kind === 'wait') return this.#followers.follow(dir, attempt.holder, attempt.token);
        this.#beacon(dir, attempt.lease.token).open();
        return attempt.lease;
      }
      return null;
    } catch (error) {
      throw fileSystemError('file', 'acquire', dir, error);
    }
  }

  async renew(lease: Lease, ttl: number): Promise<Lease | null> {
    const dir = leaseDir(lease);
    const now = new Date();
    try {
      if (!(await isStillOurs(lease))) return this.#lost(dir);
      await lutimes(join(dir, `${lease.token}.held`), now, now); // a symlink planted in its place is not followed
      const { current } = await scan(dir);
      if (current?.token !== lease.token || current.state !== 'held') return this.#lost(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.#lost(dir);
      throw fileSystemError('file', 'renew', dir, error);
    }
    this.#beacon(dir, lease.token).open();
    return { ...lease, renewedAt: now.getTime(), ttl };
  }

  async release(lease: Lease): Promise<void> {
    const dir = leaseDir(lease);
    try {
      if (!(await isStillOurs(lease))) return;
      if (await renameIfPresent(join(dir, `${lease.token}.held`), join(dir, `${lease.token}.free`))) memoryOf(dir).sawRelease(lease.token);
    } catch (error) {
      throw fileSystemError('file', 'release', dir, error);
    } finally {
      await this.#beacons.get(dir)?.close();
    }
  }

  writeOutcome(lease: Lease, outcome: RunOutcome): Promise<boolean> {
    return writeOutcomeFile(leaseDir(lease), lease, outcome);
  }

  readOutcome(name: string): Promise<RunOutcome | null> {
    return readOutcomeFile(this.path(name));
  }

  async inspect(name: string): Promise<LockRecord | null> {
    return inspectLockDir(this.path(name), name);
  }

  watch(name: string, onChange: () => void): () => void {
    return this.#followers.watch(this.path(name), onChange);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#beacons.values()].map((beacon) => beacon.close()));
    this.#beacons.clear();
    this.#followers.close();
  }

  async #lost(dir: string): Promise<null> {
    await this.#beacons.get(dir)?.close();
    return null;
  }

  /** The beacon of our lease `token` in `dir` (a former lease's, if any, is closed: that lease is over). */
  #beacon(dir: string, token: number): BeaconServer {
    const existing = this.#beacons.get(dir);
    if (existing?.token === token && !existing.closed) return existing;
    void existing?.close();
    const beacon = new BeaconServer(dir, token, this.#policy.shared);
    this.#beacons.set(dir, beacon);
    return beacon;
  }
}

export { fileLockPath, inspectLockDir };
