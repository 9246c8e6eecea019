/**
 * node-cron 4's distributed mode with primacy's `runCoordinator` on a file lock: three real
 * processes (one with its clock a second late) run a task every second; one is SIGKILLed mid-run.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Child, killAll } from '../../harness/child.js';
import { eventsOf, killMidRun, runsOf, runTwice, startFleet } from '../helpers/cron-fleet.js';
import { until } from '../helpers/until.js';

const dir = mkdtempSync(join(tmpdir(), 'primacy-cron-fleet-'));
const children: Child[] = [];
afterEach(() => killAll(children));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('node-cron distributed mode on a file lock', () => {
  it('runs each firing once across three processes, through a SIGKILL mid-run and a clock a second late', async () => {
    const fleet = await startFleet(dir, 'file-tick');
    children.push(...fleet.children);
    const { killed, firing, killedAt } = await killMidRun(fleet);
    const survivors = fleet.children.filter((child) => child !== killed);
    await until(() => runsOf(survivors).filter((run) => run.t > killedAt).length >= 3, 15_000, 'three runs after the kill');
    // The late instance asks for the killed run's firing a second after it started, the runner
    // gone by then: it is told no.
    const asked = await fleet.skewed.waitFor((e) => e.ev === 'skipped' && e.firing === firing, 5000, 0, 'its skip of the killed firing');
    expect(asked.reason).toBe('not-elected');
    expect(asked.t).toBeGreaterThan(killedAt);

    const runs = runsOf(fleet.children);
    expect(runTwice(fleet.children)).toEqual([]);
    expect(runs.find((run) => run.firing === firing)).toMatchObject({ child: killed, ended: false });
    // On-time instances start runs on time (firing time + the claim). The late one may run a firing
    // only the others never fired (the first one after it started, before theirs): once as well.
    for (const run of runs.filter((r) => r.child !== fleet.skewed)) expect(run.t - Date.parse(run.firing)).toBeLessThan(2500);
    expect(eventsOf(fleet.children, 'claim-error')).toEqual([]);
    // The late instance was asked about firings and said no: it took part, it never ran one twice.
    expect(eventsOf([fleet.skewed], 'skipped').length).toBeGreaterThanOrEqual(3);
    // One lock per task, however many firings: nothing piles up in the lock directory.
    expect(readdirSync(dir).filter((name) => name.includes('file-tick'))).toHaveLength(1);
  });
});
