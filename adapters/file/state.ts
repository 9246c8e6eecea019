/**
 * The on-disk protocol of the file lock. A lock is a directory holding one *state file* named
 * `<token>.held` or `<token>.free` (JSON: the holder's record). Every transition is one atomic,
 * conditional syscall, so no step can overwrite someone else's state:
 *
 * - genesis: create(`0.free`) with O_EXCL, in an empty directory: every transition starts with a claim;
 * - claim:   rename(`<T>.<state>`, `.claim-<T>-<me>`): of several claimants exactly one succeeds;
 * - install: link(`.tmp-<me>`, `<T+1>.held`): exclusive create with complete content;
 * - prove:   unlink(`.claim-<T>-<me>`): fails if a stalled claim was recovered by another
 *            candidate meanwhile; the claimant then removes what it installed (see transition.ts);
 * - renew:   utimes(`<T>.held`): fails once the file was claimed away, so a lost lease is never
 *            renewed back to life;
 * - release: rename(`<T>.held`, `<T>.free`): a compare-and-delete, a no-op if no longer ours.
 *
 * The token lives in the file name (the claim's too), so it strictly increases across holders and
 * restarts, and a garbled file cannot make it go back.
 */
import { randomUUID } from 'node:crypto';
import { link, lstat, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { HolderIdentity } from '../../src/adapter.js';
import { readNoFollow, writeNewFile } from './files.js';

export interface StateFile {
  readonly token: number;
  readonly state: 'held' | 'free';
  readonly file: string;
}

export interface StoredRecord {
  readonly v: 1;
  readonly name: string;
  readonly token: number;
  readonly holder: HolderIdentity;
  readonly acquiredAt: number;
  readonly ttl: number;
  /** The claim file this state was installed from, which stays until its claimant proves it (absent in records of 0.1.0). */
  readonly claim?: string;
}

export interface Scan {
  /** The state file with the highest token (lower ones are leftovers, ignored). */
  readonly current: StateFile | null;
  readonly leftovers: readonly StateFile[];
  /** Claim files: a transition in progress (or abandoned by a crashed claimant). */
  readonly claims: readonly string[];
}

// Tokens are safe integers (up to 16 digits); a name beyond Number.MAX_SAFE_INTEGER is not ours.
const STATE_FILE = /^(\d{1,16})\.(held|free)$/;
// `.claim-<T>-<uuid>`; claims made before the token was in the name are `.claim-<uuid>`.
const CLAIM_FILE = /^\.claim-(\d{1,16})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GENESIS = '0.free';

/** The token of the state a claim file was claimed from, or null for an old-style name. */
export function claimToken(file: string): number | null {
  const match = CLAIM_FILE.exec(file);
  const token = Number(match?.[1]);
  return match && Number.isSafeInteger(token) ? token : null;
}

export async function scan(dir: string): Promise<Scan> {
  const names = await readdir(dir);
  const states: StateFile[] = [];
  const claims: string[] = [];
  for (const file of names) {
    const match = STATE_FILE.exec(file);
    const token = Number(match?.[1]);
    if (match && Number.isSafeInteger(token)) states.push({ token, state: match[2] as 'held' | 'free', file });
    else if (file.startsWith('.claim-')) claims.push(file);
  }
  states.sort((a, b) => b.token - a.token);
  return { current: states[0] ?? null, leftovers: states.slice(1), claims };
}

/** Why a state file is not one of our records. */
export interface Corrupt {
  readonly corrupt: string;
}

/** The record in `file`, or `'corrupt'` if it is not one of ours (garbled, truncated, foreign, oversized, not a regular file). */
export async function readRecord(path: string): Promise<StoredRecord | 'corrupt'> {
  const record = await readRecordOrWhy(path);
  return 'corrupt' in record ? 'corrupt' : record;
}

/**
 * The record in `file`, or what is wrong with it. Throws what the file system says otherwise:
 * ENOENT (gone), EACCES (unreadable: not a file any candidate wrote, yet one we cannot judge).
 */
export async function readRecordOrWhy(path: string): Promise<StoredRecord | Corrupt> {
  let text: string;
  try {
    text = await readNoFollow(path);
  } catch (error) {
    // A directory, FIFO or symlink planted under a state file's name is never followed or read.
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'ELOOP') return { corrupt: 'a symbolic link, never followed' };
    if (code === 'EISDIR' || code === 'EINVAL') return { corrupt: 'not a regular file' };
    if (code === 'EFBIG') return { corrupt: message.slice(path.length + 1) };
    throw error;
  }
  try {
    const record = JSON.parse(text) as StoredRecord;
    const ok =
      record?.v === 1 &&
      Number.isSafeInteger(record.token) &&
      typeof record.holder?.id === 'string' &&
      Number.isInteger(record.holder.pid) &&
      Number.isFinite(record.ttl);
    return ok ? record : { corrupt: 'JSON, but not a state record' };
  } catch {
    return { corrupt: 'not JSON (garbled or foreign)' };
  }
}

