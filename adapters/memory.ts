import type { HolderIdentity, Lease, LockAdapter, LockRecord, RunOutcome } from '../src/adapter.js';
import { checksFor, optionKeys } from '../src/adapter-kit.js';
import { PrimacyBackendError } from '../src/errors.js';

interface Entry {
  state: 'held' | 'free';
  token: number;
  holder: HolderIdentity;
  acquiredAt: number;
  renewedAt: number;
  expiresAt: number;
}

/** Shared state of memory locks: elections that share a store compete for the same locks. */
export class MemoryLockStore {
  readonly entries = new Map<string, Entry>();
  readonly watchers = new Map<string, Set<() => void>>();
  readonly outcomes = new Map<string, RunOutcome>();

  notify(name: string): void {
    for (const onChange of this.watchers.get(name) ?? []) queueMicrotask(onChange);
  }
}

const sharedStore = new MemoryLockStore();

export interface MemoryLockOptions {
  /** @default one store shared by the whole process */
  store?: MemoryLockStore;
  /** Wall clock in ms used for expiry, injectable for tests. @default Date.now */
  now?: () => number;
}

/** An in-process lock for tests and examples. Exclusion only holds within one process. */
export function memoryLock(options: MemoryLockOptions = {}): LockAdapter {
  const check = checksFor('memoryLock()', 'memory');
  check.options(options, optionKeys<MemoryLockOptions>({ store: true, now: true }));
  if (options.store !== undefined) check.shape('store', options.store, ['notify'], 'a MemoryLockStore (new MemoryLockStore())');
  check.callback('now', options.now, 'a function returning ms');
  const store = options.store ?? sharedStore;
  const now = options.now ?? Date.now;
  let closed = false;

  function open(operation: string): void {
    if (closed) throw new PrimacyBackendError('memory', operation, 'the adapter is closed');
  }
  function owns(entry: Entry | undefined, lease: Lease): entry is Entry {
    return entry?.state === 'held' && entry.token === lease.token && entry.holder.id === lease.holder.id;
  }
  function toLease(name: string, entry: Entry): Lease {
    const { token, holder, acquiredAt, renewedAt, expiresAt } = entry;
    return { name, token, holder, acquiredAt, renewedAt, ttl: expiresAt - renewedAt };
  }

  return {
    kind: 'memory',
    async acquire(name, holder, ttl) {
      open('acquire');
      const entry = store.entries.get(name);
      const t = now();
      // A live holder keeps it, unless that holder is ourselves (we lost track and re-campaign).
      if (entry?.state === 'held' && entry.expiresAt > t && entry.holder.id !== holder.id) return null;
      const next: Entry = { state: 'held', token: (entry?.token ?? 0) + 1, holder, acquiredAt: t, renewedAt: t, expiresAt: t + ttl };
      store.entries.set(name, next);
      return toLease(name, next);
    },
    async renew(lease, ttl) {
      open('renew');
      const entry = store.entries.get(lease.name);
      const t = now();
      if (!owns(entry, lease) || entry.expiresAt <= t) return null;
      entry.renewedAt = t;
      entry.expiresAt = t + ttl;
      return toLease(lease.name, entry);
    },
    async release(lease) {
      open('release');
      const entry = store.entries.get(lease.name);
      if (!owns(entry, lease)) return;
      entry.state = 'free';
      store.notify(lease.name);
    },
    async inspect(name): Promise<LockRecord | null> {
      open('inspect');
      const entry = store.entries.get(name);
      if (!entry) return null;
      const { state, token, holder, acquiredAt, renewedAt, expiresAt } = entry;
      const alive = state === 'held' ? expiresAt > now() : null;
      return { name, state, token, holder, acquiredAt, renewedAt, expiresAt, alive, location: 'memory' };
    },
    async writeOutcome(lease, outcome) {
      open('writeOutcome');
      const entry = store.entries.get(lease.name);
      if (!owns(entry, lease) || entry.expiresAt <= now()) return false;
      store.outcomes.set(lease.name, outcome);
      return true;
    },
    async readOutcome(name) {
      open('readOutcome');
      return store.outcomes.get(name) ?? null;
    },
    watch(name, onChange) {
      const set = store.watchers.get(name) ?? new Set();
      store.watchers.set(name, set.add(onChange));
      return () => set.delete(onChange);
    },
    async close() {
      closed = true;
    },
  };
}
