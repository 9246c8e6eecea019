/**
 * Review (issue 16): which value wins in a config file. A server app's own `restart` or
 * `killTimeout` is that app's, not every other app's; and a `primacy start` flag overrides the
 * config file's manager-wide value for every app that does not set its own (`--help`: "Flags
 * override it").
 */
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

describe('per-app values, manager-wide values and flags in a config file', { timeout: 60_000 }, () => {
  let dir: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-review-config-'));
  });
  afterEach(async () => {
    // A failed run leaves the stubborn command to its runner's 60 s kill timeout: not to outlive the test.
    const left = children.flatMap((child) => descendants(child.pid));
    await killAll(children);
    for (const pid of left) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (config: object, flags: string[] = []) => {
    await writeFile(join(dir, 'primacy.config.json'), JSON.stringify(config));
    const manager = new Child(
      primacy,
      ['start', '--state-dir', join(dir, 'state'), '--config', join(dir, 'primacy.config.json'), ...flags],
      { XDG_RUNTIME_DIR: dir },
    );
    children.push(manager);
    await until(
      () => /workers? ready/.test(manager.stderr),
      40_000,
      () => `ready; stderr: ${manager.stderr}`,
    );
    return manager;
  };

  it("a server app's `restart: 'never'` does not stop another app from being restarted", async () => {
    const manager = await start({
      apps: [
        // Run from the repository, whose tsx loads the TypeScript app.
        { name: 'web', server: true, script: app, cwd: repo, instances: 1, restart: 'never' },
        // No restart of its own, none manager-wide: the default, always.
        { name: 'job', command: 'sleep 1; exit 3' },
      ],
    });
    await until(
      () => /job exited; restarting|job FAILED/.test(manager.stderr),
      15_000,
      () => `job's exit handled; stderr: ${manager.stderr}`,
    );
    expect(manager.stderr).toMatch(/job exited; restarting/);
  });

  it("--kill-timeout overrides the config's manager-wide killTimeout for its processes too", async () => {
    const manager = await start(
      {
        killTimeout: '60s',
        apps: [{ name: 'stubborn', command: "trap '' TERM; echo up; while :; do sleep 0.05; done" }],
      },
      ['--kill-timeout', '1s'],
    );
    await until(() => manager.strayLines.some((line) => /^stubborn\[\d+\] \| up$/.test(line)), 10_000, 'the command up');
    const stopped = performance.now();
    manager.kill('SIGTERM');
    const status = await Promise.race([manager.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 20_000))]);
    expect(status).toEqual({ code: 0, signal: null });
    // The flag's 1 s, then SIGKILL; not the file's 60 s.
    expect(performance.now() - stopped).toBeLessThan(20_000);
  });
});
