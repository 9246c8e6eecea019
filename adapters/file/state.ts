/**
 * The on-disk protocol of the file lock. A lock is a directory holding one *state file* named
 * `<token>.held` or `<token>.free` (JSON: the holder's record). Every transition is one atomic,
 * conditional syscall, so no step can overwrite someone else's state:
 *
 * - claim:   rename(`<T>.<state>`, `.claim-<me>`): of several claimants exactly one succeeds;
 * - install: link(`.tmp-<me>`, `<T+1>.held`): exclusive create with complete content;
 * - renew:   utimes(`<T>.held`): fails once the file was claimed away, so a lost lease is never
 *            renewed back to life;
 * - release: rename(`<T>.held`, `<T>.free`): a compare-and-delete, a no-op if no longer ours.
 *
 * The token lives in the file name, so it strictly increases across holders and restarts.
 */
import { randomUUID } from 'node:crypto';
import { link, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HolderIdentity } from '../../src/adapter.js';

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
}

export interface Scan {
  /** The state file with the highest token (lower ones are leftovers, ignored). */
  readonly current: StateFile | null;
  readonly leftovers: readonly StateFile[];
  /** Claim files: a transition in progress (or abandoned by a crashed claimant). */
  readonly claims: readonly string[];
}

const STATE_FILE = /^(\d{1,15})\.(held|free)$/;

export async function scan(dir: string): Promise<Scan> {
  const names = await readdir(dir);
  const states: StateFile[] = [];
  const claims: string[] = [];
  for (const file of names) {
    const match = STATE_FILE.exec(file);
    if (match) states.push({ token: Number(match[1]), state: match[2] as 'held' | 'free', file });
    else if (file.startsWith('.claim-')) claims.push(file);
  }
  states.sort((a, b) => b.token - a.token);
  return { current: states[0] ?? null, leftovers: states.slice(1), claims };
}

/** The record in `file`, or `'corrupt'` if it is not one of ours (garbled, truncated, foreign). */
export async function readRecord(path: string): Promise<StoredRecord | 'corrupt'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') return 'corrupt';
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
    return ok ? record : 'corrupt';
  } catch {
    return 'corrupt';
  }
}

/** Moves `file` out of the way under a name only we know. False if someone else got there first. */
export async function claim(dir: string, file: string): Promise<string | null> {
  const claimed = `.claim-${randomUUID()}`;
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
 * Its mtime (when others start counting the lease) is the write time, which is after the holder
 * started its own, shorter, deadline: safe without setting it.
 */
export async function install(dir: string, record: StoredRecord): Promise<boolean> {
  const tmp = join(dir, `.tmp-${randomUUID()}`);
  await writeFile(tmp, JSON.stringify(record), { flag: 'wx' });
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

/** The file's mtime in wall-clock ms, or null if it is gone. */
export async function mtimeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mtimeMs;
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

/** Removes state files below the current token (left by crashed claimants or released terms). */
export async function removeLeftovers(dir: string, leftovers: readonly StateFile[]): Promise<void> {
  await Promise.all(leftovers.map((s) => unlink(join(dir, s.file)).catch(() => undefined)));
}
