/** What `primacy inspect status` counts and shows: crash restarts apart from reloads, and no uptime without a process. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { runCommand } from '../../harness/command.js';
import type { WorkerInfo } from '../../src/manager/manager.js';

const primacy = join(import.meta.dirname, '../../src/cli/primacy.ts');
const fixture = join(import.meta.dirname, 'fixtures/inspected-manager.ts');

/** Runs `primacy inspect ...` against the socket to completion. */
const inspect = (socket: string, ...args: string[]) =>
  runCommand(process.execPath, ['--import', 'tsx', primacy, 'inspect', ...args, '--socket', socket]);

async function workers(socket: string): Promise<WorkerInfo[]> {
  const answer = await inspect(socket, 'status', '--json');
  expect(answer.code, answer.stderr).toBe(0);
  return JSON.parse(answer.stdout).result as WorkerInfo[];
}

/** The status table's row for `name`, as column → cell. */
async function row(socket: string, name: string): Promise<Record<string, string>> {
  const answer = await inspect(socket, 'status');
  expect(answer.code, answer.stderr).toBe(0);
  const [header = '', ...rows] = answer.stdout.trimEnd().split('\n');
  const columns = header.split(/\s+/);
  const cells = rows.map((line) => line.split(/\s+/)).find((cells) => cells[0] === name) ?? [];
  return Object.fromEntries(columns.map((column, i) => [column, cells[i] ?? '']));
}

// Several CLI runs through tsx per test: seconds apiece on a busy machine.
describe('primacy inspect status: counts and uptime', { timeout: 120_000 }, () => {
  let dir: string;
  let socket: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-status-counts-'));
    socket = join(dir, 'inspector.sock');
  });
  afterEach(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  const startManager = async (env: Record<string, string> = {}) => {
    const manager = new Child(fixture, [], { STATE_DIR: dir, XDG_RUNTIME_DIR: dir, SOCKET: socket, ...env });
    children.push(manager);
    await manager.waitFor((e) => e.ev === 'started', 60_000);
    return manager;
  };

  it('counts a reload as a reload, not as a crash restart; a crash is a restart', async () => {
    const manager = await startManager();
    const reload = await inspect(socket, 'reload');
    expect(reload.code, reload.stderr).toBe(0);
    expect((await workers(socket))[0]).toMatchObject({ name: 'worker-0', state: 'ACKED', restarts: 0, reloads: 1 });
    expect(await row(socket, 'worker-0')).toMatchObject({ restarts: '0', reloads: '1' });

    // A crash: the restart policy replaces the process, and that one is a restart.
    const [before] = await workers(socket);
    const mark = manager.events.length;
    process.kill(before?.pid as number, 'SIGKILL');
    await manager.waitFor((e) => e.ev === 'acked', 60_000, mark);
    expect((await workers(socket))[0]).toMatchObject({ state: 'ACKED', restarts: 1, reloads: 1 });
    expect(await row(socket, 'worker-0')).toMatchObject({ restarts: '1', reloads: '1' });
  });

  it('shows no uptime for a FAILED process', async () => {
    const manager = await startManager({ RESTART: 'never', WORKERS: '2' });
    const [first] = await workers(socket);
    process.kill(first?.pid as number, 'SIGKILL');
    await manager.waitFor((e) => e.ev === 'failed' && e.name === 'worker-0', 60_000);
    const [failed, running] = await workers(socket);
    expect(failed).toMatchObject({ name: 'worker-0', state: 'FAILED', pid: null, startedAt: null });
    expect(running).toMatchObject({ name: 'worker-1', state: 'ACKED' });
    expect(running?.startedAt).toEqual(expect.any(Number));
    expect(await row(socket, 'worker-0')).toMatchObject({ state: 'FAILED', pid: '-', uptime: '-' });
    // A running process keeps its uptime.
    expect((await row(socket, 'worker-1')).uptime).toMatch(/^\d+s$/);
  });
});
