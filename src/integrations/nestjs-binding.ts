/**
 * One election of one Nest app: created when Nest resolves the module's providers (so it can be
 * injected into constructors), campaigning only from `onApplicationBootstrap` (a campaign gate holds
 * it back until then), stopped on shutdown. It runs the app's `@PrimaryOnly()` methods: only while
 * primary, each inside the term it started in, and the lock is released only after they settled.
 */
import { Logger as NestLogger } from '@nestjs/common';
import { settleWithin } from '../_internal/delay.js';
import type { Lease } from '../adapter.js';
import { defaultElectionLock } from '../default-lock.js';
import { type Election, elect } from '../elector.js';
import type { Logger } from '../logger.js';
import { DEFAULTS, type ElectionOptions } from '../options.js';
import { CampaignGate } from './campaign-gate.js';
import { type PrimaryGate, type PrimaryRun, withPrimaryRun } from './nestjs-primary-only.js';

interface Term {
  readonly signal: AbortSignal;
  readonly lease: Lease;
  readonly inFlight: Set<Promise<unknown>>;
}

export class ElectionBinding implements PrimaryGate {
  readonly election: Election;
  readonly key: string;
  readonly #gate: CampaignGate;
  readonly #logger: Logger;
  /** The lock this binding made (no `lock` option): closed after the election stops. */
  readonly #ownLock: { close?(): Promise<void> } | undefined;
  readonly #ttl: number;
  #term: Term | null = null;
  /** Methods whose skip was logged since this instance was last primary: one debug line per stretch. */
  readonly #skipLogged = new Set<string>();
  #stopping: Promise<void> | undefined;

  constructor(options: ElectionOptions, key: string) {
    this.key = key;
    const lock = options.lock ?? defaultElectionLock();
    this.#ownLock = options.lock === undefined ? lock : undefined;
    this.#gate = new CampaignGate(lock);
    this.#logger = options.logger === false ? { warn() {}, error() {} } : (options.logger ?? nestLogger());
    this.#ttl = options.ttl ?? DEFAULTS.ttl;
    this.election = elect({ ...options, lock: this.#gate.lock, logger: options.logger ?? this.#logger });
    this.election.whilePrimary((signal, lease) => this.#holdTerm(signal, lease));
  }

  /**
   * Opens the gate: the election campaigns now. Resolves once its first round is over, so
   * `isPrimary` is meaningful when `app.init()`/`listen()` resolves; a backend that does not answer
   * within a TTL leaves the app booting as a follower while the election goes on campaigning.
   */
  async start(): Promise<void> {
    if (this.election.stopped) return;
    if ((await settleWithin(this.#gate.open(), this.#ttl)) === 'timeout') {
      this.#logger.warn(
        `[primacy] [nestjs] the first round for "${this.election.name}" is not over after ${this.#ttl} ms: booting as a follower meanwhile`,
      );
    }
  }

  /** Stops the election: aborts the guarded runs, awaits them (bounded by `stopTimeout`), releases the lock. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.election.stop();
      await this.#ownLock?.close?.();
    })();
    return this.#stopping;
  }

  run(label: string, invoke: (run: PrimaryRun) => unknown): unknown {
    const term = this.#term;
    // isPrimary is read from the monotonic deadline: a process resumed from a pause past its lease
    // reads false here before the revoke has run, and the tick is skipped (fail closed).
    if (term === null || term.signal.aborted || !this.election.isPrimary) {
      if (!this.#skipLogged.has(label)) {
        this.#skipLogged.add(label);
        this.#logger.debug?.(`[primacy] [nestjs] skipped ${label}: not the primary of "${this.election.name}" (logged once until elected)`);
      }
      return undefined;
    }
    const run: PrimaryRun = { signal: term.signal, token: term.lease.token, lease: term.lease, firedAt: new Date() };
    const result = withPrimaryRun(run, () => invoke(run));
    if (!isThenable(result)) return result;
    // A run that ends by throwing its own aborted signal's reason was stopped, not failed.
    const settled = Promise.resolve(result).catch((error: unknown) => {
      if (term.signal.aborted && error === term.signal.reason) return undefined;
      throw error;
    });
    const tracked = settled.then(
      () => undefined,
      () => undefined,
    );
    term.inFlight.add(tracked);
    void tracked.finally(() => term.inFlight.delete(tracked));
    return settled;
  }

  /** The election's work for a term: the guarded runs started in it, awaited before the lock goes. */
  async #holdTerm(signal: AbortSignal, lease: Lease): Promise<void> {
    const term: Term = { signal, lease, inFlight: new Set() };
    this.#term = term;
    this.#skipLogged.clear();
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    if (this.#term === term) this.#term = null;
    await Promise.allSettled([...term.inFlight]);
  }
}

/** Nest's Logger in primacy's shape: elections log through the app's logger, levels included. */
function nestLogger(): Logger {
  const nest = new NestLogger('Primacy');
  return {
    debug: (message, ...rest) => nest.debug(message, ...rest),
    info: (message, ...rest) => nest.log(message, ...rest),
    warn: (message, ...rest) => nest.warn(message, ...rest),
    error: (message, ...rest) => nest.error(message, ...rest),
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
