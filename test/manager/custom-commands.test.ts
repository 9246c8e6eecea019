/**
 * Custom inspector commands (`worker.command`) end to end: registered by the workers of an app run
 * with `primacy start --inspector`, run by `primacy inspect NAME args...` through the same socket.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { runCommand } from '../../harness/command.js';
import { askInspector } from '../../src/manager/inspector.js';
import { until } from '../helpers/until.js';

const primacy = join(import.meta.dirname, '../../src/cli/primacy.ts');
const app = join(import.meta.dirname, 'fixtures/commands-app.ts');

describe('custom inspector commands', { timeout: 60_000 }, () => {
  let dir: string;
  let manager: Child;
  const inspect = (...args: string[]) =>
    runCommand(process.execPath, ['--import', 'tsx', primacy, 'inspect', ...args, '--name', 'cmds', '--state-dir', dir]);
  // The same socket and request as `inspect --json`, without starting a CLI (seconds apiece through tsx on a busy machine).
  const ask = (command: string, ...args: string[]) => askInspector({ socket: join(dir, 'cmds.sock') }, { command, args });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-commands-'));
    manager = new Child(primacy, ['start', app, '--workers', '2', '--inspector', '--name', 'cmds', '--state-dir', dir], {
      XDG_RUNTIME_DIR: dir,
      ONCE_FILE: join(dir, 'once'),
    });
    await until(
      () => /2 workers ready/.test(manager.stderr),
      30_000,
      () => `manager ready; stderr: ${manager.stderr}`,
    );
  }, 40_000);
  afterAll(async () => {
    await killAll([manager]);
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a command on every worker and prints each result; --json gives the outcomes keyed by worker', async () => {
    const [hello, json, info] = await Promise.all([inspect('hello', 'big', 'world'), inspect('hello', 'x', '--json'), ask('info')]);
    expect(hello).toMatchObject({ code: 0, stderr: '' });
    expect(hello.stdout.split('\n').sort()).toEqual([
      '',
      'worker-0: hello big world from worker-0',
      'worker-1: hello big world from worker-1',
    ]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: true,
      result: { 'worker-0': { ok: true, result: 'hello x from worker-0' }, 'worker-1': { ok: true, result: 'hello x from worker-1' } },
    });
    // A handler's object arrives as it returned it; it reads its own state as ACKED.
    const pids = manager.events.filter((e) => e.ev === 'state').map((e) => e.pid);
    const result = info.result as Record<string, { result: { pid: number; state: string } }>;
    expect(pids).toContain(result['worker-0']?.result.pid);
    expect(result['worker-1']?.result.state).toBe('ACKED');
  });

  it('fails with exit 1 naming the worker whose handler threw, or that did not answer in time', async () => {
    const [boom, boomJson, slow] = await Promise.all([inspect('boom'), ask('boom'), inspect('slow')]);
    expect(boom.code).toBe(1);
    expect(boom.stdout).toBe('worker-0: fine\n');
    expect(boom.stderr).toBe('primacy inspect: boom failed on worker-1: boom on worker-1\n');
    expect(boomJson).toEqual({
      ok: false,
      error: 'boom failed on worker-1: boom on worker-1',
      result: { 'worker-0': { ok: true, result: 'fine' }, 'worker-1': { ok: false, error: 'boom on worker-1' } },
    });
    expect(slow.code).toBe(1);
    expect(slow.stderr).toContain('slow failed on worker-0: no answer within 300 ms');
    expect(slow.stderr).toContain('slow failed on worker-1: no answer within 300 ms');
  });

  it('refuses a built-in name, a second registration, a bad name, a non-function and a timeout too long, in the app', () => {
    const refused = manager.events.filter((e) => e.ev === 'refused' && e.name === 'worker-0');
    expect(manager.events.filter((e) => e.ev === 'registered')).toEqual([]);
    expect(refused.map((e) => e.message)).toEqual([
      expect.stringMatching(/^\[primacy\] \[worker\.command\] "status" is a built-in command \(status, .*help\), got "status"$/),
      '[primacy] [worker.command] Expected `name` to be a name not registered yet in this process, got "hello" (string)',
      expect.stringMatching(
        /a custom command's name must be a lowercase letter, then up to 39 lowercase letters, digits or dashes, got "Bad_Name"/,
      ),
      expect.stringContaining('Expected `handler` to be a function'),
      expect.stringContaining('Expected `timeout` to be'),
    ]);
  });

  it('lists the custom commands; an unknown name is sent to the manager, which lists what it knows; a bad name is usage', async () => {
    const [list, unknown, badName, builtInArgs] = await Promise.all([
      inspect('commands'),
      inspect('frobnicate'),
      inspect('Frob_nicate'),
      inspect('status', 'extra'),
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^name\s+summary\s+workers\n/);
    expect(list.stdout).toMatch(/^hello\s+says hello\s+worker-0, worker-1$/m);
    expect(list.stdout).toMatch(/^slow\s+never answers\s+worker-0, worker-1$/m);
    expect(list.stdout).toMatch(/^ephemeral\s+worker-1$/m);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /unknown command "frobnicate" \(known: status, .*, commands\); custom: boom, ephemeral, hello, info, slow/,
    );
    expect(badName.code).toBe(64);
    expect(badName.stderr).toContain('not a built-in');
    expect(builtInArgs.code).toBe(64);
  });

  // Last: it kills a worker.
  it('forgets the commands of a worker that died; its next process registers its own', async () => {
    expect(await ask('ephemeral')).toEqual({ ok: true, result: { 'worker-1': { ok: true, result: 'still here' } } });
    const first = manager.events.find((e) => e.ev === 'state' && e.name === 'worker-1');
    process.kill(first?.pid as number, 'SIGKILL');
    const next = await manager.waitFor(
      (e) => e.ev === 'state' && e.state === 'ACKED' && e.name === 'worker-1' && e.pid !== first?.pid,
      20_000,
    );
    const [gone, list, hello] = await Promise.all([ask('ephemeral'), ask('commands'), ask('hello')]);
    expect(gone).toMatchObject({ ok: false, error: expect.stringContaining('unknown command "ephemeral"') });
    expect((list.result as Array<{ name: string }>).map((c) => c.name)).toEqual(['boom', 'hello', 'info', 'slow']);
    expect((hello.result as Record<string, unknown>)['worker-1']).toEqual({ ok: true, result: 'hello  from worker-1' });
    expect(next.pid).not.toBe(first?.pid);
  });
});
