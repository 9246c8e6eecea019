import { bounded } from './_internal/bounded.js';
import { checksFor } from './_internal/checks.js';
import type { Lease, LockAdapter, RunOutcome } from './adapter.js';
import { defaultOutcomeLock } from './default-lock.js';
import { type Election, elect } from './elector.js';
import { PrimacyError } from './errors.js';
import { type ResolvedRunOnceOptions, type RunOnceOptions, resolveRunOnceOptions } from './run-once-options.js';
import { type PrimacyLog, primacyLog, withoutInfo } from './structured-log.js';

export type { RunOnceOptions } from './run-once-options.js';

/** What the function run once receives. */
export interface RunOnceContext {
  /** Aborts if this process loses the lock mid-run (then another process may run the task again). */
  readonly signal: AbortSignal;
  /** The fencing token of this attempt. */
  readonly token: number;
  readonly lease: Lease;
}

export type RunOnceResult<T> =
  /** This process ran the task; `value` is what it returned. */
  | { readonly ran: true; readonly value: T; readonly outcome: RunOutcome }
  /** Another process ran it (now, or in an earlier deploy). */
  | { readonly ran: false; readonly outcome: RunOutcome };

/** The task failed in the process that ran it; `outcome` says who and why. */
export class RunOnceFailedError extends PrimacyError {
  override name = 'RunOnceFailedError';
  readonly task: string;
  readonly outcome: RunOutcome;
  constructor(task: string, outcome: RunOutcome) {
    const { pid, hostname } = outcome.holder;
    super(
      'ERR_PRIMACY_RUN_FAILED',
      `[primacy] [runOnce] "${task}" failed in pid ${pid} on ${hostname}: ${outcome.error ?? 'unknown error'}`,
    );
    this.task = task;
    this.outcome = outcome;
  }
}

type Task<T> = (context: RunOnceContext) => T | Promise<T>;
type OutcomeLock = LockAdapter & Required<Pick<LockAdapter, 'readOutcome' | 'writeOutcome'>>;

/**
 * Runs `fn` in exactly one of the processes that call `runOnce(name, ...)` — migrations at deploy
 * time. The others wait (bounded by `waitTimeout`, logging whom they wait for) until it completed,
 * and reject with `RunOnceFailedError` if it failed. If the runner crashes, another process runs
 * it. The outcome is stored next to the lock, so later calls (the next deploy, a restarted process)
 * return at once with `ran: false`; a task that failed is run again by a later call.
 */
export async function runOnce<T>(name: string, fn: Task<T>, options: RunOnceOptions = {}): Promise<RunOnceResult<Awaited<T>>> {
  const settings = resolveRunOnceOptions(options);
  const check = checksFor('runOnce()', 'runOnce');
  if (typeof fn !== 'function') check.fail('fn', fn, 'a function');
  const lock = options.lock ?? defaultOutcomeLock();
  if (typeof lock.readOutcome !== 'function' || typeof lock.writeOutcome !== 'function') {
    check.fail('lock', lock.kind, 'a lock that stores outcomes (file, redis, redlock or memory)');
  }
  // pino: a child bound with the task's name; each line adds its token, holder, status...
  const log = primacyLog(settings.logger, { primacy: { runOnce: name } });
  try {
    const before = await readOutcome(lock as OutcomeLock, name, settings.ttl);
    if (before?.status === 'completed') return tookOutcome(name, before, log, 'already');
    return await new OneRun(name, fn, lock as OutcomeLock, settings, before, log).result();
  } finally {
    if (options.lock === undefined) await lock.close?.();
  }
}

/** Another process ran it: say so, and whose outcome this call returns. */
function tookOutcome(name: string, outcome: RunOutcome, log: PrimacyLog, when: 'already' | 'meanwhile') {
  const { pid, hostname } = outcome.holder;
  const { token, status } = outcome;
  const durationMs = outcome.finishedAt - outcome.startedAt;
  const by = `pid ${pid} on ${hostname} (token ${token}, ${durationMs} ms)`;
  const what = when === 'already' ? `already completed by ${by}` : `completed by ${by} while this process waited`;
  log.info(`[primacy] [runOnce] "${name}": ${what}; not run here`, { status, token, holder: { pid, hostname }, durationMs });
  return { ran: false, outcome } as const;
}

function readOutcome(lock: OutcomeLock, name: string, ttl: number): Promise<RunOutcome | null> {
  return bounded(lock.readOutcome(name), { ms: ttl, adapter: lock.kind, operation: 'readOutcome' });
}

