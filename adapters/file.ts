import { accessSync, constants, statSync } from 'node:fs';
import { stat, unlink, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mkdirp, mkdirpSync } from '../src/_internal/mkdirp.js';
import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord, RunOutcome } from '../src/adapter.js';
import { PrimacyConfigError } from '../src/errors.js';
import { isHolderDead } from '../src/identity.js';
import { fileBackendError } from './file/backend-error.js';
import { BeaconServer, BeaconWatch, beaconAddress } from './file/beacon.js';
import { inspectLockDir } from './file/inspect.js';
import { readOutcomeFile, writeOutcomeFile } from './file/outcome.js';
import { fileLockPath } from './file/path.js';
import {
  claim,
  install,
  mtimeOf,
  readRecord,
  removeLeftovers,
  renameIfPresent,
  type StateFile,
  type StoredRecord,
  scan,
} from './file/state.js';

export interface FileLockOptions {
  /**
   * Directory that holds the locks (each lock is a directory `primacy-<name>.lock` inside it).
   * Use a shared volume to elect across containers on several hosts (then failover after a crash
   * waits for expiry; keep the hosts' clocks in sync).
   * @default os.tmpdir()
   */
  dir?: string;
}

type Verdict =
  | { kind: 'live'; holder: HolderIdentity }
  | { kind: 'vanished' }
  | { kind: 'dead' | 'self' | 'corrupt' }
  | { kind: 'stale'; ttl: number };

/**
 * The embedded default: a lock in a directory of state files (see `file/state.ts` for the
 * protocol). A holder that died on this host is taken over at once (its pid is checked, guarded
 * against reuse); a holder elsewhere is taken over once its lease has expired.
 */
export function fileLock(options: FileLockOptions = {}): LockAdapter & { path(name: string): string } {
  return new FileLock(options);
}

class FileLock implements LockAdapter {
  readonly kind = 'file';
  readonly #dir: string;
  readonly #ready = new Set<string>();
  readonly #beacons = new Map<string, BeaconServer>();
  readonly #watches = new Map<string, { watch: BeaconWatch; listeners: Set<() => void>; holder: HolderIdentity | null }>();

  constructor(options: FileLockOptions) {
    if (typeof options !== 'object' || options === null) throw new PrimacyConfigError('options', options, 'an object', 'file');
    const dir = options.dir ?? tmpdir();
    if (typeof dir !== 'string' || dir === '') throw new PrimacyConfigError('dir', dir, 'a directory path', 'file');
    try {
      mkdirpSync(dir);
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      accessSync(dir, constants.W_OK);
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      throw new PrimacyConfigError('dir', dir, `a writable directory (${code ?? message})`, 'file');
    }
    this.#dir = resolve(dir);
  }

