/**
 * One claim of one firing on a task's lock: take the lock for a moment, read the task's claims, add
 * this firing unless someone already has, give the lock back. Mutual exclusion comes from the lock
 * and the write is a compare-and-set on its lease (`writeOutcome`), so of several instances that
 * claim one firing, one sees it free and writes; the others then see it claimed.
 */
import { bounded } from '../_internal/bounded.js';
import type { Lease, LockAdapter } from '../adapter.js';
import { PrimacyError } from '../errors.js';
import { createHolderIdentity } from '../identity.js';
import { DEFAULTS } from '../options.js';
import { type Firing, verdictOf, withClaim } from './cron-firings.js';

/** A lock that stores outcomes: every adapter primacy ships but `env`. */
export type ClaimLock = LockAdapter & Required<Pick<LockAdapter, 'readOutcome' | 'writeOutcome'>>;

export interface Claim {
  readonly lock: ClaimLock;
  readonly lockName: string;
  readonly firing: Firing;
  /** The lease of the task's lock while claiming, ms. */
  readonly ttl: number;
  /** `performance.now()` by which to have decided; past it, the firing is skipped with an error. */
  readonly deadline: number;
  /** `identity` label, shown by `lock-status` while a claim holds the lock. */
  readonly label: string | undefined;
  /** Receives a failed release (after the decision, which stands). */
  readonly report: (error: unknown) => void;
}

/** How long a claimer waits for a busy lock before trying again, when no wake-up comes first (ms, plus up to as much again). */
const POLL = 25;

/** Resolves true when this process claimed `claim.firing` and must run it, false when another did or will not. */
export async function claimFiring(claim: Claim): Promise<boolean> {
  const { lock, lockName } = claim;
  let stopWatching: (() => void) | undefined;
  let wake: (() => void) | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0 && performance.now() >= claim.deadline) throw stillHeld(claim);
      // Most instances arrive after the first one claimed: they decide without taking the lock.
      if (verdictOf(await call(claim, 'readOutcome', lock.readOutcome(lockName)), claim.firing, lockName) !== 'free') return false;
      const start = performance.now();
      const holder = createHolderIdentity(claim.label); // new id per claim: never mistaken for another claim's lease
      const giveBack = (late: Lease | null) => late && void releaseOf(lock, late).catch(claim.report);
      const lease = await call(claim, 'acquire', lock.acquire(lockName, holder, claim.ttl), giveBack);
      if (lease) {
        const decision = await decide(claim, lease, start);
        if (decision !== 'lost') return decision === 'claimed';
        continue; // lost the lease mid-claim: whoever took it may have claimed; look again
      }
      if (!stopWatching && lock.watch) stopWatching = lock.watch(lockName, () => wake?.());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(POLL * (1 + Math.random()), Math.max(0, claim.deadline - performance.now())));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    stopWatching?.();
  }
}

/** With the lock held: claim the firing, or see it claimed; `lost` if the lease ended meanwhile. */
async function decide(claim: Claim, lease: Lease, start: number): Promise<'claimed' | 'refused' | 'lost'> {
  const { lock, lockName, firing, ttl } = claim;
  // As the elector: the lease is ours until start + ttl − drift by our own monotonic clock.
  const leaseEnd = start + ttl - (ttl * DEFAULTS.driftFactor + 2);
  const intact = () => performance.now() < leaseEnd && lock.isIntact?.(lease) !== false;
  try {
    if (!intact()) return 'lost';
    const record = await call(claim, 'readOutcome', lock.readOutcome(lockName));
    if (verdictOf(record, firing, lockName) !== 'free') return 'refused';
    if (!intact()) return 'lost';
    if (!(await call(claim, 'writeOutcome', lock.writeOutcome(lease, withClaim(record, firing, lease, lease.holder, lockName)))))
      return 'lost';
    if (!intact()) {
      // Written, but this process stalled past its lease meanwhile: the write may have raced
      // another claimer's. The firing stays claimed, so nobody runs it: fail closed.
      throw new PrimacyError(
        'ERR_PRIMACY_CRON_STALLED',
        `[primacy] [cron] the claim of firing "${firing.key}" outlived its ${ttl} ms lease on lock "${lockName}" (this process stalled): skipped here`,
      );
    }
    return 'claimed';
  } finally {
    // The firing's claim is in the record, whatever happens to the lock now: a failed release only
    // makes the next claimers wait (or, past their timeout, skip), it never allows a second run.
    const ms = Math.max(500, claim.deadline - performance.now());
    await bounded(releaseOf(lock, lease), { ms, adapter: lock.kind, operation: 'release' }).catch(claim.report);
  }
}

/**
 * `lock.release(lease)` as a promise even when a hand-written adapter throws synchronously: the
 * throw would otherwise crash the host from a late lease's give-back, or undo a decision taken.
 */
function releaseOf(lock: ClaimLock, lease: Lease): Promise<void> {
  try {
    return Promise.resolve(lock.release(lease));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** `operation` bounded by what is left of the claim's time. */
function call<T>(claim: Claim, operation: string, promise: Promise<T>, onLate?: (value: T) => void): Promise<T> {
  const ms = Math.max(1, claim.deadline - performance.now());
  const timeoutError = () =>
    new PrimacyError(
      'ERR_PRIMACY_CRON_TIMEOUT',
      `[primacy] [cron] the ${claim.lock.kind} lock did not answer ${operation} in time: no decision on firing "${claim.firing.key}" within the coordinator's timeout, skipped here`,
    );
  return bounded(promise, { ms, adapter: claim.lock.kind, operation, timeoutError, ...(onLate && { onLate }) });
}

function stillHeld(claim: Claim): PrimacyError {
  return new PrimacyError(
    'ERR_PRIMACY_CRON_BUSY',
    `[primacy] [cron] the ${claim.lock.kind} lock "${claim.lockName}" stayed held by other claimers: no decision on firing "${claim.firing.key}" in time, skipped here`,
  );
}
