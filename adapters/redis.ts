import { Redis } from 'ioredis';
import { parseOutcome } from '../src/_internal/outcome.js';
import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord, RunOutcome } from '../src/adapter.js';
import { type CommandClient, ConnectionBinding } from './redis/connection.js';
import { EvictionCheck } from './redis/eviction.js';
import { Followers, type Subscriber } from './redis/followers.js';
import { inspectRedisLock } from './redis/inspect.js';
import { validate } from './redis/options.js';
import { closeOwnedClient, Reachability } from './redis/reach.js';
import { belongsTo, parseValue, valueTail } from './redis/record.js';
import { ACQUIRE, HELD, NEVER_GRANTED, RELEASE, RENEW, run, type ScriptClient, TAKE_OVER, WRITE_OUTCOME } from './redis/scripts.js';
import { SeenHolders } from './redis/seen.js';

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
  /** How often a waiting follower checks the holder's connection, in ms. @default 150 */
  livenessInterval?: number;
  /**
   * How long a follower waits, once it finds the holder's connection closed, before it takes
   * over, in ms: time for a running holder (one whose connection the server closed) to see the
   * close and step down first. A holder whose event loop is blocked for longer may still read
   * `isPrimary` after the takeover, as under any pause; its token is already superseded.
   * @default 50
   */
  takeoverGrace?: number;
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
  readonly #client: RedisClientLike;
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  readonly #binding: ConnectionBinding;
  readonly #followers: Followers;
  readonly #eviction: EvictionCheck;
  readonly #seen = new SeenHolders();
  readonly #reach: Reachability;

  constructor(options: RedisLockOptions) {
    const { client, url, prefix = 'primacy:', connectionBinding = true, livenessInterval = 150, takeoverGrace = 50 } = validate(options);
    this.#ownsClient = client === undefined;
    // Ours connects on first use and closes whenever no election uses the lock (Reachability.idle).
    this.#client = client ?? (new Redis(url as string, { lazyConnect: true }) as unknown as RedisClientLike);
    // Errors are surfaced through failed commands, naming the server and the cause.
    // A client ended under a running election (quit() before stop()): its subscriber goes too.
    this.#reach = new Reachability(
      this.#client,
      this.#ownsClient,
      'redis',
      () => this.#followers.closeSubscriber(),
      () => this.#followers.resubscribe(),
    );
    this.#prefix = prefix;
    this.#binding = new ConnectionBinding(this.#client, () => this.#followers.notifyAll(), connectionBinding, takeoverGrace);
    this.#followers = new Followers(
      () => this.#client.duplicate() as Subscriber,
      this.#binding,
      livenessInterval,
      () => this.#reach.idle(),
    );
    this.#eviction = new EvictionCheck(this.#client);
  }

  async acquire(name: string, holder: HolderIdentity, ttl: number, context?: AdapterCallContext): Promise<Lease | null> {
    const keys = [this.#key(name, 'lock'), this.#key(name, 'token'), this.#key(name, 'released')] as const;
    try {
      await this.#reach.ready('acquire');
      // A second pass only after a vanished holder turned out to be over.
      for (let pass = 0; pass < 2; pass++) {
        const clientId = await this.#binding.current(context);
        const mayEvict = await this.#eviction.mayEvict(context);
        const tail = valueTail(clientId, { holder, acquiredAt: Date.now(), ttl });
        const seen = this.#seen.last(name)?.token ?? 0;
        const args = [...keys, ttl, holder.id, tail, seen, this.#seen.floor(name), mayEvict ? 1 : 0];
        const [status, value] = (await run(this.#client, ACQUIRE, args)) as [number, string];
        if (status === 1) return this.#granted(name, value, clientId, holder, ttl);
        if (status === 2) {
          if (await this.#vanishedHolderIsOver(name, keys[0], context)) continue;
          return null;
        }
        const current = parseValue(value);
        if (current) this.#seen.saw(name, current, ttl);
        const gone = current?.clientId ? await this.#binding.goneFor(current.clientId, context) : null;
        if (gone !== null && gone < this.#binding.takeoverGrace) this.#followers.wakeAfter(name, this.#binding.takeoverGrace - gone);
        else if (gone !== null) {
          const taken = (await run(this.#client, TAKE_OVER, [...keys, value, ttl, holder.id, tail])) as string | null;
          if (taken) return this.#granted(name, taken, clientId, holder, ttl);
        }
        this.#followers.followHolder(name, current?.clientId ?? null);
        return null;
      }
      return null;
    } catch (error) {
      throw this.#reach.error('acquire', error);
    }
  }

  async renew(lease: Lease, ttl: number): Promise<Lease | null> {
    if (!belongsTo((lease.data as RedisLeaseData | undefined)?.value, lease)) return null;
    const { key, value, clientId } = lease.data as RedisLeaseData;
    // Never renew a lease made on a connection we have since lost: another process may already
    // have taken it over when the server saw that connection close.
    if (!this.#binding.isCurrent(clientId)) return null;
    try {
      await this.#reach.ready('renew');
      const renewed = await run(this.#client, RENEW, [key, value, ttl]);
      // An answer on another connection than the lease's: ioredis resent the renew after a reset,
      // and the server may have let someone take over in between. The lease is over.
      if (!this.#binding.isCurrent(clientId)) return null;
      return renewed === 1 ? { ...lease, renewedAt: Date.now(), ttl } : null;
    } catch (error) {
      throw this.#reach.error('renew', error);
    }
  }

  get connectionBound(): boolean {
    return this.#binding.enabled;
  }

  /** Whether the connection the lease is bound to is still the one we talk on (see `LockAdapter.isIntact`). */
  isIntact(lease: Lease): boolean {
    const data = lease.data as RedisLeaseData | undefined;
    return data !== undefined && this.#binding.isCurrent(data.clientId);
  }

  async release(lease: Lease): Promise<void> {
    if (!belongsTo((lease.data as RedisLeaseData | undefined)?.value, lease)) return;
    const { key, value } = lease.data as RedisLeaseData;
    try {
      await this.#reach.ready('release');
      await run(this.#client, RELEASE, [key, ...this.#releaseKeys(lease.name), value, this.#key(lease.name, 'events'), HELD]);
    } catch (error) {
      throw this.#reach.error('release', error);
    }
  }

  async inspect(name: string): Promise<LockRecord | null> {
    try {
      await this.#reach.ready('inspect');
      const keys = { lock: this.#key(name, 'lock'), token: this.#key(name, 'token'), last: this.#key(name, 'last') };
      return await inspectRedisLock(this.#client, this.#binding, name, keys);
    } catch (error) {
      throw this.#reach.error('inspect', error);
    }
  }

  async writeOutcome(lease: Lease, outcome: RunOutcome): Promise<boolean> {
    if (!belongsTo((lease.data as RedisLeaseData | undefined)?.value, lease)) return false;
    const { key, value } = lease.data as RedisLeaseData;
    try {
      await this.#reach.ready('writeOutcome');
      return (await run(this.#client, WRITE_OUTCOME, [key, this.#key(lease.name, 'outcome'), value, JSON.stringify(outcome)])) === 1;
    } catch (error) {
      throw this.#reach.error('writeOutcome', error);
    }
  }

  async readOutcome(name: string): Promise<RunOutcome | null> {
    try {
      await this.#reach.ready('readOutcome');
      return parseOutcome(await this.#client.get(this.#key(name, 'outcome')));
    } catch (error) {
      throw this.#reach.error('readOutcome', error);
    }
  }

  watch(name: string, onChange: () => void): () => void {
    return this.#followers.add(name, this.#key(name, 'events'), onChange);
  }

  async close(): Promise<void> {
    await this.#followers.close();
    this.#reach.close();
    this.#binding.close();
    if (this.#ownsClient) await closeOwnedClient(this.#client);
  }

  #granted(name: string, value: string, clientId: string | null, holder: HolderIdentity, ttl: number): Lease | null {
    const key = this.#key(name, 'lock');
    if (!this.#binding.isCurrent(clientId)) {
      // The answer came on a new connection (ioredis resent the command after a reset): the lock
      // names a connection that is gone, so anyone may take it over. Not a lease: give it back.
      const released = [key, ...this.#releaseKeys(name), value, this.#key(name, 'events'), NEVER_GRANTED];
      void run(this.#client, RELEASE, released).catch(() => undefined);
      return null;
    }
    this.#followers.stopFollowing(name);
    const token = parseValue(value)?.token ?? 0;
    this.#seen.hold(name, token);
    const now = Date.now();
    const data: RedisLeaseData = { key, value, clientId };
    return { name, token, holder, acquiredAt: now, renewedAt: now, ttl, data };
  }

  /**
   * The holder we last saw is gone from the server without a release (FLUSHALL, eviction, an empty
   * restart, or an expiry we cannot tell from those). Over once its connection is known closed, or
   * once its TTL has passed since we first found it gone; until then nobody may take over.
   */
  async #vanishedHolderIsOver(name: string, key: string, context?: AdapterCallContext): Promise<boolean> {
    const seen = this.#seen.last(name);
    const gone = seen?.clientId ? await this.#binding.goneFor(seen.clientId, context) : null;
    if (gone !== null && gone < this.#binding.takeoverGrace) this.#followers.wakeAfter(name, this.#binding.takeoverGrace - gone);
    if (!seen || (gone !== null && gone >= this.#binding.takeoverGrace)) {
      this.#seen.forget(name);
      return true;
    }
    const first = this.#seen.firstNotice(name);
    const remaining = this.#seen.remainingAfterVanish(name);
    if (remaining <= 0) {
      this.#seen.forget(name);
      return true;
    }
    if (first) {
      this.#followers.wakeAfter(name, remaining); // so the wait ends on time, not at a later retry
      context?.warn?.(
        `[primacy] [redis] ${key} vanished without a release while pid ${seen.pid ?? '?'} on ${seen.hostname ?? '?'} held it with token ${seen.token} (FLUSHALL, eviction or an empty restart?): waiting out its TTL, ${Math.ceil(remaining)} ms, before anyone here takes over`,
      );
    }
    return false;
  }

  /** The RELEASE script's released-token marker and last-release keys. */
  #releaseKeys(name: string): [string, string] {
    return [this.#key(name, 'released'), this.#key(name, 'last')];
  }

  #key(name: string, part: 'lock' | 'token' | 'released' | 'last' | 'events' | 'outcome'): string {
    // The hash tag keeps a lock's keys in one Cluster slot; braces in names would break it.
    return `${this.#prefix}{${name.replace(/[{}]/g, '_')}}:${part}`;
  }
}