  path(name: string): string {
    return fileLockPath(name, this.#dir);
  }

  async acquire(name: string, holder: HolderIdentity, ttl: number, context?: AdapterCallContext): Promise<Lease | null> {
    const dir = this.path(name);
    const start = new Date();
    try {
      await this.#ensureDir(dir);
      // A state file may vanish between two of our looks (someone claimed it): look again.
      for (let pass = 0; pass < 3; pass++) {
        const lease = await this.#tryAcquire(dir, name, holder, ttl, start, context);
        if (lease !== 'again') return lease;
      }
      return null;
    } catch (error) {
      throw fileBackendError('acquire', dir, error);
    }
  }

  async #tryAcquire(
    dir: string,
    name: string,
    holder: HolderIdentity,
    ttl: number,
    start: Date,
    context?: AdapterCallContext,
  ): Promise<Lease | null | 'again'> {
    const { current, leftovers, claims } = await scan(dir);
    if (leftovers.length > 0) await removeLeftovers(dir, leftovers);
    let previousToken = 0;
    let claimed: string | null = null;
    if (current === null) {
      if (claims.length > 0) {
        const stuck = await this.#abandonedClaim(dir, claims, ttl);
        if (!stuck) return this.#follow(dir, null);
        claimed = await claim(dir, stuck.file);
        if (!claimed) return 'again';
        // Skip a token: the abandoned claimant may still install the one after it.
        previousToken = stuck.token + 1;
        context?.warn?.(`[primacy] [file] recovered an abandoned claim in ${dir}`);
      }
    } else {
      if (current.state === 'held') {
        const verdict = await this.#judge(dir, current, holder);
        if (verdict.kind === 'vanished') return 'again';
        if (verdict.kind === 'live') return this.#follow(dir, verdict.holder);
        claimed = await claim(dir, current.file);
        if (!claimed) return 'again';
        if (verdict.kind === 'stale' && (await this.#renewedSince(join(dir, claimed), verdict.ttl))) {
          // The holder renewed between our look and our claim: it is alive, give its file back.
          await renameIfPresent(join(dir, claimed), join(dir, current.file));
          return this.#follow(dir, null);
        }
        if (verdict.kind === 'corrupt')
          context?.warn?.(`[primacy] [file] corrupt state file ${join(dir, current.file)}: treated as stale and reclaimed`);
        else if (verdict.kind === 'stale')
          context?.warn?.(`[primacy] [file] lease ${current.token} in ${dir} expired without a release: reclaimed`);
      } else {
        claimed = await claim(dir, current.file);
        if (!claimed) return 'again';
      }
      previousToken = current.token;
    }
    const record: StoredRecord = { v: 1, name, token: previousToken + 1, holder, acquiredAt: start.getTime(), ttl };
    const installed = await install(dir, record);
    if (claimed) await unlink(join(dir, claimed)).catch(() => undefined);
    if (!installed) return 'again';
    this.#beacon(dir).open();
    const time = start.getTime();
    return { name, token: record.token, holder, acquiredAt: time, renewedAt: time, ttl, data: { dir } };
  }

  async renew(lease: Lease, ttl: number): Promise<Lease | null> {
    const { dir } = lease.data as { dir: string };
    const now = new Date();
    try {
      await utimes(join(dir, `${lease.token}.held`), now, now);
      const { current } = await scan(dir);
      if (current?.token !== lease.token || current.state !== 'held') return this.#lost(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.#lost(dir);
      throw fileBackendError('renew', dir, error);
    }
    this.#beacon(dir).open();
    return { ...lease, renewedAt: now.getTime(), ttl };
  }

  async release(lease: Lease): Promise<void> {
    const { dir } = lease.data as { dir: string };
    try {
      await renameIfPresent(join(dir, `${lease.token}.held`), join(dir, `${lease.token}.free`));
    } catch (error) {
      throw fileBackendError('release', dir, error);
    } finally {
      this.#beacons.get(dir)?.close();
    }
  }

  writeOutcome(lease: Lease, outcome: RunOutcome): Promise<boolean> {
    return writeOutcomeFile((lease.data as { dir: string }).dir, lease, outcome);
  }

  readOutcome(name: string): Promise<RunOutcome | null> {
    return readOutcomeFile(this.path(name));
  }

  async inspect(name: string): Promise<LockRecord | null> {
    return inspectLockDir(this.path(name), name);
  }

  watch(name: string, onChange: () => void): () => void {
    const dir = this.path(name);
    let entry = this.#watches.get(dir);
    if (!entry) {
      const listeners = new Set<() => void>();
      const created = {
        listeners,
        holder: null as HolderIdentity | null,
        watch: new BeaconWatch(beaconAddress(dir), () => this.#holderGone(dir)),
      };
      this.#watches.set(dir, created);
      entry = created;
    }
    entry.listeners.add(onChange);
    const { listeners, watch } = entry;
    return () => {
      listeners.delete(onChange);
      if (listeners.size > 0) return;
      watch.close();
      this.#watches.delete(dir);
    };
  }

  async close(): Promise<void> {
    for (const beacon of this.#beacons.values()) beacon.close();
    this.#beacons.clear();
    for (const { watch } of this.#watches.values()) watch.close();
    this.#watches.clear();
  }

  async #judge(dir: string, current: StateFile, holder: HolderIdentity): Promise<Verdict> {
    const path = join(dir, current.file);
    const [record, mtime] = await Promise.all([readRecord(path).catch(() => null), mtimeOf(path)]);
    if (record === null || mtime === null) return { kind: 'vanished' };
    if (record === 'corrupt') return { kind: 'corrupt' };
    if (record.holder.id === holder.id) return { kind: 'self' };
    if (isHolderDead(record.holder) === true) return { kind: 'dead' };
    if (Date.now() - mtime > record.ttl) return { kind: 'stale', ttl: record.ttl };
    return { kind: 'live', holder: record.holder };
  }

  async #renewedSince(claimedPath: string, ttl: number): Promise<boolean> {
    const mtime = await mtimeOf(claimedPath);
    return mtime !== null && Date.now() - mtime <= ttl;
  }

  /** A claim older than a lease whose claimant never finished (crashed between two syscalls). */
  async #abandonedClaim(dir: string, claims: readonly string[], ttl: number): Promise<{ file: string; token: number } | null> {
    for (const file of claims) {
      const path = join(dir, file);
      const [info, record] = await Promise.all([stat(path).catch(() => null), readRecord(path).catch(() => null)]);
      // rename() updates ctime, not mtime: ctime is when the claim was made.
      if (!info || Date.now() - info.ctimeMs <= ttl) continue;
      return { file, token: record && record !== 'corrupt' ? record.token : 0 };
    }
    return null;
  }

  #follow(dir: string, holder: HolderIdentity | null): null {
    const entry = this.#watches.get(dir);
    if (entry) {
      if (holder) entry.holder = holder;
      entry.watch.follow();
    }
    return null;
  }

  /** The beacon closed: wait (briefly) until the lock is free or its holder's pid is dead, then wake. */
  async #holderGone(dir: string): Promise<void> {
    const entry = this.#watches.get(dir);
    if (!entry) return;
    const { holder } = entry;
    // The kernel closes sockets a moment before the process becomes a zombie.
    for (let waited = 0; holder && waited < 100; waited += 2) {
      if (isHolderDead(holder) !== false) break;
      const { current } = await scan(dir).catch(() => ({ current: null }));
      if (current?.state !== 'held') break;
      await new Promise((r) => setTimeout(r, 2));
    }
    for (const listener of entry.listeners) listener();
  }

  #lost(dir: string): null {
    this.#beacons.get(dir)?.close();
    return null;
  }

  #beacon(dir: string): BeaconServer {
    const existing = this.#beacons.get(dir);
    if (existing) return existing;
    const beacon = new BeaconServer(beaconAddress(dir));
    this.#beacons.set(dir, beacon);
    return beacon;
  }

  async #ensureDir(dir: string): Promise<void> {
    if (this.#ready.has(dir)) {
      // Cheap check that a temp-dir cleaner did not remove it.
      if (
        await stat(dir).then(
          () => true,
          () => false,
        )
      )
        return;
    }
    await mkdirp(dir);
    this.#ready.add(dir);
  }
}

export { fileLockPath, inspectLockDir };
