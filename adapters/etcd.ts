/**
 * A lock in etcd (etcd3): an etcd lease plus a transaction that creates the lock key only if it is
 * absent, attached to that lease; the fencing token is the transaction's revision. Followers watch
 * the key and are woken when it is deleted. Each part is a file under `etcd/`: the attempt
 * (acquire.ts), when a holder's lease has certainly ended (memory.ts, clock.ts), the watch
 * (watches.ts), the client and its requests (connection.ts, policies.ts).
 */
import type { Namespace } from 'etcd3';
import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord, RunOutcome } from '../src/adapter.js';
import { attemptAcquire } from './etcd/acquire.js';
import { clockIdentity, monoNow } from './etcd/clock.js';
import { EtcdConnection, isLeaseGone, put } from './etcd/connection.js';
import { inspectEtcdLock } from './etcd/inspect.js';
import { type LockKeys, lockKeys } from './etcd/keys.js';
import { LockMemory } from './etcd/memory.js';
import { resolveEtcdOptions } from './etcd/options.js';
import { readEtcdOutcome, writeEtcdOutcome } from './etcd/outcome.js';
import type { EtcdRecord } from './etcd/record.js';
import { Watches } from './etcd/watches.js';

/** The etcd3 surface the lock uses: an `Etcd3` client, or a namespace of one (`client.namespace('app/')`). */
export type EtcdClientLike = Pick<Namespace, 'kv' | 'leaseClient' | 'watch' | 'prefix'>;

export interface EtcdLockOptions {
  /** An `Etcd3` client (etcd3), or a namespace of one. Never closed by primacy. */
  client?: EtcdClientLike;
  /**
   * Or the endpoints (`http://10.0.0.5:2379`, or several of one cluster): primacy creates the
   * client, tries a failed request once on each other endpoint, and closes it in `close()`. For
   * client certificates or a password, pass your own `client`.
   */
  hosts?: string | string[];
  /** Key prefix. Keys are `<prefix><name>/lock`, `/token` and `/outcome`. @default 'primacy/' */
  prefix?: string;
  /**
   * How long one request to etcd may take, in ms, etcd3's own retries included (they could
   * otherwise go on far longer): past it, the call fails with a PrimacyBackendError.
   * @default 2000
   */
  callTimeout?: number;
  /**
   * How long a waiting follower may go between attempts, in ms, while its watch of the lock is
   * connected (etcd wakes it when the lock is released or its holder's lease ends); while the
   * watch is broken, it retries at the election's `retryInterval`.
   * @default 30000
   */
  idleRetry?: number;
}

interface EtcdLeaseData {
  readonly leaseId: string;
  /** The TTL etcd granted the lease, in seconds. */
  readonly grantedTtl: number;
  /** The lease's token and holder as granted: a lease whose token or holder was changed is not ours. */
  readonly token: number;
  readonly holderId: string;
}

/** A lease this adapter holds: which lock, the revision it was won at, and whether something voided it since. */
interface Held {
  readonly name: string;
  readonly revision: number;
  lost: boolean;
}

/**
 * A lock in etcd (etcd3). See `EtcdLockOptions`.
 *
 * Failover after a crash is bounded by the TTL: etcd cannot see a process die, only its lease
 * stop being kept alive. A follower takes over once the holder's lease has certainly ended, about
 * one TTL after the holder's last renew: at the `expiresAt` the holder recorded on its monotonic
 * clock when the follower reads the same clock (same host), else one TTL after the follower first
 * saw the holder's last record, or when etcd expires the lease (whole seconds, at least etcd's
 * minimum, 2 s by default), whichever comes first. A SIGSTOPped holder is replaced the same way;
 * resumed, it reads `isPrimary` false (its deadline passed) and its renew fails (the key is on
 * another lease, or its lease is gone). A release (stop, SIGTERM) hands over at once: followers are
 * woken by the key's deletion. Tokens are etcd revisions: they rise across holders and etcd
 * restarts with data, and, if etcd loses its data, past every token this process has seen.
 */
export function etcdLock(options: EtcdLockOptions): LockAdapter {
  return new EtcdLock(options);
}

class EtcdLock implements LockAdapter {
  readonly kind = 'etcd';
  readonly #connection: EtcdConnection;
  readonly #prefix: string;
  readonly #idleRetry: number;
  readonly #clock = clockIdentity();
  readonly #memory = new LockMemory(this.#clock);
  readonly #held = new Map<string, Held>();
  readonly #orphans = new Set<string>();
  readonly #watches: Watches;

