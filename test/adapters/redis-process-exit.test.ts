/**
 * A lock never keeps a process alive once nothing uses it, whoever owns the client: a real child
 * process elects on its own ioredis client(s), stops the election, quits its clients, and must
 * then exit on its own (the lock's subscriber connection, a duplicate of the client, used to stay
 * open and hold the process forever).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

const owner = join(import.meta.dirname, 'fixtures/quitting-owner.ts');
const children: Child[] = [];
let nodes: RedisServer[] = [];

beforeAll(async () => {
  nodes = await Promise.all([startRedis(), startRedis(), startRedis()]);
});
afterAll(async () => {
  await killAll(children);
  await Promise.all(nodes.map((node) => node.stop()));
});

/** Whether the child exits by itself within `ms` after it quit its clients (killed if not). */
async function exitsOnItsOwn(child: Child, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'still running'> {
  await child.waitFor((e) => e.ev === 'quit', 20_000);
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    child.exited,
    new Promise<'still running'>((resolve) => {
      timer = setTimeout(() => resolve('still running'), ms);
    }),
  ]);
  clearTimeout(timer);
  return outcome;
}

describe('a lock on a client the caller owns', () => {
  it('redisLock({ client }): after stop() and client.quit() the process exits on its own', async () => {
    const child = new Child(owner, [nodes[0]?.url as string, 'exit-redis']);
    children.push(child);
    // Exiting takes milliseconds once nothing holds the loop; 5 s leaves room for a busy machine.
    expect(await exitsOnItsOwn(child, 5000)).toEqual({ code: 0, signal: null });
  });

  it('redlockLock({ clients }): after stop() and quitting every client the process exits on its own', async () => {
    const child = new Child(owner, [nodes.map((node) => node.url).join(','), 'exit-redlock']);
    children.push(child);
    expect(await exitsOnItsOwn(child, 5000)).toEqual({ code: 0, signal: null });
  });
});

describe('a lock made from URLs, that nobody closes', () => {
  it('redisLock({ url }): once its election stopped the process exits on its own', async () => {
    const child = new Child(owner, [nodes[0]?.url as string, 'exit-redis-url', 'url']);
    children.push(child);
    expect(await exitsOnItsOwn(child, 5000)).toEqual({ code: 0, signal: null });
  });

  it('redlockLock({ urls }): once its election stopped the process exits on its own', async () => {
    const child = new Child(owner, [nodes.map((node) => node.url).join(','), 'exit-redlock-url', 'url']);
    children.push(child);
    expect(await exitsOnItsOwn(child, 5000)).toEqual({ code: 0, signal: null });
  });

  it('a second election on the same lock after the first stopped reconnects, is elected, and the process still exits', async () => {
    for (const [urls, name] of [
      [nodes[0]?.url as string, 'again-redis-url'],
      [nodes.map((node) => node.url).join(','), 'again-redlock-url'],
    ] as const) {
      const child = new Child(owner, [urls, name, 'url-again']);
      children.push(child);
      expect(await exitsOnItsOwn(child, 5000)).toEqual({ code: 0, signal: null });
      const [first, second] = child.events.filter((e) => e.ev === 'elected').map((e) => Number(e.token));
      expect(second).toBeGreaterThan(first as number);
    }
  });
});
