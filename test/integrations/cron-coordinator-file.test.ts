/**
 * node-cron 4's distributed mode with primacy's `runCoordinator` on a file lock: three real
 * processes (one with its clock a second late) run a task every second; one is SIGKILLed mid-run.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Child, killAll } from '../../harness/child.js';
import { eventsOf, expectOncePerFiringThroughKill, startFleet } from '../helpers/cron-fleet.js';

const dir = mkdtempSync(join(tmpdir(), 'primacy-cron-fleet-'));
const children: Child[] = [];
afterEach(() => killAll(children));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('node-cron distributed mode on a file lock', () => {
  it('runs each firing once across three processes, through a SIGKILL mid-run and a clock a second late', async () => {
    const fleet = await startFleet(dir, 'file-tick');
    children.push(...fleet.children);
    await expectOncePerFiringThroughKill(fleet);
    // The late instance was asked about firings and said no: it took part, it never ran one twice.
    expect(eventsOf([fleet.skewed], 'skipped').length).toBeGreaterThanOrEqual(3);
    // One lock per task, however many firings: nothing piles up in the lock directory.
    expect(readdirSync(dir).filter((name) => name.includes('file-tick'))).toHaveLength(1);
  });
});
