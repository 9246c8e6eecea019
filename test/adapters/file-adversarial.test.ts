/**
 * Adversarial regressions for the file lock (guarantees that held under review): a third party
 * stepping the state file's timestamps, a lock directory reached through a symlink by a second
 * instance of the same process, an empty directory raced by candidates that remember different
 * token floors, and the directory deleted twice within one TTL. Real files, real processes.
 */
import { mkdir, mkdtemp, readdir, rm, symlink, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileLock, fileLockPath } from '../../adapters/file.js';
import { Child, killAll } from '../../harness/child.js';
import type { Lease, LockAdapter } from '../../src/adapter.js';
import { createHolderIdentity } from '../../src/identity.js';

const HOLDER = join(import.meta.dirname, 'fixtures', 'file-holder.ts');
const name = 'adv';
const quiet = { warn: () => undefined };

describe('file lock under adversarial conditions', () => {
  let dir: string;
  let lockDir: string;
  const children: Child[] = [];
  const locks: LockAdapter[] = [];
  const lock = (at = dir) => {
    const made = fileLock({ dir: at });
    locks.push(made);
    return made;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-file-adv-'));
    lockDir = fileLockPath(name, dir);
  });
  afterEach(async () => {
    await killAll(children);
    for (const made of locks.splice(0)) await made.close?.();
    await rm(dir, { recursive: true, force: true });
  });

  it('a third party stepping the held file’s mtime an hour back or forward does not expire a holder that stopped renewing early', async () => {
    const ttl = 1500;
    const holderLock = lock();
    const lease = (await holderLock.acquire(name, createHolderIdentity(), ttl, quiet)) as Lease;
    expect(lease).not.toBeNull();
    const follower = lock();
    const held = join(lockDir, `${lease.token}.held`);
    let last = 0;
    for (const step of [-3_600_000, +3_600_000, -3_600_000]) {
      const when = new Date(Date.now() + step);
      await utimes(held, when, when);
      last = performance.now();
      expect(await follower.acquire(name, createHolderIdentity(), ttl, quiet)).toBeNull();
      await new Promise((r) => setTimeout(r, ttl / 3));
    }
    // Each step is a new version: only one TTL of silence after the last one expires the holder.
    let taken: Lease | null = null;
    while (taken === null) {
      taken = await follower.acquire(name, createHolderIdentity(), ttl, quiet);
      if (taken === null) await new Promise((r) => setTimeout(r, 25));
    }
    expect(performance.now() - last).toBeGreaterThanOrEqual(ttl - 5);
    expect(taken.token).toBeGreaterThan(lease.token);
    expect(await holderLock.renew(lease, ttl)).toBeNull();
  });

  it('two instances of one process, one reaching the directory through a symlink, never both hold', async () => {
    const ttl = 2000;
    const real = join(dir, 'real');
    const link = join(dir, 'link');
    await mkdir(real);
    await symlink(real, link);
    const a = lock(real);
    const b = lock(link);
    for (let round = 0; round < 20; round++) {
      const [x, y] = await Promise.all([
        a.acquire(name, createHolderIdentity(), ttl, quiet),
        b.acquire(name, createHolderIdentity(), ttl, quiet),
      ]);
      const won = [x, y].filter((l): l is Lease => l !== null);
      expect(won).toHaveLength(1);
      const [lease] = won;
      await (lease === x ? a : b).release(lease as Lease);
    }
  });

  it('ten instances racing for an empty directory: one holder, and only its state file left', async () => {
    const ttl = 2000;
    const first = lock();
    const lease = (await first.acquire(name, createHolderIdentity(), ttl, quiet)) as Lease;
    await first.release(lease);
    await rm(lockDir, { recursive: true, force: true });
    for (let round = 0; round < 10; round++) {
      await rm(lockDir, { recursive: true, force: true });
      const racers = Array.from({ length: 10 }, () => lock());
      const leases = await Promise.all(racers.map((r) => r.acquire(name, createHolderIdentity(), ttl, quiet)));
      const won = leases.filter((l): l is Lease => l !== null);
      expect(won).toHaveLength(1);
      const files = (await readdir(lockDir)).filter((f) => /^\d+\.(held|free)$/.test(f));
      expect(files).toEqual([`${won[0]?.token}.held`]);
      await racers[leases.indexOf(won[0] as Lease)]?.release(won[0] as Lease);
    }
  });

  it('the directory deleted twice within one TTL: a follower that saw the holder still waits from the first vanish', async () => {
    const ttl = 2000;
    const holder = new Child(HOLDER, [dir, name, String(ttl), '100']);
    children.push(holder);
    const acquired = await holder.waitFor((e) => e.ev === 'acquired', 20_000);
    const follower = lock();
    expect(await follower.acquire(name, createHolderIdentity(), ttl, quiet)).toBeNull();
    await rm(lockDir, { recursive: true, force: true });
    const vanishedAt = performance.now();
    expect(await follower.acquire(name, createHolderIdentity(), ttl, quiet)).toBeNull();
    await new Promise((r) => setTimeout(r, ttl / 2));
    await rm(lockDir, { recursive: true, force: true });
    let taken: Lease | null = null;
    while (taken === null) {
      taken = await follower.acquire(name, createHolderIdentity(), ttl, quiet);
      if (taken === null) await new Promise((r) => setTimeout(r, 25));
    }
    const waited = performance.now() - vanishedAt;
    expect(waited).toBeGreaterThanOrEqual(ttl);
    expect(waited).toBeLessThan(ttl * 2); // from the first vanish, not restarted by the second
    expect(taken.token).toBeGreaterThan(acquired.token as number);
    await holder.waitFor((e) => e.ev === 'lost');
  });
});
