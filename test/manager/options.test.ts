/** The manager's options: bad input gets an error naming the option, the value and what is expected. */
import { afterEach, describe, expect, it } from 'vitest';
import { redisLock } from '../../adapters/redis.js';
import { redlockLock } from '../../adapters/redlock.js';
import type { LockAdapter } from '../../src/adapter.js';
import { resolveManagerOptions } from '../../src/manager/options.js';

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('manager options', () => {
  const locks: LockAdapter[] = [];
  afterEach(async () => {
    await Promise.all(locks.splice(0).map((lock) => lock.close?.()));
  });
  const made = <T extends LockAdapter>(lock: T): T => {
    locks.push(lock);
    return lock;
  };

  it('refuses a connection-bound lock: its worker could not see the manager’s connection close', () => {
    for (const lock of [made(redisLock({ url: REDIS })), made(redlockLock({ urls: [REDIS, REDIS, REDIS] }))]) {
      expect(() => resolveManagerOptions({ script: 'app.js', lock })).toThrow(/Expected `lock` to be .*`connectionBinding: false`/);
    }
    const unbound = made(redisLock({ url: REDIS, connectionBinding: false }));
    expect(resolveManagerOptions({ script: 'app.js', lock: unbound }).lock).toBe(unbound);
  });

  it('refuses a name that cannot name a file and a socket, and a lock that is not one', () => {
    for (const name of ['', '../x', '.hidden', 'a/b', 'x'.repeat(65)]) {
      expect(() => resolveManagerOptions({ script: 'app.js', name })).toThrow(/Expected `name` to be letters, digits/);
    }
    expect(() => resolveManagerOptions({ script: 'app.js', lock: {} as LockAdapter })).toThrow(/Expected `lock` to be a lock adapter/);
  });
});
