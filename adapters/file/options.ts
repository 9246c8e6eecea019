/**
 * `fileLock()`'s options, checked at construction: the directory that holds the lock directories
 * (the private default, or `dir` checked as the default is) and how its lock directories are
 * judged before every acquire (lock-dir.ts).
 */
import { checksFor, ensurePrivateDir, optionKeys, privateDirRefusal, privateRoot } from '../../src/adapter-kit.js';
import type { FileLockOptions } from '../file.js';
import { checkedDir, dirRecheck } from './dir-option.js';
import type { LockDirPolicy } from './lock-dir.js';

const KEYS = optionKeys<FileLockOptions>({ dir: true, shared: true });

/** The real path of the directory that holds the lock directories, and the policy its lock directories are held to. */
export function resolveFileOptions(options: FileLockOptions): { dir: string; policy: LockDirPolicy } {
  const check = checksFor('fileLock()', 'file');
  check.options(options, KEYS);
  const dir = check.text('dir', options.dir, undefined, 'a directory path');
  const shared = check.flag('shared', options.shared, false);
  if (shared && dir === undefined) {
    check.fail('shared', shared, 'given with `dir` (a directory the users share): the default directory is private');
  }
  if (dir === undefined) {
    const root = privateRoot();
    ensurePrivateDir(root);
    return { dir: root, policy: { shared, explicit: false, recheck: () => privateDirRefusal(root) } };
  }
  const real = checkedDir(check, dir, shared);
  return { dir: real, policy: { shared, explicit: true, recheck: () => dirRecheck(real, shared) } };
}
