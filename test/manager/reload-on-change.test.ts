/** `reloadOnChange`, the API under `primacy start --watch`, on a WorkerManager with custom processes. */
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';
import { answeringPid } from '../helpers/answering-pid.js';
import { freePort } from '../helpers/free-port.js';

describe('reloadOnChange (the API under --watch)', { timeout: 90_000 }, () => {
  let dir: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-watch-api-'));
  });
  afterEach(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces the transient process and keeps the durable one; reloads once more after changes during a reload; a broken change keeps the old ones; leaves no watch open', async () => {
    const watched = join(dir, 'app');
    const port = await freePort();
    await mkdir(watched);
    // Each change one event (written aside, then renamed in): a busy machine cannot split a write in two.
    const save = async (name: string, text: string) => {
      await writeFile(join(dir, 'staging'), text);
      await rename(join(dir, 'staging'), join(watched, name));
    };
    const server = (body: string) =>
      save('server.js', `require('node:http').createServer((q, s) => s.end(process.pid + ' ${body}')).listen(${port}, '127.0.0.1');\n`);
    await server('v1');
    const manager = new Child(join(import.meta.dirname, 'fixtures/watched-manager.ts'), [], {
      WATCH_DIR: watched,
      STATE_DIR: join(dir, 'state'),
      XDG_RUNTIME_DIR: dir,
    });
    children.push(manager);
    const pids = (event: ChildEvent) =>
      Object.fromEntries((event.processes as Array<{ name: string; pid: number }>).map((p) => [p.name, p.pid]));
    const logged = (pattern: RegExp, from: number) =>
      manager.waitFor((e) => e.ev === 'log' && pattern.test(e.message as string), 30_000, from);
    const before = pids(await manager.waitFor((e) => e.ev === 'watching', 30_000));
    await save('job.js', 'exports.job = 1;\n');
    const first = await logged(/^reloaded in/, 0);
    expect(first.message).toMatch(/worker-0 pid \d+ -> \d+, helper pid \d+ -> \d+$/);
    const replaced = pids(first);
    expect(replaced.keeper).toBe(before.keeper);
    expect(replaced['worker-0']).not.toBe(before['worker-0']);
    expect(replaced.helper).not.toBe(before.helper);

    // Three changes while a reload runs: one more reload after it, naming them all.
    await save('job.js', 'exports.job = 2;\n');
    await logged(/changed: reloading$/, manager.events.indexOf(first) + 1);
    for (const n of [2, 3, 4]) await save(`job${n}.js`, 'exports.job = 1;\n');
    const wrote = Date.now();
    const during = await logged(/^reloaded in/, manager.events.indexOf(first) + 1);
    expect(during.t).toBeGreaterThan(wrote);
    const after = pids(await logged(/^reloaded in/, manager.events.indexOf(during) + 1));

    // A syntax error: the new worker never acks, the reload aborts, the old processes keep serving.
    let mark = manager.events.length;
    await save('server.js', 'require("node:http").createServer(;\n');
    const failed = await logged(/^reload failed/, mark);
    expect(failed.message).toMatch(/restart of worker-0 aborted: .* the old one keeps serving; the next change tries again$/);
    expect(pids(failed)).toEqual(after);
    expect(await answeringPid(port)).toBe(after['worker-0']);
    // Fixed: the next change reloads.
    mark = manager.events.length;
    await server('v2');
    const fixed = pids(await logged(/^reloaded in/, mark));
    expect(fixed['worker-0']).not.toBe(after['worker-0']);
    expect(await answeringPid(port)).toBe(fixed['worker-0']);
    // One reload per burst: none more than these.
    expect(manager.events.filter((e) => e.ev === 'log' && /reloading$/.test(e.message as string)).map((e) => e.message)).toEqual([
      'job.js changed: reloading',
      'job.js changed: reloading',
      'job4.js (and 2 other files) changed: reloading',
      'server.js changed: reloading',
      'server.js changed: reloading',
    ]);

    manager.kill('SIGTERM');
    expect((await manager.waitFor((e) => e.ev === 'stopped', 20_000)).watches).toBe(0);
    // Nothing else keeps it alive either: it exits by itself.
    expect(await manager.exited).toEqual({ code: 0, signal: null });
  });
});
