/**
 * State loss on a Redlock quorum, second round (a review found the first fix partial): the value
 * a loss spared on a minority of the nodes is a holder to wait for, even for a candidate that
 * never saw it on a majority (an ex-holder that was paused while another took over, a process
 * that lost a split vote or just started); a wait begun for one lease does not cover a newer one;
 * the wait is the longest TTL shown, not the TTL of the last holder remembered; and nodes that
 * refuse the acquire script's writes (OOM) are reported, not taken for "held elsewhere".
 * Adapter level, against private redis-servers, so each step is deterministic.
 */
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redlockLock } from '../../adapters/redlock.js';
import type { Lease, LockAdapter } from '../../src/adapter.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('redlock: state loss, values left on a minority and newer leases', () => {
  let nodes: RedisServer[] = [];
  let admins: Redis[] = [];
  const adapters: LockAdapter[] = [];
  /** A fresh adapter (a process of its own) on a fresh prefix per test. */
  let prefix = '';
  const lock = () => {
    // nodeTimeout: a busy machine may take longer than the default 50 ms to connect; the steps are the point.
    const made = redlockLock({ urls: nodes.map((node) => node.url), prefix, nodeTimeout: 300 });
    adapters.push(made);
    return made;
  };
  /** FLUSHALL on nodes 0 and 1 (a majority), node 2 spared. */
  const flush = () => Promise.all(admins.slice(0, 2).map((admin) => admin.flushall()));

  beforeAll(async () => {
    nodes = await Promise.all([startRedis(), startRedis(), startRedis()]);
    admins = nodes.map((node) => node.admin());
  });
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((a) => a.close?.()));
    prefix = `sl2${Math.random().toString(36).slice(2)}:`;
  });
  afterAll(() => Promise.all(nodes.map((node) => node.stop())));
  prefix = `sl2${Math.random().toString(36).slice(2)}:`;

  it('an ex-holder (paused past its TTL, replaced) does not take the lock back after a FLUSHALL on a majority', async () => {
    const ttl = 1000;
    const [lh, lf] = [lock(), lock()];
    const [H, F] = [createHolderIdentity(), createHolderIdentity()];
    const h = (await lh.acquire('jobs', H, ttl)) as Lease;
    expect(h).not.toBeNull();
    expect(await lf.acquire('jobs', F, ttl)).toBeNull(); // F sees H
    await pause(ttl + 100); // H is "paused": no renew; its keys expire, counters stay
    const f = (await lf.acquire('jobs', F, ttl)) as Lease;
    const fStart = performance.now();
    expect(f?.token).toBeGreaterThan(h.token); // a plain expiry hands over at once
    await flush(); // F's value is left on node 2 only
    // H resumes: its lease is over, and F's lease, on node 2, is still running.
    expect(await lh.renew(h, ttl)).toBeNull();
    const back = await lh.acquire('jobs', H, ttl);
    expect(back === null || performance.now() - fStart >= ttl).toBe(true);
    // F, live, re-elects itself at once (its own value is no holder to wait for).
    expect(await lf.renew(f, ttl)).toBeNull();
    const again = await lf.acquire('jobs', F, ttl);
    expect(again?.token).toBeGreaterThan(f.token);
  });

  it('a candidate that never saw the holder on a majority waits for its value on the spared node', async () => {
    const ttl = 1000;
    const [la, lb] = [lock(), lock()];
    const a = (await la.acquire('jobs', createHolderIdentity(), ttl)) as Lease;
    const aStart = performance.now();
    expect(a).not.toBeNull();
    await flush(); // B has never looked: it finds A on node 2 only
    const B = createHolderIdentity();
    let b: Lease | null = null;
    while (!b && performance.now() - aStart < 3 * ttl) {
      b = await lb.acquire('jobs', B, ttl);
      if (!b) await pause(20);
    }
    expect(b).not.toBeNull(); // once A's TTL has passed
    expect(performance.now() - aStart).toBeGreaterThanOrEqual(ttl - 50);
    expect(b?.token).toBeGreaterThan(a.token);
  });

  it('a wait begun for one lease does not cover a newer one (two flushes)', async () => {
    // Long enough that X's renew after the 1 s pause below is well inside its lease on a busy machine.
    const ttl = 3000;
    const [lx, ly] = [lock(), lock()];
    const [X, Y] = [createHolderIdentity(), createHolderIdentity()];
    let x = (await lx.acquire('jobs', X, ttl)) as Lease;
    expect(await ly.acquire('jobs', Y, ttl)).toBeNull(); // Y sees X
    await flush();
    const t0 = performance.now();
    expect(await ly.acquire('jobs', Y, ttl)).toBeNull(); // Y starts waiting X's TTL
    expect(await lx.renew(x, ttl)).toBeNull();
    x = (await lx.acquire('jobs', X, ttl)) as Lease; // X, live, re-elected at once
    expect(x).not.toBeNull();
    await pause(1000); // Y does not look meanwhile
    x = (await lx.renew(x, ttl)) as Lease;
    const renewedAt = performance.now();
    expect(x).not.toBeNull();
    await flush(); // X's renewed value is left on node 2 only
    let y: Lease | null = null;
    while (!y && performance.now() - t0 < 4 * ttl) {
      y = await ly.acquire('jobs', Y, ttl);
      if (!y) await pause(20);
    }
    expect(y).not.toBeNull();
    expect(performance.now()).toBeGreaterThanOrEqual(renewedAt + ttl - 50); // not inside X's renewed lease
    expect(y?.token).toBeGreaterThan(x.token);
  });

  it('a holder that lost its majority to a FLUSHALL and released is over at once (a real release)', async () => {
    const ttl = 1500;
    const [lh, lf] = [lock(), lock()];
    const h = (await lh.acquire('jobs', createHolderIdentity(), ttl)) as Lease;
    const F = createHolderIdentity();
    expect(await lf.acquire('jobs', F, ttl)).toBeNull(); // F sees H
    await flush();
    expect(await lh.renew(h, ttl)).toBeNull(); // H steps down and releases, as its elector does
    await lh.release(h);
    const started = performance.now();
    const f = await lf.acquire('jobs', F, ttl);
    expect(f?.token).toBeGreaterThan(h.token);
    // At once: not after waiting out H's TTL (1500 ms) as for a value lost without a release.
    expect(performance.now() - started).toBeLessThan(750);
  });

  it("the wait is the lost holder's TTL, not that of the holder remembered before it", async () => {
    const [lh, lf, lg] = [lock(), lock(), lock()];
    const F = createHolderIdentity();
    const h = (await lh.acquire('jobs', createHolderIdentity(), 1000)) as Lease;
    expect(await lf.acquire('jobs', F, 1000)).toBeNull(); // F remembers H, ttl 1000
    await lh.release(h);
    const g = (await lg.acquire('jobs', createHolderIdentity(), 4000)) as Lease;
    const gStart = performance.now();
    expect(g).not.toBeNull();
    await flush(); // G's value (ttl 4000) is left on node 2 only
    let f: Lease | null = null;
    while (!f && performance.now() - gStart < 7000) {
      f = await lf.acquire('jobs', F, 1000);
      if (!f) await pause(50);
    }
    expect(f).not.toBeNull();
    expect(performance.now() - gStart).toBeGreaterThanOrEqual(4000 - 50);
    expect(f?.token).toBeGreaterThan(g.token);
  });
});

