/**
 * A Redis server that refuses connections (nothing listens on its port): the election's errors
 * name the server's address and the errno, with the socket's error as `cause`, from the first
 * round on (not "no answer within <ttl> ms" a TTL later); `stop()` returns promptly even with a
 * round in flight; and no `error` event comes after `stop()` resolved. Same for Redlock, naming
 * each node that failed.
 */
import { Redis } from 'ioredis';
import { elect, type LockAdapter, PrimacyBackendError } from 'primacy';
import { redisLock } from 'primacy/redis';
import { redlockLock } from 'primacy/redlock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An election on `lock` that records its errors, and whether each came after `stop()` resolved. */
function watched(lock: LockAdapter, name: string) {
  // A TTL of 10 s (the default): before, the first error came only when it ran out.
  const election = elect({ name, lock, ttl: 10_000, retryInterval: 200, logger: false, handleSignals: false });
  const errors: Array<{ error: unknown; afterStop: boolean }> = [];
  let stopped = false;
  election.on('error', (error) => errors.push({ error, afterStop: stopped }));
  const stop = async () => {
    const started = performance.now();
    await election.stop();
    stopped = true;
    return performance.now() - started;
  };
  cleanups.push(() => election.stop());
  return { election, errors, stop };
}

async function firstError(errors: Array<{ error: unknown }>, within: number): Promise<unknown> {
  const deadline = performance.now() + within;
  while (errors.length === 0) {
    if (performance.now() > deadline) throw new Error(`no error event within ${within} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return errors[0]?.error;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stops `election` mid-campaign (a round was in flight before) and checks nothing follows. */
async function stopsPromptlyAndQuietly({ stop, errors }: ReturnType<typeof watched>): Promise<void> {
  await sleep(300);
  // The old behaviour waited for the round in flight: up to a TTL (10 s).
  expect(await stop()).toBeLessThan(2000);
  await sleep(1500);
  expect(errors.filter((e) => e.afterStop)).toEqual([]);
}

describe('redisLock with the server unreachable', () => {
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
  });

  it('{ url }: the error names host:port and ECONNREFUSED, with the socket error as cause, in the first round', async () => {
    const lock = redisLock({ url: `redis://127.0.0.1:${port}` });
    cleanups.push(() => lock.close?.());
    const { election, errors } = watched(lock, 'unreachable-url');
    // A refused connection fails in milliseconds: 3 s is room for a busy machine, not the TTL.
    const error = await firstError(errors, 3000);
    expect(error).toBeInstanceOf(PrimacyBackendError);
    expect((error as Error).message).toMatch(/^\[primacy\] \[redis\] acquire failed: cannot reach 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED', port });
    await election.ready;
    expect(election.isPrimary).toBe(false);
    // So does a follower's read (what a health route shows).
    await expect(lock.inspect('unreachable-url')).rejects.toThrow(new RegExp(`cannot reach 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });

  it('{ url }: stop() returns promptly with a round in flight, and no error event follows it', async () => {
    const lock = redisLock({ url: `redis://127.0.0.1:${port}` });
    cleanups.push(() => lock.close?.());
    const started = performance.now();
    await stopsPromptlyAndQuietly(watched(lock, 'unreachable-stop'));
    const closing = performance.now();
    await lock.close?.();
    expect(performance.now() - closing).toBeLessThan(2000);
    expect(performance.now() - started).toBeLessThan(8000);
  });

  it('{ client }: the same errors, a prompt stop(), nothing after it, and the client can still quit', async () => {
    const client = new Redis(port, '127.0.0.1');
    const seen: Error[] = [];
    client.on('error', (error) => seen.push(error)); // the caller's own listener still hears everything
    cleanups.push(() => client.disconnect());
    const lock = redisLock({ client });
    const round = watched(lock, 'unreachable-client');
    const error = await firstError(round.errors, 3000);
    expect((error as Error).message).toMatch(new RegExp(`cannot reach 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    // The cause is the client's own connection error, the one its listener heard.
    expect(seen).toContain((error as Error).cause);
    expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
    await stopsPromptlyAndQuietly(round);
    // Nothing of the lock's was queued on the client, so quit() does not wait for it.
    const quitting = performance.now();
    await client.quit();
    expect(performance.now() - quitting).toBeLessThan(2000);
    let attempts = 0;
    client.on('connecting', () => attempts++);
    await sleep(2500); // ioredis's longest pause between attempts is 2 s
    expect(attempts).toBe(0);
  });
});

describe('redlockLock with nodes unreachable', () => {
  let live: RedisServer;
  let ports: number[] = [];
  beforeAll(async () => {
    live = await startRedis();
    ports = [await freePort(), await freePort()];
  });
  afterAll(async () => {
    await live.stop();
  });

  it('names each node that failed and why (host:port, ECONNREFUSED); stop() is prompt and quiet', async () => {
    const urls = [live.url, ...ports.map((p) => `redis://127.0.0.1:${p}`)];
    const lock = redlockLock({ urls });
    cleanups.push(() => lock.close?.());
    const round = watched(lock, 'unreachable-quorum');
    const error = (await firstError(round.errors, 3000)) as Error;
    expect(error).toBeInstanceOf(PrimacyBackendError);
    expect(error.message).toMatch(/only 1 of 3 nodes answered; a quorum is 2: /);
    for (const p of ports) expect(error.message).toMatch(new RegExp(`cannot reach 127\\.0\\.0\\.1:${p}: .*ECONNREFUSED`));
    expect(error.message).not.toContain(`:${live.port}`);
    expect(error.cause).toBeInstanceOf(AggregateError);
    const causes = (error.cause as AggregateError).errors as Array<{ cause?: { code?: string } }>;
    expect(causes.map((c) => c.cause?.code)).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
    await stopsPromptlyAndQuietly(round);
  });
});