/** One call's campaign: every caller campaigns; whoever is elected reads the outcome, then runs or returns. */
class OneRun<T> {
  readonly #election: Election;
  readonly #waitingSince = Date.now();
  #running = false;

  constructor(
    readonly name: string,
    readonly fn: Task<T>,
    readonly lock: OutcomeLock,
    readonly settings: ResolvedRunOnceOptions,
    /** The outcome seen before campaigning: a failure recorded later is this deploy's answer. */
    readonly before: RunOutcome | null,
    readonly log: PrimacyLog,
  ) {
    // Signals are left to the application: a killed runner is replaced (dead-holder detection or TTL).
    const { ttl, identity } = settings;
    // The election's own info ("elected primary of ...") would be wrong here: a waiter is elected
    // only to read the outcome. runOnce says what each process did; problems still get through.
    const { logger } = settings;
    const quiet = logger === false ? false : withoutInfo(logger);
    this.#election = elect({ name, lock, ttl, identity, logger: quiet, handleSignals: false });
  }

  async result(): Promise<RunOnceResult<Awaited<T>>> {
    const { progressInterval, waitTimeout, signal } = this.settings;
    const timers: NodeJS.Timeout[] = [];
    try {
      return await new Promise((resolve, reject) => {
        this.#election.whilePrimary((termSignal, lease) => this.#attempt(termSignal, lease).then(resolve, reject));
        timers.push(setInterval(() => void this.#logProgress(), progressInterval));
        const timeout = `[primacy] [runOnce] "${this.name}" did not complete within waitTimeout (${waitTimeout} ms)`;
        timers.push(setTimeout(() => !this.#running && reject(new PrimacyError('ERR_PRIMACY_RUN_TIMEOUT', timeout)), waitTimeout));
        signal?.addEventListener('abort', () => !this.#running && reject(signal.reason), { once: true });
        if (signal?.aborted) reject(signal.reason);
      });
    } finally {
      for (const timer of timers) clearTimeout(timer);
      // Releasing wakes the next waiter at once: it is elected, reads the outcome and returns.
      await this.#election.stop();
    }
  }

  async #attempt(signal: AbortSignal, lease: Lease): Promise<RunOnceResult<Awaited<T>>> {
    const current = await readOutcome(this.lock, this.name, this.settings.ttl);
    if (current?.status === 'completed') return tookOutcome(this.name, current, this.log, 'meanwhile');
    if (current?.status === 'failed' && current.token !== this.before?.token) throw new RunOnceFailedError(this.name, current);
    this.#running = true;
    this.log.info(`[primacy] [runOnce] "${this.name}": running in pid ${process.pid} (token ${lease.token})`, { token: lease.token });
    const startedAt = Date.now();
    let value: Awaited<T> | undefined;
    let failure: unknown;
    let failed = false;
    try {
      value = await this.fn({ signal, token: lease.token, lease });
    } catch (error) {
      [failure, failed] = [error, true];
    }
    const error = failed ? { error: failure instanceof Error ? failure.message : String(failure) } : {};
    const ended: RunOutcome = {
      status: failed ? 'failed' : 'completed',
      token: lease.token,
      holder: lease.holder,
      startedAt,
      finishedAt: Date.now(),
      ...error,
    };
    // Recorded only while the lease is still ours: a runner that lost it must not claim the result.
    const recorded = this.#election.isPrimary && (await this.lock.writeOutcome(lease, ended).catch(() => false));
    if (!recorded) {
      const message = `[primacy] [runOnce] "${this.name}" lost its lock while running: the outcome was not recorded, another process may run it`;
      throw new PrimacyError('ERR_PRIMACY_REVOKED', message, { cause: failure });
    }
    const durationMs = ended.finishedAt - startedAt;
    const fields = { status: ended.status, token: lease.token, durationMs, ...(failed ? { err: failure } : {}) };
    this.log.info(`[primacy] [runOnce] "${this.name}": ${ended.status} in ${durationMs} ms`, fields);
    if (failed) throw failure;
    return { ran: true, value: value as Awaited<T>, outcome: ended };
  }

  async #logProgress(): Promise<void> {
    if (this.#running) return;
    const record = await this.#election.leader().catch(() => null);
    const holder = record?.state === 'held' && record.holder ? { pid: record.holder.pid, hostname: record.holder.hostname } : undefined;
    const who = holder ? `pid ${holder.pid} on ${holder.hostname}` : 'a runner';
    const waitedMs = Date.now() - this.#waitingSince;
    this.log.info(`[primacy] [runOnce] "${this.name}": waiting for ${who} (${Math.round(waitedMs / 1000)} s)`, { holder, waitedMs });
  }
}
