import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord, RunOutcome } from '../src/adapter.js';
import { parseOutcome } from '../src/adapter-kit.js';
import type { CommandClient } from './redis/connection.js';
import { EvictionCheck } from './redis/eviction.js';
import { inspectRedisLock } from './redis/inspect.js';
import { type LockKeys, lockKeys } from './redis/keys.js';
import { restingWait } from './redis/lock-watch.js';
import { resolveRedisOptions } from './redis/options.js';
import { belongsTo, parseValue, valueTail } from './redis/record.js';
import { type PipelineClient, type ReplicaAcks, ReplicaWait } from './redis/replicas.js';

export type { ReplicaAcks } from './redis/replicas.js';

import { ACQUIRE, RELEASE, RENEW, releaseArgs, renewArgs, run, type ScriptClient, TAKE_OVER, WRITE_OUTCOME } from './redis/scripts.js';
import { SeenHolders } from './redis/seen.js';
import { ownedClient, RedisServer } from './redis/server.js';

/** The ioredis surface the adapter uses; `Redis`, `Cluster` and Sentinel-backed clients all fit. */
export type RedisClientLike = ScriptClient &
  CommandClient & {
    get(key: string): Promise<string | null>;
    pttl(key: string): Promise<number>;
    duplicate(): unknown;
    quit(): Promise<unknown>;
    disconnect?(): void;
    /** ioredis's connection state (`ready`, `reconnecting`, ...): commands are not queued while it cannot connect. */
    readonly status?: string;
  };

export interface RedisLockOptions {
  /**
   * An ioredis client (`Redis`, `Cluster`, Sentinel). Never closed by primacy; once no election
   * uses the lock, nothing of the lock's keeps the process alive (its subscriber connection, a
   * duplicate of this client, is closed), so quitting this client lets the process exit.
   */
  client?: RedisClientLike;
  /**
   * Or a URL (`redis://host:6379/0`): primacy creates the client, connects it on first use, closes
   * it whenever no election uses the lock (so it never keeps the process alive) and in `close()`.
   */
  url?: string;
  /** Key prefix. Keys are `<prefix>{<name>}:lock` and `:token`, hash-tagged for Cluster. @default 'primacy:' */
  prefix?: string;
  /**
   * Bind leases to the holder's connection, so a crashed holder is replaced as soon as its
   * connection closes instead of after the TTL. Turns itself off where the server refuses `CLIENT`.
   * @default true
   */
  connectionBinding?: boolean;
  /** How often the lock's watcher (one waiting follower for all) checks the holder's connection, in ms. @default 150 */
  livenessInterval?: number;
  /**
   * How long a follower waits, once it finds the holder's connection closed, before it takes
   * over, in ms: time for a running holder (one whose connection the server closed) to see the
   * close and step down first. A holder whose event loop is blocked for longer may still read
   * `isPrimary` after the takeover, as under any pause; its token is already superseded.
   * @default 50
   */
  takeoverGrace?: number;
  /**
   * Count a lease (its grant, each renew) only once this many of the primary's replicas have it
   * (`WAIT`, on the connection that wrote it), so a failover (Sentinel, Cluster) that promotes one
   * of them keeps it; a grant not acknowledged within ttl/5 is given back and the acquire fails, a
   * renew not acknowledged fails (the holder steps down at its deadline unless a later one is).
   * `'all'`: every replica the primary has, counted at each call (INFO replication), including
   * one gone for less than 30 s (a primary cut off from its replicas counts nothing); none, and no
   * WAIT, on a primary without replicas. Bounds what asynchronous replication loses, does not make
   * Redis strongly consistent: see adapters/redis/replicas.ts.
   * @default 0 (no wait)
   */
  waitForReplicas?: ReplicaAcks;
}

interface RedisLeaseData {
  readonly key: string;
  readonly value: string;
  readonly clientId: string | null;
}

/** A lock in Redis (ioredis). See `RedisLockOptions`. */
export function redisLock(options: RedisLockOptions): LockAdapter {
  return new RedisLock(options);
}

