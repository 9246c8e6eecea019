import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redlockLock } from '../../adapters/redlock.js';
import type { LockAdapter } from '../../src/adapter.js';
import { PrimacyBackendError, PrimacyConfigError } from '../../src/errors.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

describe('redlock adapter (3 nodes)', () => {
  let nodes: RedisServer[] = [];
  const clients: Redis[] = [];
  const adapters: LockAdapter[] = [];
  let prefix = '';
  const quorumLock = (options: { nodeTimeout?: number } = {}) => {
    const nodeClients = nodes.map((node) => {
      const client = new Redis(node.port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    });
    const adapter = redlockLock({ clients: nodeClients, prefix, ...options });
    adapters.push(adapter);
    return adapter;
  };

  beforeAll(async () => {
    nodes = await Promise.all([startRedis(), startRedis(), startRedis()]);
  });
  afterEach(async () => {
    for (const node of nodes) node.resume();
    await Promise.all(adapters.splice(0).map((a) => a.close?.()));
    for (const client of clients.splice(0)) client.disconnect();
    prefix = `t${Math.random().toString(36).slice(2)}:`;
  });
  afterAll(() => Promise.all(nodes.map((node) => node.stop())));

  it('takes its fencing token above the highest counter on the majority it reads', async () => {
    prefix = 'floor:';
    // Above the servers' clocks in µs (the other floor under a token), below 2^53.
    await nodes[1]?.admin().set('floor:{jobs}:token', '8000000000000041');
    const lease = await quorumLock().acquire('jobs', createHolderIdentity(), 10_000);
    expect(lease?.token).toBe(8_000_000_000_000_042);
    // Every node that granted the lease now has a counter at least that high.
    for (const node of nodes) expect(Number(await node.admin().get('floor:{jobs}:token'))).toBe(8_000_000_000_000_042);
  });

  it('still grants and renews with a minority node paused, within the node timeout', async () => {
    prefix = 'paused:';
    nodes[2]?.pause();
    const lock = quorumLock({ nodeTimeout: 100 });
    const started = performance.now();
    const lease = await lock.acquire('jobs', createHolderIdentity(), 10_000);
    expect(lease).not.toBeNull();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await lock.renew(lease as NonNullable<typeof lease>, 10_000)).not.toBeNull();
    expect(await quorumLock({ nodeTimeout: 100 }).acquire('jobs', createHolderIdentity(), 10_000)).toBeNull();
  });

  it('claims the node it was missing on at its next renew, so one more node failing does not cost the lease', async () => {
    prefix = 'extend:';
    await nodes[2]?.down();
    const lock = quorumLock({ nodeTimeout: 100 });
    const lease = await lock.acquire('jobs', createHolderIdentity(), 10_000);
    await nodes[2]?.up();
    if (!lease) throw new Error('no lease on 2 of 3 nodes');
    await new Promise((resolve) => setTimeout(resolve, 300)); // the client reconnects
    // The client may replay its queued acquire on reconnect; either way, the node has no key now
    // (as after it restarted empty), and the lease counts only the 2 nodes that granted in time.
    await nodes[2]?.admin().del('extend:{jobs}:lock');
    const extended = await lock.renew(lease, 10_000);
    if (!extended) throw new Error('renew failed');
    expect(await nodes[2]?.admin().get('extend:{jobs}:lock')).toMatch(new RegExp(`^${lease.token}\\|${lease.holder.id}\\|`));
    // Held on 3 of 3 now: losing node 0 still leaves a majority.
    nodes[0]?.pause();
    expect(await lock.renew(extended, 10_000)).not.toBeNull();
  });

  it('refuses to grant without a quorum, as a backend error', async () => {
    prefix = 'noquorum:';
    nodes[0]?.pause();
    nodes[1]?.pause();
    await expect(quorumLock({ nodeTimeout: 100 }).acquire('jobs', createHolderIdentity(), 10_000)).rejects.toBeInstanceOf(
      PrimacyBackendError,
    );
  });

  it('refuses bad options with a clear error', () => {
    expect(() => redlockLock({ urls: [] })).toThrow(/Expected `urls` to be a non-empty array/);
    expect(() => redlockLock({ urls: ['localhost:1'] })).toThrow(PrimacyConfigError);
    expect(() => redlockLock({} as never)).toThrow(/exactly one of them/);
    expect(() => redlockLock({ urls: ['redis://a'], driftFactor: 2 })).toThrow(/`driftFactor`/);
    expect(() => redlockLock({ urls: ['redis://a'], takeoverGrace: Number.NaN })).toThrow(/`takeoverGrace`/);
  });
});
