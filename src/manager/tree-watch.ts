/**
 * Watches directory trees for changed files: one non-recursive `fs.watch` per directory, walked by
 * hand. Node 20's `fs.watch(dir, { recursive: true })` on Linux was tried first and is not used:
 * it watches every file on its own (and walks node_modules, with no way to skip it, at start-up and
 * after each change there), and a file replaced by a rename, as editors' safe writes do, is never
 * seen again. A directory's own watch reports its files by name, whatever replaced them.
 */
import { type FSWatcher, lstatSync, readdirSync, type Stats, statSync, watch } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';

export interface TreeWatchOptions {
  /** Directories (watched with their subdirectories) or single files. */
  readonly roots: readonly string[];
  /** True for a path to skip; a skipped directory is not walked. */
  readonly ignored: (path: string, root: string) => boolean;
  /** A file under a root was written, created, replaced or deleted. */
  readonly changed: (path: string, root: string) => void;
  /** A directory that could not be watched (unreadable, or the system's watch limit reached). */
  readonly trouble: (message: string) => void;
}

/** Starts watching; returns what stops it (every watch closed). */
export function watchTrees(options: TreeWatchOptions): () => void {
  const watchers = new Map<string, FSWatcher>();
  const files: FSWatcher[] = [];
  const rootPolls = new Map<string, NodeJS.Timeout>();
  const { ignored, changed, trouble } = options;

  const unwatch = (dir: string) => {
    for (const [path, watcher] of watchers) {
      if (path === dir || path.startsWith(dir + sep)) {
        watcher.close();
        watchers.delete(path);
      }
    }
  };

  /** Watches `dir` and its subdirectories; `fresh`: it appeared while watching, so its files are news. */
  const walk = (dir: string, root: string, fresh: boolean) => {
    if (watchers.has(dir) || ignored(dir, root)) return;
    try {
      // The watch first, then the listing: a file written in between is reported by one or the other.
      const watcher = watch(dir, (_event, name) => {
        if (name === null) return;
        const path = join(dir, name.toString());
        // The directory itself deleted (the event then bears its own name): its parent reports that,
        // or, for a root, whose parent nobody watches, the root's own watch.
        if (name.toString() === basename(dir) && !exists(path)) {
          if (dir === root && !exists(root)) rootGone(root);
          return;
        }
        seen(path, root);
      });
      watcher.on('error', () => (dir === root && !exists(root) ? rootGone(root) : unwatch(dir)));
      watchers.set(dir, watcher);
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        // Not through symbolic links: a link back up would loop.
        if (entry.isDirectory()) walk(path, root, fresh);
        else if (fresh && !ignored(path, root)) changed(path, root);
      }
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      if (code !== 'ENOENT') trouble(`cannot watch ${dir}: ${message}`);
    }
  };

  const seen = (path: string, root: string) => {
    if (ignored(path, root)) return;
    let stats: Stats;
    try {
      stats = lstatSync(path);
    } catch {
      // Gone: a deleted directory is forgotten (its files were reported as they went), a file is news.
      if (watchers.has(path)) unwatch(path);
      else changed(path, root);
      return;
    }
    if (!stats.isDirectory()) return changed(path, root);
    // New, or made again, moved or changed itself: watched afresh (its old watch may be of a deleted
    // one with the same name), and what it holds is news.
    unwatch(path);
    walk(path, root, true);
  };

  /**
   * A watched root deleted (a branch switch, a build that wipes its output): said, not silent, and
   * looked for once a second, so watching resumes when it is made again (its files are news then).
   */
  const rootGone = (root: string) => {
    unwatch(root);
    if (rootPolls.has(root)) return;
    trouble(`${root} was deleted: watching resumes when it is made again`);
    const poll = setInterval(() => {
      if (!isDirectory(root)) return;
      clearInterval(poll);
      rootPolls.delete(root);
      walk(root, root, true);
    }, ROOT_POLL_MS);
    poll.unref();
    rootPolls.set(root, poll);
  };

  const isDirectory = (path: string) => {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  };

  const exists = (path: string) => {
    try {
      lstatSync(path);
      return true;
    } catch {
      return false;
    }
  };

  for (const root of options.roots) {
    if (!statSync(root).isFile()) {
      walk(root, root, false);
      continue;
    }
    // A single file: its directory's watch, for this one name (a replaced file is still seen).
    const name = basename(root);
    const watcher = watch(dirname(root), (_event, changedName) => {
      if (changedName?.toString() === name) changed(root, dirname(root));
    });
    watcher.on('error', (error) => trouble(`stopped watching ${root}: ${error.message}`));
    files.push(watcher);
  }
  return () => {
    for (const watcher of watchers.values()) watcher.close();
    for (const watcher of files) watcher.close();
    for (const poll of rootPolls.values()) clearInterval(poll);
    watchers.clear();
    rootPolls.clear();
  };
}

/** How often a deleted root is looked for. */
const ROOT_POLL_MS = 1000;
