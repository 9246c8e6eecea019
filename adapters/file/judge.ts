/**
 * How a candidate judges what it finds in a lock directory: whether a holder is live, dead or
 * stale, and whether a claim was abandoned. Time is only ever our own monotonic clock (memory.ts).
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { HolderIdentity } from '../../src/adapter.js';
import { describeOwner, isHolderDead, octal } from '../../src/adapter-kit.js';
import { type LockMemory, monotonicNow } from './memory.js';
import { claimToken, readRecord, readRecordOrWhy, type StateFile, versionOf } from './state.js';

export type Verdict =
  | { kind: 'live'; holder: HolderIdentity }
  | { kind: 'vanished' }
  | { kind: 'dead' | 'self' }
  | { kind: 'corrupt'; why: string }
  | { kind: 'unreadable'; why: string }
  | { kind: 'stale'; mtimeNs: bigint; unreadable?: string };

/**
 * Judges the held state file `current`. A holder on this host whose process died is taken over
 * at once; any other is stale once we have seen one version of its file, unchanged, for longer
 * than its TTL (a renew's utimes makes a new version). A file that is not a record is taken over at
 * once; one we may not read (no candidate writes such a file, but we cannot tell) is timed like a
 * holder's, by our own `ttl`, as it might be renewed.
 */
export async function judgeHeld(
  dir: string,
  current: StateFile,
  holder: HolderIdentity,
  memory: LockMemory,
  ttl: number,
): Promise<Verdict> {
  const path = join(dir, current.file);
  const [record, version] = await Promise.all([readRecordOrWhy(path).catch(unreadableOrGone), versionOf(path)]);
  const at = monotonicNow();
  if (record === null || version === null) return { kind: 'vanished' };
  if ('corrupt' in record) return { kind: 'corrupt', why: record.corrupt };
  const unchanged = memory.unchangedFor(`${current.file}:${version.key}`, at);
  const expired = (lease: number) => unchanged > lease + timestampGranularity(version.mtimeNs);
  if ('unreadable' in record) {
    const why = `${record.unreadable}; ${await ownerAndMode(path)}`;
    return expired(ttl) ? { kind: 'stale', mtimeNs: version.mtimeNs, unreadable: why } : { kind: 'unreadable', why };
  }
  memory.sawHolder(current.token, record.ttl, record.holder, at);
  if (record.holder.id === holder.id) return { kind: 'self' };
  if (isHolderDead(record.holder) === true) return { kind: 'dead' };
  if (expired(record.ttl)) return { kind: 'stale', mtimeNs: version.mtimeNs };
  return { kind: 'live', holder: record.holder };
}

/** The warning to give when taking over `file` (in `dir`, at `token`) on `verdict`, if any. */
export function takeoverWarning(dir: string, file: string, token: number, verdict: Verdict | null): string | null {
  const path = join(dir, file);
  if (verdict?.kind === 'corrupt') return `[primacy] [file] corrupt state file ${path} (${verdict.why}): treated as stale and reclaimed`;
  if (verdict?.kind === 'stale' && verdict.unreadable)
    return `[primacy] [file] unreadable state file ${path} (${verdict.unreadable}): unchanged for longer than the TTL, reclaimed`;
  if (verdict?.kind === 'stale') return `[primacy] [file] lease ${token} in ${dir} expired without a release: reclaimed`;
  return null;
}

/** The warning while an unreadable state file blocks the lock: what is wrong, and when it is taken over. */
export function unreadableWarning(dir: string, file: string, why: string, ttl: number): string {
  return (
    `[primacy] [file] cannot read the state file ${join(dir, file)} (${why}): every candidate writes its state files 0644, ` +
    `so another user or program put it there; it is reclaimed once it has stayed unchanged for the TTL (${ttl} ms). ` +
    'Remove it, or make the lock directory writable by the candidates only'
  );
}

/** A state file that cannot be read: null if it is gone (a claim took it), what the file system said if we may not read it. */
function unreadableOrGone(error: NodeJS.ErrnoException): null | { unreadable: string } {
  if (error.code === 'ENOENT') return null;
  if (error.code === 'EACCES' || error.code === 'EPERM') return { unreadable: `${error.code}: permission denied` };
  throw error; // EMFILE, EIO...: ours or the disk's, not the file's; reported and retried
}

async function ownerAndMode(path: string): Promise<string> {
  const stats = await lstat(path).catch(() => null);
  return stats ? `owned by ${describeOwner(stats.uid)}, mode ${octal(stats.mode)}` : 'gone since';
}

/**
 * How coarse the filesystem's timestamps may be, judged from one mtime: whole seconds mean a
 * filesystem that keeps seconds (ext3, HFS+, ext4 with 128-byte inodes) or two (FAT). There, renews
 * within one granule leave the version unchanged, so a live holder can look silent for a granule
 * plus its renew interval: a holder is stale only after its TTL plus that granule. (One fine mtime
 * in a thousand falls on a whole second by chance: it only delays one takeover.)
 */
function timestampGranularity(mtimeNs: bigint): number {
  return mtimeNs % 1_000_000_000n === 0n ? 2000 : 0;
}

/** Whether the file we claimed (judged stale at `mtimeNs`) was renewed between our look and our claim. */
export async function renewedSince(claimedPath: string, mtimeNs: bigint): Promise<boolean> {
  const version = await versionOf(claimedPath);
  return version !== null && version.mtimeNs !== mtimeNs;
}

/** Notes the version of a state file we just installed, as a look at it would: other instances of this process time its expiry from now. */
export async function observeInstalled(dir: string, file: string, memory: LockMemory): Promise<void> {
  const version = await versionOf(join(dir, file));
  if (version) memory.unchangedFor(`${file}:${version.key}`, monotonicNow());
}

/**
 * A claim (listed at `at`) that has stayed for longer than `ttl`: its claimant crashed or stalled
 * between two syscalls. Recovering it is safe however slow the claimant is, since it must prove
 * its claim before holding (transition.ts). Its token is the one in its name, else in its record.
 */
export async function abandonedClaim(
  dir: string,
  claims: readonly string[],
  ttl: number,
  memory: LockMemory,
  at: number,
): Promise<{ file: string; token: number } | null> {
  const ages = memory.claimAges(claims, at);
  for (const file of claims) {
    if ((ages.get(file) ?? 0) <= ttl) continue;
    const named = claimToken(file);
    if (named !== null) return { file, token: named };
    const record = await readRecord(join(dir, file)).catch(() => null);
    return { file, token: record && record !== 'corrupt' ? record.token : 0 };
  }
  return null;
}
