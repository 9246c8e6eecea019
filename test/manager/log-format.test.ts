/**
 * `primacy start --log-format prefix|json|inherit`: every line a worker or managed process prints
 * reaches the manager's stream of the same name, marked with the slot's name and the pid of the
 * process that printed it (that pid read from the inspector, and from the line's own text).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { runCommand } from '../../harness/command.js';
import { signal } from '../../harness/pids.js';
import { askInspector } from '../../src/manager/inspector.js';
import type { WorkerInfo } from '../../src/manager/manager.js';
import { until } from '../helpers/until.js';

const primacy = join(import.meta.dirname, '../../src/cli/primacy.ts');
const app = join(import.meta.dirname, 'fixtures/printer-app.ts');
const cli = (...args: string[]) => runCommand(process.execPath, ['--import', 'tsx', primacy, ...args]);

/** A `primacy start` child with its stdout kept raw (the harness reads it as events too). */
function startManager(dir: string, flags: string[]) {
  const manager = new Child(primacy, ['start', app, '--inspector', '--state-dir', dir, ...flags], { XDG_RUNTIME_DIR: dir });
  const out = { stdout: '' };
  manager.process.stdout?.on('data', (chunk) => {
    out.stdout += chunk;
  });
  return { manager, out };
}

describe('primacy start --log-format', { timeout: 120_000 }, () => {
  let dir: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-log-format-'));
  });
  afterEach(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  /** The manager's own table, through its inspector (what `primacy inspect status` asks). */
  const ask = async (command: string, args: string[] = []): Promise<WorkerInfo[]> => {
    const answer = await askInspector({ socket: join(dir, 'primacy.sock') }, { command, args });
    expect(answer).toMatchObject({ ok: true });
    return (answer as { result: WorkerInfo[] }).result;
  };
  const workers = () => ask('status');
  const pidOf = async (name: string) => (await workers()).find((w) => w.name === name && w.state === 'ACKED')?.pid ?? null;

  it('prefix (the default): name[pid] on each line, stdout and stderr apart, a new pid after a restart, custom processes too', async () => {
    const { manager, out } = startManager(dir, ['--workers', '2']);
    children.push(manager);
    await until(
      () => /2 workers ready/.test(manager.stderr),
      60_000,
      () => `ready: ${manager.stderr}`,
    );
    const [zero, one] = [await pidOf('worker-0'), await pidOf('worker-1')];
    for (const [name, pid] of [
      ['worker-0', zero],
      ['worker-1', one],
    ] as const) {
      const p = `${name}[${pid}] | `;
      await until(
        () => out.stdout.includes(`${p}{"ev"`),
        20_000,
        () => `${name}'s lines: ${out.stdout}`,
      );
      const mine = out.stdout.split('\n').filter((line) => line.startsWith(p));
      expect(mine).toEqual([
        `${p}hello from ${name} pid ${pid}`,
        `${p}second line from ${name} pid ${pid}`,
        `${p}${JSON.stringify({ ev: 'json-line', name, pid })}`,
      ]);
      expect(manager.stderr.split('\n')).toContain(`${p}warning from ${name} pid ${pid}`);
    }
    expect(out.stdout).not.toContain('warning from');
    expect(manager.stderr).not.toContain('hello from');
    // The manager's own lines keep their own prefix, once.
    expect(manager.stderr).toMatch(/^\[primacy\] \[manager\] 2 workers ready: /m);

    // A last line without a newline, then a crash: that line under the old pid, the next process's under its own.
    signal(zero as number, 'SIGUSR2');
    await until(
      () => out.stdout.includes(`worker-0[${zero}] | bye from worker-0 pid ${zero} (no newline)\n`),
      20_000,
      () => out.stdout,
    );
    const next = await until(
      async () => {
        const pid = await pidOf('worker-0');
        return pid !== zero && pid;
      },
      30_000,
      'worker-0 restarted',
    );
    await until(
      () => out.stdout.includes(`worker-0[${next}] | hello from worker-0 pid ${next}\n`),
      20_000,
      () => out.stdout,
    );

    // A custom managed process (forked, not a cluster worker) is relayed the same way.
    await ask('manage', ['mailer', app]);
    const mailer = await pidOf('mailer');
    await until(
      () => out.stdout.includes(`mailer[${mailer}] | hello from mailer pid ${mailer}\n`),
      20_000,
      () => out.stdout,
    );
    await until(
      () => manager.stderr.includes(`mailer[${mailer}] | warning from mailer pid ${mailer}\n`),
      20_000,
      () => manager.stderr,
    );

    // Whatever was printed: each line says who printed it, and no line carries another's pid.
    const said = out.stdout.split('\n').filter((l) => l.includes(' from '));
    expect(said.length).toBeGreaterThanOrEqual(8);
    for (const line of said) {
      const match = /^(\S+)\[(\d+)\] \| \w+(?: line)? from (\S+) pid (\d+)/.exec(line);
      expect(match, line).not.toBeNull();
      const [, prefixName, prefixPid, textName, textPid] = match ?? [];
      expect({ line, who: [prefixName, prefixPid] }).toEqual({ line, who: [textName, textPid] });
    }
    manager.kill('SIGTERM');
    expect((await manager.exited).code).toBe(0);
  });

  it('json: every stdout and stderr line is one JSON object, the manager’s own lines included', async () => {
    const { manager, out } = startManager(dir, ['--workers', '1', '--log-format', 'json']);
    children.push(manager);
    await until(
      () => /1 worker ready/.test(manager.stderr),
      60_000,
      () => `ready: ${manager.stderr}`,
    );
    const pid = await pidOf('worker-0');
    await until(
      () => out.stdout.includes('json-line'),
      20_000,
      () => out.stdout,
    );
    await until(
      () => manager.stderr.includes('warning from'),
      20_000,
      () => manager.stderr,
    );
    manager.kill('SIGTERM');
    expect((await manager.exited).code).toBe(0);
    await manager.closed;

    const parse = (text: string) =>
      text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const stdout = parse(out.stdout);
    const stderr = parse(manager.stderr);
    const fields = { time: expect.any(String), name: 'worker-0', pid, stream: 'stdout' };
    expect(stdout).toEqual([
      { ...fields, msg: `hello from worker-0 pid ${pid}` },
      { ...fields, msg: `second line from worker-0 pid ${pid}` },
      // The app's own JSON stays the message, a string: never merged into the record.
      { ...fields, msg: JSON.stringify({ ev: 'json-line', name: 'worker-0', pid }) },
    ]);
    expect(stderr).toContainEqual({ ...fields, stream: 'stderr', msg: `warning from worker-0 pid ${pid}` });
    const own = stderr.filter((record) => record.name === 'manager');
    expect(own.map((record) => record.msg)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^inspector at /),
        `1 worker ready: worker-0 pid ${pid}`,
        'SIGTERM: stopping gracefully (send it again to force)',
      ]),
    );
    for (const record of own) expect(record).toMatchObject({ pid: manager.pid, stream: 'stderr' });
  });

  it('inherit: the workers write to the manager’s streams as they are', async () => {
    const { manager, out } = startManager(dir, ['--workers', '1', '--log-format', 'inherit']);
    children.push(manager);
    await until(
      () => /1 worker ready/.test(manager.stderr) && out.stdout.includes('json-line'),
      60_000,
      () => manager.stderr,
    );
    const pid = await pidOf('worker-0');
    expect(out.stdout).toBe(
      `hello from worker-0 pid ${pid}\nsecond line from worker-0 pid ${pid}\n${JSON.stringify({ ev: 'json-line', name: 'worker-0', pid })}\n`,
    );
  });

  it('survives the reader of its stdout going away (EPIPE): lines are lost, not the manager nor its workers', async () => {
    const { manager } = startManager(dir, ['--workers', '1']);
    children.push(manager);
    await until(
      () => /1 worker ready/.test(manager.stderr),
      60_000,
      () => `ready: ${manager.stderr}`,
    );
    const first = await pidOf('worker-0');
    manager.process.stdout?.destroy();
    // The crash makes the manager write to its closed stdout (the worker's last line, its successor's first).
    signal(first as number, 'SIGUSR2');
    const next = await until(
      async () => {
        const pid = await pidOf('worker-0');
        return pid !== first && pid;
      },
      30_000,
      () => `worker-0 restarted: ${manager.stderr}`,
    );
    // stderr is still read: the new worker's line arrives there, so its stdout lines were written (and lost) first.
    await until(
      () => manager.stderr.includes(`worker-0[${next}] | warning from worker-0 pid ${next}\n`),
      20_000,
      () => manager.stderr,
    );
    expect(manager.running).toBe(true);
    expect((await workers()).map((w) => [w.name, w.state])).toEqual([['worker-0', 'ACKED']]);
    manager.kill('SIGTERM');
    expect((await manager.exited).code).toBe(0);
  });

  it('refuses an unknown format, naming the flag, the value and the choices', async () => {
    const result = await cli('start', app, '--log-format', 'xml');
    expect(result.code).toBe(64);
    expect(result.stderr).toBe('primacy start: --log-format must be prefix, json or inherit, got "xml"\nsee primacy start --help\n');
    const help = await cli('start', '--help');
    expect(help.stdout).toMatch(/--log-format FORMAT/);
  });
});
