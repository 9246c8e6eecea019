import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { redisLock } from '../../adapters/redis.js';
import { describeLockAdapter } from '../conformance.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(() => server.stop());

describeLockAdapter('redis', async () => {
  const clients: Redis[] = [];
  const prefix = `conformance-${Math.random().toString(36).slice(2)}:`;
  return {
    make: () => {
      // Fail fast when the server is gone, so the broken-backend case answers within the test.
      const client = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => 100 });
      client.on('error', () => undefined);
      clients.push(client);
      return redisLock({ client, prefix });
    },
    breakBackend: async () => {
      for (const client of clients) client.disconnect();
    },
    cleanup: async () => {
      for (const client of clients) client.disconnect();
    },
  };
});
