/**
 * The secret that names a lock's beacon (beacon.ts). Abstract Unix sockets have no permissions: any
 * local user who can compute the name can bind it first or accept our followers' connections. The
 * name is therefore derived from a random key kept in the lock directory itself, readable exactly
 * by those who may take part in the lock (the directory's owner, and its group when shared).
 * A squatter could only slow failover to the polling bound anyway (the state files are the lock of
 * record); the key keeps other users from even that.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { beaconAddress } from './beacon.js';
import { readNoFollow, writeNewFile } from './files.js';

const KEY_FILE = '.beacon-key';

/**
 * The lock directory's beacon key, created if missing (0600, or 0640 when shared). Null when it can
 * be neither read nor created (a full disk, a read-only volume): then no beacon, followers poll.
 */
export async function beaconKey(dir: string, shared: boolean): Promise<string | null> {
  const path = join(dir, KEY_FILE);
  const existing = await readNoFollow(path).catch(() => null);
  if (existing) return existing;
  // Written aside and linked into place, so that no reader ever sees a partial key.
  const tmp = join(dir, `.tmp-${randomUUID()}`);
  try {
    await writeNewFile(tmp, randomBytes(32).toString('hex'), shared ? 0o640 : 0o600);
    await link(tmp, path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error; // another candidate was first: use theirs
    });
    return (await readNoFollow(path)) || null;
  } catch {
    return null;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** The beacon address of the lock directory `dir` as its candidates compute it, or null without a key (for lock-status and tests). */
export function currentBeaconAddress(dir: string): string | null {
  try {
    const key = readFileSync(join(dir, KEY_FILE), 'utf8');
    return key ? beaconAddress(dir, key) : null;
  } catch {
    return null;
  }
}
