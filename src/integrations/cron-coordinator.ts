import { checksFor, MAX_DELAY } from '../_internal/checks.js';
import { optionKeys } from '../_internal/unknown-keys.js';
import type { LockAdapter } from '../adapter.js';
import { PrimacyError } from '../errors.js';
import { type ClaimLock, claimFiring } from './cron-claim.js';
import { parseFiring, taskLockName } from './cron-firings.js';

export interface RunCoordinatorOptions {
  /**
   * Where firings are claimed: any primacy lock that stores `runOnce` outcomes (`fileLock()`,
   * `redisLock()`, `redlockLock()`, `postgresLock()`, `mysqlLock()`, `etcdLock()`, `memoryLock()`;
   * not `envLock()`). Every instance must use the same backend and `namespace`. Never closed here.
   */
  lock: LockAdapter;
  /**
   * First part of the lock names, one lock per task: `<namespace>.<task>.<hash of the task name>`.
   * @default 'node-cron'
   */
  namespace?: string;
  /**
   * The most a decision may take, in ms, waiting for the task's lock included. Past it the firing is
   * skipped here (`shouldRun` rejects, node-cron skips with reason `'coordinator-error'`). Keep it
   * below node-cron's 5 s IPC timeout if you schedule background tasks (a file path).
   * @default 3000
   */
  timeout?: number;
  /** A label for people, shown by `lock-status` while a claim holds a task's lock (a pod name). */
  identity?: string;
  /**
   * Also receives every failure to decide, with the firing key. The firing is skipped either way,
   * and node-cron logs the error through its own logger: this is for alerts and metrics.
   */
  onError?: (error: unknown, key: string) => void;
}

/** A node-cron 4 `RunCoordinator` backed by a primacy lock. */
export interface PrimacyRunCoordinator {
  /**
   * Resolves true in exactly one instance per firing `key` (`<task name>:<ISO time>`), false in the
   * others; rejects (node-cron then skips the firing here) when it cannot tell: a backend error, no
   * decision within `timeout`, a key or a stored record it does not understand.
   */
  shouldRun(key: string, ttlMs: number): Promise<boolean>;
  /** The lock a task's firings are claimed on, for `lock-status`. */
  lockName(task: string): string;
}

const KEYS = optionKeys<RunCoordinatorOptions>({ lock: true, namespace: true, timeout: true, identity: true, onError: true });
const NAMESPACE = /^[A-Za-z0-9_-]{1,32}$/;
/** The shortest lease a claim takes, whatever node-cron's `distributedLease`: the elector's own floor. */
const MIN_LEASE = 1000;

/**
 * A node-cron 4 `RunCoordinator` on a primacy lock: with `distributed: true`, each firing of a task
 * runs in one instance only, whichever instances fire it and however late. Needs node-cron 4.4.1 or
 * later (distributed mode; `distributedLease`).
 *
 * Every instance claims the firing it is about to run on the task's lock: it takes the lock for a
 * moment (a lease of node-cron's `distributedLease`, `ttlMs`), adds the firing to the task's record
 * of recent claims unless it is there already, and gives the lock back. The claim outlives the
 * lock and the process: an instance whose clock runs late, or whose timer fires late, finds the
 * firing claimed even if the instance that ran it was killed since. Firings older than the last 64
 * claimed ones of the task are refused. There is no `onComplete`: the firing's claim stays, and
 * nothing is held while it runs (node-cron's `noOverlap` stays per instance).
 *
 * Fails closed: a backend error, a stall, or no decision within `timeout` rejects, and node-cron
 * skips the firing here with reason `'coordinator-error'`, logging the error.
 *
 * @example
 * const coordinator = runCoordinator(redisLock({ url: process.env.REDIS_URL }));
 * cron.schedule('0 3 * * *', backup, { name: 'backup', distributed: true, runCoordinator: coordinator });
 */
export function runCoordinator(lockOrOptions: LockAdapter | RunCoordinatorOptions): PrimacyRunCoordinator {
  const check = checksFor('runCoordinator()', 'cron');
  const options = isLock(lockOrOptions)
    ? { lock: lockOrOptions }
    : check.options(lockOrOptions, KEYS, 'a primacy lock or an options object');
  const { lock, onError } = options;
  check.shape('lock', lock, ['acquire', 'release', 'inspect'], 'a primacy lock (fileLock(), redisLock(), ...)');
  if (typeof lock.readOutcome !== 'function' || typeof lock.writeOutcome !== 'function') {
    check.fail('lock', lock.kind, 'a lock that stores outcomes (file, redis, redlock, postgres, mysql, etcd or memory)');
  }
  const namespace = check.text('namespace', options.namespace, 'node-cron');
  if (!NAMESPACE.test(namespace)) check.fail('namespace', namespace, 'at most 32 letters, digits, `_` or `-`');
  const timeout = check.duration('timeout', options.timeout, 3000, 100);
  const label = check.text('identity', options.identity, undefined);
  check.callback('onError', onError);

  const report = (error: unknown, key: string) => {
    try {
      onError?.(error, key);
    } catch (thrown) {
      console.error('[primacy] [cron] runCoordinator onError threw:', thrown);
    }
  };
  const queues = new Map<string, Promise<unknown>>();
  // One claim at a time per task in this process: a firing never waits on its own process's lease.
  const serialized = <T>(lockName: string, claim: () => Promise<T>): Promise<T> => {
    const run = (queues.get(lockName) ?? Promise.resolve()).then(claim, claim);
    const tail = run.catch(() => undefined);
    queues.set(lockName, tail);
    void tail.then(() => queues.get(lockName) === tail && queues.delete(lockName));
    return run;
  };

  return {
    async shouldRun(key: string, ttlMs: number): Promise<boolean> {
      const deadline = performance.now() + timeout;
      try {
        const firing = parseFiring(key);
        const ttl = leaseOf(ttlMs);
        const lockName = taskLockName(namespace, firing.task);
        const claim = { lock: lock as ClaimLock, lockName, firing, ttl, deadline, label, report: (e: unknown) => report(e, key) };
        return await serialized(lockName, () => claimFiring(claim));
      } catch (error) {
        const failure = asClaimError(error, key, lock.kind);
        report(failure, key);
        throw failure;
      }
    },
    lockName: (task: string) => taskLockName(namespace, task),
  };
}

function isLock(value: unknown): value is LockAdapter {
  return typeof (value as LockAdapter | null)?.acquire === 'function';
}

/** node-cron's `distributedLease`, as the lease of a claim. */
function leaseOf(ttlMs: unknown): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    return checksFor('shouldRun()', 'cron').fail('ttlMs', ttlMs, 'a lease in ms (node-cron `distributedLease`), a finite number > 0');
  }
  return Math.min(Math.max(ttlMs, MIN_LEASE), MAX_DELAY);
}

/** Every failure as one error naming the firing; the coordinator's own errors already do. */
function asClaimError(error: unknown, key: string, kind: string): PrimacyError {
  if (error instanceof PrimacyError && error.code.startsWith('ERR_PRIMACY_CRON_')) return error;
  if (error instanceof PrimacyError && error.code === 'ERR_PRIMACY_CONFIG') return error;
  const message = error instanceof Error ? error.message : String(error);
  return new PrimacyError(
    'ERR_PRIMACY_CRON_CLAIM',
    `[primacy] [cron] could not claim firing "${key}" on the ${kind} lock: ${message}; skipped here`,
    { cause: error },
  );
}
