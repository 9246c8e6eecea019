/**
 * The file lock's state file names and times, where filesystems differ: timestamps kept in whole
 * seconds (ext3, HFS+, ext4 with 128-byte inodes, FAT's two), and tokens up to 16 digits. Both once
 * gave two primaries (an adversarial review on a loop-mounted ext4 with 1 s timestamps; a planted
 * `999999999999999.free`).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileLock } from '../../adapters/file.js';
import type { Lease } from '../../src/adapter.js';
import { elect } from '../../src/elector.js';
import { createHolderIdentity } from '../../src/identity.js';
import { mountCoarseFs } from '../helpers/coarse-fs.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('file lock timestamps and token names', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-timestamps-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('does not take a live holder for a silent one where timestamps are whole seconds', async () => {
    const coarse = await mountCoarseFs();
    const holder = elect({
      name: 'jobs',
      lock: fileLock({ dir: coarse.dir }),
      // Renews 888 ms apart: two sometimes land in one second, so the file looks unrenewed for up
      // to 1888 ms, longer than the TTL. The TTL leaves the holder 600 ms for each renew, enough
      // on a busy machine (with 1000 it lost its lease to its own stalls, and the test failed).
      ttl: 1500,
      renewInterval: 888,
      jitter: 0,
      handleSignals: false,
      logger: false,
    });
    const followerLock = fileLock({ dir: coarse.dir });
    let revoked = 0;
    holder.on('revoked', () => revoked++);
    try {
      await holder.ready;
      // The file's times change only with the first renew of each second: a follower that took the
      // unchanged stretch for silence claimed the file (then gave it back, or kept it).
      let taken: Lease | null = null;
      for (const until = performance.now() + 8000; performance.now() < until && !taken; await pause(40)) {
        taken = await followerLock.acquire('jobs', createHolderIdentity(), 1500);
      }
      expect(taken).toBeNull();
      expect(revoked).toBe(0);
    } finally {
      await holder.stop();
      await followerLock.close?.();
      await coarse.close();
    }
  });

  it('reads back a 16-digit token, so a lock at 999999999999999 goes on being held', async () => {
    const lockDir = fileLock({ dir }).path('jobs');
    await mkdir(lockDir);
    await writeFile(join(lockDir, '999999999999999.free'), '{}');
    const holder = fileLock({ dir });
    const lease = await holder.acquire('jobs', createHolderIdentity(), 5000);
    expect(lease?.token).toBe(1_000_000_000_000_000);
    if (!lease) throw new Error('no lease');
    expect(await holder.renew(lease, 5000)).not.toBeNull();
    expect(await fileLock({ dir }).acquire('jobs', createHolderIdentity(), 5000)).toBeNull();
    expect((await holder.inspect('jobs'))?.token).toBe(1_000_000_000_000_000);
  });
});
