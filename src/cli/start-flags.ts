/**
 * `primacy start`'s flags for the manager's options: one flag per option, named after it
 * (`heartbeatTimeout` is `--heartbeat-timeout`), durations as ms or `15s`, sizes as bytes or `512M`.
 * A flag overrides the config file's value. The manager's own checks then judge the values
 * together (a heartbeat timeout not above twice the interval...); their errors name the flag.
 */
import { parseBytes, parseDuration } from '../_internal/units.js';
import { PrimacyConfigError, PrimacyUsageError } from '../errors.js';
import type { ManagerOptions } from '../manager/options.js';

type Kind = 'duration' | 'count' | 'bytes' | 'restart';

/** flag → [the option's path in ManagerOptions, what its value is, help text]. */
const FLAGS = {
  'ack-timeout': ['ackTimeout', 'duration', 'how long a new worker has to ack (default 30s)'],
  'heartbeat-interval': ['heartbeatInterval', 'duration', 'how often workers send heartbeats (default 1s)'],
  'heartbeat-timeout': ['heartbeatTimeout', 'duration', 'silence after which a worker is hung: killed, replaced (default 5s)'],
  'kill-timeout': ['killTimeout', 'duration', 'SIGTERM, then SIGKILL after this long (default 15s)'],
  'drain-time': ['drainTime', 'duration', 'a retired worker answers Connection: close this long first (default 1s)'],
  restart: ['restart', 'restart', 'always | on-failure | never (default always)'],
  'backoff-initial': ['backoff.backoffInitial', 'duration', 'first delay between restarts after the immediate one (default 100ms)'],
  'backoff-max': ['backoff.backoffMax', 'duration', 'the doubling delay stops here (default 10s)'],
  'stable-after': ['backoff.stableAfter', 'duration', 'a run this long resets the backoff (default 30s)'],
  'crash-loop-burst': ['crashLoop.burst', 'count', 'more exits than this within the window: FAILED (default 5)'],
  'crash-loop-window': ['crashLoop.window', 'duration', 'the crash-loop window (default 10s)'],
  'health-interval': ['health.interval', 'duration', 'how often health checks run (default 5s)'],
  'health-timeout': ['health.timeout', 'duration', 'a health check slower than this fails (default 2s)'],
  'max-memory': ['maxMemory', 'bytes', 'replace a process above this resident memory, without downtime (e.g. 512M)'],
} as const satisfies Record<string, readonly [string, Kind, string]>;

export type ManagerFlag = keyof typeof FLAGS;

/** parseArgs declarations for these flags. */
export const MANAGER_FLAG_OPTIONS = Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }])) as {
  [F in ManagerFlag]: { type: 'string' };
};

/** The flags' lines for `--help`. */
export function managerFlagsHelp(): string {
  return Object.entries(FLAGS)
    .map(
      ([flag, [, kind, text]]) =>
        `  ${`--${flag} ${kind === 'duration' ? 'TIME' : kind === 'bytes' ? 'SIZE' : kind === 'count' ? 'N' : 'POLICY'}`.padEnd(27)}${text}`,
    )
    .join('\n');
}

/** The manager options the given flags set, merged over `base` (nested objects merged key by key). */
export function applyManagerFlags(base: Partial<ManagerOptions>, values: Partial<Record<ManagerFlag, string>>): Partial<ManagerOptions> {
  const merged: Record<string, unknown> = { ...base };
  for (const [flag, [path, kind]] of Object.entries(FLAGS) as Array<[ManagerFlag, (typeof FLAGS)[ManagerFlag]]>) {
    const text = values[flag];
    if (text === undefined) continue;
    const value = flagValue(flag, kind, text);
    const [head, key] = path.split('.') as [string, string | undefined];
    if (key === undefined) merged[head] = value;
    else merged[head] = { ...(merged[head] as object | undefined), [key]: value };
  }
  return merged as Partial<ManagerOptions>;
}

function flagValue(flag: string, kind: Kind, text: string): number | string {
  if (kind === 'restart') {
    if (text === 'always' || text === 'on-failure' || text === 'never') return text;
    throw new PrimacyUsageError(`--${flag} must be always, on-failure or never, got "${text}"`);
  }
  if (kind === 'count') {
    const n = Number(text);
    if (text.trim() !== '' && Number.isInteger(n) && n >= 1) return n;
    throw new PrimacyUsageError(`--${flag} must be a whole number >= 1, got "${text}"`);
  }
  const value = kind === 'bytes' ? parseBytes(text) : parseDuration(text);
  if (value !== null && value > 0) return value;
  const expected = kind === 'bytes' ? 'a size in bytes, or like 512M or 1G' : 'a time in ms, or like 500ms, 15s, 2m';
  throw new PrimacyUsageError(`--${flag} must be ${expected}, got "${text}"`);
}

/**
 * The manager's error about an option a flag set, with the flag named (`heartbeatTimeout` →
 * `--heartbeat-timeout`); other errors as they are.
 */
export function nameTheFlag(error: unknown, values: Partial<Record<ManagerFlag, string>>): unknown {
  if (!(error instanceof PrimacyConfigError)) return error;
  const flag = (Object.entries(FLAGS) as Array<[ManagerFlag, (typeof FLAGS)[ManagerFlag]]>).find(
    ([name, [path]]) => path === error.option && values[name] !== undefined,
  )?.[0];
  return flag === undefined ? error : new PrimacyUsageError(`--${flag}: ${error.message.replace(/^\[primacy\] \[manager\] /, '')}`);
}
