import { join } from 'node:path';
import type { Lease } from '../../src/adapter.js';
import { readRecord } from './state.js';

/** The lock directory a file-lock lease lives in. */
export function leaseDir(lease: Lease): string {
  return (lease.data as { dir: string }).dir;
}

/**
 * Whether `<token>.held` is still the file `lease` installed (its content never changes, and
 * names the holder). Same name, other holder: the state was lost (the directory deleted) and a
 * process without our history started over at our token, so renewing, releasing or writing
 * through that name would act on its lease. (Not the inode: a deleted file's is soon reused.)
 */
export async function isStillOurs(lease: Lease): Promise<boolean> {
  try {
    const record = await readRecord(join(leaseDir(lease), `${lease.token}.held`));
    return record !== 'corrupt' && record.token === lease.token && record.holder.id === lease.holder.id;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
