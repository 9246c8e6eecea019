/**
 * Which lock is used when the caller gives none, decided here once. A user who passes no `lock`
 * gets one host's worth of safety without a server: a file lock in this user's private directory.
 */
import { fileLock } from '../adapters/file.js';
import { isManaged, managerLock } from '../adapters/manager.js';
import type { LockAdapter } from './adapter.js';

/**
 * `elect()`'s default. In a worker run by primacy's manager, the manager arbitrates among its
 * workers (it holds its own lock for them, by default the same file lock); elsewhere, the file lock.
 */
export function defaultElectionLock(): LockAdapter {
  return isManaged() ? managerLock() : fileLock();
}

/** `runOnce()`'s default: it needs a lock that stores outcomes, which the manager's does not. */
export function defaultOutcomeLock(): LockAdapter {
  return fileLock();
}

/** The lock a manager holds for its workers by default. */
export function defaultManagerLock(): LockAdapter {
  return fileLock();
}