/**
 * Moves `file` out of the way under a name only we know, carrying `token` (the token the claimant
 * goes on from). Null if someone else got there first.
 */
export async function claim(dir: string, file: string, token: number): Promise<string | null> {
  const claimed = `.claim-${token}-${randomUUID()}`;
  try {
    await rename(join(dir, file), join(dir, claimed));
    return claimed;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Atomically creates `<token>.held` with `record` as its content. False if it already exists.
 * Others start counting the lease when they first see this file, which is after the holder
 * started its own, shorter, deadline.
 */
export async function install(dir: string, record: StoredRecord): Promise<boolean> {
  const tmp = join(dir, `.tmp-${randomUUID()}`);
  await writeNewFile(tmp, JSON.stringify(record)); // removes what it wrote if the write fails (ENOSPC)
  try {
    await link(tmp, join(dir, `${record.token}.held`));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/**
 * Gives an empty directory its first state, `0.free`, so that the first holder goes through a
 * claim like every other one: candidates that remember different token floors then still race
 * for one file instead of each installing its own `<floor+1>.held`.
 */
export async function createGenesis(dir: string): Promise<void> {
  try {
    await writeNewFile(join(dir, GENESIS), '');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** The genesis state, as `scan` would report it. */
export const genesis: StateFile = { token: 0, state: 'free', file: GENESIS };

/**
 * What identifies one version of a state file: every renew's utimes changes mtime and ctime, a
 * reinstall changes the inode. Null if the file is gone.
 */
export async function versionOf(path: string): Promise<{ key: string; mtimeNs: bigint } | null> {
  try {
    const info = await lstat(path, { bigint: true }); // a planted symlink's target is not the state file
    return { key: `${info.ino}:${info.mtimeNs}:${info.ctimeNs}`, mtimeNs: info.mtimeNs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The file's mtime in wall-clock ms, or null if it is gone. */
export async function mtimeOf(path: string): Promise<number | null> {
  try {
    return (await lstat(path)).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** rename that reports a missing source as `false` instead of throwing. */
export async function renameIfPresent(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Removes state files below the current token (left by crashed claimants or released terms), and
 * claims of states two or more tokens back: their claimant crashed after installing (or stalled so
 * long that its install was superseded; removing its claim makes it back out). Except the claim the
 * current state was installed from: a claimant that remembered a higher token than the state it
 * claimed (the directory was deleted) installs above claim + 1, and is proving that claim right now.
 */
export async function removeLeftovers(dir: string, current: StateFile | null, leftovers: readonly StateFile[], claims: readonly string[]) {
  let obsolete = current ? claims.filter((file) => (claimToken(file) ?? Number.POSITIVE_INFINITY) + 1 < current.token) : [];
  if (current && obsolete.length > 0) {
    const record = await readRecord(join(dir, current.file)).catch(() => null);
    // Unreadable (claimed away meanwhile): its claim cannot be told apart, so remove none this time.
    obsolete = record === null ? [] : obsolete.filter((file) => record === 'corrupt' || file !== record.claim);
  }
  const files = [...leftovers.map((s) => s.file), ...obsolete];
  await Promise.all(files.map((file) => unlink(join(dir, file)).catch(() => undefined)));
}
