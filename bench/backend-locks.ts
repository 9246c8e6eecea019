/**
 * primacy's network adapters as the bench builds them: one new adapter (so its own connections) per
 * call, with every default, from the one string a contender receives on its command line.
 */
import { etcdLock } from '../adapters/etcd.js';
import { mysqlLock } from '../adapters/mysql.js';
import { postgresLock } from '../adapters/postgres.js';
import { redisLock } from '../adapters/redis.js';
import { redlockLock } from '../adapters/redlock.js';
import type { LockAdapter } from '../src/adapter.js';

export const NETWORK_BACKENDS = ['redis', 'redlock', 'postgres', 'mysql', 'etcd'] as const;
export type NetworkBackend = (typeof NETWORK_BACKENDS)[number];

export function isNetworkBackend(value: unknown): value is NetworkBackend {
  return (NETWORK_BACKENDS as readonly unknown[]).includes(value);
}

/** `target`: a URL, or comma-separated URLs (Redlock's independent nodes, etcd's endpoints). */
export function lockFor(backend: NetworkBackend, target: string): LockAdapter {
  switch (backend) {
    case 'redis':
      return redisLock({ url: target });
    case 'redlock':
      return redlockLock({ urls: target.split(',') });
    case 'postgres':
      return postgresLock({ connectionString: target });
    case 'mysql':
      return mysqlLock({ uri: target });
    case 'etcd':
      return etcdLock({ hosts: target.split(',') });
  }
}
