import { lutimes } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, privateDirRefusal, privateRoot } from '../src/_internal/private-dir.js';
import { optionKeys, rejectUnknownKeys } from '../src/_internal/unknown-keys.js';
import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord, RunOutcome } from '../src/adapter.js';
import { PrimacyConfigError } from '../src/errors.js';
import { fileBackendError } from './file/backend-error.js';
import { BeaconServer } from './file/beacon.js';
import { checkedDir, dirRecheck } from './file/dir-option.js';
import { Followers } from './file/followers.js';
import { inspectLockDir } from './file/inspect.js';
import {
  abandonedClaim,
  judgeHeld,
  observeInstalled,
  renewedSince,
  takeoverWarning,
  unreadableWarning,
  type Verdict,
} from './file/judge.js';
import { isStillOurs, leaseDir } from './file/lease.js';
import { ensureLockDir, type LockDirPolicy } from './file/lock-dir.js';
import { memoryOf, monotonicNow } from './file/memory.js';
import { readOutcomeFile, writeOutcomeFile } from './file/outcome.js';
import { fileLockPath } from './file/path.js';
import { claim, claimToken, createGenesis, genesis, removeLeftovers, renameIfPresent, scan } from './file/state.js';
import { installClaimed } from './file/transition.js';
import { mustWaitAfterVanish } from './file/vanish.js';

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

