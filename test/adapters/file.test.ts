import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileLock, fileLockPath } from '../../adapters/file.js';
import { PrimacyConfigError } from '../../src/errors.js';
import { createHolderIdentity } from '../../src/identity.js';
import { deadHolder, plantHeld } from '../helpers/dead-holder.js';

describe('file adapter', () => {
  let dir: string;
  let lockDir: string;
  const name = 'jobs';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-file-'));
    lockDir = fileLockPath(name, dir);
    await mkdir(lockDir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('takes over at once from a holder whose process died on this host', async () => {
    await plantHeld(lockDir, 4, deadHolder(), 60_000);
    const lease = await fileLock({ dir }).acquire(name, createHolderIdentity(), 60_000);
    expect(lease?.token).toBe(5);
  });

  it('leaves a holder on another host alone until its file stays unrenewed for its TTL, then reclaims with a warning', async () => {
    // Its mtime is long past: only how long we watch the file unchanged counts, never the wall clock.
    const foreign = { ...createHolderIdentity(), hostname: 'another-host', pid: 1 };
    await plantHeld(lockDir, 2, foreign, 300, new Date(Date.now() - 60_000));
    const warnings: string[] = [];
    const context = { warn: (message: string) => warnings.push(message) };
    const lock = fileLock({ dir });
    expect(await lock.acquire(name, createHolderIdentity(), 1000, context)).toBeNull();
    await new Promise((r) => setTimeout(r, 400));
    const lease = await lock.acquire(name, createHolderIdentity(), 1000, context);
    expect(lease?.token).toBe(3);
    expect(warnings.join('\n')).toMatch(/expired without a release/);
  });

  it('treats a corrupted state file as stale, with a warning', async () => {
    await writeFile(join(lockDir, '9.held'), '{"v":1,"tok');
    const warnings: string[] = [];
    const lease = await fileLock({ dir }).acquire(name, createHolderIdentity(), 1000, { warn: (m) => warnings.push(m) });
    expect(lease?.token).toBe(10);
    expect(warnings.join('\n')).toMatch(/corrupt state file .*9\.held/);
  });

  it('recovers a claim abandoned by a claimant that crashed mid-transition, skipping a token', async () => {
    await writeFile(
      join(lockDir, '.claim-crashed'),
      JSON.stringify({ v: 1, name, token: 5, holder: deadHolder(), acquiredAt: 0, ttl: 300 }),
    );
    const lock = fileLock({ dir });
    expect(await lock.acquire(name, createHolderIdentity(), 300)).toBeNull();
    await new Promise((r) => setTimeout(r, 450));
    const lease = await lock.acquire(name, createHolderIdentity(), 300, { warn: () => {} });
    expect(lease?.token).toBe(7);
  });

  it('drops a lease that a higher state file superseded', async () => {
    const lock = fileLock({ dir });
    const lease = await lock.acquire(name, createHolderIdentity(), 5000);
    if (!lease) throw new Error('no lease');
    await plantHeld(lockDir, lease.token + 2, createHolderIdentity(), 5000);
    expect(await lock.renew(lease, 5000)).toBeNull();
  });

  it('leaves exactly one state file behind after many terms', async () => {
    const lock = fileLock({ dir });
    for (let i = 0; i < 5; i++) {
      const lease = await lock.acquire(name, createHolderIdentity(), 5000);
      if (lease) await lock.release(lease);
    }
    expect(await readdir(lockDir)).toEqual(expect.arrayContaining(['5.free']));
    expect((await readdir(lockDir)).filter((file) => file !== '.beacon-key')).toEqual(['5.free']);
  });

  it('wakes a watching follower when the holder releases', async () => {
    const holderLock = fileLock({ dir });
    const followerLock = fileLock({ dir });
    const lease = await holderLock.acquire(name, createHolderIdentity(), 5000);
    const woken = new Promise<string>((resolve) => followerLock.watch?.(name, () => resolve('woken')));
    expect(await followerLock.acquire(name, createHolderIdentity(), 5000)).toBeNull(); // connects to the beacon
    await new Promise((r) => setTimeout(r, 50));
    if (lease) await holderLock.release(lease);
    const outcome = await Promise.race([woken, new Promise((r) => setTimeout(() => r('timeout'), 2000))]);
    expect(outcome).toBe('woken');
    await holderLock.close?.();
    await followerLock.close?.();
  });

  it('wakes the follower even when the holder releases before accepting its beacon connection', async () => {
    // Regression: a connection reset before 'connect' was taken for "no holder yet" and the wake
    // was lost, so the follower waited a whole retry interval.
    const holderLock = fileLock({ dir });
    const followerLock = fileLock({ dir });
    try {
      for (let round = 0; round < 20; round++) {
        const lease = await holderLock.acquire(name, createHolderIdentity(), 5000);
        let unwatch = () => {};
        const woken = new Promise<string>((resolve) => {
          unwatch = followerLock.watch?.(name, () => resolve('woken')) ?? unwatch;
        });
        expect(await followerLock.acquire(name, createHolderIdentity(), 5000)).toBeNull();
        if (lease) await holderLock.release(lease); // at once: the holder never accepts the connection
        const outcome = await Promise.race([woken, new Promise((r) => setTimeout(() => r('timeout'), 1000))]);
        unwatch();
        expect(outcome, `round ${round}`).toBe('woken');
      }
    } finally {
      await holderLock.close?.();
      await followerLock.close?.();
    }
  });

  it("listens for followers once the previous holder's beacon address is freed", async () => {
    // Regression: a holder that acquired while the dead holder's socket was still bound gave up
    // listening until its next renew, so followers fell back to polling.
    const { createServer, connect } = await import('node:net');
    const { beaconKey, currentBeaconAddress } = await import('../../adapters/file/beacon-key.js');
    await beaconKey(lockDir, false); // the name is known once the lock directory has its key
    const address = currentBeaconAddress(lockDir) as string;
    const squatter = createServer().listen({ path: address });
    await new Promise((r) => squatter.once('listening', r));
    const lock = fileLock({ dir });
    await lock.acquire(name, createHolderIdentity(), 5000);
    await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => squatter.close(r)); // the old socket is freed
    await new Promise((r) => setTimeout(r, 400)); // within the retry window
    const reached = await new Promise<boolean>((resolve) => {
      const socket = connect({ path: address });
      socket.on('connect', () => resolve(true));
      socket.on('error', () => resolve(false));
    });
    expect(reached).toBe(true);
    await lock.close?.();
  });

  it('wakes no follower when whoever listens on the beacon address closes its connection while the holder lives', async () => {
    // A squatter that closes every connection at once once made followers campaign in a loop.
    const { createServer } = await import('node:net');
    const { beaconKey, currentBeaconAddress } = await import('../../adapters/file/beacon-key.js');
    await beaconKey(lockDir, false);
    const squatter = createServer((socket) => socket.destroy()).listen({ path: currentBeaconAddress(lockDir) as string });
    await new Promise((r) => squatter.once('listening', r));
    const holderLock = fileLock({ dir });
    const followerLock = fileLock({ dir });
    let wakes = 0;
    const unwatch = followerLock.watch?.(name, () => wakes++);
    try {
      expect(await holderLock.acquire(name, createHolderIdentity(), 5000)).not.toBeNull();
      for (let attempt = 0; attempt < 5; attempt++) {
        expect(await followerLock.acquire(name, createHolderIdentity(), 5000)).toBeNull(); // connects, and is closed on
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(wakes).toBe(0);
    } finally {
      unwatch?.();
      await holderLock.close?.();
      await followerLock.close?.();
      squatter.close();
    }
  });

  it('refuses to force-release through a lock directory that is a symlink, leaving its target alone', async () => {
    const { forceReleaseLockDir } = await import('../../adapters/file/force-release.js');
    await plantHeld(lockDir, 3, createHolderIdentity(), 60_000);
    const link = join(dir, 'primacy-linked.lock');
    await symlink(lockDir, link);
    await expect(forceReleaseLockDir(link)).rejects.toThrow(
      `[primacy] [file] force-release failed: ${link}: it is a symbolic link (to ${lockDir}); give the directory it points to`,
    );
    expect(await readdir(lockDir)).toEqual(['3.held']);
  });

  it('hashes lock names that are unsafe as file names', () => {
    expect(fileLockPath('reports', '/x')).toBe('/x/primacy-reports.lock');
    expect(fileLockPath('@acme/api', '/x')).toMatch(/^\/x\/primacy-_acme_api-[0-9a-f]{8}\.lock$/);
    expect(fileLockPath('../../etc', '/x')).toMatch(/^\/x\/primacy-\.\._\.\._etc-[0-9a-f]{8}\.lock$/);
  });

  it('refuses an unusable lock directory at construction, naming the option and value', async () => {
    const file = join(dir, 'plain-file');
    await writeFile(file, '');
    expect(() => fileLock({ dir: join(file, 'locks') })).toThrow(PrimacyConfigError);
    expect(() => fileLock({ dir: join(file, 'locks') })).toThrow(
      /Expected `dir` to be a writable directory \(ENOTDIR\), got ".*plain-file\/locks" \(string\)/,
    );
    expect(() => fileLock({ dir: '/proc/primacy-locks' })).toThrow(/`dir`/);
    expect(() => fileLock({ dir: '' })).toThrow(/Expected `dir` to be a directory path, got "" \(string\)/);
  });
});
