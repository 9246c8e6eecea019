import { spawnSync } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HolderIdentity } from '../../src/adapter.js';
import { createHolderIdentity } from '../../src/identity.js';

/** The identity of a real process that has exited and been reaped (on this host). */
export function deadHolder(): HolderIdentity {
  const child = spawnSync(process.execPath, ['-e', '0']);
  if (!child.pid) throw new Error('could not spawn a short-lived process');
  // A bogus start time as well: should the pid be reused meanwhile, it still names a dead process.
  return { ...createHolderIdentity(), pid: child.pid, procStartTicks: 1 };
}

/** Writes `<token>.held` in `lockDir` as a crashed or foreign holder would have left it. */
export async function plantHeld(lockDir: string, token: number, holder: HolderIdentity, ttl: number, mtime = new Date()): Promise<void> {
  const tmp = join(lockDir, `.plant-${token}`);
  await writeFile(tmp, JSON.stringify({ v: 1, name: 'planted', token, holder, acquiredAt: Date.now(), ttl }));
  const { utimes } = await import('node:fs/promises');
  await utimes(tmp, mtime, mtime);
  await rename(tmp, join(lockDir, `${token}.held`));
}