class RedisLock implements LockAdapter {
  readonly kind = 'redis';
  readonly #server: RedisServer;
  readonly #prefix: string;
  readonly #eviction: EvictionCheck;
  readonly #seen = new SeenHolders();
  readonly #replicas: ReplicaWait;

  constructor(options: RedisLockOptions) {
    const { client, url, prefix, waitForReplicas, ...settings } = resolveRedisOptions(options);
    this.#prefix = prefix;
    this.#server = new RedisServer({
      ...settings,
      client: client ?? ownedClient(url as string),
      owned: client === undefined,
      adapter: 'redis',
      onConnectionLost: () => this.#server.followers.notifyAll(),
      onHolder: (name, value) => this.#seen.announced(name, value),
    });
    this.#eviction = new EvictionCheck(this.#server.client);
    const address = () => this.#server.reach.address;
    this.#replicas = new ReplicaWait({ client: this.#server.client as unknown as PipelineClient, acks: waitForReplicas, address });
  }

  async acquire(name: string, holder: HolderIdentity, ttl: number, context?: AdapterCallContext): Promise<Lease | null> {
    const { client, binding, followers, reach } = this.#server;
    const keys = this.#keys(name);
    const scriptKeys = [keys.lock, keys.token, keys.released] as const;
    try {
      await reach.ready('acquire');
      // A second pass only after a vanished holder turned out to be over.
      for (let pass = 0; pass < 2; pass++) {
        const clientId = await binding.current(context);
        const mayEvict = await this.#eviction.mayEvict(context);
        const tail = valueTail(clientId, { holder, acquiredAt: Date.now(), ttl });
        const seen = this.#seen.last(name)?.token ?? 0;
        const args = [...scriptKeys, ttl, holder.id, tail, seen, this.#seen.floor(name), mayEvict ? 1 : 0];
        const [status, value] = (await run(client, ACQUIRE, args)) as [number, string];
        if (status === 1) {
          await this.#replicas.confirmGrant(renewArgs(keys, value, ttl), releaseArgs(keys, value, { held: false, wake: true }), ttl);
          return this.#granted(name, value, clientId, holder, ttl);
        }
        if (status === 2) {
          if (await this.#vanishedHolderIsOver(name, keys.lock, context)) continue;
          return null;
        }
        const current = parseValue(value);
        if (current) this.#seen.saw(name, current, ttl);
        const holderConnection = current?.clientId ?? null;
        if (await this.#server.holderGone(name, holderConnection, context)) {
          const taken = (await run(client, TAKE_OVER, [...scriptKeys, value, ttl, holder.id, tail])) as string | null;
          if (taken) {
            await this.#replicas.confirmGrant(renewArgs(keys, taken, ttl), releaseArgs(keys, taken, { held: false, wake: true }), ttl);
            return this.#granted(name, taken, clientId, holder, ttl);
          }
        }
        followers.followHolder(name, holderConnection, current?.holderId ?? null);
        return null;
      }
      return null;
    } catch (error) {
      throw reach.error('acquire', error);
    }
  }

  async renew(lease: Lease, ttl: number): Promise<Lease | null> {
    if (!belongsTo((lease.data as RedisLeaseData | undefined)?.value, lease)) return null;
    const { value, clientId } = lease.data as RedisLeaseData;
    const { binding, reach } = this.#server;
    // Never renew a lease made on a connection we have since lost: another process may already
    // have taken it over when the server saw that connection close.
    if (!binding.isCurrent(clientId)) return null;
    try {
      await reach.ready('renew');
      const renewed = await this.#replicas.run(RENEW, renewArgs(this.#keys(lease.name), value, ttl), ttl, 'renew');
      // An answer on another connection than the lease's: ioredis resent the renew after a reset,
      // and the server may have let someone take over in between. The lease is over.
      if (!binding.isCurrent(clientId)) return null;
      if (renewed !== 1) return null;
      this.#server.followers.askForWatcher(lease.name);
      return { ...lease, renewedAt: Date.now(), ttl };
    } catch (error) {
      throw reach.error('renew', error);
    }
  }

  get connectionBound(): boolean {
    return this.#server.binding.enabled;
  }

  /** Whether the connection the lease is bound to is still the one we talk on (see `LockAdapter.isIntact`). */
  isIntact(lease: Lease): boolean {
    const data = lease.data as RedisLeaseData | undefined;
    return data !== undefined && this.#server.binding.isCurrent(data.clientId);
  }

  async release(lease: Lease): Promise<void> {
    if (!belongsTo((lease.data as RedisLeaseData | undefined)?.value, lease)) return;
    const { value } = lease.data as RedisLeaseData;
    await this.#call('release', () =>
      run(this.#server.client, RELEASE, releaseArgs(this.#keys(lease.name), value, { held: true, wake: true })),
    );
  }

  inspect(name: string): Promise<LockRecord | null> {
    return this.#call('inspect', () => inspectRedisLock(this.#server.client, this.#server.binding, name, this.#keys(name)));
  }

  async writeOutcome(lease: Lease, outcome: RunOutcome): Promise<boolean> {
    if (!belongsTo((lease.data as RedisLeaseData | undefined)?.value, lease)) return false;
    const { key, value } = lease.data as RedisLeaseData;
    const outcomeKey = this.#keys(lease.name).outcome;
    return (
      (await this.#call('writeOutcome', () =>
        run(this.#server.client, WRITE_OUTCOME, [key, outcomeKey, value, JSON.stringify(outcome)]),
      )) === 1
    );
  }

  async readOutcome(name: string): Promise<RunOutcome | null> {
    return parseOutcome(await this.#call('readOutcome', () => this.#server.client.get(this.#keys(name).outcome)));
  }

  idleRetry(name: string): number | undefined {
    const share = this.#server.followers.restingShare(name);
    return share === undefined ? undefined : restingWait(share);
  }

  watch(name: string, onChange: () => void): () => void {
    return this.#server.followers.add(name, this.#keys(name), onChange);
  }

  async close(): Promise<void> {
    this.#replicas.close();
    await this.#server.close();
  }

  #keys(name: string): LockKeys {
    return lockKeys(this.#prefix, name);
  }

  /** `work` once the server is connected; its failure as a backend error naming the server. */
  async #call<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      await this.#server.reach.ready(operation);
      return await work();
    } catch (error) {
      throw this.#server.reach.error(operation, error);
    }
  }

  #granted(name: string, value: string, clientId: string | null, holder: HolderIdentity, ttl: number): Lease | null {
    const keys = this.#keys(name);
    const { client, binding, followers } = this.#server;
    if (!binding.isCurrent(clientId)) {
      // The answer came on a new connection (ioredis resent the command after a reset): the lock
      // names a connection that is gone, so anyone may take it over. Not a lease: give it back.
      void run(client, RELEASE, releaseArgs(keys, value, { held: false, wake: true })).catch(() => undefined);
      return null;
    }
    followers.stopFollowing(name, holder.id);
    this.#server.announce(keys.events, value);
    const token = parseValue(value)?.token ?? 0;
    this.#seen.hold(name, token);
    const now = Date.now();
    const data: RedisLeaseData = { key: keys.lock, value, clientId };
    return { name, token, holder, acquiredAt: now, renewedAt: now, ttl, data };
  }

  /**
   * The holder we last saw is gone from the server without a release (FLUSHALL, eviction, an empty
   * restart, or an expiry we cannot tell from those). Over once its connection is known closed, or
   * once its TTL has passed since we first found it gone; until then nobody may take over.
   */
  async #vanishedHolderIsOver(name: string, key: string, context?: AdapterCallContext): Promise<boolean> {
    const seen = this.#seen.last(name);
    if (!seen || (await this.#server.holderGone(name, seen.clientId, context))) {
      this.#seen.forget(name);
      return true;
    }
    return this.#seen.waitedOut(name, (remaining) => {
      this.#server.followers.wakeAfter(name, remaining); // so the wait ends on time, not at a later retry
      context?.warn?.(
        `[primacy] [redis] ${key} vanished without a release while pid ${seen.pid ?? '?'} on ${seen.hostname ?? '?'} held it with token ${seen.token} (FLUSHALL, eviction or an empty restart?): waiting out its TTL, ${Math.ceil(remaining)} ms, before anyone here takes over`,
      );
    });
  }
}
