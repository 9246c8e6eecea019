/**
 * Review of issue 17: runCoordinator on a lock adapter whose `release` throws synchronously (a
 * hand-written adapter's plain method). A release failure must neither crash the host app nor
 * turn a firing this instance claimed into one that no instance runs.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'review17-throwing-lock.ts');
const children: Child[] = [];
afterEach(() => killAll(children));

const start = (mode: 'free' | 'late'): Child => {
  const child = new Child(FIXTURE, [mode]);
  children.push(child);
  return child;
};

describe('review17: runCoordinator, a release that throws synchronously', () => {
  it('a lease granted after the timeout is given back without crashing the process', async () => {
    const child = start('late');
    expect(await child.waitFor((e) => e.ev === 'failed', 10_000)).toMatchObject({ code: 'ERR_PRIMACY_CRON_TIMEOUT' });
    await child.waitFor((e) => e.ev === 'alive', 10_000, 0, 'alive a second after the late acquire (not crashed)');
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it('a firing claimed stays this instance to run: the failed release is reported, not turned into a skip', async () => {
    const child = start('free');
    expect(await child.waitFor((e) => e.ev === 'decided' || e.ev === 'failed', 10_000)).toMatchObject({ ev: 'decided', run: true });
    const alive = await child.waitFor((e) => e.ev === 'alive', 10_000);
    expect(String(alive.errors)).toContain('release: not connected');
  });
});
