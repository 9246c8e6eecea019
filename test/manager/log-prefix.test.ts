/** What `primacy start` prints: one `[primacy]` prefix per line, its own lines and the manager's errors alike. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';

const primacy = join(import.meta.dirname, '../../src/cli/primacy.ts');
const app = join(import.meta.dirname, 'fixtures/http-app.ts');

/** The lines that carry primacy's prefix more than once. */
const doubled = (output: string) => output.split('\n').filter((line) => (line.match(/\[primacy\]/g) ?? []).length > 1);

describe('primacy start output', { timeout: 120_000 }, () => {
  let dir: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-log-prefix-'));
  });
  afterEach(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  const start = (env: Record<string, string> = {}) => {
    const manager = new Child(primacy, ['start', app, '--workers', '1', '--inspector', '--state-dir', dir], {
      XDG_RUNTIME_DIR: dir,
      ...env,
    });
    children.push(manager);
    return manager;
  };

  it('says a failed start under one prefix', async () => {
    const manager = start({ APP_EXIT: '3' });
    expect((await manager.exited).code).toBe(1);
    expect(manager.stderr).toMatch(/^\[primacy\] \[manager\] start failed: worker-0 \(pid \d+\) exited before acking \(code 3/m);
    expect(doubled(manager.stderr)).toEqual([]);
  });

  it('prints its own lines under one prefix too, from start to a graceful stop', async () => {
    const manager = start();
    const deadline = Date.now() + 60_000;
    while (!/workers? ready/.test(manager.stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    manager.kill('SIGTERM');
    expect((await manager.exited).code).toBe(0);
    const ours = manager.stderr.split('\n').filter((line) => line.includes('[primacy]'));
    expect(ours).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\[primacy\] \[manager\] inspector at .*\.sock$/),
        expect.stringMatching(/^\[primacy\] \[manager\] 1 worker ready: worker-0 pid \d+$/),
        '[primacy] [manager] SIGTERM: stopping gracefully (send it again to force)',
      ]),
    );
    expect(ours.filter((line) => !line.startsWith('[primacy] [manager] '))).toEqual([]);
    expect(doubled(manager.stderr)).toEqual([]);
  });
});
