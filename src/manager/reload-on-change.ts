/**
 * Auto-reload for development (`primacy start --watch`): a changed file reloads the app without
 * downtime. `manager.reload()` does the work (server workers and transient processes replaced one
 * at a time, each new process acked before the old one is retired, durable processes left alone),
 * so a change that breaks the app (a syntax error: the new process never acks) leaves the old
 * processes serving, and the next change tries again.
 */
import { statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { checksFor } from '../_internal/checks.js';
import { privateRoot } from '../_internal/private-dir.js';
import { prefixed } from '../logger.js';
import type { WorkerInfo, WorkerManager } from './manager.js';
import { watchTrees } from './tree-watch.js';
import { globProblem, ignoreTest } from './watch-ignore.js';

/** Options of {@link reloadOnChange}. */
export interface ReloadOnChangeOptions {
  /** Directories (watched with their subdirectories) or files; each must exist. */
  paths: string[];
  /**
   * Globs to skip, besides node_modules, .git, editors' scratch files (`*.swp`, `*~`...) and the
   * manager's own files (its state directory, the default locks). `*` and `?` match within a name,
   * `**` across directories; a glob without `/` matches a name at any depth (`*.log`, `tmp`), one
   * with `/` the path from the watched directory (`public/build/**`). @default []
   */
  ignore?: string[];
  /** Reload this long after the last change, in ms: a burst of saves is one reload. @default 300 */
  delay?: number;
  /** Where to say what changed and how the reload went. @default a `[primacy] [manager]` line on stderr */
  log?: (message: string) => void;
}

/** A running watch: see {@link reloadOnChange}. */
export interface FileWatch {
  /** Stops watching (done by itself when the manager stops). A reload under way still finishes. */
  close(): void;
}

const OPTION_KEYS = ['paths', 'ignore', 'delay', 'log'] as const;

/**
 * Reloads `manager` (`manager.reload()`) when a file under `paths` changes: once per burst of
 * changes (`delay` after the last one), and once more after a reload if files changed during it.
 * Logs which file triggered it (relative to its watched directory), then which processes were
 * replaced, or why the reload failed (the old processes then keep serving). Stops when the manager
 * stops.
 *
 * @example
 * const manager = new WorkerManager({ script: 'server.js' });
 * await manager.start();
 * reloadOnChange(manager, { paths: [process.cwd()], ignore: ['*.log'] });
 */
export function reloadOnChange(manager: WorkerManager, options: ReloadOnChangeOptions): FileWatch {
  const { roots, ignore, delay, log } = resolveOptions(options);
  // Writes the manager makes itself (its claim, the default file locks) must not reload it forever.
  const own = [manager.stateDir, privateRoot()];
  const ignoredUnder = new Map(roots.map((root) => [root, ignoreTest(root, ignore, own)]));
  /** Files changed since the last reload began (by their shown name), the latest last. */
  const batch = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let reloading = false;
  let again = false;
  let closed = false;

  const reload = async () => {
    reloading = true;
    const files = [...batch];
    batch.clear();
    log(`${changedText(files)}: reloading`);
    const before = new Map(manager.workers().map((w) => [w.name, w.pid]));
    const started = performance.now();
    try {
      await manager.reload();
      log(`reloaded in ${Math.round(performance.now() - started)} ms: ${replacedText(before, manager.workers())}`);
    } catch (error) {
      const reason = (error as Error).message.replace(/^\[primacy\] \[manager\] /, '');
      log(`reload failed: ${reason}; the next change tries again`);
    } finally {
      reloading = false;
    }
    // Changes during the reload: one more, not one per change.
    if (again && !closed) {
      again = false;
      void reload();
    }
  };

  const due = () => {
    timer = undefined;
    if (closed) return;
    if (reloading) again = true;
    else void reload();
  };

  const changed = (path: string, root: string) => {
    if (closed) return;
    const shown = relative(root, path) || path;
    batch.delete(shown);
    batch.add(shown);
    clearTimeout(timer);
    timer = setTimeout(due, delay);
  };

  const stopWatching = watchTrees({
    roots,
    ignored: (path, root) => ignoredUnder.get(root)?.(path) ?? false,
    changed,
    trouble: log,
  });
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    stopWatching();
    manager.off('stopping', close);
  };
  manager.once('stopping', close);
  return { close };
}

function changedText(files: string[]): string {
  const last = files.at(-1) ?? 'a file';
  const others = files.length - 1;
  return others > 0 ? `${last} (and ${others} other ${others === 1 ? 'file' : 'files'}) changed` : `${last} changed`;
}

/** `worker-0 pid 11 -> 12, ...`: the processes the reload replaced. */
function replacedText(before: Map<string, number | null>, after: WorkerInfo[]): string {
  const replaced = after.filter((w) => before.has(w.name) && before.get(w.name) !== w.pid);
  if (replaced.length === 0) return 'no process replaced';
  return replaced.map((w) => `${w.name} pid ${before.get(w.name)} -> ${w.pid}`).join(', ');
}

function resolveOptions(options: ReloadOnChangeOptions) {
  const check = checksFor('reloadOnChange()', 'manager');
  check.options(options, OPTION_KEYS);
  const { paths, ignore = [] } = options;
  if (!Array.isArray(paths) || paths.length === 0) check.fail('paths', paths, 'a non-empty array of files or directories to watch');
  const roots = paths.map((path, i) => {
    check.text(`paths[${i}]`, path, undefined, 'a file or directory path');
    const root = resolve(path);
    if (statOrNull(root) === null) check.fail(`paths[${i}]`, path, 'an existing file or directory (it is missing)');
    return root;
  });
  if (!Array.isArray(ignore)) check.fail('ignore', ignore, 'an array of globs');
  ignore.forEach((glob, i) => {
    const problem = typeof glob === 'string' ? globProblem(glob) : 'a glob';
    if (problem !== null) check.fail(`ignore[${i}]`, glob, problem);
  });
  check.callback('log', options.log);
  const log = options.log ?? ((message: string) => process.stderr.write(`${prefixed('manager', message)}\n`));
  return { roots, ignore, delay: check.duration('delay', options.delay, 300, 0), log };
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
