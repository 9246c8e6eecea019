/**
 * `primacy inspect status --watch`: follows a running manager, printing (off a terminal) only when a
 * worker changed, until SIGINT (exit 0) or until the manager goes away (exit 3).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { runCommand } from '../../harness/command.js';
import { watchStatus } from '../../src/cli/inspect-watch.js';
import type { WorkerInfo } from '../../src/manager/manager.js';
import { until } from '../helpers/until.js';

const primacy = join(import.meta.dirname, '../../src/cli/primacy.ts');
const app = join(import.meta.dirname, 'fixtures/http-app.ts');
/** Cursor home, clear screen: how the watch redraws on a terminal. */
const CLEAR = '\x1b[H\x1b[2J';
const cli = (...args: string[]) => runCommand(process.execPath, ['--import', 'tsx', primacy, ...args]);

/** A running `primacy inspect ... --watch`, its output kept raw. */
function watcher(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', primacy, 'inspect', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const seen = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => {
    seen.stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    seen.stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, seen, exited };
}

describe('primacy inspect status --watch', { timeout: 120_000 }, () => {
  let dir: string;
  const children: Child[] = [];
  const watchers: ReturnType<typeof watcher>[] = [];
  let manager: Child;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-inspect-watch-'));
    manager = new Child(primacy, ['start', app, '--workers', '1', '--inspector', '--name', 'watched', '--state-dir', dir], {
      XDG_RUNTIME_DIR: dir,
    });
    children.push(manager);
    await until(
      () => /1 worker ready/.test(manager.stderr),
      60_000,
      () => `ready: ${manager.stderr}`,
    );
  }, 90_000);
  afterAll(async () => {
    for (const { child } of watchers) child.kill('SIGKILL');
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });
  const watch = (...args: string[]) => {
    const started = watcher(['status', '--watch', '--interval', '100', '--name', 'watched', '--state-dir', dir, ...args]);
    watchers.push(started);
    return started;
  };

  it('shows the change after inspect scale 2, prints nothing while nothing changes, and exits 0 on SIGINT', async () => {
    const [text, json] = [watch(), watch('--json')];
    await until(
      () => /worker-0\s+ACKED/.test(text.seen.stdout) && json.seen.stdout.includes('\n'),
      30_000,
      () => text.seen.stderr,
    );
    const scaled = await cli('inspect', 'scale', '2', '--name', 'watched', '--state-dir', dir);
    expect(scaled.code, scaled.stderr).toBe(0);
    await until(
      () => /worker-1\s+ACKED/.test(text.seen.stdout),
      30_000,
      () => text.seen.stdout,
    );
    await until(
      () => json.seen.stdout.includes('"name":"worker-1","index":1,"state":"ACKED"'),
      30_000,
      () => json.seen.stdout,
    );

    // Text off a terminal: one table per change, each stamped, never the same table twice in a row.
    const tables = text.seen.stdout.split(/^--- \S+\n/m).slice(1);
    expect(tables[0]).toMatch(/^name\s+state\s+pid\s+uptime/);
    expect(tables[0]).not.toContain('worker-1');
    expect(tables.at(-1)).toMatch(/worker-1\s+ACKED\s+\d+/);
    // JSON: one answer per line, each a change from the one before (some 10+ polls ran meanwhile).
    const answers = json.seen.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { ok: boolean; result: WorkerInfo[] });
    const states = answers.map(({ result }) =>
      JSON.stringify(result.map((w) => [w.name, w.state, w.pid, w.restarts, w.reloads, w.primary])),
    );
    expect(answers[0]?.result.map((w) => w.name)).toEqual(['worker-0']);
    expect(answers.at(-1)?.result.map((w) => [w.name, w.state])).toEqual([
      ['worker-0', 'ACKED'],
      ['worker-1', 'ACKED'],
    ]);
    for (let i = 1; i < states.length; i++) expect(states[i]).not.toBe(states[i - 1]);
    // Worker-1 goes STARTING, STARTED, ACKED at most: no table for an unchanged poll.
    expect(tables.length).toBeLessThanOrEqual(4);
    expect(answers.length).toBeLessThanOrEqual(4);

    text.child.kill('SIGINT');
    json.child.kill('SIGINT');
    expect(await text.exited).toBe(0);
    expect(await json.exited).toBe(0);
  });

  it('refuses --watch on another command, --interval without --watch, and a bad interval (64, before connecting)', async () => {
    const results = await Promise.all([
      cli('inspect', 'reload', '--watch', '--state-dir', dir),
      cli('inspect', 'status', '--interval', '100', '--state-dir', dir),
      cli('inspect', 'status', '--watch', '--interval', 'soon', '--state-dir', dir),
    ]);
    expect(results.map((r) => [r.code, r.stderr.split('\n')[0]])).toEqual([
      [64, 'primacy inspect: --watch only applies to status, not reload'],
      [64, 'primacy inspect: --interval only applies with --watch'],
      [64, expect.stringMatching(/^primacy inspect: --interval must be a whole number of milliseconds from 10 to \d+, got "soon"$/)],
    ]);
    const help = await cli('inspect', '--help');
    expect(help.stdout).toMatch(/--watch {2,}status only/);
    expect(help.stdout).toMatch(/--interval MS/);
  });

  it('redraws on a terminal at every look, and says so and exits 3 when the manager goes away while watched', async () => {
    const text = watch();
    // The same loop on a terminal (a stream that says it is one), in this process.
    const terminal = { written: '', isTTY: true, write: (chunk: string) => (terminal.written += chunk) };
    const errors = { written: '', write: (chunk: string) => (errors.written += chunk) };
    const socket = join(dir, 'watched.sock');
    const render = (workers: WorkerInfo[]) => workers.map((w) => `${w.name} ${w.state}\n`).join('');
    const onTerminal = watchStatus({ socket, json: false, interval: 50, render, stdout: terminal, stderr: errors });
    await until(
      () => /worker-0\s+ACKED/.test(text.seen.stdout),
      30_000,
      () => text.seen.stderr,
    );
    // Cleared and redrawn each time, though nothing changed (uptimes move).
    await until(
      () => terminal.written.split(CLEAR).length > 3,
      30_000,
      () => JSON.stringify(terminal.written),
    );
    expect(terminal.written.startsWith(`${CLEAR} every 50 ms, Ctrl-C to stop\n\nworker-0 ACKED\nworker-1 ACKED\n`)).toBe(true);
    const shutdown = await cli('inspect', 'shutdown', '--name', 'watched', '--state-dir', dir);
    expect(shutdown.code, shutdown.stderr).toBe(0);
    expect(await text.exited).toBe(3);
    expect(text.seen.stderr).toMatch(/^primacy inspect: the manager went away at .*watched\.sock: /);
    expect((await manager.exited).code).toBe(0);
    expect(await onTerminal).toBe(3);
    expect(errors.written).toMatch(/^primacy inspect: the manager went away at /);
  });
});
