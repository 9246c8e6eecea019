/**
 * Elections on one private etcd node that is killed, paused and restarted (with its data, and
 * empty) under them: the holder steps down by its deadline when it cannot renew, nobody is primary
 * while etcd is gone, someone is once it is back, never two at once, and tokens never go back.
 */
import { type Election, elect } from 'primacy';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { etcdLock } from '../../adapters/etcd.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type EtcdServer, startEtcd, startProxy } from '../helpers/etcd-server.js';
import { pause, until } from '../helpers/until.js';

const TTL = 1500;

/** Candidates on `name`, each with its own lock on `hostsOf(i)` (as separate processes would have), watched every 5 ms. */
function field(hostsOf: (i: number) => string[], name: string, count = 3) {
  const elections: Election[] = [];
  const warnings: string[] = [];
  const logger = { warn: (message: string) => warnings.push(message), error: () => undefined };
  const terms: Array<{ token: number; at: number; election: number }> = [];
  const revoked: Array<{ reason: string; at: number }> = [];
  for (let i = 0; i < count; i++) {
    const election = elect({ name, lock: etcdLock({ hosts: hostsOf(i) }), ttl: TTL, retryInterval: 200, logger, handleSignals: false });
    election.on('elected', (lease) => terms.push({ token: lease.token, at: performance.now(), election: i }));
    election.on('revoked', ({ reason }) => revoked.push({ reason, at: performance.now() }));
    elections.push(election);
  }
  let overlaps = 0;
  /** The wall time (Date.now()) each term's last successful renew began at, by token. */
  const renewals = new Map<number, number>();
  const sampler = setInterval(() => {
    if (elections.filter((e) => e.isPrimary).length > 1) overlaps++;
    for (const { lease } of elections) if (lease) renewals.set(lease.token, lease.renewedAt);
  }, 5);
  const primaries = () => elections.filter((e) => e.isPrimary);
  return {
    elections,
    warnings,
    terms,
    revoked,
    primaries,
    overlaps: () => overlaps,
    lastRenewal: (token: number) => renewals.get(token),
    elected: (within = 10_000) => until(() => primaries()[0], within, 'a primary'),
    async stop() {
      clearInterval(sampler);
      await Promise.all(elections.map((e) => e.stop()));
    },
  };
}

