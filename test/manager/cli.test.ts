/** `primacy start` and `primacy inspect` end to end, and the inspector's guards. */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { CustomCommands } from '../../src/manager/command-registry.js';
import { askInspector, Inspector } from '../../src/manager/inspector.js';
import type { WorkerManager } from '../../src/manager/manager.js';

const primacy = join(import.meta.dirname, '../../src/cli/primacy.ts');
const app = join(import.meta.dirname, '../fixtures/managed-app.ts');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', primacy, ...args], { encoding: 'utf8', timeout: 40_000 });

describe('primacy start / inspect', () => {
  let dir: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-cli-'));
  });
  afterEach(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  it('runs an app under the manager and answers status, scale and shutdown through a 0600 socket', async () => {
    const manager = new Child(primacy, ['start', app, '--workers', '2', '--inspector', '--state-dir', dir], { XDG_RUNTIME_DIR: dir });
    children.push(manager);
    const deadline = Date.now() + 20_000;
    while (!/workers? ready/.test(manager.stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(manager.stderr).toMatch(/2 workers ready: worker-0 pid \d+, worker-1 pid \d+/);
    expect((await stat(join(dir, 'primacy.sock'))).mode & 0o777).toBe(0o600);

    const status = cli('inspect', 'status', '--state-dir', dir);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/^name\s+state\s+pid\s+uptime\s+restarts\s+reloads\s+memory\s+role/);
    expect(status.stdout).toMatch(/worker-0\s+ACKED\s+\d+/);
    expect(status.stdout.match(/primary/g)).toHaveLength(1);

    const scaled = cli('inspect', 'scale', '3', '--state-dir', dir, '--json');
    expect(JSON.parse(scaled.stdout).result).toHaveLength(3);
    // Not a built-in: sent to the manager, which knows of no such custom command.
    expect(cli('inspect', 'frobnicate', '--state-dir', dir).status).toBe(1);

    expect(cli('inspect', 'shutdown', '--state-dir', dir).status).toBe(0);
    expect((await manager.exited).code).toBe(0);
    expect(cli('inspect', 'status', '--state-dir', dir).status).toBe(3);
  });

  it('names each manager after its app, so two apps run side by side and inspect finds each from its directory', async () => {
    const ready = async (manager: Child) => {
      const deadline = Date.now() + 20_000;
      while (!/workers? ready/.test(manager.stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(manager.stderr).toMatch(/1 worker ready/);
    };
    const state = join(dir, 'state');
    for (const app of ['app-a', '@acme/app-b']) {
      const home = join(dir, app.replace('/', '-'));
      await mkdir(home);
      await writeFile(join(home, 'package.json'), JSON.stringify({ name: app, type: 'module' }));
      await writeFile(
        join(home, 'server.js'),
        "import { createServer } from 'node:http';\ncreateServer((q, s) => s.end('ok')).listen(0);\n",
      );
      const manager = new Child(primacy, ['start', join(home, 'server.js'), '--workers', '1', '--inspector', '--state-dir', state], {
        XDG_RUNTIME_DIR: dir,
      });
      children.push(manager);
      await ready(manager);
    }
    expect((await readdir(state)).filter((f) => f.endsWith('.sock')).sort()).toEqual(['_acme_app-b.sock', 'app-a.sock']);
    const inspect = (cwd: string) =>
      // tsx by its URL: the cwd is outside the repository.
      spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), primacy, 'inspect', 'status', '--state-dir', state, '--json'], {
        cwd,
        encoding: 'utf8',
      });
    const pidOf = (result: ReturnType<typeof inspect>) => (JSON.parse(result.stdout).result as Array<{ pid: number }>)[0]?.pid;
    const [a, b] = [inspect(join(dir, 'app-a')), inspect(join(dir, '@acme-app-b'))];
    expect(pidOf(a)).toBeGreaterThan(0);
    expect(pidOf(b)).toBeGreaterThan(0);
    expect(pidOf(a)).not.toBe(pidOf(b));
    // From elsewhere, the miss names the managers it could have meant.
    const lost = inspect(dir);
    expect(lost.status).toBe(3);
    expect(lost.stderr).toMatch(/managers with a socket in .*: _acme_app-b, app-a \(pick one with --name\)/);
  });

  it("refuses another user's connection to the socket (mode 0600)", async () => {
    if (process.getuid?.() !== 0) {
      // Only root can run a client as another user; as another user the mode check below still holds.
      expect(process.getuid?.()).not.toBe(0);
      return;
    }
    const socket = join(dir, 'guarded.sock');
    const fakeManager = { workers: () => [] } as unknown as WorkerManager;
    const inspector = new Inspector(fakeManager, { socket }, () => {});
    await inspector.listen();
    try {
      const { chmodSync } = await import('node:fs');
      chmodSync(dir, 0o755); // the directory is not what protects it: the socket's own mode is
      const script = `require('net').connect(${JSON.stringify(socket)}).on('connect',()=>{console.log('connected');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(0)})`;
      const asNobody = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
      expect(asNobody.stdout.trim()).toBe('EACCES');
      expect((await askInspector({ socket }, { command: 'status' })).ok).toBe(true);
    } finally {
      await inspector.close();
    }
  });

  it('never removes a socket a live process answers on, nor a file that is not a socket; replaces a stale one', async () => {
    const fakeManager = { workers: () => ['w'] } as unknown as WorkerManager;
    const socket = join(dir, 'taken.sock');
    // Another process listens there (a live manager, paused or not): refused, and it keeps answering.
    const owner = new Child(join(import.meta.dirname, 'fixtures/socket-owner.ts'), [socket]);
    children.push(owner);
    await owner.waitFor((e) => e.ev === 'listening');
    await expect(new Inspector(fakeManager, { socket }, () => {}).listen()).rejects.toThrow(/a running process answers on it: not removed/);
    expect(await askInspector({ socket }, { command: 'ping' })).toEqual({ ok: true, result: 'pong' });
    // The same process SIGKILLed leaves its socket file with nobody behind it: that one is replaced.
    owner.kill('SIGKILL');
    await owner.exited;
    expect((await stat(socket)).isSocket()).toBe(true);
    const inspector = new Inspector(fakeManager, { socket }, () => {});
    await inspector.listen();
    expect(await askInspector({ socket }, { command: 'status' })).toEqual({ ok: true, result: ['w'] });
    await inspector.close();
    const notASocket = join(dir, 'file.sock');
    await writeFile(notASocket, 'keep me');
    await expect(new Inspector(fakeManager, { socket: notASocket }, () => {}).listen()).rejects.toThrow(/not a socket: not removed/);
    expect(await readFile(notASocket, 'utf8')).toBe('keep me');
  });

  it('over TCP, refuses a wrong or missing token, compared in constant time', async () => {
    const fakeManager = { workers: () => ['w'], commands: new CustomCommands() } as unknown as WorkerManager;
    expect(() => new Inspector(fakeManager, { port: 0, token: 'short' }, () => {})).toThrow(
      /Expected `token` to be a string of at least 16 characters/,
    );
    const token = 'a-long-enough-secret-token';
    const inspector = new Inspector(fakeManager, { port: 0, token }, () => {});
    await inspector.listen();
    try {
      const port = inspector.port as number;
      expect(await askInspector({ port }, { command: 'status' })).toEqual({ ok: false, error: 'unauthorized: wrong or missing token' });
      expect(await askInspector({ port }, { command: 'status', token: `${token}x` })).toMatchObject({ ok: false });
      expect(await askInspector({ port }, { command: 'status', token })).toEqual({ ok: true, result: ['w'] });
      expect(await askInspector({ port }, { command: 'constructor', token })).toMatchObject({
        ok: false,
        error: expect.stringContaining('unknown command'),
      });
    } finally {
      await inspector.close();
    }
  });
});
