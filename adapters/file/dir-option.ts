/**
 * The `dir` option: the directory that holds the lock directories. Whoever can rename entries in it
 * can move a lock directory away while it is held: its holder loses the lock, the next candidate
 * recreates it, and leadership flaps at that user's will. So it is checked as the private default
 * is, by its real path (resolved: /tmp may be a link of the system's), before use and again before
 * a lock directory is (re)created in it.
 */
import { accessSync, constants, realpathSync, type Stats, statSync } from 'node:fs';
import { type Checks, describeOwner, mkdirpSync, octal } from '../../src/adapter-kit.js';
import { untrustedLink } from './trusted-path.js';

/** The real path of the directory `dir` (created 0755 if missing), or a PrimacyConfigError saying what is wrong with it and the fix. */
export function checkedDir(check: Checks, dir: string, shared: boolean): string {
  const refusal = dirRefusal(dir, shared);
  if (refusal !== null) check.fail('dir', dir, refusal);
  return realpathSync(dir);
}

/** `dirRefusal` worded for a directory that was accepted once and is checked again (see LockDirPolicy.recheck). */
export function dirRecheck(real: string, shared: boolean): string | null {
  const refusal = dirRefusal(real, shared);
  return refusal === null ? null : `it is no longer ${refusal}`;
}

/** What `checkedDir` checks: what `dir` was expected to be and is not (with the path, owner, mode and fix), or null. */
export function dirRefusal(dir: string, shared: boolean): string | null {
  const link = untrustedLink(dir);
  if (link !== null)
    return `a directory reached through no other user's symbolic link: ${link}. Give its real path, if that is really the place`;
  let real: string;
  let stats: Stats;
  try {
    mkdirpSync(dir);
    real = realpathSync(dir);
    stats = statSync(real);
    if (!stats.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(real, constants.W_OK);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    return `a writable directory (${code ?? message})`;
  }
  const problem = permissionProblem(stats, shared);
  if (problem === null) return null;
  const fix = shared
    ? 'Give it a group of exactly the users that share the locks and mode 2770 (chgrp, chmod 2770), or mode 1777 if root owns it'
    : 'Use a directory of yours that no one else can write (chmod 755), or a sticky one of root such as /tmp, or leave `dir` unset for the private default';
  return `a directory in which no other user can move the locks away: ${real} ${problem}. ${fix}`;
}

function permissionProblem(stats: Stats, shared: boolean): string | null {
  const euid = process.geteuid?.();
  if (euid === undefined) return null; // Windows: no POSIX owners and modes
  const found = `owned by ${describeOwner(stats.uid)}, mode ${octal(stats.mode)}`;
  const everyone = (stats.mode & 0o002) !== 0;
  // The sticky bit (as on /tmp) keeps each entry to its owner; the directory's owner may still move any.
  if (everyone && (stats.mode & 0o1000) === 0) return `is writable by every user and has no sticky bit (${found})`;
  const foreign = stats.uid !== euid && stats.uid !== 0;
  if (foreign && !shared) return `is owned by another user (${found}), who can move any entry of it`;
  if (foreign && everyone) return `is owned by another user, who can move any entry of it, and writable by every user (${found})`;
  return null;
}
