/**
 * `worker.state`, as the process itself reads it (printed by the fixture on every change): NONE on
 * its own; under the manager STARTED while it loads, ACKED once acked, TERMINATED once the manager
 * asks it to stop (the drain of a restart, the SIGTERM of a shutdown).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { askInspector } from '../../src/manager/inspector.js';
import { until } from '../helpers/until.js';

const primacy = join(import.meta.dirname, '../../src/cli/primacy.ts');
const app = join(import.meta.dirname, 'fixtures/commands-app.ts');

describe('worker.state', { timeout: 60_000 }, () => {
  let dir: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-state-'));
  });
  afterEach(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  it('is NONE in a process no manager runs', async () => {
    const plain = new Child(app, [], { XDG_RUNTIME_DIR: dir });
    children.push(plain);
    expect(await plain.waitFor((e) => e.ev === 'state', 20_000)).toMatchObject({ state: 'NONE', mode: 'standalone' });
  });

  it('goes STARTED, ACKED, then TERMINATED at the drain of a restart and before the SIGTERM of a shutdown; a custom process too', async () => {
    const manager = new Child(primacy, ['start', app, '--workers', '1', '--inspector', '--name', 'states', '--state-dir', dir], {
      XDG_RUNTIME_DIR: dir,
    });
    children.push(manager);
    await until(
      () => /1 worker ready/.test(manager.stderr),
      30_000,
      () => `manager ready; stderr: ${manager.stderr}`,
    );
    const ask = (command: string, ...args: string[]) => askInspector({ socket: join(dir, 'states.sock') }, { command, args });
    const statesOf = (pid: number) => manager.events.filter((e) => e.ev === 'state' && e.pid === pid).map((e) => e.state);
    const first = await manager.waitFor((e) => e.ev === 'state' && e.state === 'ACKED');
    expect(statesOf(first.pid)).toEqual(['STARTED', 'ACKED']);
    expect(first.mode).toBe('managed');

    // A zero-downtime restart: the new process acks, then the old one is drained.
    expect(await ask('restart', 'worker-0')).toMatchObject({ ok: true });
    await manager.waitFor((e) => e.ev === 'state' && e.pid === first.pid && e.state === 'TERMINATED');
    const second = await manager.waitFor((e) => e.ev === 'state' && e.state === 'ACKED' && e.pid !== first.pid);
    expect(statesOf(first.pid)).toEqual(['STARTED', 'ACKED', 'TERMINATED']);

    // A custom process acks with its bootstrap's first heartbeat, sent before the app's code loads:
    // the app may first read ACKED already.
    expect(await ask('manage', 'job', app)).toMatchObject({ ok: true });
    const job = await manager.waitFor((e) => e.ev === 'state' && e.name === 'job' && e.state === 'ACKED');
    expect(['STARTED,ACKED', 'ACKED']).toContain(statesOf(job.pid).join());

    await manager.waitFor((e) => e.ev === 'up' && e.pid === job.pid);
    // A custom process registers inspector commands like a server worker (keyed by its name).
    expect((await ask('hello')).result).toEqual({
      'worker-0': { ok: true, result: 'hello  from worker-0' },
      job: { ok: true, result: 'hello  from job' },
    });
    // A shutdown: TERMINATED reaches each process by the time its SIGTERM handler looks again.
    manager.kill('SIGTERM');
    const exit = await until(
      () => manager.exit,
      20_000,
      () => `manager exit; stderr: ${manager.stderr}`,
    );
    expect(exit).toMatchObject({ code: 0, signal: null });
    await manager.closed;
    for (const pid of [second.pid, job.pid]) {
      expect(manager.events.find((e) => e.ev === 'sigterm' && e.pid === pid)).toMatchObject({ state: 'TERMINATED' });
      expect(statesOf(pid).slice(-2)).toEqual(['ACKED', 'TERMINATED']);
    }
    expect(statesOf(second.pid)).toEqual(['STARTED', 'ACKED', 'TERMINATED']);
  });
});
