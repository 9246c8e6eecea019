/**
 * From the adversarial review of the one-watcher design (e8dd387) on Redlock: with one of three
 * nodes down, idle followers still cost the live nodes per lock (the dead node's watch still
 * counts toward `idleRetry`'s quorum, and the live nodes' watchers still poll), and a SIGKILLed
 * holder is still taken over fast; a Redlock watcher's process exits on its own once its election
 * stopped.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockKeys } from '../../adapters/redis/keys.js';
import { redlockLock } from '../../adapters/redlock.js';
import { Child, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import type { LockAdapter } from '../../src/adapter.js';
import { type Election, elect } from '../../src/elector.js';
import { commandsPerSecond } from '../helpers/redis-commands.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { pause, until } from '../helpers/until.js';

const candidate = join(import.meta.dirname, '../fixtures/redis-watcher-candidate.ts');
const exiting = join(import.meta.dirname, '../fixtures/redis-watcher-exit.ts');
const keysOf = (name: string) => lockKeys('primacy:', name); // the default prefix, the fixtures' too

describe('redlock watcher review: what holds', () => {
  let nodes: RedisServer[] = [];
  let admins: Redis[] = [];
  const children: Child[] = [];
  const elections: Election[] = [];
  const adapters: LockAdapter[] = [];
  const urls = () => nodes.map((node) => node.url);
  const spawn = (name: string, ttl: number) => {
    const child = new Child(candidate, [urls().join(','), name, String(ttl), '200']);
    children.push(child);
    return child;
  };
  beforeAll(async () => {
    nodes = await Promise.all([startRedis(), startRedis(), startRedis()]);
    admins = nodes.map((node) => node.admin());
  });
  afterEach(async () => {
    await killAll(children);
    await Promise.all(elections.splice(0).map((e) => e.stop()));
    await Promise.all(adapters.splice(0).map((a) => a.close?.()));
  });
  afterAll(() => Promise.all(nodes.map((node) => node.stop())));

  it('one node of three down: twenty idle followers still cost the live nodes per lock, and a SIGKILLed holder is taken over fast', async () => {
    const ttl = 10_000;
    const holder = spawn('node-down', ttl);
    const first = await holder.waitFor((e) => e.ev === 'elected', 15_000);
    const followers = Array.from({ length: 20 }, () => {
      const lock = redlockLock({ urls: urls() });
      adapters.push(lock);
      const election = elect({ name: 'node-down', lock, ttl, retryInterval: 200, handleSignals: false, logger: false });
      election.on('error', () => undefined); // the dead node's failures, reported
      elections.push(election);
      return election;
    });
    await Promise.all(followers.map((e) => e.ready));
    await nodes[2]?.down();
    await pause(3000); // past the rounds the node's death woke
    // Each follower trying at its retryInterval would cost the live nodes hundreds of commands/s.
    const perSecond = await commandsPerSecond(admins.slice(0, 2), 4000);
    console.log(`[review] redlock, one node down, 20 idle followers: ${perSecond.toFixed(1)} commands/s on the two live nodes`);
    expect(perSecond).toBeLessThan(60);
    // They rest in step: twice, so each one's share counts every subscriber (see redis-watcher-review.test.ts).
    for (const wait of [1000, 300]) {
      for (const admin of admins.slice(0, 2)) await admin.publish(keysOf('node-down').events, 'released');
      await pause(wait);
    }
    const killedAt = wallNow();
    holder.kill('SIGKILL');
    await until(() => followers.some((e) => e.isPrimary), ttl / 2, 'a fast takeover');
    const took = wallNow() - killedAt;
    console.log(`[review] redlock, one node down, SIGKILL of the holder: taken over after ${Math.round(took)} ms`);
    expect(took).toBeLessThan(ttl / 4);
    expect((followers.find((e) => e.isPrimary) as Election).token as number).toBeGreaterThan(first.token as number);
    await nodes[2]?.up();
  });

  it("a Redlock watcher's process exits on its own once its election stopped", async () => {
    const holder = spawn('exit', 5000);
    await holder.waitFor((e) => e.ev === 'elected', 15_000);
    const watcher = new Child(exiting, [urls().join(','), 'exit', '2500']);
    children.push(watcher);
    await watcher.waitFor((e) => e.ev === 'ready', 15_000);
    for (const admin of admins) await until(() => admin.get(keysOf('exit').watcher), 2000, 'the follower took the watch on every node');
    await watcher.waitFor((e) => e.ev === 'stopped', 10_000);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      watcher.exited,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve('still running'), 5000);
      }),
    ]);
    clearTimeout(timer);
    expect(outcome).toEqual({ code: 0, signal: null });
  });
});
