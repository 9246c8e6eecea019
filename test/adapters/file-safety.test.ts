/**
 * Safety of the file lock under the faults that broke it: a claimant stalled mid-transition while a
 * candidate with a shorter TTL recovered its claim, a garbled claim or rolled-back state, a step of
 * the wall clock, and the lock directory deleted under a live holder. Real files and processes.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fileLock, fileLockPath } from '../../adapters/file.js';
import { Child, killAll } from '../../harness/child.js';
import { untilStopped } from '../../harness/pids.js';
import type { AdapterCallContext, Lease, LockAdapter } from '../../src/adapter.js';
import { createHolderIdentity } from '../../src/identity.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const HOLDER = join(fixtures, 'file-holder.ts');
const STALLING_CLAIMANT = join(fixtures, 'stalling-claimant.ts');
const name = 'jobs';

/**
 * Polls `lock.acquire` (expiry is a span of time, so there is no event to wait for) until it
 * grants a lease; the monotonic time it did.
 */
async function acquireWhenDue(lock: LockAdapter, ttl: number, context?: AdapterCallContext, timeout = 15_000) {
  const holder = createHolderIdentity();
  const give = performance.now() + timeout;
  for (;;) {
    const lease = await lock.acquire(name, holder, ttl, context);
    if (lease) return { lease, at: performance.now() };
    if (performance.now() > give) throw new Error(`no lease within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Waits until `child` has stopped itself: it reports `stalling` just before its SIGSTOP, and a
 * SIGCONT sent before the stop lands would be lost. The kernel has no event for it: poll /proc.
 */
async function stopped(child: Child): Promise<void> {
  await child.waitFor((e) => e.ev === 'stalling', 20_000);
  await untilStopped(child.pid);
}

/** The record a released holder leaves, as `<token>.free`. */
function writeFree(lockDir: string, token: number): Promise<void> {
  const record = { v: 1, name, token, holder: createHolderIdentity(), acquiredAt: 0, ttl: 1000 };
  return writeFile(join(lockDir, `${token}.free`), JSON.stringify(record));
}

describe('file lock safety', () => {
  let dir: string;
  let lockDir: string;
  const children: Child[] = [];
  const locks: LockAdapter[] = [];
  const lock = () => {
    const made = fileLock({ dir });
    locks.push(made);
    return made;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-file-safety-'));
    lockDir = fileLockPath(name, dir);
    await mkdir(lockDir);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await killAll(children);
    for (const made of locks.splice(0)) await made.close?.();
    await rm(dir, { recursive: true, force: true });
  });

  describe('claims (mixed TTLs)', () => {
    it('a claimant stalled past a faster candidate’s TTL does not hold once its claim was recovered', async () => {
      await writeFree(lockDir, 5);
      // The slow claimant (60 s TTL) claims 5.free and stops just before installing 6.held.
      const claimant = new Child(STALLING_CLAIMANT, [dir, name, '60000']);
      children.push(claimant);
      await stopped(claimant);
      // A candidate with a 300 ms TTL sees only the claim, and recovers it once it stayed that long.
      const judge = lock();
      const { lease } = await acquireWhenDue(judge, 300, { warn: () => undefined });
      expect(lease.token).toBe(7); // 6 is skipped: the stalled claimant may still install it
      claimant.kill('SIGCONT');
      const result = await claimant.waitFor((e) => e.ev === 'result');
      expect(result).toMatchObject({ won: false });
      expect(await judge.renew(lease, 300)).not.toBeNull();
      expect((await readdir(lockDir)).filter((f) => /^\d+\.held$/.test(f))).toEqual(['7.held']);
    });

    it('a claimant that resumes before anyone recovered its claim holds, and nobody else does', async () => {
      await writeFree(lockDir, 5);
      const claimant = new Child(STALLING_CLAIMANT, [dir, name, '60000']);
      children.push(claimant);
      await stopped(claimant);
      const judge = lock();
      expect(await judge.acquire(name, createHolderIdentity(), 60_000)).toBeNull();
      claimant.kill('SIGCONT');
      expect(await claimant.waitFor((e) => e.ev === 'result')).toMatchObject({ won: true, token: 6 });
      expect(await judge.acquire(name, createHolderIdentity(), 60_000)).toBeNull();
    });

    it('takes the token from an abandoned claim’s name, so a garbled claim cannot make it go back', async () => {
      await writeFile(join(lockDir, `.claim-41-${randomUUID()}`), '{"v":1,"tok');
      const { lease } = await acquireWhenDue(lock(), 300, { warn: () => undefined });
      expect(lease.token).toBeGreaterThan(41);
    });

    it('never installs a token at or below one it has seen, even over a rolled-back state', async () => {
      await writeFree(lockDir, 9);
      const first = lock();
      const lease = (await first.acquire(name, createHolderIdentity(), 5000)) as Lease;
      expect(lease.token).toBe(10);
      await first.release(lease);
      // A backup of the lock directory from long ago is restored.
      for (const file of await readdir(lockDir)) await rm(join(lockDir, file));
      await writeFree(lockDir, 2);
      expect((await lock().acquire(name, createHolderIdentity(), 5000))?.token).toBe(11);
    });
  });

  describe('wall-clock steps', () => {
    it('a +12 s step of the judge’s wall clock does not expire a holder that keeps renewing', async () => {
      const ttl = 2000;
      const holder = new Child(HOLDER, [dir, name, String(ttl), '100']);
      children.push(holder);
      const acquired = await holder.waitFor((e) => e.ev === 'acquired', 20_000);
      const judge = lock();
      const wallNow = Date.now.bind(Date);
      vi.spyOn(Date, 'now').mockImplementation(() => wallNow() + 12_000);
      const mark = holder.events.length;
      const until = performance.now() + 1.5 * ttl;
      while (performance.now() < until) {
        expect(await judge.acquire(name, createHolderIdentity(), ttl)).toBeNull();
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(holder.events.slice(mark).some((e) => e.ev === 'renewed')).toBe(true);
      // Still stepped: once the holder stops renewing, its file stays unchanged and expires.
      holder.kill('SIGSTOP');
      const { lease } = await acquireWhenDue(judge, ttl, { warn: () => undefined });
      expect(lease.token).toBe((acquired.token as number) + 1);
    });
  });

  describe('lock directory deleted under a live holder', () => {
    const ttl = 1500;
    const vanishWarning =
      /^\[primacy\] \[file\] the state of .*primacy-jobs\.lock vanished while lease \d+ of pid \d+ on .+: waiting \d+ ms/;

    it('a follower that saw the holder waits its TTL from the vanish, warns once, and goes on above its token', async () => {
      const holder = new Child(HOLDER, [dir, name, String(ttl), '100']);
      children.push(holder);
      const acquired = await holder.waitFor((e) => e.ev === 'acquired', 20_000);
      const follower = lock();
      const warnings: string[] = [];
      const context = { warn: (message: string) => warnings.push(message) };
      expect(await follower.acquire(name, createHolderIdentity(), ttl, context)).toBeNull();
      await rm(lockDir, { recursive: true, force: true });
      const vanishedAt = performance.now();
      const { lease, at } = await acquireWhenDue(follower, ttl, context);
      expect(at - vanishedAt).toBeGreaterThanOrEqual(ttl);
      expect(lease.token).toBeGreaterThan(acquired.token as number);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(vanishWarning);
      expect(warnings[0]).toContain(`lease ${acquired.token} of pid ${holder.pid}`);
      await holder.waitFor((e) => e.ev === 'lost'); // its renew found its file gone
    });

    it('a follower takes over at once, above the old token, when the holder it saw is dead', async () => {
      const holder = new Child(HOLDER, [dir, name, String(60_000), '100']);
      children.push(holder);
      const acquired = await holder.waitFor((e) => e.ev === 'acquired', 20_000);
      const follower = lock();
      expect(await follower.acquire(name, createHolderIdentity(), ttl)).toBeNull();
      holder.kill('SIGKILL');
      await holder.exited;
      await rm(lockDir, { recursive: true, force: true });
      const lease = await follower.acquire(name, createHolderIdentity(), ttl, { warn: () => undefined });
      expect(lease?.token).toBeGreaterThan(acquired.token as number);
    });

    it('the holder itself steps down at its renew and may take the lock back at once; a follower in its process waits', async () => {
      const ttl = 60_000; // nothing here waits for it to pass
      const holderLock = lock();
      const followerLock = lock();
      const alice = createHolderIdentity();
      const bob = createHolderIdentity();
      const first = (await holderLock.acquire(name, alice, ttl)) as Lease;
      expect(await followerLock.acquire(name, bob, ttl)).toBeNull();
      await rm(lockDir, { recursive: true, force: true });
      expect(await followerLock.acquire(name, bob, ttl, { warn: () => undefined })).toBeNull();
      expect(await holderLock.renew(first, ttl)).toBeNull();
      const again = await holderLock.acquire(name, alice, ttl);
      expect(again?.token).toBeGreaterThan(first.token);
      expect(await followerLock.acquire(name, bob, ttl)).toBeNull();
    });

    it('the holder does not renew or release a lease that a process without its history installed under its token', async () => {
      const holderLock = lock();
      const first = (await holderLock.acquire(name, createHolderIdentity(), 60_000)) as Lease;
      await rm(lockDir, { recursive: true, force: true });
      // A process started after the loss has seen nothing: it starts over at the same token.
      const newcomer = new Child(HOLDER, [dir, name, String(60_000), '100']);
      children.push(newcomer);
      expect(await newcomer.waitFor((e) => e.ev === 'acquired', 20_000)).toMatchObject({ token: first.token });
      expect(await holderLock.renew(first, 60_000)).toBeNull();
      await holderLock.release(first);
      expect((await holderLock.inspect(name))?.holder?.pid).toBe(newcomer.pid);
      expect((await holderLock.inspect(name))?.state).toBe('held');
    });
  });
});
