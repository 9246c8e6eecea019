/** PRIMACY_WORKERS / worker.total: the configured count, for the first workers, after scale(n) and for a restarted worker. */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';

const primacy = join(import.meta.dirname, '../../src/cli/primacy.ts');
const app = join(import.meta.dirname, 'fixtures/envs.ts');
const inspect = (dir: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', primacy, 'inspect', ...args, '--state-dir', dir], { encoding: 'utf8', timeout: 40_000 });

describe('worker.total', () => {
  let dir: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-total-'));
  });
  afterEach(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  it('is the configured count for every first worker, the new count after scale, and a restarted worker sees the current one', async () => {
    const manager = new Child(primacy, ['start', app, '--workers', '3', '--inspector', '--state-dir', dir], { XDG_RUNTIME_DIR: dir });
    children.push(manager);
    const envOf = async (name: string, from = 0) => manager.waitFor((e: ChildEvent) => e.ev === 'env' && e.name === name, 20_000, from);
    const first = await Promise.all(['worker-0', 'worker-1', 'worker-2'].map((name) => envOf(name)));
    expect(first.map(({ index, total, env }) => ({ index, total, env }))).toEqual([
      { index: 0, total: 3, env: '3' },
      { index: 1, total: 3, env: '3' },
      { index: 2, total: 3, env: '3' },
    ]);
    while (!/workers? ready/.test(manager.stderr)) await new Promise((r) => setTimeout(r, 100));

    expect(inspect(dir, 'scale', '5').status).toBe(0);
    const added = await Promise.all(['worker-3', 'worker-4'].map((name) => envOf(name)));
    expect(added.map(({ total, env }) => ({ total, env }))).toEqual([
      { total: 5, env: '5' },
      { total: 5, env: '5' },
    ]);

    const mark = manager.events.length;
    expect(inspect(dir, 'restart', 'worker-0').status).toBe(0);
    expect((await envOf('worker-0', mark)).total).toBe(5);

    expect(inspect(dir, 'shutdown').status).toBe(0);
    expect((await manager.exited).code).toBe(0);
  }, 60_000);
});