describe('elections on one etcd node under faults', () => {
  let etcd: EtcdServer;
  let current: ReturnType<typeof field> | null = null;
  const start = (name: string) => {
    current = field(() => etcd.urls, name);
    return current;
  };
  const tokensRise = (terms: Array<{ token: number }>) => {
    for (let i = 1; i < terms.length; i++) expect(terms[i]?.token).toBeGreaterThan(terms[i - 1]?.token as number);
  };

  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterEach(async () => {
    etcd.members[0]?.resume();
    if (!etcd.members[0]?.running) await etcd.members[0]?.start();
    await current?.stop();
    current = null;
  });
  afterAll(() => etcd?.stop());

  it('killed: the holder steps down by its deadline, nobody is primary while it is down, someone is once it is back', async () => {
    const f = start('killed');
    await f.elected();
    await pause(300);
    const token = f.terms.at(-1)?.token as number;
    const [killedAt, killedWall] = [performance.now(), Date.now()];
    await etcd.members[0]?.kill();
    await until(() => f.primaries().length === 0, TTL + 1500, 'the holder stepped down');
    // By its deadline: its term was last renewed before the kill, so it ended within a TTL of it.
    // The bound is that, with room for a late poll on a busy machine; not a second TTL.
    expect(f.lastRenewal(token)).toBeLessThanOrEqual(killedWall);
    expect(performance.now() - killedAt).toBeLessThan(TTL + 1000);
    await pause(TTL);
    expect(f.primaries()).toHaveLength(0);
    await etcd.members[0]?.start();
    await f.elected(TTL * 3);
    expect(f.overlaps()).toBe(0);
    tokensRise(f.terms);
  });

  it('paused: the holder steps down by its deadline, nobody is elected while paused, someone is once resumed', async () => {
    const f = start('paused');
    await f.elected();
    await pause(300);
    const token = f.terms.at(-1)?.token as number;
    await etcd.members[0]?.pause();
    const [pausedAt, pausedWall] = [performance.now(), Date.now()];
    await until(() => f.primaries().length === 0, TTL + 1500, 'the holder stepped down');
    // By its deadline: no renew of its term begun after the pause landed succeeded (renewedAt is
    // when a renew began), so it ended within a TTL of the pause. The bound is that, with room for
    // a late poll on a busy machine; not a second TTL.
    expect(f.lastRenewal(token)).toBeLessThanOrEqual(pausedWall);
    expect(performance.now() - pausedAt).toBeLessThan(TTL + 1000);
    await pause(TTL);
    expect(f.primaries()).toHaveLength(0);
    etcd.members[0]?.resume();
    await f.elected(TTL * 3);
    await pause(TTL);
    expect(f.primaries()).toHaveLength(1);
    expect(f.overlaps()).toBe(0);
    tokensRise(f.terms);
  });

  it('restarted with its data: one primary again, tokens above every earlier one', async () => {
    const f = start('restarted');
    await f.elected();
    const before = f.terms.length;
    await etcd.members[0]?.restart();
    await pause(TTL);
    await f.elected(TTL * 3);
    expect(f.primaries()).toHaveLength(1);
    // A new term, if any, was won above the old tokens: etcd kept its revisions.
    expect(f.terms.length).toBeGreaterThanOrEqual(before);
    expect(f.overlaps()).toBe(0);
    tokensRise(f.terms);
  });

  it('restarted empty under a live holder: it steps down before its deadline, and someone is elected with a higher token', async () => {
    const f = start('emptied');
    await f.elected();
    await pause(500);
    const holderToken = f.terms.at(-1)?.token as number;
    const [wipedAt, wipedWall] = [performance.now(), Date.now()];
    await etcd.members[0]?.restartEmpty();
    // Back within its deadline, etcd tells it its lease is gone ('lost': its renew, or its watch
    // seeing the revision go back); still down at the deadline, it expires. It may win again at once
    // (it knows its term ended): its revocation shows the step-down.
    const stepDown = await until(() => f.revoked.find((r) => r.at > wipedAt), TTL + 1500, 'the holder stepped down');
    expect(['lost', 'expired']).toContain(stepDown.reason);
    // By its deadline at the latest: no renew of its term after the wipe; the bound is room for a
    // late timer on a busy machine, not a second TTL.
    expect(f.lastRenewal(holderToken)).toBeLessThanOrEqual(wipedWall);
    expect(stepDown.at - wipedAt).toBeLessThan(TTL + 1000);
    await f.elected(TTL * 4);
    expect(f.terms.at(-1)?.token).toBeGreaterThan(holderToken);
    expect(f.overlaps()).toBe(0);
    tokensRise(f.terms);
  });

  it('restarted empty under a holder that cannot tell: followers that saw it wait out its TTL', async () => {
    const name = 'emptied-silent';
    // A holder without a watch or renewals (a paused process): only its deadline ends its term.
    const silent = etcdLock({ hosts: etcd.urls });
    const lease = await silent.acquire(name, createHolderIdentity(), TTL);
    expect(lease).not.toBeNull();
    const f = start(name);
    await Promise.all(f.elections.map((e) => e.ready));
    await pause(200);
    const wipedAt = performance.now();
    await etcd.members[0]?.restartEmpty();
    await f.elected(TTL * 4);
    expect(performance.now() - wipedAt).toBeGreaterThan(TTL - 250);
    expect(f.terms.at(-1)?.token).toBeGreaterThan(lease?.token as number);
    // Said once per follower that waited, naming the holder.
    expect(f.warnings.filter((w) => /vanished without a release while pid \d+ .*etcd lost its data/.test(w)).length).toBeGreaterThan(0);
    await silent.close?.();
  });

  it('connections reset again and again with requests in flight: no crash, never two primaries, one primary once they stop', async () => {
    const name = 'resets';
    const proxies = await Promise.all([0, 1, 2].map(() => startProxy(etcd.urls[0] as string)));
    const f = field((i) => [proxies[i]?.url as string], name);
    current = f;
    await f.elected();
    const until3s = performance.now() + 3000;
    let cut = 0;
    while (performance.now() < until3s) {
      await pause(5 + Math.random() * 40);
      cut += proxies[Math.floor(Math.random() * proxies.length)]?.reset() ?? 0;
    }
    expect(cut).toBeGreaterThan(0);
    // Cut requests fail as backend errors naming the endpoint and why, and are retried.
    for (const warning of f.warnings)
      expect(warning).toMatch(/failed, retrying: \[primacy\] \[etcd\] \w+ failed: cannot reach http:\/\/127\.0\.0\.1:\d+: /);
    await f.elected(TTL * 4);
    await pause(TTL);
    expect(f.primaries()).toHaveLength(1);
    expect(f.overlaps()).toBe(0);
    tokensRise(f.terms);
    await f.stop();
    await Promise.all(proxies.map((proxy) => proxy.close()));
  });
});
