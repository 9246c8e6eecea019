import { EventEmitter } from 'node:events';
import { bounded } from './_internal/bounded.js';
import { type Clock, monotonicClock } from './_internal/clock.js';
import { retryDelay, settleWithin, withJitter } from './_internal/delay.js';
import { registerLiveElection } from './_internal/live-elections.js';
import { Nap, type SleepKind } from './_internal/nap.js';
import { stopOnAbort, stopOnSignals } from './_internal/signals.js';
import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord } from './adapter.js';
import { defaultElectionLock } from './default-lock.js';
import { PrimacyError } from './errors.js';
import { type ElectionEvents, probed, type RevokeReason } from './events.js';
import { failureWarning } from './failure-warning.js';
import { createHolderIdentity } from './identity.js';
import { LeaderObserver } from './leader-observer.js';
import { type ElectionOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { electionBindings, type PrimacyLog, primacyLog } from './structured-log.js';
import { type PrimaryWork, WorkRunner } from './work.js';

/** A running election for one lock name. Create with `elect()`. */
export class Election extends EventEmitter<ElectionEvents> {
  readonly name: string;
  /** Resolves once the first campaign round is over (`isPrimary` is then meaningful). */
  readonly ready: Promise<void>;
  readonly holder: HolderIdentity;
  readonly #options: ResolvedOptions;
  readonly #lock: LockAdapter;
  readonly #ownsLock: boolean;
  readonly #clock: Clock;
  readonly #log: PrimacyLog;
  readonly #context: AdapterCallContext;
  readonly #work: WorkRunner;
  readonly #cleanups: Array<() => void> = [];
  #lease: Lease | null = null;
  #deadline = Number.NEGATIVE_INFINITY;
  #deadlineTimer: NodeJS.Timeout | undefined;
  readonly #leader: LeaderObserver;
  readonly #nap = new Nap();
  /** campaigning → draining (stop() called: no new campaign; the lease renewed while work settles) → ended. */
  #phase: 'campaigning' | 'draining' | 'ended' = 'campaigning';
  #stopPromise: Promise<void> | undefined;
  /** The give-back of a lease lost by expiry or by the adapter's word, awaited before campaigning again. */
  #giveBack: Promise<void> = Promise.resolve();
  #markReady!: () => void;
  readonly #loop: Promise<void>;

  constructor(options: ElectionOptions) {
    super();
    this.#options = resolveOptions(options);
    this.name = this.#options.name;
    this.#ownsLock = options.lock === undefined;
    this.#lock = options.lock ?? defaultElectionLock();
    this.#clock = options.clock ?? monotonicClock;
    this.holder = createHolderIdentity(this.#options.identity);
    this.#log = primacyLog(options.logger, electionBindings(this.name, this.holder, this.#lock.kind));
    this.#context = this.#log.context;
    this.#work = new WorkRunner((error) => this.#report(error, 'whilePrimary work'));
    const report = (error: unknown, operation: string) => this.#report(error, operation);
    this.#leader = new LeaderObserver({ lock: this.#lock, name: this.name, timeout: this.#options.ttl, events: this, report });
    this.ready = new Promise((resolve) => (this.#markReady = resolve));
    this.#cleanups.push(registerLiveElection(this));
    if (this.#lock.watch) this.#cleanups.push(this.#lock.watch(this.name, () => this.#onHint()));
    if (this.#options.handleSignals) this.#cleanups.push(stopOnSignals(() => this.stop()));
    if (options.signal) this.#cleanups.push(stopOnAbort(options.signal, () => this.stop()));
    this.#loop = this.#run();
  }

  /**
   * Whether this process is primary *now*: true only while the lease is valid by this process's
   * own monotonic clock. Computed on every read, so a process that was paused past its deadline
   * reads `false` before any of its timers runs.
   */
  get isPrimary(): boolean {
    const lease = this.#lease;
    // isIntact: the adapter's synchronous word that nothing it saw (a closed connection) voids the lease.
    return lease !== null && this.#clock.now() < this.#deadline && this.#lock.isIntact?.(lease) !== false;
  }

  /** The fencing token of the current lease, or undefined when not primary. Pass it to storage. */
  get token(): number | undefined {
    return this.isPrimary ? this.#lease?.token : undefined;
  }

  /** The current lease while primary, else null. */
  get lease(): Lease | null {
    return this.isPrimary ? this.#lease : null;
  }

  /** True once `stop()` was called (or the signal aborted): the election no longer campaigns. */
  get stopped(): boolean {
    return this.#phase !== 'campaigning';
  }

  /**
   * Runs `work` every time this process becomes primary. Its signal aborts when leadership is lost
   * or the election stops; `stop()` releases the lock only after the work has settled (bounded by
   * `stopTimeout`). Returns a function that unregisters `work` for future terms.
   */
  whilePrimary(work: PrimaryWork): () => void {
    return this.#work.add(work);
  }

  /** The lock's current record (holder identity, token, expiry), straight from the backend. */
  leader(): Promise<LockRecord | null> {
    return this.#lock.inspect(this.name);
  }

  /** Stops campaigning; aborts and awaits the work, then releases the lock (compare-and-delete). */
  stop(): Promise<void> {
    this.#stopPromise ??= this.#shutdown();
    return this.#stopPromise;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #shutdown(): Promise<void> {
    this.#phase = 'draining';
    this.#nap.wakeFollower();
    // Keep renewing while the work drains: it may still write with its fencing token.
    this.#work.end(new PrimacyError('ERR_PRIMACY_STOPPING', `[primacy] election "${this.name}" is stopping`));
    const drained = await settleWithin(this.#work.settled(), this.#options.stopTimeout);
    if (drained === 'timeout') this.#log.warn(`[primacy] work of "${this.name}" did not settle within stopTimeout; releasing anyway`);
    this.#phase = 'ended';
    this.#nap.end();
    await this.#loop;
    const lease = this.#lease;
    if (lease) {
      // Leadership ends here, before the release: nobody may see the next `elected` before this `revoked`.
      this.#clearLease();
      this.emit('revoked', { reason: 'stopped', lease });
      await this.#releaseQuietly(lease);
    }
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    if (this.#ownsLock) await this.#lock.close?.();
    this.#markReady();
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#phase !== 'ended') {
      if (this.#lease === null) {
        if (this.#phase === 'draining') break;
        const outcome = await this.#campaign(failures);
        this.#markReady();
        if (outcome === 'elected') continue;
        failures = outcome === 'error' ? failures + 1 : 0;
        const idle = outcome === 'held' ? this.#lock.idleRetry?.(this.name) : 0; // the adapter wakes us meanwhile
        await this.#pause(retryDelay(failures, this.#options, idle), 'follower-retry');
      } else {
        const outcome = await this.#renewWhenDue(failures);
        failures = outcome === 'error' ? failures + 1 : 0;
      }
    }
  }

  async #campaign(failures: number): Promise<'elected' | 'held' | 'error'> {
    const { ttl, drift } = this.#options;
    await this.#giveBack;
    const start = this.#clock.now();
    let lease: Lease | null;
    try {
      // An answer later than the TTL is useless (the lease would be expired): give it back.
      const attempt = this.#lock.acquire(this.name, this.holder, ttl, this.#context);
      const giveBack = (late: Lease | null) => late && void this.#releaseQuietly(late);
      lease = await probed(this, attempt, { ms: ttl, adapter: this.#lock.kind, operation: 'acquire', onLate: giveBack });
    } catch (error) {
      this.#report(error, 'acquire', failures + 1);
      return 'error';
    }
    if (lease === null) {
      await this.#leader.observe();
      return 'held';
    }
    const deadline = start + ttl - drift;
    // Paused mid-acquire past the deadline, stopped meanwhile, or made on a connection closed since: not safe to use.
    if (this.#clock.now() >= deadline || this.#phase !== 'campaigning' || this.#lock.isIntact?.(lease) === false) {
      await this.#releaseQuietly(lease);
      return 'held';
    }
    this.#lease = lease;
    this.#setDeadline(deadline);
    this.#log.info(`[primacy] elected primary of "${this.name}" with token ${lease.token}`, { token: lease.token });
    this.emit('elected', lease);
    this.#leader.note(this.holder);
    this.#work.begin(lease);
    return 'elected';
  }

  async #renewWhenDue(failures: number): Promise<'ok' | 'error'> {
    const { renewInterval, retryInterval, jitter, ttl, drift } = this.#options;
    const due = failures === 0 ? renewInterval : Math.min(renewInterval, retryInterval / 4);
    await this.#pause(withJitter(due, jitter), 'renew-wait');
    const lease = this.#lease;
    if (lease === null || this.#phase === 'ended') return 'ok';
    const start = this.#clock.now();
    if (start >= this.#deadline) {
      this.#loseLeadership('expired');
      return 'ok';
    }
    let renewed: Lease | null;
    try {
      const attempt = this.#lock.renew(lease, ttl, this.#context);
      // A late answer comes after the deadline: revoked goes out before the late lease is given back.
      const giveBack = (late: Lease | null) => {
        this.#expireIfDue();
        if (late) void this.#releaseQuietly(late);
      };
      const ms = Math.max(1, this.#deadline - start);
      renewed = await probed(this, attempt, { ms, adapter: this.#lock.kind, operation: 'renew', onLate: giveBack });
    } catch (error) {
      this.#report(error, 'renew', failures + 1);
      return 'error';
    }
    if (this.#lease !== lease) {
      // Leadership already ended while the renew was in flight: give the lock back.
      if (renewed) await this.#releaseQuietly(renewed);
      return 'ok';
    }
    const deadline = start + ttl - drift;
    if (renewed === null) this.#loseLeadership('lost');
    else if (this.#clock.now() >= deadline) this.#loseLeadership('expired');
    else {
      this.#lease = renewed;
      this.#setDeadline(deadline);
    }
    return 'ok';
  }

  #setDeadline(deadline: number): void {
    this.#deadline = deadline;
    clearTimeout(this.#deadlineTimer);
    // Fires revoked on time even when a renew hangs; isPrimary never depends on it.
    this.#deadlineTimer = setTimeout(() => this.#expireIfDue(), Math.max(0, deadline - this.#clock.now()) + 1).unref();
  }

  /** Ends leadership the adapter no longer vouches for (`lost`), or whose deadline has passed (`expired`). */
  #expireIfDue(): void {
    const lease = this.#lease;
    if (lease === null) return;
    if (this.#lock.isIntact?.(lease) === false) this.#loseLeadership('lost');
    else if (this.#clock.now() >= this.#deadline) this.#loseLeadership('expired');
  }

  #clearLease(): void {
    this.#lease = null;
    this.#deadline = Number.NEGATIVE_INFINITY;
    clearTimeout(this.#deadlineTimer);
  }

  #loseLeadership(reason: RevokeReason): void {
    const lease = this.#lease;
    if (lease === null) return;
    this.#clearLease();
    this.#work.end(new PrimacyError('ERR_PRIMACY_REVOKED', `[primacy] leadership of "${this.name}" ${reason}`));
    this.#log.warn(`[primacy] lost leadership of "${this.name}" (${reason}), token ${lease.token}`, { token: lease.token, reason });
    this.emit('revoked', { reason, lease });
    // Give it back (compare-and-delete: a no-op once it is someone else's). A lease that merely
    // lapsed may still be recorded as ours, and the adapter drops what it kept for it (the file
    // lock's beacon socket, which would otherwise keep followers waiting on a holder gone).
    this.#giveBack = this.#releaseQuietly(lease);
    if (this.#options.onLoss === 'exit') {
      this.#log.error(`[primacy] exiting: leadership of "${this.name}" ${reason} and onLoss is 'exit'`, { token: lease.token, reason });
      process.exit(1);
    }
    // Campaign again at once: the loop may be in its renew wait, which hints do not end.
    this.#nap.wakeAny();
  }

  async #releaseQuietly(lease: Lease): Promise<void> {
    try {
      await bounded(this.#lock.release(lease, this.#context), { ms: this.#options.ttl, adapter: this.#lock.kind, operation: 'release' });
    } catch (error) {
      this.#report(error, 'release');
    }
  }

  #pause(ms: number, kind: SleepKind): Promise<void> {
    return this.#phase !== 'campaigning' && kind === 'follower-retry' ? Promise.resolve() : this.#nap.sleep(ms, kind);
  }

  /**
   * A hint from the adapter: a follower campaigns now; a primary whose lease the adapter no longer
   * vouches for (its connection closed) steps down now, wherever the loop is (mid-renew included).
   */
  #onHint(): void {
    if (this.#lease === null) this.#nap.wakeFollower();
    else this.#expireIfDue();
  }

  #report(error: unknown, operation: string, attempt?: number): void {
    this.#log.warn(failureWarning(operation, this.name, error), { err: error, operation, attempt });
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

/** Starts an election for `options.name` and returns its live handle. */
export function elect(options: ElectionOptions): Election {
  return new Election(options);
}
