import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockKeys } from '../../adapters/redis/keys.js';
import { redisLock } from '../../adapters/redis.js';
import type { Lease, LockAdapter } from '../../src/adapter.js';
import { PrimacyConfigError } from '../../src/errors.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { until } from '../helpers/until.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The CLIENT ID a lease is bound to (recorded as `<CLIENT ID>@<server run_id>`). */
const connectionOf = (lease: Lease) => (lease.data as { clientId: string }).clientId.split('@')[0] as string;

describe('redis adapter', () => {
  let server: RedisServer;
  let restricted: RedisServer;
  const clients: Redis[] = [];
  const adapters: LockAdapter[] = [];
  const client = (port = server.port, options: RedisOptions = {}) => {
    const c = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 2, ...options });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  const lock = (c: Redis) => {
    const adapter = redisLock({ client: c, prefix: `t${Math.random().toString(36).slice(2)}:` });
    adapters.push(adapter);
    return adapter;
  };
  const sharedLocks = (a: Redis, b: Redis, prefix = `t${Math.random().toString(36).slice(2)}:`) => {
    const pair = [redisLock({ client: a, prefix }), redisLock({ client: b, prefix })] as const;
    adapters.push(...pair);
    return pair;
  };

  beforeAll(async () => {
    server = await startRedis();
    restricted = await startRedis();
    // A user that may do everything but CLIENT, as a managed Redis or a proxy would allow.
    await restricted.admin().call('ACL', 'SETUSER', 'app', 'on', '>secret', '~*', '&*', '+@all', '-client');
  });
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((a) => a.close?.()));
    for (const c of clients.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    await server.stop();
    await restricted.stop();
  });

  it("takes over at once when the holder's connection closes, without waiting for the TTL", async () => {
    const [holderLock, followerLock] = sharedLocks(client(), client());
    const holder = await holderLock.acquire('jobs', createHolderIdentity(), 60_000);
    if (!holder) throw new Error('no lease');
    expect(await followerLock.acquire('jobs', createHolderIdentity(), 60_000)).toBeNull();
    const record = await followerLock.inspect('jobs');
    expect(record?.alive).toBe(true);
    // The holder's process dies: the server sees its connection close.
    await server.admin().call('CLIENT', 'KILL', 'ID', connectionOf(holder));
    // Not in the same breath: a live holder whose connection was closed gets takeoverGrace (50 ms) to step down.
    expect(await followerLock.acquire('jobs', createHolderIdentity(), 60_000)).toBeNull();
    await pause(60);
    const taken = await followerLock.acquire('jobs', createHolderIdentity(), 60_000);
    expect(taken?.token).toBeGreaterThan(holder.token);
  });

  it('does not take over a lease that outlived a server restart before it expires (the holder may only be paused)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'primacy-aof-'));
    const persistent = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]);
    try {
      const [holderLock, followerLock] = sharedLocks(client(persistent.port), client(persistent.port));
      const holder = await holderLock.acquire('jobs', createHolderIdentity(), 2500);
      if (!holder) throw new Error('no lease');
      // Every connection, the holder's too, is gone after the restart; the lock is not.
      await persistent.restart();
      await pause(200); // the follower's client reconnects
      const started = Date.now();
      expect((await followerLock.inspect('jobs'))?.alive).toBeNull();
      expect(await followerLock.acquire('jobs', createHolderIdentity(), 2500)).toBeNull();
      let taken: Lease | null = null;
      while (!taken && Date.now() - started < 5000) {
        await pause(100);
        taken = await followerLock.acquire('jobs', createHolderIdentity(), 2500);
      }
      // Taken over by expiry: not before the holder's lease (2.5 s from its acquire) ran out.
      expect(taken?.token).toBeGreaterThan(holder.token);
      expect(Date.now() - holder.acquiredAt).toBeGreaterThanOrEqual(2500);
      expect(await holderLock.renew(holder, 2500)).toBeNull();
    } finally {
      await persistent.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never renews a lease made on a connection it has since lost', async () => {
    const c = client();
    const adapter = lock(c);
    const lease = await adapter.acquire('jobs', createHolderIdentity(), 60_000);
    if (!lease) throw new Error('no lease');
    const id = String(await c.call('CLIENT', 'ID'));
    await server.admin().call('CLIENT', 'KILL', 'ID', id);
    await pause(300); // ioredis reconnects with a new connection
    expect(await adapter.renew(lease, 60_000)).toBeNull();
  });

  it('falls back to TTL expiry, and says so once, where the server refuses CLIENT', async () => {
    const options = { username: 'app', password: 'secret' };
    const [holderLock, followerLock] = sharedLocks(client(restricted.port, options), client(restricted.port, options));
    const warnings: string[] = [];
    const context = { warn: (m: string) => warnings.push(m) };
    const holder = await holderLock.acquire('jobs', createHolderIdentity(), 800, context);
    expect(holder).not.toBeNull();
    expect(await followerLock.acquire('jobs', createHolderIdentity(), 800, context)).toBeNull();
    expect(await followerLock.acquire('jobs', createHolderIdentity(), 800, context)).toBeNull();
    expect(warnings.filter((w) => /refuses CLIENT.*falls back to TTL expiry/.test(w))).toHaveLength(2); // once per adapter
    expect(await holderLock.renew(holder as NonNullable<typeof holder>, 800)).not.toBeNull(); // no binding: renews fine
    await pause(900);
    const taken = await followerLock.acquire('jobs', createHolderIdentity(), 800, context);
    expect(taken?.token).toBeGreaterThan(holder?.token as number);
  });

  it('wakes watching followers through pub/sub when the holder releases', async () => {
    const prefix = `t${Math.random().toString(36).slice(2)}:`;
    const [holderLock, followerLock] = sharedLocks(client(), client(), prefix);
    const lease = await holderLock.acquire('jobs', createHolderIdentity(), 60_000);
    const woken = new Promise<string>((resolve) => followerLock.watch?.('jobs', () => resolve('woken')));
    // The subscriber connects and subscribes (a new connection: on a busy machine, not always
    // within a fixed 100 ms); a release published before that would reach nobody.
    const admin = server.admin();
    const subscribers = async () => ((await admin.call('PUBSUB', 'NUMSUB', lockKeys(prefix, 'jobs').events)) as [string, number])[1];
    await until(async () => (await subscribers()) > 0, 5000, 'the follower subscribed');
    if (lease) await holderLock.release(lease);
    expect(await Promise.race([woken, pause(2000).then(() => 'timeout')])).toBe('woken');
  });

  it('wakes a watching follower when the holder connection closes', async () => {
    const [holderLock, followerLock] = sharedLocks(client(), client());
    const lease = await holderLock.acquire('jobs', createHolderIdentity(), 60_000);
    const woken = new Promise<string>((resolve) => followerLock.watch?.('jobs', () => resolve('woken')));
    expect(await followerLock.acquire('jobs', createHolderIdentity(), 60_000)).toBeNull(); // starts watching the holder
    if (!lease) throw new Error('no lease');
    await server.admin().call('CLIENT', 'KILL', 'ID', connectionOf(lease));
    expect(await Promise.race([woken, pause(2000).then(() => 'timeout')])).toBe('woken');
  });

  it('reloads its scripts when the server forgot them (NOSCRIPT after SCRIPT FLUSH or a failover)', async () => {
    const c = client();
    const adapter = lock(c);
    const first = await adapter.acquire('jobs', createHolderIdentity(), 60_000);
    if (!first) throw new Error('no lease');
    await server.admin().script('FLUSH');
    expect(await adapter.renew(first, 60_000)).not.toBeNull();
    await server.admin().script('FLUSH');
    await adapter.release(first);
    expect((await adapter.inspect('jobs'))?.state).toBe('free');
  });

  it('keeps every key of a lock in one Cluster slot (hash tag)', async () => {
    const c = client();
    const adapter = redisLock({ client: c, prefix: 'slot:' });
    adapters.push(adapter);
    await adapter.acquire('a{b}c', createHolderIdentity(), 60_000);
    expect((await c.keys('slot:*')).sort()).toEqual(['slot:{a_b_c}:lock', 'slot:{a_b_c}:token']);
  });

  it('refuses bad options with a clear error', () => {
    expect(() => redisLock({} as never)).toThrow(PrimacyConfigError);
    expect(() => redisLock({ client: {} as never })).toThrow(
      /Expected `client` to be an ioredis client \(Redis, Cluster\); missing evalsha/,
    );
    expect(() => redisLock({ url: 'localhost:6379' })).toThrow(
      /Expected `url` to be a redis:\/\/ or rediss:\/\/ URL, got "localhost:6379"/,
    );
    expect(() => redisLock({ client: client(), url: 'redis://x' })).toThrow(/exactly one of them/);
    expect(() => redisLock({ client: client(), livenessInterval: 1 })).toThrow(/`livenessInterval`/);
    expect(() => redisLock({ client: client(), takeoverGrace: -1 })).toThrow(
      /Expected `takeoverGrace` to be a number of ms from 0 to 60000, got -1 \(number\)/,
    );
  });

  it('creates and closes its own client from a URL, and leaves a passed client open', async () => {
    const owned = redisLock({ url: server.url, prefix: 'own:' });
    const lease = await owned.acquire('jobs', createHolderIdentity(), 60_000);
    expect(lease).not.toBeNull();
    await owned.close?.();
    const mine = client();
    const borrowed = redisLock({ client: mine, prefix: 'own2:' });
    await borrowed.acquire('jobs', createHolderIdentity(), 60_000);
    await borrowed.close?.();
    expect(await mine.ping()).toBe('PONG');
  });
});
