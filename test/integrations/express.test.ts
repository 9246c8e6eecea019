/**
 * primacy/express against real Express 5 and Express 4 servers on loopback, real HTTP (fetch), a
 * real file lock in a private temp dir, real child processes and signals, and a private Redis.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { type Election, fileLock, type LockAdapter, PrimacyConfigError } from 'primacy';
import { attachPrimacy, listenWithPrimacy, primacyHealth } from 'primacy/express';
import { redisLock } from 'primacy/redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { until } from '../helpers/until.js';

const require = createRequire(import.meta.url);
// express4 is express@4 under an alias; @types/express (v5) describes the surface used here.
const express4 = require('express4') as typeof express;
const FIXTURE = join(import.meta.dirname, 'fixtures', 'express-app.ts');

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** GETs `url` and parses the JSON answer. */
async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const LOOPBACK = { port: 0, host: '127.0.0.1' };
// In-process elections leave the test runner's signals alone and its output clean.
const QUIET = { handleSignals: false, logger: false } as const;

const majors = [
  { label: 'Express 5', module: 'express', createApp: express, major: '5' },
  { label: 'Express 4', module: 'express4', createApp: express4, major: '4' },
] as const;

describe.each(majors)('primacy/express on $label', ({ module, createApp, major }) => {
  let dir: string;
  let name: string;
  const servers: Server[] = [];
  const elections: Election[] = [];
  const children: Child[] = [];
  let redis: RedisServer | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-express-'));
    name = `express-${process.pid}-${Math.random().toString(36).slice(2)}`;
  });

  afterEach(async () => {
    await killAll(children);
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    }
    await Promise.all(elections.splice(0).map((election) => election.stop()));
    await redis?.stop();
    redis = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  /** An app with a route answering what `req.app.locals.primacy` says, listening on a free loopback port. */
  async function primacyApp(options: { ttl?: number; lock?: LockAdapter } = {}) {
    const app = createApp();
    app.get('/primary', (req, res) => {
      res.json({ isPrimary: req.app.locals.primacy?.isPrimary ?? null, token: req.app.locals.primacy?.token ?? null });
    });
    app.get('/healthz', primacyHealth(undefined, { timeout: 300 }));
    const lock = options.lock ?? fileLock({ dir });
    const { server, election } = await listenWithPrimacy(app, LOOPBACK, { name, lock, ttl: options.ttl ?? 2000, ...QUIET });
    servers.push(server);
    elections.push(election);
    return { app, server, election, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it(`runs the real express ${major}.x`, () => {
    expect((require(`${module}/package.json`) as { version: string }).version.split('.')[0]).toBe(major);
  });

  it('elects exactly one primary among two apps, as a route reading req.app.locals.primacy reports', async () => {
    const a = await primacyApp();
    const b = await primacyApp();
    const answers = await Promise.all([a, b].map(async ({ url }) => (await getJson(`${url}/primary`)).body));
    expect(answers.map((answer) => answer.isPrimary).sort()).toEqual([false, true]);
    expect(answers.find((answer) => answer.isPrimary)?.token).toBe(a.election.token ?? b.election.token);
    expect(a.app.locals.primacy).toBe(a.election);
  });

  it('server.close() releases at once, even with a request in flight; the other app takes over well before the TTL', async () => {
    const ttl = 10_000;
    const a = await primacyApp({ ttl });
    const b = await primacyApp({ ttl });
    expect(a.election.isPrimary).toBe(true);
    // A request that stays open keeps the server from emitting 'close' for as long as it runs.
    const [gate, inFlight] = [deferred(), deferred()];
    a.app.get('/slow', async (_req, res) => {
      inFlight.resolve();
      await gate.promise;
      res.send('done');
    });
    const slow = fetch(`${a.url}/slow`).then((response) => response.text());
    await inFlight.promise;

    const takeover = once(b.election, 'elected', { signal: AbortSignal.timeout(ttl / 5) });
    const closedAt = wallNow();
    let closed = false;
    const closing = new Promise((resolve) => a.server.close(resolve)).then(() => {
      closed = true;
    });
    await takeover;
    expect(wallNow() - closedAt).toBeLessThan(ttl / 5);
    expect(closed).toBe(false); // Still waiting for the slow request: the release did not.
    expect([a.election.isPrimary, b.election.isPrimary]).toEqual([false, true]);

    gate.resolve();
    expect(await slow).toBe('done');
    a.server.closeIdleConnections(); // The client keeps its socket alive; a graceful shutdown drops idle ones.
    await closing;
    expect(a.election.stopped).toBe(true);
    expect((await getJson(`${b.url}/primary`)).body).toMatchObject({ isPrimary: true });
  });

  it('server.close(callback) calls back only once the work has drained and the lock is released', async () => {
    const { server, election } = await primacyApp();
    expect(election.isPrimary).toBe(true);
    let drained = false;
    election.whilePrimary(async (signal) => {
      await once(signal, 'abort');
      await new Promise((resolve) => setTimeout(resolve, 200)); // Work that takes a while to wind down.
      drained = true;
    });
    const seen = await new Promise((resolve, reject) => server.close(() => void fileLock({ dir }).inspect(name).then(resolve, reject)));
    expect(drained).toBe(true);
    expect(seen).toMatchObject({ state: 'free' });
  });

  it('starts campaigning once the server listens, never if it fails to listen; refuses a second election on it', async () => {
    const app = createApp();
    const server = createServer(app);
    servers.push(server);
    const attached = attachPrimacy(server, app, { name, lock: fileLock({ dir }), ttl: 2000, ...QUIET });
    expect(app.locals.primacy).toBeUndefined();
    server.listen(0, '127.0.0.1');
    const election = await attached;
    elections.push(election);
    expect(app.locals.primacy).toBe(election);
    expect(election.isPrimary).toBe(true);
    expect(() => attachPrimacy(server, createApp(), { name })).toThrow(/`server`/);
    expect(() => attachPrimacy(createServer(app), app, { name })).toThrow(/`app`/);

    const taken = createApp();
    const clash = createServer(taken);
    const failed = attachPrimacy(clash, taken, { name, lock: fileLock({ dir }), ...QUIET });
    clash.listen((server.address() as AddressInfo).port, '127.0.0.1');
    await expect(failed).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(taken.locals.primacy).toBeUndefined();
  });

  it('SIGTERM releases: a child running an express app hands over to another child well before the TTL', async () => {
    const ttl = 8000;
    children.push(new Child(FIXTURE, [module, dir, name, String(ttl)]), new Child(FIXTURE, [module, dir, name, String(ttl)]));
    const listening = await Promise.all(children.map((child) => child.waitFor((event) => event.ev === 'listening', 15_000)));
    expect(listening.map((event) => event.isPrimary).sort()).toEqual([false, true]);
    const [first, second] = (listening[0]?.isPrimary ? children : [...children].reverse()) as [Child, Child];

    const killedAt = wallNow();
    first.kill('SIGTERM');
    const elected = await second.waitFor((event) => event.ev === 'elected', ttl);
    expect(elected.t - killedAt).toBeLessThan(ttl / 4);
    // primacy's handler stopped the election, then re-raised SIGTERM: the process ended as it would have.
    expect(await first.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(first.events.some((event) => event.ev === 'revoked' && event.reason === 'stopped')).toBe(true);
    const port = listening.find((event) => event.pid === second.pid)?.port;
    expect((await getJson(`http://127.0.0.1:${port}/primary`)).body).toEqual({ pid: second.pid, isPrimary: true });
  });

  it('health: 200 for a primary and a follower, 503 once the lock backend is down, 200 again when it is back', async () => {
    redis = await startRedis();
    const lock = () => redisLock({ url: (redis as RedisServer).url });
    const primary = await primacyApp({ ttl: 1000, lock: lock() });
    const follower = await primacyApp({ ttl: 1000, lock: lock() });
    const health = (url: string) => getJson(`${url}/healthz`);
    expect(await health(primary.url)).toMatchObject({ status: 200, body: { role: 'primary', ok: true } });
    expect(await health(follower.url)).toMatchObject({ status: 200, body: { role: 'follower', ok: true } });

    await redis.down();
    const answering = (url: string, status: number) =>
      until(
        async () => {
          const answer = await health(url);
          return answer.status === status && answer;
        },
        8000,
        `${url}/healthz answering ${status}`,
      );
    for (const { url } of [primary, follower]) {
      const down = await answering(url, 503);
      expect(down.body).toMatchObject({ ok: false, role: 'follower' });
      expect(down.body.error).toEqual(expect.any(String));
    }
    await redis.up();
    await answering(primary.url, 200);
    await answering(follower.url, 200);
  });

  it('health answers 503 for an app whose server is not listening yet, and for a stopped election', async () => {
    const idle = createApp();
    const { election } = await primacyApp();
    const probe = createApp();
    probe.get('/idle', primacyHealth(idle));
    probe.get('/stopped', primacyHealth(election));
    const server = probe.listen(0, '127.0.0.1');
    servers.push(server);
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await getJson(`${url}/idle`)).toMatchObject({ status: 503, body: { ok: false, role: 'none' } });
    await election.stop();
    expect(await getJson(`${url}/stopped`)).toMatchObject({ status: 503, body: { ok: false, role: 'stopped' } });
  });

  it('refuses bad options with an error naming the option, before listening', () => {
    const app = createApp();
    const server = createServer(app);
    const expectOption = (run: () => unknown, option: string) => {
      expect(run).toThrow(PrimacyConfigError);
      expect(run).toThrow(expect.objectContaining({ option, message: expect.stringContaining(`\`${option}\``) }));
    };
    expectOption(() => listenWithPrimacy(app, { port: 0 }, { name, ttl: -5 }), 'ttl');
    expectOption(() => listenWithPrimacy(app, { port: 0 }, { name: '' }), 'name');
    expectOption(() => listenWithPrimacy(app, 'x' as unknown as number, { name }), 'listen');
    expectOption(() => listenWithPrimacy({} as typeof app, 0, { name }), 'app');
    expectOption(() => attachPrimacy({} as Server, app, { name }), 'server');
    expectOption(() => primacyHealth(42 as unknown as Election), 'source');
    expectOption(() => primacyHealth(undefined, { timeout: 0 }), 'timeout');
    expect(server.listening).toBe(false);
    expect(app.locals.primacy).toBeUndefined();
  });
});
