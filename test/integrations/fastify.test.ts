/**
 * The Fastify plugin on real Fastify servers on loopback, asked over real HTTP: decoration,
 * campaigning only from onReady, one primary among apps sharing a lock, release on close, the
 * health route (also with its backend down), and the errors for bad or doubled registrations.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { type ElectionOptions, elect, fileLock, type LockAdapter, PrimacyConfigError } from 'primacy';
import primacy, { type PrimacyPluginOptions } from 'primacy/fastify';
import { redisLock } from 'primacy/redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startRedis } from '../helpers/redis-server.js';

const apps: FastifyInstance[] = [];
const cleanups: Array<() => Promise<unknown>> = [];
let dir = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'primacy-fastify-'));
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** A Fastify app with the plugin and a route that reports what handlers see of `app.primacy`. */
async function makeApp(options: PrimacyPluginOptions): Promise<FastifyInstance> {
  const app = Fastify();
  apps.push(app);
  await app.register(primacy, options);
  app.get('/role', async () => ({ isPrimary: app.primacy.isPrimary, token: app.primacy.token ?? null }));
  return app;
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const fileOptions = (extra: Partial<ElectionOptions> = {}) => ({
  name: 'fastify-test',
  lock: fileLock({ dir }),
  ttl: 2000,
  handleSignals: false,
  logger: false as const,
  ...extra,
});

describe('primacy/fastify', () => {
  it('does not campaign before onReady, then decorates the election and is primary once listening', async () => {
    const lock = fileLock({ dir });
    const app = await makeApp({ ...fileOptions(), lock });
    await app.after(); // The plugin is loaded, the app not ready.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await lock.inspect('fastify-test')).toBeNull();
    expect(() => app.primacy).toThrow(/created in onReady/);

    const base = await listen(app);
    expect(app.primacy.isPrimary).toBe(true);
    const record = await lock.inspect('fastify-test');
    expect(record?.state).toBe('held');
    expect(record?.holder?.id).toBe(app.primacy.holder.id);
    const { body } = await getJson(`${base}/role`);
    expect(body).toEqual({ isPrimary: true, token: app.primacy.token });
  });

  it('elects exactly one of two apps; the health route reports both roles; close hands over at once', async () => {
    // retryInterval far above the bound (10 s ± 20% after the follower's last try): only the
    // release's wake-up can make the takeover fast.
    const options = { ...fileOptions({ ttl: 5000, retryInterval: 10_000 }), healthRoute: '/healthz' };
    const [a, b] = [await makeApp(options), await makeApp(options)] as [FastifyInstance, FastifyInstance];
    const [baseA, baseB] = [await listen(a), await listen(b)];
    const roles = [await getJson(`${baseA}/role`), await getJson(`${baseB}/role`)].map((r) => r.body.isPrimary);
    expect(roles.filter(Boolean)).toHaveLength(1);

    const [primary, follower] = a.primacy.isPrimary ? [a, b] : [b, a];
    const [primaryBase, followerBase] = primary === a ? [baseA, baseB] : [baseB, baseA];
    const fromPrimary = await getJson(`${primaryBase}/healthz`);
    const fromFollower = await getJson(`${followerBase}/healthz`);
    const holder = { id: primary.primacy.holder.id, pid: process.pid, hostname: primary.primacy.holder.hostname };
    expect(fromPrimary.status).toBe(200);
    expect(fromPrimary.body).toMatchObject({ name: 'fastify-test', role: 'primary', ok: true, token: primary.primacy.token, holder });
    expect(fromFollower.status).toBe(200);
    expect(fromFollower.body).toMatchObject({ name: 'fastify-test', role: 'follower', ok: true, token: primary.primacy.token, holder });
    expect(fromFollower.body.leaseAgeMs).toEqual(expect.any(Number));

    const closedAt = performance.now();
    await primary.close();
    let takeover = Number.POSITIVE_INFINITY;
    while (performance.now() - closedAt < 6000) {
      if ((await getJson(`${followerBase}/healthz`)).body.role === 'primary') {
        takeover = performance.now() - closedAt;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    console.log(`fastify: takeover after app.close() in ${takeover.toFixed(0)} ms (ttl 5000, retryInterval 10000)`);
    expect(takeover).toBeLessThan(3000);
    expect(follower.primacy.isPrimary).toBe(true);
    expect(primary.primacy.stopped).toBe(true);
  });

  it('answers 503 on the health route when the backend is unreachable', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const locks: LockAdapter[] = [redisLock({ url: redis.url }), redisLock({ url: redis.url })];
    // Closed after the apps (cleanups run after them), once Redis is back so quit() can finish.
    cleanups.push(async () => {
      await redis.up().catch(() => undefined);
      await Promise.all(locks.map((lock) => lock.close?.()));
    });
    const bases: string[] = [];
    for (const lock of locks) {
      bases.push(await listen(await makeApp({ ...fileOptions({ ttl: 1000 }), lock, healthRoute: '/healthz' })));
    }
    const before = await Promise.all(bases.map((base) => getJson(`${base}/healthz`)));
    expect(before.map((r) => r.status)).toEqual([200, 200]);
    expect(before.map((r) => r.body.role).sort()).toEqual(['follower', 'primary']);

    await redis.down();
    const deadline = performance.now() + 8000;
    let after = before;
    while (performance.now() < deadline && !after.every((r) => r.status === 503)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await Promise.all(bases.map((base) => getJson(`${base}/healthz`)));
    }
    expect(after.map((r) => r.status)).toEqual([503, 503]);
    for (const { body } of after) {
      expect(body).toMatchObject({ name: 'fastify-test', role: 'follower', ok: false, holder: null });
      expect(body.error).toEqual(expect.any(String));
    }
  });

  it('refuses a second registration under the same decorator, naming it; another decorator works', async () => {
    const app = Fastify();
    apps.push(app);
    void app.register(primacy, fileOptions());
    void app.register(primacy, fileOptions({ name: 'other' }));
    const error = await app.ready().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PrimacyConfigError);
    expect((error as Error).message).toMatch(/\[fastify\] Expected `decorator` .*registered twice.*got "primacy"/);

    const two = Fastify();
    apps.push(two);
    await two.register(primacy, fileOptions());
    await two.register(primacy, { ...fileOptions({ name: 'reports' }), decorator: 'reports' });
    await two.ready();
    const reports = (two as unknown as { reports: typeof two.primacy }).reports;
    expect([two.primacy.name, reports.name]).toEqual(['fastify-test', 'reports']);
    expect([two.primacy.isPrimary, reports.isPrimary]).toEqual([true, true]);
  });

  it.each([
    [{ ttl: 2000 }, /\[fastify\] Expected `name` to be the lock name/],
    [{ name: '' }, /\[fastify\] Expected `name`/],
    [{ name: 'x', ttl: 5 }, /Expected `ttl` to be a finite number >= 1000 ms.*got 5 \(number\)/],
    [{ name: 'x', healthRoute: 'healthz' }, /\[fastify\] Expected `healthRoute` to be a path starting with '\/'.*got "healthz"/],
    [{ name: 'x', decorator: '' }, /\[fastify\] Expected `decorator` to be a non-empty string/],
    [{ election: {} }, /\[fastify\] Expected `election` to be an Election/],
  ])('rejects bad options %j, naming the option', async (options, message) => {
    const app = Fastify();
    apps.push(app);
    void app.register(primacy, options as PrimacyPluginOptions);
    await expect(app.ready()).rejects.toThrow(message);
  });

  it('uses a given election as it is and leaves stopping it to its owner', async () => {
    const election = elect(fileOptions());
    cleanups.push(() => election.stop());
    const app = Fastify();
    apps.push(app);
    void app.register(primacy, { election, ttl: 1000 } as unknown as PrimacyPluginOptions);
    await expect(app.ready()).rejects.toThrow(/\[fastify\] Expected `ttl` to be absent when `election` is given/);

    const used = await makeApp({ election });
    await used.ready();
    expect(used.primacy).toBe(election);
    expect(election.isPrimary).toBe(true);
    await used.close();
    expect(election.stopped).toBe(false);
    expect(election.isPrimary).toBe(true);
  });
});
