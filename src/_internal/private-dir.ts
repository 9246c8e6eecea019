import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  type Stats,
  statSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { PrimacyConfigError } from '../errors.js';
import { mkdirpSync } from './mkdirp.js';

/*
 * The per-user directory the embedded defaults keep their state in, as tmux and ssh-agent do:
 * the OS temp dir is world-writable, so anything another local user can create there before us
 * (a lock directory, a symlink to one of our directories) could block, forge or redirect us.
 * A directory only we can write cannot be planted, and is checked again on every use.
 */

/** `$XDG_RUNTIME_DIR/primacy` when XDG_RUNTIME_DIR is set (non-empty, absolute), else `<os.tmpdir()>/primacy-<uid>`. */
export function privateRoot(): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime && isAbsolute(runtime)) return join(runtime, 'primacy');
  return join(tmpdir(), `primacy-${process.geteuid?.() ?? userInfo().username}`);
}

/**
 * Creates `path` mode 0700 if missing (its parents as needed, 0755: only the last component is
 * ours) and verifies it on every call: lstat (not stat) shows a real directory (no symlink), owned
 * by process.geteuid(), with no group/other write bits; the private root itself with no group/other
 * access at all, and, under XDG_RUNTIME_DIR, that directory this user's own. Throws
 * PrimacyConfigError naming the path, its owner, its mode and the fix.
 */
export function ensurePrivateDir(path: string): void {
  const refusal = privateDirRefusal(path);
  if (refusal !== null) {
    throw new PrimacyConfigError('dir', path, `a private directory (a real directory of this user that no one else can write): ${refusal}`);
  }
}

/** What `ensurePrivateDir` checks, as the sentence explaining a refusal (path, owner, mode, fix), or null if all is well. */
export function privateDirRefusal(path: string): string | null {
  const absolute = resolve(path);
  const isRoot = absolute === resolve(privateRoot());
  const runtime = isRoot ? runtimeDirRefusal() : null;
  if (runtime !== null) return runtime;
  let stats: Stats | null;
  try {
    stats = lstatOrNull(absolute);
    if (stats === null) {
      create(absolute);
      stats = lstatSync(absolute);
    }
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    return `${absolute} cannot be created or inspected (${code ?? message}): fix its parent's permissions, or set \`dir\` (or XDG_RUNTIME_DIR) to a directory of yours`;
  }
  const problem = privateDirProblem(absolute, stats, isRoot);
  if (problem === null) return null;
  return (
    `${absolute} ${problem}. Another local user may have planted it: remove it (or fix its owner and mode), ` +
    'or set `dir` (or XDG_RUNTIME_DIR) to a directory of yours'
  );
}

/**
 * What is wrong with XDG_RUNTIME_DIR as the home of the private root, or null (also when it is unset
 * or missing: then the root is elsewhere, or its creation reports it). It must be this user's own,
 * writable by no one else: root keeps a user's XDG_RUNTIME_DIR after `su` without `-`, and that
 * user could then move root's private directory away or replace it at will.
 */
function runtimeDirRefusal(): string | null {
  const runtime = process.env.XDG_RUNTIME_DIR;
  const euid = process.geteuid?.();
  if (!runtime || !isAbsolute(runtime) || euid === undefined) return null;
  let stats: Stats;
  try {
    stats = statSync(runtime); // a link of the system's to it is fine: its target is what is judged
  } catch {
    return null;
  }
  const found = `${describeOwner(stats.uid)}, mode ${octal(stats.mode)}`;
  let problem: string | null = null;
  if (stats.uid !== euid) problem = `is owned by ${found}, not by this process (${describeOwner(euid)})`;
  else if ((stats.mode & 0o022) !== 0) problem = `is writable by other users (owned by ${found})`;
  if (problem === null) return null;
  return (
    `XDG_RUNTIME_DIR (${runtime}) ${problem}: it is not this user's runtime directory (as after \`su\` without \`-\`), ` +
    'and whoever can write it can move the private directory away. Unset XDG_RUNTIME_DIR, or switch users with `su -` ' +
    '(or `sudo -i`), which gives this user its own, or set `dir`'
  );
}

/**
 * What is wrong with `stats` (an lstat of `path`) for a directory only we may write, or null.
 * `strict`: no group/other access at all (the private root, which hides everything below it).
 */
export function privateDirProblem(path: string, stats: Stats, strict: boolean): string | null {
  // Named only when something is wrong: this runs before every acquire.
  const found = () => `${describeOwner(stats.uid)}, mode ${octal(stats.mode)}`;
  if (stats.isSymbolicLink()) return `is a symbolic link (to ${linkTarget(path)}), owned by ${found()}: links are never followed here`;
  if (!stats.isDirectory()) return `is not a directory (owned by ${found()})`;
  const euid = process.geteuid?.();
  if (euid !== undefined && stats.uid !== euid) return `is owned by ${found()}, not by this process (${describeOwner(euid)})`;
  if (strict && (stats.mode & 0o077) !== 0) return `is open to other users (owned by ${found()}; expected 0700)`;
  if ((stats.mode & 0o022) !== 0) return `is writable by other users (owned by ${found()})`;
  return null;
}

/** `uid 65534 (nobody)`, or just the uid when no user of that id is known. */
export function describeOwner(uid: number): string {
  let name: string | null = null;
  try {
    if (uid === process.geteuid?.()) name = userInfo().username;
  } catch {
    // no passwd entry for our own uid (a container's arbitrary uid): look it up below, or show the number
  }
  name ??= idName('/etc/passwd', uid);
  return name === null ? `uid ${uid}` : `uid ${uid} (${name})`;
}

/** `gid 1000 (staff)`, or just the gid. */
export function describeGroup(gid: number): string {
  const name = idName('/etc/group', gid);
  return name === null ? `gid ${gid}` : `gid ${gid} (${name})`;
}

export function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

function create(path: string): void {
  mkdirpSync(dirname(path));
  try {
    mkdirSync(path, 0o700);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return; // someone was first: the check that follows judges it
    throw error;
  }
  if (process.platform === 'win32') return; // no POSIX modes, and no opening a directory there
  // A umask can only clear bits, but one that clears the owner's leaves it unusable. Through a
  // descriptor opened without following links: the name may have been swapped since the mkdir.
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    if ((fstatSync(fd).mode & 0o777) !== 0o700) fchmodSync(fd, 0o700);
  } finally {
    closeSync(fd);
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function linkTarget(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return 'an unreadable target';
  }
}

/** The name of `id` in a passwd/group-style file, or null (no such file, a distroless image, an arbitrary uid). */
function idName(file: string, id: number): string | null {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [name, , value] = line.split(':');
      if (name && value === String(id)) return name;
    }
  } catch {
    // unreadable: the number alone
  }
  return null;
}
