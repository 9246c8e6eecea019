import { type Checks, checksFor } from './_internal/checks.js';
import type { Clock } from './_internal/clock.js';
import { optionKeys } from './_internal/unknown-keys.js';
import type { LockAdapter } from './adapter.js';
import type { Logger } from './logger.js';

/** Options of `elect()`. Every duration is in milliseconds. */
export interface ElectionOptions {
  /** The lock's name: every process campaigning for the same name elects one primary among them. */
  name: string;
  /**
   * Where the lock lives.
   * @default managerLock() in a worker run by primacy's manager (which holds its own lock, by
   * default the same file lock, for its workers), else fileLock() — a file lock in this user's
   * private directory (one host, no server needed)
   */
  lock?: LockAdapter;
  /**
   * Lease length. A holder that cannot renew within it steps down (by its own monotonic clock,
   * before anyone else can take over); a crashed holder is replaced after it at the latest.
   * @default 10000
   */
  ttl?: number;
  /**
   * How often the primary renews its lease. With jitter the renew may start as late as
   * renewInterval × (1 + jitter), which must still leave 10% of the TTL (plus the drift margin)
   * for the renew's round trip; anything later is refused at construction.
   * @default ttl / 3
   */
  renewInterval?: number;
  /**
   * How often a follower retries when no wake-up hint arrives (hints make failover faster than this).
   * Backend errors back off exponentially from this value up to `ttl`.
   * @default 1000
   */
  retryInterval?: number;
  /**
   * Random spread applied to every retry and renew delay, as a fraction (0.2 = ±20%).
   * @default 0.2
   */
  jitter?: number;
  /**
   * A label for people, shown by `inspect()` and `lock-status` (a pod name, a hostname). It may
   * repeat across processes: what decides "this lease is mine" is a random id unique to each
   * election (`election.holder.id`), so two elections with one label never both hold the lock.
   * @default none (the holder is shown by its id, pid and host)
   */
  identity?: string;
  /**
   * pino/console-shaped logger. `false` silences primacy. pino is used as it is: primacy logs
   * through `logger.child({ primacy: { election, id, identity, lock } })`, with the token, the
   * reason of a loss and the error (`err`) as fields of each line, not only in its text.
   * @default warnings and errors to the console; debug and info dropped
   */
  logger?: Logger | false;
  /** Stops the election (like `stop()`) when aborted. */
  signal?: AbortSignal;
  /**
   * Stop the election and release the lock on SIGTERM/SIGINT. If primacy's handler is the only
   * one, the signal is re-raised afterwards so the process still exits as it would have.
   * @default true
   */
  handleSignals?: boolean;
  /**
   * What to do when leadership is lost: `'abort'` aborts the work's signal and keeps campaigning;
   * `'exit'` exits the process with code 1 (the Kubernetes "lose leadership, restart" rule).
   * @default 'abort'
   */
  onLoss?: 'abort' | 'exit';
  /**
   * How long `stop()` waits for `whilePrimary` work to settle before releasing the lock anyway.
   * @default 5000
   */
  stopTimeout?: number;
  /** Monotonic clock, for tests. @default performance.now */
  clock?: Clock;
}

/** The defaults every option falls back to (frozen). `renewInterval` is derived from `ttl`. */
export const DEFAULTS = Object.freeze({
  ttl: 10_000,
  retryInterval: 1000,
  jitter: 0.2,
  handleSignals: true,
  onLoss: 'abort' as const,
  stopTimeout: 5000,
  /** Safety margin subtracted from every lease: a share of the TTL plus a fixed 2 ms. */
  driftFactor: 0.01,
});

export interface ResolvedOptions {
  name: string;
  ttl: number;
  renewInterval: number;
  retryInterval: number;
  jitter: number;
  identity: string | undefined;
  handleSignals: boolean;
  onLoss: 'abort' | 'exit';
  stopTimeout: number;
  drift: number;
}

/** Share of the TTL kept free after the latest (jittered) renew starts, for the renew's round trip. */
const RENEW_ROOM = 0.1;

/** Every key of `ElectionOptions` (a key added there and not here fails to compile). */
export const ELECTION_OPTION_KEYS = optionKeys<ElectionOptions>({
  name: true,
  lock: true,
  ttl: true,
  renewInterval: true,
  retryInterval: true,
  jitter: true,
  identity: true,
  logger: true,
  signal: true,
  handleSignals: true,
  onLoss: true,
  stopTimeout: true,
  clock: true,
});

/** Validates `elect()`'s options; `call` names the public function they were given to, in errors. */
export function resolveOptions(options: ElectionOptions, call = 'elect()'): ResolvedOptions {
  const check = checksFor(call, 'options');
  check.options(options, ELECTION_OPTION_KEYS);
  const { name } = options;
  // 256: room for any npm package name (214), the default lock name.
  if (typeof name !== 'string' || name.length === 0 || name.length > 256 || name.includes('\0')) {
    check.fail('name', name, 'a non-empty string of at most 256 characters, without NUL');
  }
  const ttl = check.duration('ttl', options.ttl, DEFAULTS.ttl, 1000);
  const drift = ttl * DEFAULTS.driftFactor + 2;
  const jitter = check.number('jitter', options.jitter ?? undefined, DEFAULTS.jitter, { min: 0, max: 1, expected: 'a number from 0 to 1' });
  const renewInterval = check.duration('renewInterval', options.renewInterval, Math.round(ttl / 3), 1);
  // What the elector really does: it sleeps up to renewInterval × (1 + jitter) before renewing,
  // and the renew's round trip must still fit before the lease's deadline (ttl − drift).
  const latestRenew = renewInterval * (1 + jitter);
  const renewBy = ttl * (1 - RENEW_ROOM) - drift;
  if (latestRenew > renewBy) {
    const most = Math.floor(renewBy / (1 + jitter));
    check.fail(
      'renewInterval',
      renewInterval,
      `at most ${most} ms for ttl ${ttl} and jitter ${jitter} (a renew may start as late as renewInterval × (1 + jitter) and must leave ${RENEW_ROOM * 100}% of the TTL and the drift margin for its round trip)`,
    );
  }
  const retryInterval = check.duration('retryInterval', options.retryInterval, DEFAULTS.retryInterval, 1);
  const identity = check.text('identity', options.identity, undefined);
  const handleSignals = check.flag('handleSignals', options.handleSignals ?? undefined, DEFAULTS.handleSignals);
  const onLoss = check.oneOf('onLoss', options.onLoss ?? undefined, ['abort', 'exit'], DEFAULTS.onLoss);
  const stopTimeout = check.duration('stopTimeout', options.stopTimeout, DEFAULTS.stopTimeout, 0);
  if (options.lock !== undefined) checkLockAdapter(check, options.lock);
  const { logger, clock } = options;
  if (logger !== undefined && logger !== false) {
    check.shape('logger', logger, ['warn', 'error'], 'false or a logger with warn() and error() (pino, console)');
  }
  check.signal('signal', options.signal);
  if (clock !== undefined) check.shape('clock', clock, ['now'], 'an object with a now() method');
  return { name, ttl, renewInterval, retryInterval, jitter, identity, handleSignals, onLoss, stopTimeout, drift };
}

/** Throws unless `lock` has the shape of a lock adapter (the `lock` option of elect() and of the manager). */
export function checkLockAdapter(check: Checks, lock: unknown): void {
  const expected = 'a lock adapter (fileLock(), redisLock(), ...)';
  check.shape('lock', lock, ['acquire', 'renew', 'release', 'inspect'], expected);
  if (typeof (lock as { kind?: unknown }).kind !== 'string') check.fail('lock', lock, expected);
}
