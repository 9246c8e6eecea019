/**
 * The manager's state under the faults a shared temp directory meets: a temp cleaner removing it,
 * a full disk, a read-only remount. The manager reports and retries; it never crashes, never
 * takes its workers down, and tokens never go backwards.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { isRunning } from '../../harness/pids.js';
import { mountSmallFs, type SmallFs } from '../helpers/tmpfs.js';

const main = join(import.meta.dirname, '../fixtures/manager-main.ts');

describe('manager state faults', () => {
  let fs: SmallFs | null = null;
  const managers: Child[] = [];
  const workerPids = (manager: Child) => manager.events.filter((e) => e.ev === 'acked').map((e) => e.workerPid as number);

  afterEach(async () => {
    const pids = managers.flatMap(workerPids);
    await killAll(managers.splice(0));
    for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await fs?.close();
    fs = null;
  });

  /** A manager of three workers whose default lock lives on a small filesystem; resolves once one is primary. */
  const startOnSmallFs = async () => {
    fs = await mountSmallFs();
    const manager = new Child(main, [], { XDG_RUNTIME_DIR: fs.dir, STATE_DIR: join(fs.dir, 'state'), WORKERS: '3' });
    managers.push(manager);
    await manager.waitFor((e) => e.ev === 'started', 20_000);
    const first = await manager.waitFor((e) => e.ev === 'elected', 10_000);
    return { manager, first, lockDir: join(fs.dir, 'primacy', 'primacy-jobs.lock') };
  };

  /** Kills the primary while the fault holds: the others report the failure and keep running; once it is lifted, one takes over. */
  const survives = async (manager: Child, first: ChildEvent, lift: () => Promise<void>) => {
    const killedAt = wallNow();
    process.kill(first.pid, 'SIGKILL');
    await manager.waitFor((e) => e.ev === 'error' && e.t > killedAt, 15_000);
    const electedMeanwhile = manager.events.filter((e) => e.ev === 'elected' && e.t > killedAt);
    expect(electedMeanwhile).toEqual([]);
    const liftedAt = wallNow();
    await lift();
    const next = await manager.waitFor((e) => e.ev === 'elected' && e.t > liftedAt, 20_000);
    expect(next.token as number).toBeGreaterThan(first.token as number);
    expect(isRunning(manager.pid)).toBe(true);
    // Only the killed worker exited (and was replaced); the manager never crashed.
    expect(manager.events.filter((e) => e.ev === 'exit').map((e) => e.workerPid)).toEqual([first.pid]);
  };

  it('survives a full disk (ENOSPC) and leaves no partial file behind', { timeout: 90_000 }, async () => {
    const { manager, first, lockDir } = await startOnSmallFs();
    await fs?.fill();
    await survives(manager, first, async () => {
      expect((await readdir(lockDir)).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
      await fs?.unfill();
    });
  });

  it('survives a read-only remount (EROFS)', { timeout: 90_000 }, async () => {
    const { manager, first } = await startOnSmallFs();
    fs?.readOnly(true);
    await survives(manager, first, async () => fs?.readOnly(false));
  });

  it('survives a temp cleaner removing the lock directory under it', { timeout: 90_000 }, async () => {
    const { manager, first } = await startOnSmallFs();
    await rm(join(fs?.dir as string, 'primacy'), { recursive: true, force: true });
    const killedAt = wallNow();
    process.kill(first.pid, 'SIGKILL');
    const next = await manager.waitFor((e) => e.ev === 'elected' && e.t > killedAt, 20_000);
    expect(next.token as number).toBeGreaterThan(first.token as number);
    expect(manager.events.filter((e) => e.ev === 'exit').map((e) => e.workerPid)).toEqual([first.pid]);
  });
});
