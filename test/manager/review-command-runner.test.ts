/**
 * Review (issue 16): the command runner (a config app's `command`) when the runner itself dies
 * (SIGKILL, the OOM killer), and when the command dies of a signal Node does not let a process die
 * of (SIGUSR1 starts its debugger, SIGPIPE is ignored). No orphan, no second copy of the command,
 * and a dead command is seen as dead (restarted) rather than left looking ACKED.
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

/** Every process on the machine whose command line is exactly `argv`. */
const processesRunning = (argv: string[]) => {
  const wanted = `${argv.join('\0')}\0`;
  return descendants(1).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === wanted;
    } catch {
      return false;
    }
  });
};

describe('the command runner, when it or its command dies of a signal', { timeout: 60_000 }, () => {
  let dir: string;
  let marker: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-review-runner-'));
    // A sleep no other test runs: its copies can be counted machine-wide (an orphan is not our descendant).
    marker = String(900_000 + Math.floor(Math.random() * 99_999));
  });
  afterEach(async () => {
    for (const pid of processesRunning(['sleep', marker])) process.kill(pid, 'SIGKILL');
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (apps: object[]) => {
    await writeFile(join(dir, 'primacy.config.json'), JSON.stringify({ apps }));
    const manager = new Child(primacy, ['start', '--state-dir', join(dir, 'state'), '--config', join(dir, 'primacy.config.json')], {
      XDG_RUNTIME_DIR: dir,
    });
    children.push(manager);
    await until(
      () => /workers? ready/.test(manager.stderr),
      40_000,
      () => `ready; stderr: ${manager.stderr}`,
    );
    return manager;
  };
  const runnerOf = (manager: Child, name: string) => Number(new RegExp(`${name} pid (\\d+)`).exec(manager.stderr)?.[1]);

  it('a SIGKILLed runner leaves no orphan: its command does not run on beside its replacement', async () => {
    const manager = await start([{ name: 'sleeper', command: ['sleep', marker] }]);
    const command = await until(() => processesRunning(['sleep', marker])[0], 10_000, 'the command running');
    process.kill(runnerOf(manager, 'sleeper'), 'SIGKILL');
    await until(
      () => /sleeper exited; restarting/.test(manager.stderr),
      10_000,
      () => `restarting; stderr: ${manager.stderr}`,
    );
    await until(() => processesRunning(['sleep', marker]).some((pid) => pid !== command), 10_000, 'the replacement command');
    // One copy of the command, the new one: the old one was stopped, not left to init.
    await until(
      () => !isRunning(command),
      10_000,
      () => `the first command (pid ${command}) gone`,
    );
    expect(processesRunning(['sleep', marker])).toHaveLength(1);
  });

  it.each(['SIGUSR1', 'SIGPIPE'] as const)('a command killed by %s is restarted, not left ACKED with no command', async (signal) => {
    const manager = await start([{ name: 'sleeper', command: ['sleep', marker] }]);
    const command = await until(() => processesRunning(['sleep', marker])[0], 10_000, 'the command running');
    const runner = runnerOf(manager, 'sleeper');
    process.kill(command, signal);
    await until(
      () => /sleeper exited; restarting/.test(manager.stderr),
      10_000,
      () => `restarting; stderr: ${manager.stderr}`,
    );
    await until(() => !isRunning(runner), 5000, 'the runner gone with its command');
    expect(manager.strayLines.join('\n')).not.toMatch(/Debugger listening/);
  });
});
