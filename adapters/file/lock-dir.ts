/**
 * Whether a lock directory may be used, checked before every acquire: whoever can write a lock
 * directory can block the lock (a state file naming a live process) or forge it, and a symlink in
 * its place would redirect our writes into someone else's directory. So a lock directory is
 * refused, loudly and with the fix, when it is a symlink, or when users it is not meant for can
 * write it: anyone but us by default, anyone outside its group when `shared`.
 */
import { constants, type Stats } from 'node:fs';
import { access, lstat, mkdir, open } from 'node:fs/promises';
import { describeGroup, describeOwner, octal, privateDirProblem } from '../../src/adapter-kit.js';
import { PrimacyBackendError } from '../../src/errors.js';

export interface LockDirPolicy {
  /** Lock directories shared with other users on purpose (FileLockOptions.shared). */
  readonly shared: boolean;
  /** The directory holding the lock directories was given as `dir` (else it is the private default). */
  readonly explicit: boolean;
  /**
   * Checks (creating it if missing) the directory holding the lock directories, again before a lock
   * directory is (re)created in it: what is wrong with it, as a sentence with the fix, or null.
   */
  readonly recheck: () => string | null;
}

/** Private: only we may enter it. Shared: group read/write, setgid so that files inside keep the directory's group. */
const PRIVATE_MODE = 0o700;
const SHARED_MODE = 0o2770;

/** Creates `dir` if missing and checks it; true if this call created it. Throws a PrimacyBackendError saying what is wrong and how to fix it. */
export async function ensureLockDir(dir: string, policy: LockDirPolicy): Promise<boolean> {
  let stats = await lstat(dir).catch(missingAsNull);
  let created = false;
  if (stats === null) {
    // A temp cleaner may have removed the parent meanwhile, or another user planted one since.
    const refusal = policy.recheck();
    if (refusal !== null) {
      const what = policy.explicit ? 'the directory given as `dir`' : 'the private directory';
      throw new PrimacyBackendError('file', 'acquire', `refusing ${what}: ${refusal}`);
    }
    created = await create(dir, policy.shared ? SHARED_MODE : PRIVATE_MODE);
    stats = await lstat(dir);
  }
  const problem = policy.shared ? await sharedProblem(dir, stats) : privateDirProblem(dir, stats, false);
  if (problem !== null)
    throw new PrimacyBackendError('file', 'acquire', `refusing the lock directory ${dir}: it ${problem}. ${fix(policy)}`);
  return created;
}

async function create(dir: string, mode: number): Promise<boolean> {
  try {
    await mkdir(dir, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false; // someone was first: the check judges theirs
    throw error;
  }
  if (process.platform === 'win32') return true; // no POSIX modes, and no opening a directory there
  // The umask clears the group bits a shared directory needs. Through a descriptor opened without
  // following links: in a directory others can write, the name may have been swapped since.
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
  return true;
}

/** For a shared lock directory: any owner and group, but writable by no one outside them, and usable by us. */
async function sharedProblem(dir: string, stats: Stats): Promise<string | null> {
  const found = () => `owned by ${describeOwner(stats.uid)}, group ${describeGroup(stats.gid)}, mode ${octal(stats.mode)}`;
  if (stats.isSymbolicLink() || !stats.isDirectory()) return privateDirProblem(dir, stats, false);
  if ((stats.mode & 0o002) !== 0) return `is writable by every user (${found()}); a shared lock directory is writable by its group only`;
  const canUse = await access(dir, constants.R_OK | constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!canUse) return `is not readable and writable by this process (${describeOwner(process.geteuid?.() ?? -1)}; ${found()})`;
  return null;
}

function fix(policy: LockDirPolicy): string {
  if (policy.shared) {
    return 'Whoever can write a lock directory can block or forge the lock: make it mode 2770 with a group of exactly the users that share the lock (chmod 2770, chgrp), or remove it and let primacy recreate it';
  }
  return (
    'Whoever can write a lock directory can block or forge the lock, and another local user may have planted this one: ' +
    'remove it and let primacy recreate it (or fix its owner and mode), ' +
    (policy.explicit ? 'set `dir` to a directory of yours, ' : '') +
    'or pass `shared: true` (with `dir`) if several users share these locks on purpose'
  );
}

function missingAsNull(error: NodeJS.ErrnoException): null {
  if (error.code === 'ENOENT') return null;
  throw error;
}