/** One acquire attempt's request; `start` is wall-clock ms, recorded for display only. */
interface Want {
  readonly name: string;
  readonly holder: HolderIdentity;
  readonly ttl: number;
  readonly start: number;
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
    if (typeof options !== 'object' || options === null) throw new PrimacyConfigError('options', options, 'an object', 'file');
    rejectUnknownKeys(options, optionKeys<FileLockOptions>({ dir: true, shared: true }), { call: 'fileLock()', scope: 'file' });
    const { dir, shared = false } = options;
    if (dir !== undefined && (typeof dir !== 'string' || dir === '')) throw new PrimacyConfigError('dir', dir, 'a directory path', 'file');
    if (typeof shared !== 'boolean') throw new PrimacyConfigError('shared', shared, 'a boolean', 'file');
    if (shared && dir === undefined)
      throw new PrimacyConfigError(
        'shared',
        shared,
        'given with `dir` (a directory the users share): the default directory is private',
        'file',
      );
    if (dir === undefined) {
      const root = privateRoot();
      ensurePrivateDir(root);
      this.#dir = root;
      this.#policy = { shared, explicit: false, recheck: () => privateDirRefusal(root) };
      return;
    }
    const real = checkedDir(dir, shared);
    this.#dir = real;
    this.#policy = { shared, explicit: true, recheck: () => dirRecheck(real, shared) };
  }

  path(name: string): string {
    return fileLockPath(name, this.#dir);
  }

  async acquire(name: string, holder: HolderIdentity, ttl: number, context?: AdapterCallContext): Promise<Lease | null> {
    const dir = this.path(name);
    const want: Want = { name, holder, ttl, start: Date.now() }; // display only: expiry never reads it
    try {
      await ensureLockDir(dir, this.#policy);
      // A state file may vanish between two of our looks (someone claimed it): look again.
      for (let pass = 0; pass < 3; pass++) {
        const lease = await this.#tryAcquire(dir, want, context);
        if (lease !== 'again') return lease;
      }
      return null;
    } catch (error) {
      throw fileBackendError('acquire', dir, error);
    }
  }

  async #tryAcquire(dir: string, want: Want, context?: AdapterCallContext): Promise<Lease | null | 'again'> {
    const memory = memoryOf(dir);
    const { current: found, leftovers, claims } = await scan(dir);
    const at = monotonicNow(); // after the look: whatever it saw happened before
    for (const state of leftovers) memory.raise(state.token);
    if (found) memory.sawState(found.token, at);
    for (const file of claims) memory.raise(claimToken(file) ?? 0);
    if (leftovers.length > 0 || (found && claims.length > 0)) await removeLeftovers(dir, found, leftovers, claims);
    if (found === null && claims.length > 0) return this.#recoverClaim(dir, want, claims, at, context);
    if (found === null && mustWaitAfterVanish(memory, dir, 0, want.holder, at, context)) return this.#follow(dir, null);
    if (found === null) await createGenesis(dir);
    const current = found ?? genesis;
    let verdict: Verdict | null = null;
    if (current.state === 'held') {
      verdict = await judgeHeld(dir, current, want.holder, memory, want.ttl);
      if (verdict.kind === 'vanished') return 'again';
      if (verdict.kind === 'live') return this.#follow(dir, verdict.holder, current.token);
      if (verdict.kind === 'unreadable') {
        if (memory.once(`unreadable:${current.file}`)) context?.warn?.(unreadableWarning(dir, current.file, verdict.why, want.ttl));
        return this.#follow(dir, null, current.token);
      }
    } else memory.sawRelease(current.token);
    if (mustWaitAfterVanish(memory, dir, current.token, want.holder, at, context)) return this.#follow(dir, null);
    const claimed = await claim(dir, current.file, current.token);
    if (!claimed) return 'again';
    if (verdict?.kind === 'stale' && (await renewedSince(join(dir, claimed), verdict.mtimeNs))) {
      // The holder renewed between our look and our claim: it is alive, give its file back.
      await renameIfPresent(join(dir, claimed), join(dir, current.file));
      return this.#follow(dir, null, current.token);
    }
    const warning = takeoverWarning(dir, current.file, current.token, verdict);
    if (warning !== null) context?.warn?.(warning);
    return this.#install(dir, claimed, current.token, want);
  }

  /** No state file, only claims: follow the transition in progress, or recover it once abandoned. */
  async #recoverClaim(
    dir: string,
    want: Want,
    claims: readonly string[],
    at: number,
    context?: AdapterCallContext,
  ): Promise<Lease | null | 'again'> {
    const memory = memoryOf(dir);
    const stuck = await abandonedClaim(dir, claims, want.ttl, memory, at);
    if (!stuck || mustWaitAfterVanish(memory, dir, stuck.token, want.holder, at, context)) return this.#follow(dir, null);
    // Skip a token: the stalled claimant may still install the one after it (and then back out).
    const claimed = await claim(dir, stuck.file, stuck.token + 1);
    if (!claimed) return 'again';
    context?.warn?.(`[primacy] [file] recovered an abandoned claim in ${dir}`);
    return this.#install(dir, claimed, stuck.token + 1, want);
  }

  /** Installs the next token above `previous` (and above any token seen here) from our claim. */
  async #install(dir: string, claimed: string, previous: number, want: Want): Promise<Lease | null | 'again'> {
    const { name, holder, ttl, start } = want;
    const memory = memoryOf(dir);
    const token = Math.max(previous, memory.floor) + 1;
    // A token the next scan could not read back would make the lock look free.
    if (!Number.isSafeInteger(token))
      throw new Error(`token ${token} is beyond Number.MAX_SAFE_INTEGER: remove the lock directory's foreign state files`);
    const outcome = await installClaimed(dir, { v: 1, name, token, holder, acquiredAt: start, ttl, claim: claimed }, claimed);
    if (outcome === 'taken') return 'again';
    if (outcome === 'lost') return this.#follow(dir, null);
    memory.sawHolder(token, ttl, holder, monotonicNow());
    await observeInstalled(dir, `${token}.held`, memory).catch(() => undefined);
    this.#beacon(dir, token).open();
    return { name, token, holder, acquiredAt: start, renewedAt: start, ttl, data: { dir } };
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
      throw fileBackendError('renew', dir, error);
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
      throw fileBackendError('release', dir, error);
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

  /** Follows the holder of `dir`: `token` names its beacon (null: not known now, the last one seen is kept). */
  #follow(dir: string, holder: HolderIdentity | null, token: number | null = null): null {
    return this.#followers.follow(dir, holder, token);
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
