/**
 * The lock adapter contract. Adapters only *store state*; the elector owns all timing (when to
 * campaign, renew, give up). Every adapter passes the shared conformance suite
 * (`test/conformance.ts`).
 */

/** Who holds (or held) a lock. Recorded with every lease so `inspect()` and `lock-status` can show it. */
export interface HolderIdentity {
  /**
   * What adapters compare to decide "this lease is mine": a random UUID, unique per election
   * instance, never taken from options. Two elections (in one process or two) never share it.
   */
  readonly id: string;
  /** The `identity` option: a label for people (a pod name, a hostname). It may repeat across processes. */
  readonly label?: string;
  readonly pid: number;
  readonly hostname: string;
  /** Wall-clock time (ms since epoch) the holder's process started. */
  readonly processStartedAt: number;
  /** Linux only: the process start time in clock ticks since boot (guards against pid reuse). */
  readonly procStartTicks?: number;
  /** Linux only: identifies the boot and pid namespace, so a pid is only judged on its own host. */
  readonly bootId?: string;
  readonly pidNamespace?: string;
  /** primacy's version. */
  readonly version: string;
}

/** A lease this process holds. Opaque fields an adapter needs travel in `data`. */
export interface Lease {
  readonly name: string;
  /** Fencing token: strictly increases across holders of this lock name. */
  readonly token: number;
  readonly holder: HolderIdentity;
  /** Wall-clock ms when this holder acquired the lock. */
  readonly acquiredAt: number;
  /** Wall-clock ms of the latest successful acquire or renew. */
  readonly renewedAt: number;
  readonly ttl: number;
  /** Adapter-private state (file path, connection id...). */
  readonly data?: unknown;
}

/** What an observer can learn about a lock without holding it. */
export interface LockRecord {
  readonly name: string;
  /** `held`: a holder's lease is recorded; `free`: released (the last holder is still shown). */
  readonly state: 'held' | 'free';
  readonly token: number;
  readonly holder: HolderIdentity | null;
  readonly acquiredAt: number | null;
  readonly renewedAt: number | null;
  /** Wall-clock ms after which the lease is stale (null where the adapter has no expiry). */
  readonly expiresAt: number | null;
  /**
   * Whether the holder's process is alive: `true`/`false` when the adapter can tell (same host,
   * live connection), `null` when it cannot.
   */
  readonly alive: boolean | null;
  /** Where the lock lives, for humans (a path, a URL, an env var). */
  readonly location: string;
}

/** How a `runOnce` task ended, stored next to its lock so every process can learn it. */
export interface RunOutcome {
  readonly status: 'completed' | 'failed';
  /** The runner's fencing token: tells one attempt from the next. */
  readonly token: number;
  /** Who ran it. */
  readonly holder: HolderIdentity;
  /** Wall-clock ms. */
  readonly startedAt: number;
  readonly finishedAt: number;
  /** `failed`: the error's message. */
  readonly error?: string;
}

/** Context the elector passes into each adapter call. */
export interface AdapterCallContext {
  /** Warnings the adapter wants to surface (corrupt records, fallbacks). */
  readonly warn?: (message: string, details?: Record<string, unknown>) => void;
}

export interface LockAdapter {
  /** `'file' | 'redis' | 'env' | 'memory' | ...` */
  readonly kind: string;
  /** One non-blocking attempt. Resolves `null` when another live holder has the lock. */
  acquire(name: string, holder: HolderIdentity, ttl: number, context?: AdapterCallContext): Promise<Lease | null>;
  /** Extends the lease. Resolves `null` when it is no longer ours (expired and taken, released). */
  renew(lease: Lease, ttl: number, context?: AdapterCallContext): Promise<Lease | null>;
  /** Compare-and-delete: releases only if the lease is still ours. Idempotent. */
  release(lease: Lease, context?: AdapterCallContext): Promise<void>;
  /** The current record, or null if the lock was never taken. */
  inspect(name: string): Promise<LockRecord | null>;
  /**
   * Optional wake-up hint: calls `onChange` when the lock may have become free (holder released
   * or died), so followers need not wait for their next poll. Returns an unsubscribe function.
   */
  watch?(name: string, onChange: () => void): () => void;
  /**
   * Optional, with `watch`: how long, in ms, a waiting follower of `name` may go without trying
   * again, because this adapter wakes it (through `watch`) whenever the lock may have become free:
   * a release, the holder's death, the lease's expiry. The elector waits the longer of this and its
   * `retryInterval`, so idle followers cost the backend little however many they are. Undefined:
   * the elector's own pace. Read after every lost round, so it may change with what the adapter sees.
   */
  idleRetry?(name: string): number | undefined;
  /**
   * Optional, for `runOnce`: stores `outcome` for the lock only while `lease` is still held there
   * (a compare-and-set). Resolves false when the lease is no longer ours.
   */
  writeOutcome?(lease: Lease, outcome: RunOutcome): Promise<boolean>;
  /** Optional, for `runOnce`: the last outcome written for the lock, or null. */
  readOutcome?(name: string): Promise<RunOutcome | null>;
  /**
   * Optional, synchronous and local (no I/O): false once something the adapter saw voids `lease`
   * before its deadline, such as the connection the lease is bound to closing. The elector reads
   * it in every `isPrimary`, and on every `watch` hint, so such a lease ends at once.
   */
  isIntact?(lease: Lease): boolean;
  /**
   * True when other candidates take over the moment this process's connection to the backend
   * closes (connection binding). Only the process that owns the connection sees the close at once,
   * so only it may act on such a lease: the manager refuses such a lock for its workers.
   */
  readonly connectionBound?: boolean;
  /** Releases what the adapter itself created (connections, sockets). Never closes user-passed clients. */
  close?(): Promise<void>;
}
