/**
 * Review (issue 16): a graceful stop that races a reload or a restart (`--watch` firing, or
 * `primacy inspect reload` / a memory-limit restart, while `inspect shutdown` or SIGTERM arrives).
 * The manager must stop every process it runs, start none after it was told to stop, and exit.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { isRunning } from '../../harness/pids.js';
import { descendants } from '../../src/manager/process-tree.js';
import { until } from '../helpers/until.js';

const repo = join(import.meta.dirname, '../..');
const primacy = join(repo, 'src/cli/primacy.ts');
const app = join(import.meta.dirname, 'fixtures/review-slow-ack.ts');

/** The app's processes among the manager's descendants (not tsx's esbuild service). */
const appProcesses = (root: number) =>
  descendants(root).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('review-slow-ack');
    } catch {
      return false;
    }
  });

/** Resolves with the exit status, or with 'still running' after `ms`. */
const exitWithin = (child: Child, ms: number) =>
  Promise.race([child.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms))]);

describe('a graceful stop racing a reload or a restart', { timeout: 60_000 }, () => {
  let dir: string;
  const children: Child[] = [];
  let seen: number[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-review-stop-'));
    seen = [];
  });
  afterEach(async () => {
    for (const pid of seen) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  const run = (args: string[]) => {
    const child = new Child(primacy, args, { XDG_RUNTIME_DIR: dir, SLOW_IF: join(dir, 'slow') });
    children.push(child);
    return child;
  };
  const startManager = async (extra: string[]) => {
    const manager = run(['start', app, '--state-dir', join(dir, 'state'), '--inspector', ...extra]);
    await until(
      () => /workers? ready/.test(manager.stderr),
      40_000,
      () => `ready; stderr: ${manager.stderr}`,
    );
    // Every process it ever ran, so none escapes the check (or the cleanup).
    const watch = setInterval(() => {
      for (const pid of descendants(manager.pid)) if (!seen.includes(pid)) seen.push(pid);
    }, 50);
    manager.exited.then(() => clearInterval(watch));
    return manager;
  };
  const inspect = (...args: string[]) => run(['inspect', ...args, '--state-dir', join(dir, 'state')]);

  it('SIGTERM during a rolling reload: no worker is started after it, and the manager exits', async () => {
    const manager = await startManager(['--workers', '2', '--drain-time', '2s']);
    inspect('reload');
    // worker-0 is replaced; the reload goes on to worker-1 (or is about to) when the stop comes.
    await until(
      () => /worker-0 replaced/.test(manager.stderr),
      30_000,
      () => `worker-0 replaced; stderr: ${manager.stderr}`,
    );
    manager.kill('SIGTERM');
    expect(await exitWithin(manager, 25_000)).toEqual({ code: 0, signal: null });
    await until(
      () => seen.every((pid) => !isRunning(pid)),
      10_000,
      () => `every worker gone: ${seen.filter(isRunning)}`,
    );
  });

  it('SIGTERM while a restarted worker is still booting: the old one is stopped too, and the manager exits', async () => {
    const manager = await startManager(['--workers', '1']);
    await writeFile(join(dir, 'slow'), '');
    inspect('restart', 'worker-0');
    // The new process is forked (it acks only 4 s later); the old one still serves.
    await until(() => appProcesses(manager.pid).length === 2, 20_000, 'the new process forked');
    manager.kill('SIGTERM');
    expect(await exitWithin(manager, 25_000)).toEqual({ code: 0, signal: null });
    await until(
      () => seen.every((pid) => !isRunning(pid)),
      10_000,
      () => `every worker gone: ${seen.filter(isRunning)}`,
    );
  });
});
