/**
 * Review (issue 16): a memory limit no process of the app can stay under (set too low, or the app's
 * baseline grew past it). Each replacement is above the limit again at its first heartbeat; the
 * manager must not fork a new process every second forever, as a crash loop would not be
 * allowed to (crashLoop: more than `burst` exits within `window` is FAILED).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { pause, until } from '../helpers/until.js';

const repo = join(import.meta.dirname, '../..');
const primacy = join(repo, 'src/cli/primacy.ts');
const app = join(import.meta.dirname, 'fixtures/review-slow-ack.ts');

describe('a process permanently above its memory limit', { timeout: 60_000 }, () => {
  let dir: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-review-memory-'));
  });
  afterEach(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  it('is not replaced without end: no more replacements than the crash-loop burst within its window', async () => {
    const manager = new Child(
      primacy,
      [
        'start',
        app,
        '--workers',
        '1',
        '--state-dir',
        join(dir, 'state'),
        '--max-memory',
        '1M',
        '--drain-time',
        '10ms',
        '--heartbeat-interval',
        '200ms',
        '--crash-loop-burst',
        '2',
        '--crash-loop-window',
        '20s',
      ],
      { XDG_RUNTIME_DIR: dir },
    );
    children.push(manager);
    await until(
      () => /worker ready/.test(manager.stderr),
      40_000,
      () => `ready; stderr: ${manager.stderr}`,
    );
    await pause(8000);
    const replacements = manager.stderr.match(/above its 1 MB limit/g)?.length ?? 0;
    expect(replacements, manager.stderr).toBeGreaterThan(0);
    expect(replacements, manager.stderr).toBeLessThanOrEqual(3);
    expect(manager.stderr).toMatch(/worker-0 is above its 1 MB memory limit again after 2 replacements within 20000 ms: left running/);
  });
});
