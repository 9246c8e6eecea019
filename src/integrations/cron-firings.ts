/**
 * What the node-cron coordinator remembers, and under which lock: one lock per task (never one per
 * firing, so nothing piles up in a lock directory or in Redis however long the app runs), whose
 * `runOnce` outcome record carries the task's most recently claimed firings.
 *
 * Why a list and not per-firing locks held until their lease ends: a per-firing lock is reclaimed
 * at once when its holder dies (the file lock sees the dead pid, the Redis lock the closed
 * connection), so an instance whose clock runs a second late would run the firing again after a
 * SIGKILL of the one that ran it. A claim written to the record stays, whoever dies.
 *
 * Why a list and not a high-water mark ("latest firing claimed"): one instance whose clock runs
 * ahead would then make the others skip every firing it has not claimed itself.
 */
import { createHash } from 'node:crypto';
import type { HolderIdentity, Lease, RunOutcome } from '../adapter.js';
import { PrimacyError } from '../errors.js';

/** How many claimed firings a task's record keeps; a firing older than all of them is refused. */
export const REMEMBERED_FIRINGS = 64;

/** A firing as node-cron names it: `<task name>:<scheduled time, ISO 8601 UTC>`. */
export interface Firing {
  readonly key: string;
  readonly task: string;
  /** The scheduled time, ms since the epoch (whole seconds). */
  readonly at: number;
}

/** The outcome record of a task's lock: a `runOnce` outcome, plus the claims. */
export interface ClaimRecord extends RunOutcome {
  readonly cronTask: string;
  /** Claimed firings' scheduled times, ascending, at most REMEMBERED_FIRINGS. */
  readonly cronFirings: readonly number[];
}

// node-cron 4 builds the key as `${task.name}:${slot.toISOString()}` (Runner.runCoordinated).
// The `s` flag: node-cron takes any name, line breaks included.
const KEY = /^(.+):(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)$/s;

/** The task and time of a node-cron firing key; an error (the firing is then skipped) for any other key. */
export function parseFiring(key: unknown): Firing {
  const match = typeof key === 'string' ? KEY.exec(key) : null;
  const at = Date.parse(match?.[2] ?? '');
  if (!match?.[1] || !Number.isFinite(at)) {
    const shown = typeof key === 'string' ? JSON.stringify(key.slice(0, 200)) : String(key);
    throw new PrimacyError(
      'ERR_PRIMACY_CRON_KEY',
      `[primacy] [cron] cannot coordinate the firing key ${shown}: expected "<task name>:<ISO time>" as node-cron 4 passes to shouldRun(); skipped (fail closed)`,
    );
  }
  return { key, task: match[1], at } as Firing;
}

/**
 * The lock of `task` under `namespace`: `<namespace>.<readable part>.<hash>`. The hash of the exact
 * name keeps two tasks apart even where the readable part (safe in a file name, short) is the same
 * ("a b" and "a_b"), whatever each adapter does with characters it cannot store.
 */
export function taskLockName(namespace: string, task: string): string {
  const readable = task.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48);
  const hash = createHash('sha256').update(task).digest('hex').slice(0, 12);
  return `${namespace}.${readable}.${hash}`;
}

/** What the record says of `firing`: claimed by someone, too old to tell, or free to claim. */
export function verdictOf(record: RunOutcome | null, firing: Firing, lockName: string): 'claimed' | 'too-old' | 'free' {
  const firings = claimsIn(record, firing.task, lockName);
  if (firings.includes(firing.at)) return 'claimed';
  // Claims older than the oldest kept were dropped: this one may have been among them.
  if (firings.length >= REMEMBERED_FIRINGS && firing.at < Math.min(...firings)) return 'too-old';
  return 'free';
}

/** The record after claiming `firing` (by `lease`'s holder): the newest REMEMBERED_FIRINGS claims. */
export function withClaim(record: RunOutcome | null, firing: Firing, lease: Lease, holder: HolderIdentity, lockName: string): ClaimRecord {
  const firings = [...claimsIn(record, firing.task, lockName), firing.at].sort((a, b) => a - b).slice(-REMEMBERED_FIRINGS);
  const now = Date.now();
  return {
    status: 'completed',
    token: lease.token,
    holder,
    // A claim has no duration; `lock-status` shows these as the outcome's times.
    startedAt: now,
    finishedAt: now,
    cronTask: firing.task,
    cronFirings: firings,
  };
}

/** The claimed times in `record`; an error if the record is not a claim list of `task`. */
function claimsIn(record: RunOutcome | null, task: string, lockName: string): readonly number[] {
  if (record === null) return [];
  const { cronTask, cronFirings } = record as Partial<ClaimRecord>;
  const valid = cronTask === task && Array.isArray(cronFirings) && cronFirings.every((at) => Number.isSafeInteger(at));
  if (valid) return cronFirings;
  // Never "no claims": that would let a firing already run be run again. Fail closed instead.
  throw new PrimacyError(
    'ERR_PRIMACY_CRON_RECORD',
    `[primacy] [cron] the outcome record of lock "${lockName}" is not the claim list of task "${task}" ` +
      `(another user of that lock name, or an adapter that drops fields of outcomes): firings of "${task}" are skipped until it is`,
  );
}
