/**
 * What the file watcher skips: dependencies, version control, the manager's own files, editors'
 * scratch files, and the user's globs. A skipped directory is not even walked (node_modules alone
 * can hold tens of thousands of files).
 *
 * The globs are the small gitignore-like subset a watch list needs, matched here rather than by a
 * dependency (the core has none): `*` and `?` within one name, `**` across directories. A glob
 * without `/` matches a file or directory name at any depth (`*.log`, `tmp`); one with `/` matches
 * the path from the watched directory (`public/build/**`, `/config.local.json`). Whatever a matched
 * directory holds is skipped with it.
 */
import { relative, sep } from 'node:path';

/** Skipped at any depth: installed packages and version control. */
export const IGNORED_NAMES = ['node_modules', '.git'];

/**
 * Editors' scratch files, whose writes are no change to the code: vim's swap files and its
 * writability probe `4913`, backup files `name~`, emacs' lock files `.#name`.
 */
const EDITOR_SCRATCH = ['*.swp', '*.swx', '*~', '4913', '.#*'];

/** Whether `pattern` is a glob this matcher accepts, or why not. */
export function globProblem(pattern: string): string | null {
  if (pattern.trim() === '') return 'a glob, e.g. "*.log" or "public/build/**"';
  if (/[[\]{}!]/.test(pattern)) return 'a glob of names with *, ? and ** (no [...], {...} or ! here)';
  return null;
}

/**
 * A test for absolute paths under `root`: true for what the watcher skips. `dirs` are skipped with
 * everything under them wherever they are (the manager's state directory).
 */
export function ignoreTest(root: string, globs: readonly string[], dirs: readonly string[]): (path: string) => boolean {
  const patterns = [...IGNORED_NAMES, ...EDITOR_SCRATCH, ...globs].map(compile);
  return (path) => {
    if (dirs.some((dir) => path === dir || path.startsWith(dir + sep))) return true;
    const rel = relative(root, path);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`)) return false;
    const names = rel.split(sep);
    // Each leading part in turn: a matched directory takes what it holds with it.
    return names.some((_, i) => patterns.some((matches) => matches(names.slice(0, i + 1))));
  };
}

/** A test on a path's names (from the watched root) for one glob. */
function compile(glob: string): (names: string[]) => boolean {
  const anchored = glob.replace(/^\.?\//, '').replace(/\/$/, '');
  if (!glob.replace(/\/$/, '').includes('/')) {
    const name = new RegExp(`^${toRegExp(anchored)}$`);
    return (names) => name.test(names[names.length - 1] as string);
  }
  const path = new RegExp(`^${toRegExp(anchored)}$`);
  return (names) => path.test(names.join('/'));
}

function toRegExp(whole: string): string {
  // A final `/**` matches the directory itself too, so the watcher does not even walk it.
  const below = whole.endsWith('/**');
  const glob = below ? whole.slice(0, -3) : whole;
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` is any number of directories, none included; a final `**` is anything below.
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return below ? `${out}(?:/.*)?` : out;
}
