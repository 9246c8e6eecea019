import { join } from 'node:path';
import type { LockRecord } from '../../src/adapter.js';
import { asBackendError, causeText, isHolderDead } from '../../src/adapter-kit.js';
import { genesis, mtimeOf, readRecord, type StateFile, scan } from './state.js';

/** Reads a lock directory's current record (used by `inspect()` and `lock-status`). */
export async function inspectLockDir(dir: string, name: string): Promise<LockRecord | null> {
  // The state file may be claimed away between the scan and the read: look again.
  for (let pass = 0; ; pass++) {
    let current: StateFile | null;
    try {
      ({ current } = await scan(dir));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw asBackendError('file', 'inspect', error, `${dir}: ${causeText(error)}`);
    }
    // `0.free` only marks a directory that a first candidate is about to take: never taken yet.
    if (!current || (current.token === genesis.token && current.state === genesis.state)) return null;
    const path = join(dir, current.file);
    const [record, mtime] = await Promise.all([readRecord(path).catch(() => null), mtimeOf(path)]);
    if ((record === null || mtime === null) && pass < 5) continue;
    const valid = record !== null && record !== 'corrupt';
    const holder = valid ? record.holder : null;
    const dead = holder && current.state === 'held' ? isHolderDead(holder) : null;
    return {
      name,
      state: current.state,
      token: current.token,
      holder,
      acquiredAt: valid ? record.acquiredAt : null,
      renewedAt: mtime,
      expiresAt: valid && mtime !== null && current.state === 'held' ? mtime + record.ttl : null,
      alive: dead === null ? null : !dead,
      location: dir,
    };
  }
}
