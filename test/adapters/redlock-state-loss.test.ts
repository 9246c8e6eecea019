/**
 * State loss is not a release, on a Redlock quorum: a FLUSHALL on a majority of the nodes (or all
 * of them) under a holder must not let a follower that saw the holder take over before the
 * holder's lease could have ended, and tokens must go on above the lost holder's. Against 3
 * private redis-servers, with real elections (a live holder in this process, a SIGSTOPped one in a
 * child process). A real release and a plain expiry must still hand over at once.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedlockOptions, redlockLock } from '../../adapters/redlock.js';
import { Child, killAll } from '../../harness/child.js';
import type { LockAdapter } from '../../src/adapter.js';
import { type Election, elect } from '../../src/elector.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { until } from '../helpers/until.js';

const candidate = join(import.meta.dirname, '../fixtures/candidate.ts');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('redlock: state loss on a majority of the nodes is not a release', () => {
  let nodes: RedisServer[] = [];
  let admins: Redis[] = [];
  const adapters: LockAdapter[] = [];
  const elections: Election[] = [];
  const children: Child[] = [];
  const urls = () => nodes.map((node) => node.url);
  const lock = (prefix: string, options: Partial<RedlockOptions> = {}) => {
    const made = redlockLock({ urls: urls(), prefix, ...options });
    adapters.push(made);
    return made;
  };
  const warnings: string[] = [];
  const logger = { warn: (message: string) => warnings.push(message), error: () => undefined };
  const campaign = (made: LockAdapter, name: string, ttl: number) => {
    const election = elect({ name, lock: made, ttl, retryInterval: 50, handleSignals: false, logger });
    elections.push(election);
    return election;
  };
  /** FLUSHALL on the first `count` nodes; resolves once every one has answered. */
  const flush = (count: number) => Promise.all(admins.slice(0, count).map((admin) => admin.flushall()));

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

  const cases: Array<[string, number, Partial<RedlockOptions>]> = [
    ['2 of 3 nodes', 2, {}],
    ['2 of 3 nodes, connectionBinding: false', 2, { connectionBinding: false }],
    ['all 3 nodes', 3, {}],
    ['all 3 nodes, connectionBinding: false', 3, { connectionBinding: false }],
  ];

  it.each(cases)('a live holder, FLUSHALL on %s: never two primaries, and tokens go on', async (_label, count, options) => {
    const ttl = 1500;
    const prefix = `live${Math.random().toString(36).slice(2)}:`;
    const [a, b] = [0, 1].map(() => campaign(lock(prefix, options), 'jobs', ttl));
    if (!a || !b) throw new Error('no elections');
    await Promise.all([a.ready, b.ready]);
    // Both campaign at once: on a busy machine their first votes may split, and a round later one wins.
    await until(() => a.isPrimary !== b.isPrimary, 5000, 'one primary');
    const holder = a.isPrimary ? a : b;
    const oldToken = holder.token as number;
    await pause(200); // the follower has looked at the holder at least once
    const tokens: number[] = [];
    for (const e of [a, b]) e.on('elected', (lease) => tokens.push(lease.token));
    await flush(count);
    // Two TTLs: the holder's next renew fails within one; a follower's wait ends within another.
    let both = 0;
    for (const end = performance.now() + 2 * ttl; performance.now() < end; await pause(5)) {
      if (a.isPrimary && b.isPrimary) both++;
    }
    expect(both).toBe(0);
    expect(tokens.length).toBeGreaterThan(0); // someone was elected again
    expect(tokens[0]).toBeGreaterThan(oldToken);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
  });

  it.each([2, 3])('a SIGSTOPped holder, FLUSHALL on %i nodes: no takeover before its TTL has passed since the flush', async (count) => {
    const ttl = 1500;
    const name = `paused-${count}-${Math.random().toString(36).slice(2)}`;
    const held = new Child(candidate, [urls().join(','), name, String(ttl), '50']);
    children.push(held);
    const first = await held.waitFor((e) => e.ev === 'elected', 15_000);
    const follower = campaign(lock('primacy:'), name, ttl);
    await follower.ready;
    expect(follower.isPrimary).toBe(false);
    await pause(300); // the follower has looked at the holder
    let electedAt = 0;
    let token = 0;
    follower.on('elected', (lease) => {
      electedAt = performance.now();
      token = lease.token;
    });
    held.kill('SIGSTOP');
    await flush(count);
    const flushedAt = performance.now();
    while (electedAt === 0 && performance.now() - flushedAt < ttl + 3000) await pause(10);
    expect(electedAt).toBeGreaterThan(0);
    // The holder renewed last before the flush: its lease ends within a TTL of it, not before.
    expect(electedAt - flushedAt).toBeGreaterThanOrEqual(ttl - 50);
    expect(token).toBeGreaterThan(first.token as number);
    // Said once per loss, not at every attempt of the wait.
    expect(warnings.filter((w) => w.includes(name) && w.includes('vanished without a release'))).toHaveLength(1);
    // Resumed, the old holder reads isPrimary === false before anything else of it runs.
    const mark = held.events.length;
    held.kill('SIGCONT');
    const resumed = await held.waitFor((e) => e.ev === 'resumed', 5000, mark);
    expect(resumed.isPrimary).toBe(false);
  });

  it.each([
    ['bound', {}],
    ['unbound', { connectionBinding: false }],
  ] as Array<[string, Partial<RedlockOptions>]>)(
    '%s: a real release and a plain expiry still hand over at once',
    async (_label, options) => {
      const prefix = `hand${Math.random().toString(36).slice(2)}:`;
      // Nodes may be slow to answer on a busy machine (the default, ttl / 20, is 40 to 250 ms here):
      // this is about hand-over, not slow nodes.
      const patient = { nodeTimeout: 1000, ...options };
      const [holderLock, followerLock] = [lock(prefix, patient), lock(prefix, patient)];
      if (!holderLock || !followerLock) throw new Error('no locks');
      const held = await holderLock.acquire('jobs', createHolderIdentity(), 5000);
      if (!held) throw new Error('no lease');
      const identity = createHolderIdentity();
      expect(await followerLock.acquire('jobs', identity, 5000)).toBeNull(); // it sees the holder
      await holderLock.release(held);
      const taken = await followerLock.acquire('jobs', identity, 800);
      expect(taken?.token).toBeGreaterThan(held.token);
      // Its lease expires (a crash without binding): the keys expired, the counters stayed.
      const other = createHolderIdentity();
      expect(await holderLock.acquire('jobs', other, 800)).toBeNull();
      await pause(900);
      const next = await holderLock.acquire('jobs', other, 5000);
      expect(next?.token).toBeGreaterThan(taken?.token as number);
    },
  );
});
