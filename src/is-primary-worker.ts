import { closeSync, constants, fstatSync, openSync, readFileSync, realpathSync, statSync } from 'node:fs';
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
    const name = packageName(dir);
    if (name !== null) return name;
    if (dirname(dir) === dir) return 'primacy';
  }
}

/**
 * The `name` in `dir/package.json`, or null. Not from a directory every user may write (the OS temp
 * dir, where the walk up from an app without a package.json of its own passes): another local user
 * could plant one there to choose our lock's name, or a FIFO to hang us. Opened without blocking
 * and read only if it is a regular file of reasonable size.
 */
function packageName(dir: string): string | null {
  let fd: number | null = null;
  try {
    if ((statSync(dir).mode & 0o002) !== 0) return null;
    fd = openSync(join(dir, 'package.json'), constants.O_RDONLY | constants.O_NONBLOCK);
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > MAX_PACKAGE_JSON) return null;
    const { name } = JSON.parse(readFileSync(fd, 'utf8')) as { name?: unknown };
    return typeof name === 'string' && name !== '' ? name : null;
  } catch {
    return null; // no (readable, valid) package.json here: keep walking up
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Larger than any real package.json: reading it is not worth the memory. */
const MAX_PACKAGE_JSON = 1024 * 1024;

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
