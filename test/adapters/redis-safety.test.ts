/**
 * Faults that once gave two primaries on Redis (issue 11), each against a private redis-server:
 * a command in flight when the holder's connection is reset (ioredis resends it on a new
 * connection, where it succeeds), the lock key lost under a live holder (FLUSHALL, eviction, an
 * empty restart), and an eviction policy that can drop the lock, reported at start.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisLock } from '../../adapters/redis.js';
import { redlockLock } from '../../adapters/redlock.js';
import type { Lease, LockAdapter } from '../../src/adapter.js';
import { type Election, elect } from '../../src/elector.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The CLIENT IDs a lease is bound to (one per node; recorded as `<CLIENT ID>@<server run_id>`). */
const connectionsOf = (lease: Lease) => {
  const data = lease.data as { clientId?: string; clientIds?: string[] };
  return (data.clientIds ?? [data.clientId as string]).map((id) => id.split('@')[0] as string);
};

describe('redis safety under connection resets and state loss', () => {
  const servers: RedisServer[] = [];
  let server: RedisServer;
  const clients: Redis[] = [];
  const adapters: LockAdapter[] = [];
  const elections: Election[] = [];
  const client = (port = server.port) => {
    const c = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  const prefix = () => `s${Math.random().toString(36).slice(2)}:`;
  const locks = (count: number, port = server.port) => {
    const shared = prefix();
    const made = Array.from({ length: count }, () => redisLock({ client: client(port), prefix: shared }));
    adapters.push(...made);
    return made;
  };
  const campaign = (lock: LockAdapter, name: string, ttl = 3000, extra: Record<string, unknown> = {}) => {
    const election = elect({ name, lock, ttl, retryInterval: 50, handleSignals: false, logger: false, ...extra });
    elections.push(election);
    return election;
  };
  /** Samples both elections every few ms until `until()` holds or `ms` pass; counts samples where both were primary. */
  const watchBoth = async (a: Election, b: Election, ms: number, until: () => boolean) => {
    let both = 0;
    const end = performance.now() + ms;
    while (performance.now() < end && !until()) {
      if (a.isPrimary && b.isPrimary) both++;
      await pause(2);
    }
    return both;
  };

  beforeAll(async () => {
    server = await startRedis();
    servers.push(server);
  });
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.admin().call('CLIENT', 'UNPAUSE')));
    await Promise.all(elections.splice(0).map((e) => e.stop()));
    await Promise.all(adapters.splice(0).map((a) => a.close?.()));
    for (const c of clients.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  describe('a command in flight when the connection is reset', () => {
    it('does not count a renew that ioredis resent on a new connection', async () => {
      const [holderLock] = locks(1);
      const lease = await holderLock?.acquire('jobs', createHolderIdentity(), 60_000);
      if (!holderLock || !lease) throw new Error('no lease');
      const admin = server.admin();
      await admin.call('CLIENT', 'PAUSE', '1500', 'WRITE');
      const renewing = holderLock.renew(lease, 60_000);
      await pause(100); // the renew waits on the paused server
      await admin.call('CLIENT', 'KILL', 'ID', connectionsOf(lease)[0] as string);
      await admin.call('CLIENT', 'UNPAUSE');
      expect(await renewing).toBeNull();
      expect(holderLock.isIntact?.(lease)).toBe(false);
    });

    it('gives back a grant that ioredis resent on a new connection, so a follower takes it at once', async () => {
      const [holderLock, followerLock] = locks(2);
      if (!holderLock || !followerLock) throw new Error('no locks');
      const holderClient = clients.at(-2) as Redis;
      await holderLock.inspect('jobs'); // connects
      const admin = server.admin();
      const holderConnection = String(await holderClient.call('CLIENT', 'ID'));
      await admin.call('CLIENT', 'PAUSE', '1500', 'WRITE');
      const acquiring = holderLock.acquire('jobs', createHolderIdentity(), 60_000);
      await pause(100);
      await admin.call('CLIENT', 'KILL', 'ID', holderConnection);
      await admin.call('CLIENT', 'UNPAUSE');
      expect(await acquiring).toBeNull();
      // The resent grant names a closed connection and was deleted: no wait for its 60 s TTL.
      let taken: Lease | null = null;
      for (let i = 0; i < 50 && !taken; i++) {
        taken = await followerLock.acquire('jobs', createHolderIdentity(), 60_000);
        if (!taken) await pause(20);
      }
      expect(taken).not.toBeNull();
    });

    it('steps down the moment its client sees the close, even with its renew in flight', async () => {
      const [holderLock] = locks(1);
      if (!holderLock) throw new Error('no lock');
      const holder = campaign(holderLock, 'jobs', 6000, { renewInterval: 100, jitter: 0 });
      await holder.ready;
      const lease = holder.lease;
      if (!lease) throw new Error('not primary');
      const revoked = new Promise<string>((resolve) => holder.once('revoked', ({ reason }) => resolve(reason)));
      const admin = server.admin();
      await admin.call('CLIENT', 'PAUSE', '4000', 'WRITE');
      await pause(300); // a renew is now waiting on the paused server
      await admin.call('CLIENT', 'KILL', 'ID', connectionsOf(lease)[0] as string);
      // The server is still paused, so no renew has answered: only the close can end the term.
      expect(await Promise.race([revoked, pause(2000).then(() => 'still primary')])).toBe('lost');
      expect(holder.isPrimary).toBe(false);
    });

    it('redlock: does not count renews that ioredis resent on new connections of a majority', async () => {
      const nodes = [server, await startRedis(), await startRedis()];
      servers.push(...nodes.slice(1));
      const lock = redlockLock({ clients: nodes.map((n) => client(n.port)), prefix: prefix() });
      adapters.push(lock);
      const lease = await lock.acquire('jobs', createHolderIdentity(), 60_000);
      if (!lease) throw new Error('no lease');
      const admins = nodes.map((n) => n.admin());
      await Promise.all(admins.map((a) => a.call('CLIENT', 'PAUSE', '1500', 'WRITE')));
      const renewing = lock.renew(lease, 60_000);
      await pause(100);
      const connections = connectionsOf(lease);
      for (const i of [0, 1]) await admins[i]?.call('CLIENT', 'KILL', 'ID', connections[i] as string);
      await Promise.all(admins.map((a) => a.call('CLIENT', 'UNPAUSE')));
      expect(await renewing).toBeNull();
      expect(lock.isIntact?.(lease)).toBe(false);
    });
  });

  describe('a server-side close of the holder (CLIENT KILL, a proxy, a timeout)', () => {
    it("connectionBinding: false never trades the holder's deadline for speed: no takeover before its TTL", async () => {
      const shared = prefix();
      const [holderClient, followerClient] = [client(), client()];
      const [holderLock, followerLock] = [holderClient, followerClient].map((c) =>
        redisLock({ client: c, prefix: shared, connectionBinding: false }),
      );
      if (!holderLock || !followerLock) throw new Error('no locks');
      adapters.push(holderLock, followerLock);
      const ttl = 1500;
      const started = performance.now();
      const held = await holderLock.acquire('jobs', createHolderIdentity(), ttl);
      if (!held) throw new Error('no lease');
      // A busy holder cannot see this close until its event loop turns; with binding off nobody acts on it.
      await server.admin().call('CLIENT', 'KILL', 'ID', String(await holderClient.call('CLIENT', 'ID')));
      expect(holderLock.isIntact?.(held)).toBe(true);
      let taken: Lease | null = null;
      while (!taken) {
        taken = await followerLock.acquire('jobs', createHolderIdentity(), ttl);
        if (!taken) await pause(25);
      }
      expect(performance.now() - started).toBeGreaterThanOrEqual(ttl);
      expect(taken.token).toBeGreaterThan(held.token);
    });
  });

  describe('the lock key lost under a live holder', () => {
    const losses: Array<[string, (name: string, prefix: string) => Promise<void>]> = [
      ['FLUSHALL', async () => void (await server.admin().flushall())],
      [
        'eviction of the lock and its counter',
        async (name, p) => void (await server.admin().del(`${p}{${name}}:lock`, `${p}{${name}}:token`)),
      ],
    ];

    it.each(losses)('%s: no follower takes over while the holder may still be primary, and tokens go on', async (_label, lose) => {
      const shared = prefix();
      const [a, b] = [0, 1].map(() => campaign(redisLock({ client: client(), prefix: shared }), 'jobs', 2000));
      if (!a || !b) throw new Error('no elections');
      await Promise.all([a.ready, b.ready]);
      const [holder, follower] = a.isPrimary ? [a, b] : [b, a];
      const oldToken = holder.token as number;
      await pause(200); // the follower has looked at the holder at least once
      let newToken = 0;
      for (const e of [a, b]) e.on('elected', (lease) => (newToken = Math.max(newToken, lease.token)));
      await lose('jobs', shared);
      // Until someone is elected again (the holder re-elects itself at its next renew, or the
      // follower after the holder's TTL), never both.
      const both = await watchBoth(holder, follower, 6000, () => newToken > 0);
      expect(both).toBe(0);
      expect(newToken).toBeGreaterThan(oldToken);
    });

    it('an empty restart: the holder steps down with its connection, and tokens go on', async () => {
      const own = await startRedis();
      servers.push(own);
      const shared = prefix();
      const [a, b] = [0, 1].map(() => campaign(redisLock({ client: client(own.port), prefix: shared }), 'jobs', 2000));
      if (!a || !b) throw new Error('no elections');
      await Promise.all([a.ready, b.ready]);
      const oldToken = (a.token ?? b.token) as number;
      await pause(200);
      let newToken = 0;
      for (const e of [a, b]) e.on('elected', (lease) => (newToken = Math.max(newToken, lease.token)));
      await own.restart();
      const both = await watchBoth(a, b, 8000, () => newToken > 0);
      expect(both).toBe(0);
      expect(newToken).toBeGreaterThan(oldToken);
    });

    it('a follower that saw a holder waits out its TTL after the key vanished, then takes over above its token', async () => {
      const [holderLock, followerLock] = locks(2);
      if (!holderLock || !followerLock) throw new Error('no locks');
      const ttl = 1500;
      const held = await holderLock.acquire('jobs', createHolderIdentity(), ttl);
      if (!held) throw new Error('no lease');
      const warnings: string[] = [];
      const context = { warn: (m: string) => warnings.push(m) };
      expect(await followerLock.acquire('jobs', createHolderIdentity(), ttl, context)).toBeNull(); // it sees the holder
      await server.admin().flushall();
      const noticed = performance.now();
      let taken: Lease | null = null;
      while (!taken) {
        taken = await followerLock.acquire('jobs', createHolderIdentity(), ttl, context);
        if (!taken) await pause(25);
      }
      expect(performance.now() - noticed).toBeGreaterThanOrEqual(ttl - 5);
      expect(taken.token).toBeGreaterThan(held.token);
      expect(warnings.filter((w) => w.includes('vanished without a release'))).toHaveLength(1);
    });
  });

  describe('eviction policy', () => {
    it.each([
      ['allkeys-lru', true],
      ['volatile-ttl', true],
      ['noeviction', false],
    ])('maxmemory-policy %s: warned at the first acquire: %s', async (policy, warned) => {
      const own = await startRedis(['--maxmemory', '100mb', '--maxmemory-policy', policy]);
      servers.push(own);
      const [lock] = locks(1, own.port);
      const warnings: string[] = [];
      await lock?.acquire('jobs', createHolderIdentity(), 5000, { warn: (m) => warnings.push(m) });
      expect(warnings.some((w) => w.includes(`maxmemory-policy ${policy}`) && w.includes('noeviction'))).toBe(warned);
    });
  });
});
