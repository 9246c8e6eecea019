/**
 * `identity` is a label for people (a pod name, a hostname) and may repeat: two elections started
 * with one label must never both be primary, and must not take the lease from each other (which
 * once made them flap between primaries for ever, with 1.7–2.2 s overlaps).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fileLock } from '../adapters/file.js';
import { memoryLock } from '../adapters/memory.js';
import { redisLock } from '../adapters/redis.js';
import type { LockAdapter } from '../src/adapter.js';
import { type Election, elect } from '../src/elector.js';
import { type RedisServer, startRedis } from './helpers/redis-server.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('two elections with one identity label', () => {
  let dir: string;
  let server: RedisServer;
  const clients: Redis[] = [];
  const elections: Election[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-shared-identity-'));
    server = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(elections.splice(0).map((e) => e.stop()));
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const shared = memoryLock();
  const redisPrefix = `shared-identity-${process.pid}:`;
  const locks: Record<string, () => LockAdapter> = {
    file: () => fileLock({ dir }),
    memory: () => shared,
    redis: () => {
      const client = new Redis(server.port, '127.0.0.1');
      clients.push(client);
      return redisLock({ client, prefix: redisPrefix });
    },
  };

  it.each(Object.keys(locks))('elect one primary that keeps the lease (%s)', async (kind) => {
    const start = () => {
      const election = elect({
        name: `pod-${kind}`,
        lock: locks[kind]?.(),
        identity: 'pod-7',
        ttl: 1000,
        retryInterval: 50,
        handleSignals: false,
        logger: false,
      });
      elections.push(election);
      return election;
    };
    const [a, b] = [start(), start()];
    let terms = 0;
    for (const e of [a, b]) e.on('elected', () => terms++);
    await Promise.all([a.ready, b.ready]);
    expect(a.holder.label).toBe(b.holder.label);
    expect(a.holder.id).not.toBe(b.holder.id);
    // Two TTLs of renewing and retrying (every 50 ms): a follower that took the label for itself
    // would have stolen the lease many times over.
    let both = 0;
    const until = performance.now() + 2000;
    while (performance.now() < until) {
      if (a.isPrimary && b.isPrimary) both++;
      await pause(5);
    }
    expect(both).toBe(0);
    expect(terms).toBe(1);
    expect([a.isPrimary, b.isPrimary].filter(Boolean)).toHaveLength(1);
  });
});
