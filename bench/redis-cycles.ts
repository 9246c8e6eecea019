/**
 * One acquire attempt (+ release when it succeeded) per library, at the level a comparison of lock
 * costs needs: primacy at adapter level (`acquire(name, holder, ttl)` + `release(lease)`, what the
 * election calls), the peers through their public API. Used by the in-process comparison (one
 * process, uncontended) and by the contention workers (4 processes, one key).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Mutex } from 'redis-semaphore';
import Redlock from 'redlock';
import { redisLock } from '../adapters/redis.js';
import { redlockLock } from '../adapters/redlock.js';
import { createHolderIdentity } from '../src/identity.js';
import { rawLockClient, trySet } from './raw-ioredis.js';

export const CYCLE_KINDS = ['primacy-redis', 'primacy-redlock', 'ioredis', 'redlock', 'redis-semaphore'] as const;
export type CycleKind = (typeof CYCLE_KINDS)[number];

export interface Cycler {
  /** One attempt; true if it acquired (and then released) the lock. */
  cycle(): Promise<boolean>;
  close(): Promise<void>;
}

const TTL = 10_000;

/**
 * `urls`: one URL, or several for the quorum kinds (primacy-redlock, redlock). Every attempt comes
 * back at once when the lock is held, rather than after the library's default waiting: redlock with
 * retryCount 0, redis-semaphore with one attempt and retryInterval 0. Uncontended, these settings
 * change nothing.
 */
export function createCycler(kind: CycleKind, urls: readonly string[], key: string): Cycler {
  const [url] = urls;
  if (!url) throw new Error('no Redis URL');
  switch (kind) {
    case 'primacy-redis':
    case 'primacy-redlock': {
      const lock = kind === 'primacy-redis' ? redisLock({ url }) : redlockLock({ urls: [...urls] });
      const holder = createHolderIdentity();
      return {
        async cycle() {
          const lease = await lock.acquire(key, holder, TTL);
          if (!lease) return false;
          await lock.release(lease);
          return true;
        },
        close: async () => lock.close?.(),
      };
    }
    case 'ioredis': {
      const client = rawLockClient(url);
      const token = randomUUID();
      return {
        async cycle() {
          if (!(await trySet(client, key, token, TTL))) return false;
          await client.deleteIfOwner(key, token);
          return true;
        },
        close: async () => void (await client.quit()),
      };
    }
    case 'redlock': {
      const clients = urls.map((u) => new Redis(u));
      for (const client of clients) client.on('error', () => undefined);
      // retryCount 0: one attempt per call (README: "attempt a lock with retryCount=0").
      const redlock = new Redlock(clients, { retryCount: 0 });
      return {
        async cycle() {
          let lock: Awaited<ReturnType<Redlock['acquire']>>;
          try {
            lock = await redlock.acquire([key], TTL);
          } catch (error) {
            if ((error as Error).name === 'ExecutionError') return false;
            throw error;
          }
          await lock.release();
          return true;
        },
        close: () => redlock.quit(),
      };
    }
    case 'redis-semaphore': {
      const client = new Redis(url);
      client.on('error', () => undefined);
      // One SET NX per tryAcquire(); a failed one still waits retryInterval (0 here: one timer tick).
      const mutex = new Mutex(client, key, { lockTimeout: TTL, acquireAttemptsLimit: 1, retryInterval: 0 });
      return {
        async cycle() {
          if (!(await mutex.tryAcquire())) return false;
          await mutex.release();
          return true;
        },
        close: async () => void (await client.quit()),
      };
    }
  }
}
