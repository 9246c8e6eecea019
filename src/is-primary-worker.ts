import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Election, elect } from './elector.js';
import type { ElectionOptions } from './options.js';

export interface PrimaryWorkerResult {
  /** Whether this process was primary when the first campaign round ended (a snapshot). */
  readonly isPrimary: boolean;
  /** The live election: it keeps campaigning, so a secondary becomes primary when the primary dies. */
  readonly election: Election;
}

/**
 * The one-liner: campaign once and answer, keeping the election running. With no options the lock
 * is a file lock in this user's private directory, named by `defaultLockName()`: the `name` of the
 * package.json nearest to the app's entry script.
 */
export async function isPrimaryWorker(options: Partial<ElectionOptions> = {}): Promise<PrimaryWorkerResult> {
  const election = elect({ ...options, name: options.name ?? defaultLockName() });
  await election.ready;
  return { isPrimary: election.isPrimary, election };
}

/**
 * The `name` of the package.json nearest to `from`, else `'primacy'`. By default `from` is the
 * directory of the app's entry script (`process.argv[1]`, or PM2's `pm_exec_path` under PM2, whose
 * own script is argv[1] there), resolved through symlinks: one app gets one name wherever it is
 * started from, and two apps started from one directory (systemd's `/`) get their own. With no entry
 * script (the REPL, `node -e`), the working directory's.
 */
export function defaultLockName(from: string = entryDirectory()): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    try {
      const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (typeof name === 'string' && name !== '') return name;
    } catch {
      // No (readable) package.json here: keep walking up.
    }
    if (dirname(dir) === dir) return 'primacy';
  }
}

/** The directory of the running app's entry script, else the working directory. */
function entryDirectory(): string {
  const evaluated = process.execArgv.some((flag) => /^(-e|-p|--eval|--print)(=|$)/.test(flag));
  const script = process.env.pm_exec_path || (evaluated ? undefined : process.argv[1]);
  if (!script || script === '-') return process.cwd();
  try {
    return dirname(realpathSync(script));
  } catch {
    // Started as `node app` (no extension: not a file name as such): the path node was given.
    return dirname(resolve(script));
  }
}
