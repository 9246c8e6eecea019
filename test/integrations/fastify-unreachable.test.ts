/**
 * The Fastify plugin when Redis cannot be reached at boot (a real Fastify server, real HTTP, a
 * private redis-server stopped before the app boots and started later on the same port): the app
 * boots as a follower instead of dying with AVV_ERR_READY_TIMEOUT, serves, answers 503 on its
 * health route, and becomes primary once Redis is there. Also with a server that accepts
 * connections but does not answer (paused), the first round outlasting the plugin timeout.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { LockAdapter } from 'primacy';
import primacy from 'primacy/fastify';
import { redisLock } from 'primacy/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { until } from '../helpers/until.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(): Promise<RedisServer> {
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  return redis;
}

async function app(lock: LockAdapter, options: { pluginTimeout?: number; ttl?: number } = {}): Promise<FastifyInstance> {
  const fastify = Fastify(options.pluginTimeout ? { pluginTimeout: options.pluginTimeout } : {});
  cleanups.push(() => fastify.close());
  await fastify.register(primacy, {
    name: 'reports',
    lock,
    ttl: options.ttl ?? 10_000,
    retryInterval: 250,
    healthRoute: '/healthz',
    handleSignals: false,
    logger: false,
  });
  fastify.get('/role', async () => ({ isPrimary: fastify.primacy.isPrimary }));
  return fastify;
}

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function listen(fastify: FastifyInstance): Promise<string> {
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(fastify.server.address() as { port: number }).port}`;
}

describe('primacy/fastify with Redis unreachable at boot', () => {
  it('boots as a follower, serves, answers 503 on the health route, then becomes primary when Redis comes', async () => {
    const redis = await server();
    await redis.down(); // nothing listens on its port now
    const lock = redisLock({ url: redis.url });
    cleanups.push(() => lock.close?.());
    const fastify = await app(lock);
    const booting = performance.now();
    // Before: onReady waited a whole TTL (10 s, Fastify's plugin timeout) and ready() rejected.
    await fastify.ready();
    expect(performance.now() - booting).toBeLessThan(5000);
    expect(fastify.primacy.isPrimary).toBe(false);
    const url = await listen(fastify);
    expect(await get(`${url}/role`)).toEqual({ status: 200, body: { isPrimary: false } });
    const health = await get(`${url}/healthz`);
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ name: 'reports', role: 'follower', ok: false });
    expect(String(health.body.error)).toMatch(new RegExp(`cannot reach 127\\.0\\.0\\.1:${redis.port}: .*ECONNREFUSED`));

    await redis.up(); // same port, empty
    // ioredis reconnects within 2 s and the election retries with a backoff of a few seconds.
    await until(() => fastify.primacy.isPrimary, 20_000, 'primary');
    expect(await get(`${url}/role`)).toEqual({ status: 200, body: { isPrimary: true } });
    expect(await get(`${url}/healthz`)).toMatchObject({ status: 200, body: { role: 'primary', ok: true } });
  });

  it('boots as a follower when Redis accepts connections but does not answer for longer than the plugin timeout', async () => {
    const redis = await server();
    redis.pause(); // the kernel still accepts connections; nothing answers
    cleanups.push(() => redis.resume());
    const lock = redisLock({ url: redis.url });
    cleanups.push(() => lock.close?.());
    // A first round can take the whole TTL (4 s) here, past a plugin timeout of 3 s.
    const fastify = await app(lock, { pluginTimeout: 3000, ttl: 4000 });
    await fastify.ready();
    expect(fastify.primacy.isPrimary).toBe(false);
    const url = await listen(fastify);
    expect((await get(`${url}/healthz`)).status).toBe(503);
    redis.resume();
    await until(() => fastify.primacy.isPrimary, 20_000, 'primary');
    expect((await get(`${url}/healthz`)).status).toBe(200);
  });
});
