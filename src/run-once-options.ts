import { durationOption } from './_internal/durations.js';
import { optionKeys, rejectUnknownKeys } from './_internal/unknown-keys.js';
import type { LockAdapter } from './adapter.js';
import { PrimacyConfigError } from './errors.js';
import type { Logger } from './logger.js';

/** Options of `runOnce()`. Durations in milliseconds. */
export interface RunOnceOptions {
  /**
   * Where the lock and the outcome live; every process running the task must use the same one.
   * @default fileLock() — this user's private directory (one host)
   */
  lock?: LockAdapter;
  /** The runner's lease, renewed while the task runs; a crashed runner is replaced after it at the latest. @default 10000 */
  ttl?: number;
  /** How long a waiting process waits for the runner before it rejects. @default 600000 (10 minutes) */
  waitTimeout?: number;
  /** How often a waiting process logs who it waits for. @default 5000 */
  progressInterval?: number;
  /** This process's id in the lock record. @default a random UUID */
  identity?: string;
  /** Progress and outcome go to `info`, problems to `warn`/`error`. `false` silences it. @default console */
  logger?: Logger | false;
  /** Gives up waiting when aborted (a task already running here is not interrupted). */
  signal?: AbortSignal;
}

export interface ResolvedRunOnceOptions {
  readonly ttl: number;
  readonly waitTimeout: number;
  readonly progressInterval: number;
  readonly identity: string | undefined;
  readonly signal: AbortSignal | undefined;
  readonly logger: Logger | false;
}

const RUN_ONCE_KEYS = optionKeys<RunOnceOptions>({
  lock: true,
  ttl: true,
  waitTimeout: true,
  progressInterval: true,
  identity: true,
  logger: true,
  signal: true,
});

export function resolveRunOnceOptions(options: RunOnceOptions): ResolvedRunOnceOptions {
  if (typeof options !== 'object' || options === null) throw new PrimacyConfigError('options', options, 'an object', 'runOnce');
  rejectUnknownKeys(options, RUN_ONCE_KEYS, { call: 'runOnce()', scope: 'runOnce' });
  const duration = (option: 'ttl' | 'waitTimeout' | 'progressInterval', fallback: number, min: number) =>
    durationOption(option, options[option], fallback, min, 'runOnce');
  const { signal, identity, logger = console } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new PrimacyConfigError('signal', signal, 'an AbortSignal', 'runOnce');
  return {
    ttl: duration('ttl', 10_000, 1000),
    waitTimeout: duration('waitTimeout', 600_000, 1),
    progressInterval: duration('progressInterval', 5000, 10),
    identity,
    signal,
    logger,
  };
}
