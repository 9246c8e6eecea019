/**
 * `primacy start --single-process`: the app runs in the CLI's own process, no manager, and the
 * worker API answers as worker-0 of 1; SIGTERM (or worker.terminate()) stops it through the app's
 * own handler.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { runCommand } from '../../harness/command.js';
import { until } from '../helpers/until.js';

const primacy = join(import.meta.dirname, '../../src/cli/primacy.ts');
const app = join(import.meta.dirname, 'fixtures/single-app.ts');

describe('primacy start --single-process', { timeout: 60_000 }, () => {
  let dir: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-single-'));
  });
  afterEach(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });
  const start = (env: NodeJS.ProcessEnv = {}) => {
    const cli = new Child(primacy, ['start', '--single-process', app, '--workers', '1', '--', '--port', '0'], {
      XDG_RUNTIME_DIR: dir,
      ...env,
    });
    children.push(cli);
    return cli;
  };

  it('runs the app in the CLI process; the worker API answers as worker-0 of 1; SIGTERM stops it gracefully', async () => {
    const cli = start();
    const loading = await cli.waitFor((e) => e.ev === 'loading', 20_000);
    // The app's own pid is the CLI's: no process was forked.
    expect(loading).toMatchObject({ pid: cli.pid, state: 'STARTED', argv: ['--port', '0'] });
    const api = await cli.waitFor((e) => e.ev === 'api', 20_000);
    const refused = (call: string) =>
      `[primacy] [manager] worker.${call}() is not available in single-process mode: no manager runs (start without --single-process)`;
    expect(api).toMatchObject({
      pid: cli.pid,
      mode: 'single-process',
      managed: false,
      name: 'worker-0',
      index: 0,
      total: 1,
      state: 'ACKED',
      workers: [{ name: 'worker-0', index: 0, state: 'ACKED', pid: cli.pid, starts: 1, restarts: 0 }],
      restart: refused('restart'),
      reload: refused('restart'),
      scale: refused('scale'),
      manage: refused('manage'),
    });
    expect(cli.stderr).toMatch(
      /\[primacy\] \[single-process\] .*single-app\.ts runs in this process \(pid \d+\): no manager, no inspector/,
    );
    // Elections run on the default lock, as in a plain process; the one worker is primary while
    // one of them is (before: false, as no election had won).
    const elected = await cli.waitFor((e) => e.ev === 'elected', 20_000);
    expect(elected.workers).toMatchObject([{ name: 'worker-0', primary: true }]);

    cli.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.events.find((e) => e.ev === 'sigterm')).toMatchObject({ pid: cli.pid, state: 'TERMINATED' });
    // Stepped down on SIGTERM: no longer primary.
    expect(cli.events.find((e) => e.ev === 'revoked')).toMatchObject({ workers: [{ name: 'worker-0', primary: false }] });
  });

  it('worker.terminate() stops it the same way', async () => {
    const cli = start({ TERMINATE: '1' });
    const exit = await until(
      () => cli.exit,
      30_000,
      () => `exit; stderr: ${cli.stderr}`,
    );
    expect(exit).toMatchObject({ code: 0, signal: null });
    await cli.closed;
    expect(cli.events.find((e) => e.ev === 'terminate')).toMatchObject({ answer: 'shutting down' });
    expect(cli.events.find((e) => e.ev === 'sigterm')).toMatchObject({ pid: cli.pid, state: 'TERMINATED' });
  });

  it('refuses the options that need a manager, naming them (exit 64)', async () => {
    const result = await runCommand(
      process.execPath,
      ['--import', 'tsx', primacy, 'start', '--single-process', app, '--workers', '2', '--inspector'],
      {
        env: { XDG_RUNTIME_DIR: dir },
      },
    );
    expect(result.code).toBe(64);
    expect(result.stderr).toContain(
      '--single-process runs the app in this one process with no manager, so --workers, --inspector cannot apply (drop them)',
    );
    expect(result.stdout).toBe('');
  });
});