  constructor(options: EtcdLockOptions) {
    const { client, hosts, prefix, callTimeout, idleRetry } = resolveEtcdOptions(options);
    this.#connection = new EtcdConnection({ client, hosts, callTimeout });
    this.#prefix = prefix;
    this.#idleRetry = idleRetry;
    this.#watches = new Watches(() => this.#connection.client, {
      // Seen like any holder's (also our own: another election here may follow it); a value on
      // another lease, written after we won ours, means ours was taken over.
      onPut: (name, kv) => {
        const sighting = this.#memory.sight(name, kv, monoNow());
        this.#watches.wakeAt(name, sighting.takeoverAt, monoNow());
        this.#lose(name, (held, id) => id !== String(kv.lease) && held.revision < Number(kv.mod_revision));
      },
      // The last value seen stays remembered: the next attempt asks whether its lease ended
      // (a release revokes it, etcd expires it) or lives on (the key was deleted under its holder).
      onDelete: (name, kv) => {
        this.#lose(name, (held) => held.revision < Number(kv.mod_revision));
      },
      onLoss: (name) => this.#lose(name, () => true),
    });
  }

  async acquire(name: string, holder: HolderIdentity, ttl: number, context?: AdapterCallContext): Promise<Lease | null> {
    const keys = this.#keys(name);
    const granted = await attemptAcquire(
      {
        connection: this.#connection,
        memory: this.#memory,
        keys,
        clock: this.#clock,
        orphans: this.#orphans,
        wakeAt: (at) => this.#watches.wakeAt(name, at, monoNow()),
        onStateLoss: () => {
          this.#lose(name, () => true);
          this.#watches.restart(name);
        },
      },
      { name, holder, ttl, context },
    );
    if (granted === null) return null;
    this.#held.set(granted.leaseId, { name, revision: granted.revision, lost: false });
    const data: EtcdLeaseData = { leaseId: granted.leaseId, grantedTtl: granted.grantedTtl, token: granted.token, holderId: holder.id };
    const { acquiredAt } = granted.record;
    return { name, token: granted.token, holder, acquiredAt, renewedAt: acquiredAt, ttl, data };
  }

  /**
   * One keep-alive of the lease, and a transaction that rewrites the record (its new `expiresAt`)
   * only while the key is still on our lease: null once it is not (taken over, expired, deleted).
   */
  async renew(lease: Lease, ttl: number): Promise<Lease | null> {
    const data = this.#own(lease);
    // etcd's lease cannot outlast its granted TTL: a longer one needs a new lease.
    if (!data || !this.isIntact(lease) || Math.ceil(ttl / 1000) > data.grantedTtl) return null;
    const now = Date.now();
    const record: EtcdRecord = {
      holder: lease.holder,
      acquiredAt: lease.acquiredAt,
      renewedAt: now,
      ttl,
      clock: this.#clock,
      expiresAt: monoNow() + ttl,
    };
    const key = this.#keys(lease.name).lock;
    const [left, written] = await Promise.all([
      this.#connection.keepAliveOnce('renew', data.leaseId),
      this.#connection
        .txn('renew', {
          compare: [{ key, target: 'Lease', result: 'Equal', lease: data.leaseId }],
          success: [put(key, JSON.stringify(record), data.leaseId)],
        })
        .catch((error: unknown) => {
          if (isLeaseGone(error)) return null;
          throw error;
        }),
    ]);
    if (left <= 0 || !written?.succeeded) this.#lose(lease.name, (_, id) => id === data.leaseId);
    return this.isIntact(lease) ? { ...lease, renewedAt: now, ttl } : null;
  }

  /** Whether nothing this adapter saw voids the lease: its key deleted or on another lease, its etcd lease gone, etcd's data lost. */
  isIntact(lease: Lease): boolean {
    const data = this.#own(lease);
    const held = data && this.#held.get(data.leaseId);
    return held !== undefined && held !== null && !held.lost;
  }

  /**
   * Revokes the lease: etcd deletes the lock key with it, in one step, only while the key is still
   * on that lease (never a key someone took over since). Revoked rather than deleted, so a key found
   * absent while its holder's lease lives was not released (etcd/acquire.ts).
   */
  async release(lease: Lease): Promise<void> {
    const data = this.#own(lease);
    if (!data) return;
    this.#held.delete(data.leaseId);
    await this.#connection.revoke('release', data.leaseId);
  }

  inspect(name: string): Promise<LockRecord | null> {
    return inspectEtcdLock(this.#connection, name, this.#keys(name));
  }

  async writeOutcome(lease: Lease, outcome: RunOutcome): Promise<boolean> {
    const data = this.#own(lease);
    return data !== null && (await writeEtcdOutcome(this.#connection, this.#keys(lease.name), data.leaseId, outcome));
  }

  readOutcome(name: string): Promise<RunOutcome | null> {
    return readEtcdOutcome(this.#connection, this.#keys(name));
  }

  watch(name: string, onChange: () => void): () => void {
    if (this.#connection.closed) return () => undefined;
    return this.#watches.add(name, this.#keys(name).lockName, onChange);
  }

  /** Long while etcd wakes `name`'s followers (its watch is connected); the election's own pace otherwise. */
  idleRetry(name: string): number | undefined {
    return this.#watches.healthy(name) ? this.#idleRetry : undefined;
  }

  /**
   * Stops the watches and closes a client primacy created. Leases still held are not revoked (their
   * holder may still be inside its deadline): they read as lost here, and expire in etcd.
   */
  async close(): Promise<void> {
    for (const held of this.#held.values()) held.lost = true;
    this.#watches.close();
    this.#connection.close();
  }

  #keys(name: string): LockKeys {
    return lockKeys(this.#connection.namespace, this.#prefix, name);
  }

  /** The lease's data if it is one of ours as granted (a forged token or holder is refused). */
  #own(lease: Lease): EtcdLeaseData | null {
    const data = lease.data as EtcdLeaseData | undefined;
    return typeof data?.leaseId === 'string' && data.token === lease.token && data.holderId === lease.holder.id ? data : null;
  }

  /** Marks the leases of `name` that `voids` lost, and wakes the lock's elections (a holder steps down). */
  #lose(name: string, voids: (held: Held, id: string) => boolean): void {
    let changed = false;
    for (const [id, held] of this.#held) {
      if (held.name !== name || held.lost || !voids(held, id)) continue;
      held.lost = true;
      changed = true;
    }
    if (changed) this.#watches.notify(name);
  }
}
