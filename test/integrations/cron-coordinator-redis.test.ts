/**
 * node-cron 4's distributed mode with primacy's `runCoordinator` on a private Redis: three real
 * processes (one with its clock a second late) run a task every second; one is SIGKILLed mid-run;
 * then Redis goes down under them: no firing runs anywhere, every instance reports why, none crashes,
 * and firings run again once it is back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Child, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { eventsOf, expectOncePerFiringThroughKill, runsOf, runTwice, startFleet } from '../helpers/cron-fleet.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { pause, until } from '../helpers/until.js';

let redis: RedisServer;
const children: Child[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterEach(() => killAll(children));
afterAll(() => redis.stop());

describe('node-cron distributed mode on a Redis lock', () => {
  it('runs each firing once across three processes, through a SIGKILL mid-run and a clock a second late', async () => {
    const fleet = await startFleet(redis.url, 'redis-tick');
    children.push(...fleet.children);
    await expectOncePerFiringThroughKill(fleet);
    // One lock per task: its few keys, not a key per firing.
    const keys = await redis.admin().keys('*redis-tick*');
    expect(keys.length).toBeLessThanOrEqual(8);
  });

  it('fails closed while Redis is down: no run anywhere, each instance reports it, none crashes; runs resume after', async () => {
    const fleet = await startFleet(redis.url, 'redis-outage');
    children.push(...fleet.children);
    await until(() => runsOf(fleet.children).length >= 1, 15_000, 'a run before the outage');
    await redis.down();
    const downAt = wallNow();
    // Every instance asks about firings it cannot claim: each reports the failure and skips.
    for (const child of fleet.children) {
      await child.waitFor((e) => e.ev === 'skipped' && e.reason === 'coordinator-error' && e.t > downAt, 10_000, 0, 'a fail-closed skip');
      await child.waitFor((e) => e.ev === 'claim-error' && e.t > downAt, 5000, 0, 'a reported claim error');
    }
    await pause(500);
    // Nothing scheduled after the outage began ran anywhere.
    expect(runsOf(fleet.children).filter((run) => Date.parse(run.firing) > downAt)).toEqual([]);
    const reported = eventsOf(fleet.children, 'claim-error').find((e) => e.t > downAt);
    // Refused at once (the connection is gone) or after the coordinator's timeout (still reconnecting): both say so.
    expect(reported?.message).toMatch(
      /\[primacy\] \[cron\] (could not claim firing "redis-outage:.*" on the redis lock: .*; skipped here|the redis lock did not answer \w+ in time: no decision on firing "redis-outage:.*", skipped here)/,
    );
    expect(fleet.children.every((child) => child.running)).toBe(true);

    // Back (empty): firings run again, still once each.
    await redis.up();
    const upAt = wallNow();
    await until(() => runsOf(fleet.children).some((run) => run.t > upAt), 10_000, 'a run once Redis is back');
    expect(runTwice(fleet.children)).toEqual([]);
  });
});
