import { chmodSync, chownSync, lchownSync, lstatSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, readdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_FOLLOWERS } from '../../adapters/file/beacon.js';
import { beaconPath } from '../../adapters/file/beacon-file.js';
import { fileLock, fileLockPath } from '../../adapters/file.js';
import { PrimacyConfigError } from '../../src/errors.js';
import { createHolderIdentity } from '../../src/identity.js';
import { deadHolder, plantHeld } from '../helpers/dead-holder.js';
import { eventually } from '../helpers/until.js';

/** Whether a connection to the Unix socket at `path` is accepted (and then closes it). */
function connects(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Polls `check` every 20 ms until it holds or `within` ms passed; its last answer. */
/** Whether `check()` holds within `within` ms (false after it, so the caller's assertion says so). */
const waitUntil = (check: () => boolean | Promise<boolean>, within: number) => eventually(check, Boolean, within);

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

  it('judges a state file larger than any record corrupt without reading it (a sparse 3 GB file), with a warning saying so', async () => {
    // Regression: read whole (ERR_FS_FILE_TOO_LARGE past 2 GB, taken for "vanished": nobody
    // primary, no message; below it, the whole file in memory).
    const handle = await open(join(lockDir, '9.held'), 'w');
    await handle.truncate(3 * 1024 ** 3);
    await handle.close();
    const warnings: string[] = [];
    const lease = await fileLock({ dir }).acquire(name, createHolderIdentity(), 1000, { warn: (m) => warnings.push(m) });
    expect(lease?.token).toBe(10);
    expect(warnings.join('\n')).toContain(
      `corrupt state file ${join(lockDir, '9.held')} (is 3221225472 bytes, more than the 65536 bytes a file of the lock can hold: not read)`,
    );
  });

  it("keeps a failed run's outcome readable under the read cap, however long its error message", async () => {
    const lock = fileLock({ dir });
    const lease = await lock.acquire(name, createHolderIdentity(), 5000);
    if (!lease) throw new Error('no lease');
    const outcome = {
      status: 'failed',
      token: lease.token,
      holder: lease.holder,
      startedAt: 1,
      finishedAt: 2,
      error: 'x'.repeat(100_000),
    } as const;
    expect(await lock.writeOutcome?.(lease, outcome)).toBe(true);
    const read = await lock.readOutcome?.(name);
    expect(read?.error).toBe(`${'x'.repeat(16 * 1024)}…`);
    await lock.close?.();
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
    expect(await readdir(lockDir)).toEqual(['5.free']); // no beacon socket left either: release waits for its close
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

  it("binds its beacon over a socket file left at its name, and removes earlier leases' beacon files", async () => {
    // Only the holder of a token binds that token's name: whatever is there (a leftover, a squatter
    // in a shared directory) is unlinked, and the beacon listens at once.
    const squatted: number[] = [];
    const squatter = createServer(() => squatted.push(1)).listen({ path: beaconPath(lockDir, 1) as string });
    await new Promise((r) => squatter.once('listening', r));
    await writeFile(join(lockDir, '.beacon-key'), 'left by an earlier version');
    const lock = fileLock({ dir });
    await writeFile(join(lockDir, '.beacon-0'), ''); // a former lease's
    try {
      const squatters = (await lstat(beaconPath(lockDir, 1) as string)).ino;
      expect((await lock.acquire(name, createHolderIdentity(), 5000))?.token).toBe(1);
      const replaced = () =>
        lstat(beaconPath(lockDir, 1) as string).then(
          (s) => s.ino !== squatters,
          () => false,
        );
      expect(await waitUntil(replaced, 2000)).toBe(true);
      expect(await connects(beaconPath(lockDir, 1) as string)).toBe(true);
      expect(squatted).toEqual([]);
      expect((await readdir(lockDir)).filter((file) => file.startsWith('.beacon'))).toEqual(['.beacon-1']);
    } finally {
      await lock.close?.();
      squatter.close();
    }
  });

  it('wakes no follower, and stops reconnecting, when whoever listens on the beacon socket closes its connection while the holder lives', async () => {
    // A squatter that closes every connection at once once made followers campaign in a loop; a
    // holder over its connection cap does the same, and its followers then paid a rescan burst at
    // every poll by reconnecting.
    const holderLock = fileLock({ dir });
    const followerLock = fileLock({ dir });
    let wakes = 0;
    let connections = 0;
    const unwatch = followerLock.watch?.(name, () => wakes++);
    const path = beaconPath(lockDir, 1) as string;
    const squatter = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    try {
      expect(await holderLock.acquire(name, createHolderIdentity(), 5000)).not.toBeNull();
      await waitUntil(() => connects(path), 2000);
      await unlink(path); // replaced under the holder, as a member of a shared directory's group could
      squatter.listen({ path });
      await new Promise((r) => squatter.once('listening', r));
      // Attempts both while the follower judges the close (a busy machine stretches that judging)
      // and after it: neither may connect again.
      for (let attempt = 0; attempt < 10; attempt++) {
        expect(await followerLock.acquire(name, createHolderIdentity(), 5000)).toBeNull(); // connects, and is closed on
        await new Promise((r) => setTimeout(r, attempt < 5 ? 5 : 200));
      }
      expect(wakes).toBe(0);
      expect(connections).toBe(1);
    } finally {
      unwatch?.();
      await holderLock.close?.();
      await followerLock.close?.();
      squatter.close();
    }
  });

  it(`keeps at most ${MAX_FOLLOWERS} beacon connections open, closing the rest at once, and renews through a flood`, async () => {
    const lock = fileLock({ dir });
    const lease = await lock.acquire(name, createHolderIdentity(), 5000);
    if (!lease) throw new Error('no lease');
    const path = beaconPath(lockDir, lease.token) as string;
    await waitUntil(() => connects(path), 2000);
    const sockets = Array.from({ length: MAX_FOLLOWERS + 100 }, () => connect({ path }).on('error', () => undefined));
    try {
      let open = sockets.length;
      await waitUntil(() => {
        open = sockets.filter((socket) => !socket.destroyed && !socket.readableEnded).length;
        return open <= MAX_FOLLOWERS;
      }, 5000);
      expect(open).toBeGreaterThan(MAX_FOLLOWERS - 5); // less only by connections the server has not yet seen close
      expect(await lock.renew(lease, 5000)).not.toBeNull();
    } finally {
      for (const socket of sockets) socket.destroy();
      await lock.close?.();
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

  it("refuses, through a link of another user's on the way to it, to force-release a lock; through root's, releases its real path", async () => {
    const { forceReleaseLockDir } = await import('../../adapters/file/force-release.js');
    await plantHeld(lockDir, 3, createHolderIdentity(), 60_000);
    const foreign = join(dir, 'foreign-link');
    await symlink(dir, foreign);
    lchownSync(foreign, 65534, 65534);
    await expect(forceReleaseLockDir(fileLockPath(name, foreign))).rejects.toThrow(
      `${foreign} is a symbolic link (to ${dir}) owned by uid 65534 (nobody), who can point it anywhere; give the real path (${lockDir})`,
    );
    expect(await readdir(lockDir)).toEqual(['3.held']);
    const ours = join(dir, 'our-link');
    await symlink(dir, ours);
    expect(await forceReleaseLockDir(fileLockPath(name, ours))).toMatchObject({ dir: lockDir, token: 3 });
    expect(await readdir(lockDir)).toEqual(['3.free']);
  });

  it('creates a missing `dir` and its parents 0755 whatever the umask, and uses a directory by its real path', async () => {
    // Regression: under a umask of 0 they were 0777 without the sticky bit: anyone could move the locks away.
    const deep = join(dir, 'a', 'b', 'locks');
    const umask = process.umask(0);
    try {
      fileLock({ dir: deep });
    } finally {
      process.umask(umask);
    }
    const modes = [join(dir, 'a'), join(dir, 'a', 'b'), deep].map((path) => lstatSync(path).mode & 0o7777);
    expect(modes).toEqual([0o755, 0o755, 0o755]);
    const link = join(dir, 'link-to-locks');
    await symlink(deep, link);
    expect(fileLock({ dir: link }).path(name)).toBe(fileLockPath(name, deep));
  });

  it('refuses a `dir` in which other users could move the locks away, naming path, owner, mode and the fix', async () => {
    // Regression: only "writable" was checked; another user moved each lock directory away as it was made.
    const open = join(dir, 'open');
    await mkdir(open);
    chmodSync(open, 0o777);
    expect(() => fileLock({ dir: open })).toThrow(
      `Expected \`dir\` to be a directory in which no other user can move the locks away: ${open} is writable by every user and has no sticky bit (owned by uid 0 (root), mode 0777). Use a directory of yours`,
    );
    chmodSync(open, 0o1777); // as /tmp: each entry stays its owner's
    expect(() => fileLock({ dir: open })).not.toThrow();
    const theirs = join(dir, 'theirs');
    await mkdir(theirs);
    chownSync(theirs, 65534, 0);
    chmodSync(theirs, 0o2770);
    expect(() => fileLock({ dir: theirs })).toThrow(
      /is owned by another user \(owned by uid 65534 \(nobody\), mode 02770\), who can move any entry/,
    );
    expect(() => fileLock({ dir: theirs, shared: true })).not.toThrow(); // a group's directory, on purpose
    chmodSync(theirs, 0o1777);
    expect(() => fileLock({ dir: theirs, shared: true })).toThrow(
      /is owned by another user, who can move any entry of it, and writable by every user/,
    );
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