describe('redlock: tokens never below a server clock', () => {
  it('a new process, counters flushed on a majority and the spared node paused, still issues a token above the live holder', async () => {
    const three = await Promise.all([0, 1, 2].map(() => startRedis()));
    const urls = three.map((node) => node.url);
    const [lh, lnew] = [redlockLock({ urls, prefix: 'clock:' }), redlockLock({ urls, prefix: 'clock:' })];
    try {
      const h = (await lh.acquire('jobs', createHolderIdentity(), 5000)) as Lease;
      expect(h).not.toBeNull();
      await Promise.all(three.slice(0, 2).map((node) => node.admin().flushall()));
      three[2]?.pause(); // the only node with the holder's value and counter does not answer
      const fresh = await lnew.acquire('jobs', createHolderIdentity(), 5000);
      three[2]?.resume();
      expect(fresh?.token).toBeGreaterThan(h.token);
    } finally {
      three[2]?.resume();
      await Promise.all([lh.close?.(), lnew.close?.()]);
      await Promise.all(three.map((node) => node.stop()));
    }
  });
});

describe('redlock: nodes that refuse the acquire script are reported', () => {
  it('a majority over maxmemory (OOM): acquire fails with an error naming the nodes, not "held"', async () => {
    const full = await Promise.all([0, 1, 2].map(() => startRedis()));
    // Any write over maxmemory is refused (OOM command not allowed), reads still answer.
    for (const node of full) await node.admin().config('SET', 'maxmemory', '1');
    const made = redlockLock({ urls: full.map((node) => node.url), prefix: 'oom:' });
    try {
      const error = await made.acquire('jobs', createHolderIdentity(), 1500).then(
        (lease) => lease,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(String((error as Error).message)).toMatch(/OOM/);
      for (const node of full) expect(String((error as Error).message)).toContain(node.url.replace(/^redis:\/\//, ''));
    } finally {
      await made.close?.();
      await Promise.all(full.map((node) => node.stop()));
    }
  });
});
