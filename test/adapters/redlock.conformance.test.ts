import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { redlockLock } from '../../adapters/redlock.js';
import { describeLockAdapter } from '../conformance.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

let servers: RedisServer[] = [];
beforeAll(async () => {
  servers = await Promise.all([startRedis(), startRedis(), startRedis()]);
});
afterAll(() => Promise.all(servers.map((s) => s.stop())));

describeLockAdapter('redlock (3 nodes)', async () => {
  const clients: Redis[] = [];
  const prefix = `conformance-${Math.random().toString(36).slice(2)}:`;
  return {
    make: () => {
      const nodes = servers.map((server) => {
        const client = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => 100 });
        client.on('error', () => undefined);
        clients.push(client);
        return client;
      });
      // Past the 500 ms default: a loaded CI machine once let all three nodes miss it on a plain grant.
      return redlockLock({ clients: nodes, prefix, nodeTimeout: 2000 });
    },
    breakBackend: async () => {
      for (const client of clients) client.disconnect();
    },
    cleanup: async () => {
      for (const client of clients) client.disconnect();
    },
  };
});
