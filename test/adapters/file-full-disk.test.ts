/**
 * The file lock on a full filesystem (ENOSPC), for real: a 64 KiB tmpfs, filled. A failed write
 * must leave no partial file behind (a `.tmp-*` leaked per failed install once), fail with an error
 * that says what and where, and the lock must work again once there is space. Needs root and tmpfs
 * (as CI here has); without them the test fails and says why, as a missing redis-server does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fileLock, fileLockPath } from '../../adapters/file.js';
import type { Lease, LockAdapter, RunOutcome } from '../../src/adapter.js';
import { elect } from '../../src/elector.js';
import { createHolderIdentity } from '../../src/identity.js';

// One lock name per test: a process remembers a lock's holders, and waits out a vanished one's TTL.
let name = '';
let work: string;
let mnt: string;
const filler = () => join(mnt, 'filler');

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'primacy-full-'));
  mnt = join(work, 'mnt');
  try {
    execFileSync('mkdir', [mnt]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(`cannot mount a 64 KiB tmpfs to fill (needs root and tmpfs): ${(error as Error).message.split('\n')[0]}`);
  }
});
afterAll(async () => {
  execFileSync('umount', [mnt], { stdio: 'pipe' });
  await rm(work, { recursive: true, force: true });
});

const locks: LockAdapter[] = [];
beforeEach(({ task }) => {
  name = `full-${task.id}`;
});
afterEach(async () => {
  for (const lock of locks.splice(0)) await lock.close?.();
  await rm(filler(), { force: true });
  await rm(fileLockPath(name, mnt), { recursive: true, force: true });
});

function lock(): LockAdapter {
  const made = fileLock({ dir: mnt });
  locks.push(made);
  return made;
}

/** Fills the filesystem: the filler's own write fails once no block is left. */
async function fill(): Promise<void> {
  const failed = await writeFile(filler(), Buffer.alloc(256 * 1024)).then(
    () => null,
    (error: NodeJS.ErrnoException) => error.code,
  );
  expect(failed).toBe('ENOSPC');
}

async function leftovers(): Promise<string[]> {
  return (await readdir(fileLockPath(name, mnt))).filter((file) => file.startsWith('.tmp-'));
}

describe('the file lock on a full filesystem', () => {
  it('fails an acquire with ENOSPC and the lock directory in the message, leaves no partial file, and recovers once there is space', async () => {
    const ttl = 1000;
    await fill();
    const error = await lock()
      .acquire(name, createHolderIdentity(), ttl)
      .then(
        () => null,
        (failure: Error) => failure,
      );
    expect(error?.message).toMatch(/^\[primacy\] \[file\] acquire failed: .*primacy-full-[^ ]+\.lock: ENOSPC/);
    expect(await leftovers()).toEqual([]);

    // The failed install left its claim: another candidate recovers it once it stayed for a TTL.
    await rm(filler());
    const follower = lock();
    const start = performance.now();
    let lease: Lease | null = null;
    while (lease === null && performance.now() - start < 10 * ttl) {
      lease = await follower.acquire(name, createHolderIdentity(), ttl, { warn: () => undefined });
      if (lease === null) await new Promise((r) => setTimeout(r, 50));
    }
    expect(lease?.token).toBeGreaterThanOrEqual(1);
    expect(await leftovers()).toEqual([]);
  });

  it('fails a runOnce outcome write with ENOSPC, leaving no partial file and the previous outcome in place', async () => {
    const adapter = lock();
    const lease = (await adapter.acquire(name, createHolderIdentity(), 5000)) as Lease;
    expect(lease).not.toBeNull();
    const first: RunOutcome = {
      status: 'completed',
      token: lease.token,
      holder: lease.holder,
      startedAt: Date.now(),
      finishedAt: Date.now(),
    };
    expect(await adapter.writeOutcome?.(lease, first)).toBe(true);
    await fill();
    const failure = await adapter.writeOutcome?.(lease, { ...first, finishedAt: first.finishedAt + 1 }).then(
      () => null,
      (error: Error) => error,
    );
    expect(failure?.message).toMatch(/writeOutcome failed: .*ENOSPC/);
    expect(await leftovers()).toEqual([]);
    expect(await adapter.readOutcome?.(name)).toEqual(first);
  });

  it('reports the failure through the election, which keeps campaigning and is elected once there is space', async () => {
    await fill();
    const warnings: string[] = [];
    const errors: unknown[] = [];
    const election = elect({
      name,
      lock: fileLock({ dir: mnt }),
      ttl: 1000,
      retryInterval: 100,
      handleSignals: false,
      logger: { warn: (message: string) => warnings.push(message), error: () => undefined },
    });
    election.on('error', (error) => errors.push(error));
    try {
      await election.ready;
      expect(election.isPrimary).toBe(false);
      expect(warnings[0]).toMatch(/^\[primacy\] acquire for "full-[^"]+" failed, retrying: \[primacy\] \[file\] acquire failed: .*ENOSPC/);
      expect(errors.length).toBeGreaterThanOrEqual(1);
      expect(await leftovers()).toEqual([]);
      await rm(filler());
      const elected = new Promise((resolve) => election.once('elected', resolve));
      await Promise.race([elected, new Promise((_, reject) => setTimeout(() => reject(new Error('not elected within 10 s')), 10_000))]);
      expect(election.isPrimary).toBe(true);
    } finally {
      await election.stop();
    }
  });
});
