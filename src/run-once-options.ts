import { checksFor } from './_internal/checks.js';
import { optionKeys } from './_internal/unknown-keys.js';
import type { LockAdapter } from './adapter.js';
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
  /**
   * Progress and outcome go to `info`, problems to `warn`/`error`. `false` silences it. pino gets a
   * child bound with `{ primacy: { runOnce: name } }` and `token`, `status`, `holder`... as fields.
   * @default console
   */
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
  const check = checksFor('runOnce()', 'runOnce');
  check.options(options, RUN_ONCE_KEYS);
  const duration = (option: 'ttl' | 'waitTimeout' | 'progressInterval', fallback: number, min: number) =>
    check.duration(option, options[option], fallback, min);
  const { signal, identity, logger = console } = options;
  check.signal('signal', signal);
  return {
    ttl: duration('ttl', 10_000, 1000),
    waitTimeout: duration('waitTimeout', 600_000, 1),
    progressInterval: duration('progressInterval', 5000, 10),
    identity,
    signal,
    logger,
  };
}
