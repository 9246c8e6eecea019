/**
 * `primacy start --watch[=PATH,...] [--watch-ignore GLOB]... [--watch-delay MS]`: the flags of
 * auto-reload, read, checked and acted on (see manager/reload-on-change.ts).
 */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PrimacyUsageError } from '../errors.js';
import type { WorkerManager } from '../manager/manager.js';
import { type ReloadOnChangeOptions, reloadOnChange } from '../manager/reload-on-change.js';
import { globProblem } from '../manager/watch-ignore.js';

export const WATCH_OPTIONS = {
  watch: { type: 'boolean' },
  'watch-ignore': { type: 'string', multiple: true },
  'watch-delay': { type: 'string' },
} as const;

export const WATCH_HELP = `  --watch              reload without downtime when a file of the app changes (its directory: that
                       of the package.json nearest to the app, else the app's own); skips
                       node_modules, .git, editors' scratch files and primacy's own files
  --watch=PATH[,PATH]  watch these files and directories instead
  --watch-ignore GLOB  skip these too (repeatable): a name at any depth (*.log, tmp) or a path from
                       the watched directory (public/build/**)
  --watch-delay MS     reload this long after the last change of a burst (default 300)
`;

/**
 * Takes the `--watch=PATH,...` form out of `argv` (parseArgs has no optional values, and a bare
 * `--watch app.js` must keep meaning "watch, the app is app.js"): the paths, and `argv` with a bare
 * `--watch` in its place. What follows `--` is the app's.
 */
export function takeWatchPaths(argv: readonly string[]): { argv: string[]; paths: string[] } {
  const end = argv.indexOf('--');
  const own = end === -1 ? [...argv] : argv.slice(0, end);
  const paths: string[] = [];
  const rest = own.map((arg) => {
    if (!arg.startsWith('--watch=')) return arg;
    const value = arg.slice('--watch='.length);
    const list = value.split(',');
    if (list.some((path) => path === '')) {
      throw new PrimacyUsageError(`--watch= needs comma-separated paths, got "${value}" (a bare --watch watches the app's directory)`);
    }
    paths.push(...list);
    return '--watch';
  });
  return { argv: end === -1 ? rest : [...rest, ...argv.slice(end)], paths };
}

type WatchValues = { watch?: boolean; 'watch-ignore'?: string[]; 'watch-delay'?: string };

/** What `--watch` asks for, checked (null without it); throws a usage error naming the flag and value. */
export function watchSettings(values: WatchValues, paths: string[], script: string): Required<Omit<ReloadOnChangeOptions, 'log'>> | null {
  const ignore = values['watch-ignore'] ?? [];
  if (!values.watch) {
    if (ignore.length > 0) throw new PrimacyUsageError('--watch-ignore only applies with --watch');
    if (values['watch-delay'] !== undefined) throw new PrimacyUsageError('--watch-delay only applies with --watch');
    return null;
  }
  for (const glob of ignore) {
    const problem = globProblem(glob);
    if (problem !== null) throw new PrimacyUsageError(`--watch-ignore needs ${problem}, got "${glob}"`);
  }
  const text = values['watch-delay'];
  const delay = text === undefined ? 300 : Number(text);
  if (text !== undefined && !(text.trim() !== '' && Number.isInteger(delay) && delay >= 0 && delay <= 60_000)) {
    throw new PrimacyUsageError(`--watch-delay must be a whole number of milliseconds from 0 to 60000, got "${text}"`);
  }
  for (const path of paths) {
    if (!exists(resolve(path))) throw new PrimacyUsageError(`--watch=${path}: ${resolve(path)} is missing`);
  }
  return { paths: paths.length > 0 ? paths.map((path) => resolve(path)) : [appDirectory(script)], ignore, delay };
}

/** Starts the watch beside the started manager (it stops with it), and says what it watches. */
export function startWatching(manager: WorkerManager, settings: Required<Omit<ReloadOnChangeOptions, 'log'>>, log: (text: string) => void) {
  reloadOnChange(manager, { ...settings, log });
  log(`watching ${settings.paths.join(', ')} (reloading ${settings.delay} ms after the last change)`);
}

/**
 * The directory of the package.json nearest to the app, else the app's own. Not the home directory
 * nor the root (a stray package.json there would have every file of the user watched), and not a
 * directory every user may write (the OS temp dir: anyone could plant one there).
 */
export function appDirectory(script: string): string {
  const start = resolve(script);
  const own = isDirectory(start) ? start : dirname(start);
  const stops = new Set([homedir(), resolve('/')]);
  for (let dir = own; !stops.has(dir); dir = dirname(dir)) {
    if (hasPackageJson(dir)) return dir;
    if (dirname(dir) === dir) break;
  }
  return own;
}

function hasPackageJson(dir: string): boolean {
  try {
    return (statSync(dir).mode & 0o002) === 0 && statSync(join(dir, 'package.json')).isFile();
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
