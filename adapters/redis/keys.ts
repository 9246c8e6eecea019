/**
 * The keys of one lock, named alike by `redisLock` and by every node of `redlockLock`, so either
 * adapter (and `lock-status`) finds a lock's state wherever it lives.
 */
export interface LockKeys {
  /** The lock's value: `<token>|<holder id>|<client id>|<record>` while held. */
  readonly lock: string;
  /** The token counter. */
  readonly token: string;
  /** The last released token (a bare number): a key gone without it was lost, not released. */
  readonly released: string;
  /** The last released value, so `inspect` can name who released it. */
  readonly last: string;
  /** The channel a release is published on, to wake the followers. */
  readonly events: string;
  /** The last `runOnce` outcome. */
  readonly outcome: string;
  /** Which follower watches the holder's connection for everyone (adapters/redis/watcher.ts). */
  readonly watcher: string;
}

export function lockKeys(prefix: string, name: string): LockKeys {
  // The hash tag keeps a lock's keys in one Cluster slot; braces in names would break it.
  const base = `${prefix}{${name.replace(/[{}]/g, '_')}}:`;
  return {
    lock: `${base}lock`,
    token: `${base}token`,
    released: `${base}released`,
    last: `${base}last`,
    events: `${base}events`,
    outcome: `${base}outcome`,
    watcher: `${base}watcher`,
  };
}
