/**
 * Three app instances running one node-cron task every second with `distributed: true` on one
 * primacy lock (test/integrations/fixtures/cron-coordinated.ts): two on time, one whose clock runs a
 * second late. What they printed, read back: which instance ran which firing, and when.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import { Child, type ChildEvent } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { until } from './until.js';

const app = join(import.meta.dirname, '../integrations/fixtures/cron-coordinated.ts');

export interface Fleet {
  readonly children: Child[];
  /** The instance whose clock is `skewMs` off. */
  readonly skewed: Child;
}

/** Starts the three instances on `where` (a lock directory or a redis:// URL); resolves once all are scheduled. */
export async function startFleet(where: string, task: string, skewMs = -1000, runMs = 400): Promise<Fleet> {
  const onTime = [0, 1].map(() => new Child(app, [where, task, String(runMs), '0']));
  const skewed = new Child(app, [where, task, String(runMs), String(skewMs)]);
  const children = [...onTime, skewed];
  await Promise.all(children.map((child) => child.waitFor((e) => e.ev === 'ready', 20_000, 0, 'ready')));
  return { children, skewed };
}

/** A run an instance started. */
export interface Run {
  readonly child: Child;
  readonly firing: string;
  /** When it started (wallNow). */
  readonly t: number;
  /** Whether the instance printed its end. */
  readonly ended: boolean;
}

export function runsOf(children: Child[]): Run[] {
  return children
    .flatMap((child) =>
      child.events
        .filter((e) => e.ev === 'start')
        .map((e) => ({
          child,
          firing: e.firing as string,
          t: e.t,
          ended: child.events.some((end) => end.ev === 'end' && end.firing === e.firing),
        })),
    )
    .sort((a, b) => a.t - b.t);
}

/** Firings started more than once, across all instances: must stay empty. */
export function runTwice(children: Child[]): string[] {
  const seen = new Map<string, number>();
  for (const run of runsOf(children)) seen.set(run.firing, (seen.get(run.firing) ?? 0) + 1);
  return [...seen].filter(([, count]) => count > 1).map(([firing]) => firing);
}

export function eventsOf(children: Child[], ev: string): ChildEvent[] {
  return children.flatMap((child) => child.events.filter((e) => e.ev === ev));
}

/**
 * Waits for the fleet to run `warmUp` firings, then SIGKILLs the on-time instance that starts the
 * next one, while that run is in flight. Resolves with the killed instance, its firing and when.
 */
export async function killMidRun(fleet: Fleet, warmUp = 2): Promise<{ killed: Child; firing: string; killedAt: number }> {
  const { children, skewed } = fleet;
  await until(
    () => runsOf(children).length >= warmUp,
    15_000,
    () => `${warmUp} runs (${JSON.stringify(eventsOf(children, 'skipped'))})`,
  );
  const seen = runsOf(children).length;
  const next = await until(
    () =>
      runsOf(children)
        .slice(seen)
        .find((run) => run.child !== skewed),
    10_000,
    'a run on an on-time instance',
  );
  next.child.kill('SIGKILL');
  const killedAt = wallNow();
  await next.child.exited;
  return { killed: next.child, firing: next.firing, killedAt };
}

/**
 * The scenario both backends run: one instance SIGKILLed mid-run, the others go on; the late
 * instance asks for the killed run's firing after the kill and is told no; no firing ran twice;
 * on-time instances start runs on time; no claim failed.
 */
export async function expectOncePerFiringThroughKill(fleet: Fleet): Promise<void> {
  const { killed, firing, killedAt } = await killMidRun(fleet);
  const survivors = fleet.children.filter((child) => child !== killed);
  await until(() => runsOf(survivors).filter((run) => run.t > killedAt).length >= 3, 15_000, 'three runs after the kill');
  // The late instance asks for the killed run's firing a second after it started, the runner gone
  // by then: it is told no.
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
}
