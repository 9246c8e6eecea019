/**
 * Idle followers cost a Redis lock about the same however many they are (adapters/redis/watcher.ts):
 * one follower watches the holder's connection and its TTL, the others rest. What that must not
 * cost: a crashed holder replaced late because its watcher died first, or a paused holder's expiry
 * going unnoticed while everyone rests.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisLock } from '../../adapters/redis.js';
import { Child, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import type { LockAdapter } from '../../src/adapter.js';
import { type Election, elect } from '../../src/elector.js';
import { electedIn } from '../helpers/election-group.js';
import { commandsPerSecond } from '../helpers/redis-commands.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { pause, until } from '../helpers/until.js';

const candidate = join(import.meta.dirname, '../fixtures/candidate.ts');
const PREFIX = 'primacy:'; // the adapter's default, which the candidate fixture uses

describe('redis: one watcher per lock', () => {
  let redis: RedisServer;
  let admin: Redis;
  const children: Child[] = [];
  const elections: Election[] = [];
  const adapters: LockAdapter[] = [];
  const follow = (name: string, count: number, ttl: number) => {
    for (let i = 0; i < count; i++) {
      const lock = redisLock({ url: redis.url });
      adapters.push(lock);
      elections.push(elect({ name, lock, ttl, retryInterval: 200, handleSignals: false, logger: false }));
    }
    return elections.slice(-count);
  };
  const spawn = (name: string, ttl: number) => {
    const child = new Child(candidate, [redis.url, name, String(ttl), '200']);
    children.push(child);
    return child;
  };
  const claimOf = (name: string) => admin.get(`${PREFIX}{${name}}:watcher`);
  beforeAll(async () => {
    redis = await startRedis();
    admin = redis.admin();
  });
  afterEach(async () => {
    redis.resume();
    await killAll(children);
    await Promise.all(elections.splice(0).map((e) => e.stop()));
    await Promise.all(adapters.splice(0).map((a) => a.close?.()));
  });
  afterAll(() => redis.stop());

  it('twenty idle followers cost the server about what one does, not twenty times as much', async () => {
    const ttl = 10_000;
    const [holder] = follow('quiet', 1, ttl);
    await until(() => holder?.isPrimary, 5000, 'a primary');
    const followers = follow('quiet', 20, ttl);
    await Promise.all(followers.map((e) => e.ready));
    await until(() => claimOf('quiet'), 5000, 'a watcher');
    await pause(1500); // past every follower's first rounds
    const perSecond = await commandsPerSecond([admin], 4000);
    // Each follower polling on its own costs about 8 commands/s (7 CLIENT LIST + 1 acquire): 160/s
    // for twenty. One watcher and resting followers cost about 15/s: 60 leaves room for a busy machine.
    expect(perSecond).toBeLessThan(60);
    expect(elections.filter((e) => e.isPrimary)).toHaveLength(1);
  });

  it('a crashed watcher is replaced, so a crashed holder is still replaced long before its TTL', async () => {
    const ttl = 20_000;
    const holder = spawn('watcher-dies', ttl);
    const first = await electedIn([holder], 0);
    const watcher = spawn('watcher-dies', ttl); // the only follower so far: it takes the claim
    await watcher.waitFor((e) => e.ev === 'ready');
    const claim = await until(() => claimOf('watcher-dies'), 5000, 'a watcher');
    const resting = follow('watcher-dies', 3, ttl);
    await Promise.all(resting.map((e) => e.ready));
    watcher.kill('SIGKILL');
    // The claim lapses (6 s), the holder's next renew asks for a watcher, a resting follower takes it.
    await until(async () => (await claimOf('watcher-dies')) !== claim && (await claimOf('watcher-dies')) !== null, 15_000, 'a new watcher');
    const killedAt = wallNow();
    holder.kill('SIGKILL');
    await until(() => resting.some((e) => e.isPrimary), ttl / 2, 'a takeover well before the TTL');
    expect(wallNow() - killedAt).toBeLessThan(ttl / 2);
    const next = resting.find((e) => e.isPrimary) as Election;
    expect(next.token as number).toBeGreaterThan(first.event.token as number);
  });

  it('a paused holder is replaced once its TTL ends, not at the resting followers next try', async () => {
    const ttl = 2000;
    const holder = spawn('paused', ttl);
    const first = await electedIn([holder], 0);
    const followers = follow('paused', 6, ttl);
    await Promise.all(followers.map((e) => e.ready));
    await until(() => claimOf('paused'), 5000, 'a watcher');
    await pause(500);
    const stoppedAt = wallNow();
    holder.kill('SIGSTOP');
    // Resting, the six wait about 7 subscribers x 2 s each between tries (up to 21 s); the watcher
    // wakes at the lease's expiry.
    await until(() => followers.some((e) => e.isPrimary), 10_000, 'a takeover after the TTL');
    const took = wallNow() - stoppedAt;
    expect(took).toBeGreaterThan(ttl * 0.5); // its connection stayed open: no early takeover
    expect(took).toBeLessThan(ttl + 4000);
    holder.kill('SIGCONT');
    const resumed = await holder.waitFor((e) => e.ev === 'resumed');
    expect(resumed.isPrimary).toBe(false);
    const next = followers.find((e) => e.isPrimary) as Election;
    expect(next.token as number).toBeGreaterThan(first.event.token as number);
  });
});
