import { checksFor } from '../_internal/checks.js';
import { optionKeys } from '../_internal/unknown-keys.js';
import type { Lease } from '../adapter.js';
import type { Election } from '../elector.js';
import { PrimacyError } from '../errors.js';
import { type CronEngine, type EngineJob, prepareJob } from './cron-engines.js';
import { checkElection } from './election-check.js';

export { type PrimacyRunCoordinator, type RunCoordinatorOptions, runCoordinator } from './cron-coordinator.js';
export type { CronEngine } from './cron-engines.js';

/** What a guarded run receives: the term it runs in. */
export interface PrimaryRun {
  /** Aborts when leadership is lost or the election (or the job) stops while the run is in flight. */
  readonly signal: AbortSignal;
  /** The fencing token of the term: pass it to storage that can reject stale writers. */
  readonly token: number;
  readonly lease: Lease;
  /** When the engine fired this run: its scheduled time plus timer delay (`primaryOnly`: when it was called). */
  readonly firedAt: Date;
}

export interface PrimaryCronOptions {
  /** @default 'croner' */
  engine?: CronEngine;
  /** IANA time zone of the pattern (one the engine does not know is refused at the call). @default the process's */
  timezone?: string;
  /** A name for the job, shown in the engine's registry and in error reports. */
  name?: string;
  /** Skip a tick while the previous run is still going (croner `protect`, node-cron `noOverlap`). @default false */
  protect?: boolean;
  /**
   * Receives errors thrown by a run, and the engine's if it fails to start the schedule for a term
   * (that term then runs no schedule; the next one tries again).
   * @default the election's `error` event if it has a listener, else `console.error`
   */
  onError?: (error: unknown) => void;
}

export interface PrimaryCronJob {
  /** Stops the job for good: the current term's schedule ends and in-flight runs are aborted. */
  stop(): void;
  /** Whether the cron schedule is running now (this process is primary and the job not stopped). */
  readonly scheduled: boolean;
  /** Runs started by this process so far, across terms. */
  readonly runs: number;
}

const CRON_KEYS = optionKeys<PrimaryCronOptions>({ engine: true, timezone: true, name: true, protect: true, onError: true });

/**
 * Runs a cron job only on the primary: the schedule starts each time `election` is won and stops when
 * it is lost; a run still in flight then gets an aborted signal, and the lock is released only after
 * it settled (bounded by the election's `stopTimeout`).
 */
export function scheduleWhilePrimary(
  election: Election,
  pattern: string,
  fn: (run: PrimaryRun) => unknown,
  options: PrimaryCronOptions = {},
): PrimaryCronJob {
  checkElection(election, 'cron');
  const check = checksFor('scheduleWhilePrimary()', 'cron');
  if (typeof pattern !== 'string' || pattern.trim() === '') check.fail('pattern', pattern, 'a cron pattern string');
  if (typeof fn !== 'function') check.fail('fn', fn, 'a function');
  check.options(options, CRON_KEYS);
  const engine = check.oneOf('engine', options.engine ?? undefined, ['croner', 'node-cron'], 'croner');
  const { timezone, name, protect, onError } = options;
  check.text('name', name, undefined);
  check.flag('protect', protect, undefined);
  check.callback('onError', onError);
  const startJob = prepareJob(engine, pattern, { timezone, name, protect });
  const job = name ?? pattern;
  const report = (error: unknown) => {
    if (onError === undefined) return reportError(election, job, error);
    try {
      onError(error);
    } catch (thrown) {
      reportError(election, job, thrown); // onError's own failure must not go unseen either
    }
  };
  const halt = new AbortController();
  let scheduled = false;
  let runs = 0;

  const unregister = election.whilePrimary(async (termSignal, lease) => {
    const signal = AbortSignal.any([termSignal, halt.signal]);
    if (signal.aborted) return;
    const inFlight = new Set<Promise<unknown>>();
    let engineJob: EngineJob;
    try {
      engineJob = startJob(onTick);
    } catch (error) {
      // Not the election's to log as failed work: the job's own errors go to onError.
      report(error);
      return;
    }
    function onTick(firedAt: Date): void {
      // A process resumed from a pause past its lease reads isPrimary false before the revoke runs.
      if (signal.aborted || !election.isPrimary) return;
      runs += 1;
      const run = (async () => fn({ signal, token: lease.token, lease, firedAt }))().catch((error: unknown) => {
        if (!(signal.aborted && error === signal.reason)) report(error);
      });
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
    }
    scheduled = true;
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    engineJob.stop();
    scheduled = false;
    await Promise.allSettled([...inFlight]);
  });

  return {
    stop() {
      unregister();
      halt.abort(new PrimacyError('ERR_PRIMACY_STOPPING', `[primacy] [cron] job "${job}" stopped`));
    },
    get scheduled() {
      return scheduled;
    },
    get runs() {
      return runs;
    },
  };
}

/**
 * Wraps `fn` so it runs only while this process is primary; elsewhere the call resolves `undefined`
 * without running it. `fn` receives the term's fencing token and a signal that aborts if leadership
 * is lost before it settles.
 */
export function primaryOnly<A extends unknown[], R>(
  election: Election,
  fn: (run: PrimaryRun, ...args: A) => R,
): (...args: A) => Promise<Awaited<R> | undefined> {
  checkElection(election, 'cron');
  if (typeof fn !== 'function') checksFor('primaryOnly()', 'cron').fail('fn', fn, 'a function');
  return async (...args: A): Promise<Awaited<R> | undefined> => {
    const lease = election.lease;
    if (lease === null) return undefined;
    const controller = new AbortController();
    const onRevoked = () => controller.abort(new PrimacyError('ERR_PRIMACY_REVOKED', `[primacy] leadership of "${election.name}" ended`));
    election.once('revoked', onRevoked);
    try {
      return await fn({ signal: controller.signal, token: lease.token, lease, firedAt: new Date() }, ...args);
    } finally {
      election.off('revoked', onRevoked);
    }
  };
}

function reportError(election: Election, job: string, error: unknown): void {
  if (election.listenerCount('error') > 0) election.emit('error', error);
  else console.error(`[primacy] [cron] a run of job "${job}" failed:`, error);
}
