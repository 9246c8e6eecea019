/**
 * How a candidate judges what it finds in a lock directory: whether a holder is live, dead or
 * stale, and whether a claim was abandoned. Time is only ever our own monotonic clock (memory.ts).
 */
import { join } from 'node:path';
import type { HolderIdentity } from '../../src/adapter.js';
import { isHolderDead } from '../../src/identity.js';
import { type LockMemory, monotonicNow } from './memory.js';
import { claimToken, readRecord, type StateFile, versionOf } from './state.js';

export type Verdict =
  | { kind: 'live'; holder: HolderIdentity }
  | { kind: 'vanished' }
  | { kind: 'dead' | 'self' | 'corrupt' }
  | { kind: 'stale'; mtimeNs: bigint };

/**
 * Judges the held state file `current`. A holder on this host whose process died is taken over
 * at once; any other is stale once we have seen one version of its file, unchanged, for longer
 * than its TTL (a renew's utimes makes a new version).
 */
export async function judgeHeld(dir: string, current: StateFile, holder: HolderIdentity, memory: LockMemory): Promise<Verdict> {
  const path = join(dir, current.file);
  const [record, version] = await Promise.all([readRecord(path).catch(() => null), versionOf(path)]);
  const at = monotonicNow();
  if (record === null || version === null) return { kind: 'vanished' };
  if (record === 'corrupt') return { kind: 'corrupt' };
  memory.sawHolder(current.token, record.ttl, record.holder, at);
  if (record.holder.id === holder.id) return { kind: 'self' };
  if (isHolderDead(record.holder) === true) return { kind: 'dead' };
  const unchanged = memory.unchangedFor(`${current.file}:${version.key}`, at);
  if (unchanged > record.ttl + timestampGranularity(version.mtimeNs)) return { kind: 'stale', mtimeNs: version.mtimeNs };
  return { kind: 'live', holder: record.holder };
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
