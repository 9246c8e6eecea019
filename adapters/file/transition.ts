import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { install, type StoredRecord } from './state.js';

/**
 * Finishes a transition begun by claiming the state file as `claimed`: installs `record`, then
 * proves the claim was still ours by removing it. A claimant that stalled for longer than another
 * candidate's patience may have had its claim recovered as abandoned (renamed away) meanwhile; of
 * that rename and our unlink exactly one succeeds, so if ours fails we remove what we installed
 * and hold nothing, and at most one of the two ends up holding.
 *
 * `installed`: the lease is ours; `taken`: someone installed that token first; `lost`: the claim
 * was recovered by someone else.
 */
export async function installClaimed(dir: string, record: StoredRecord, claimed: string): Promise<'installed' | 'taken' | 'lost'> {
  const claimPath = join(dir, claimed);
  // On an I/O error the claim stays: others recover it once abandoned, so the state is not lost.
  if (!(await install(dir, record))) {
    // That token exists already: a newer state than the one we claimed, which is history.
    await unlink(claimPath).catch(() => undefined);
    return 'taken';
  }
  try {
    await unlink(claimPath);
    return 'installed';
  } catch (error) {
    await unlink(join(dir, `${record.token}.held`)).catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'lost';
    throw error;
  }
}
