import { Redis } from 'ioredis';
import { parseOutcome } from '../src/_internal/outcome.js';
import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord, RunOutcome } from '../src/adapter.js';
import { PrimacyBackendError, PrimacyConfigError } from '../src/errors.js';
import { type CommandClient, ConnectionBinding } from './redis/connection.js';
import { Followers, type Subscriber } from './redis/followers.js';
import { belongsTo, parseValue, valueTail } from './redis/record.js';
import { ACQUIRE, RELEASE, RENEW, run, type ScriptClient, TAKE_OVER, WRITE_OUTCOME } from './redis/scripts.js';

/** The ioredis surface the adapter uses; `Redis`, `Cluster` and Sentinel-backed clients all fit. */
export type RedisClientLike = ScriptClient &
  CommandClient & {
    get(key: string): Promise<string | null>;
    pttl(key: string): Promise<number>;
    duplicate(): unknown;
    quit(): Promise<unknown>;
  };

export interface RedisLockOptions {
  /** An ioredis client (`Redis`, `Cluster`, Sentinel). Never closed by primacy. */
  client?: RedisClientLike;
  /** Or a URL (`redis://host:6379/0`): primacy creates the client and closes it in `close()`. */
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

  constructor(options: RedisLockOptions) {
    const { client, url, prefix = 'primacy:', connectionBinding = true, livenessInterval = 150 } = validate(options);
    this.#ownsClient = client === undefined;
    this.#client = client ?? (new Redis(url as string, { lazyConnect: false }) as unknown as RedisClientLike);
    if (this.#ownsClient) this.#client.on('error', () => undefined); // Surfaced through failed commands.
    this.#prefix = prefix;
    this.#binding = new ConnectionBinding(this.#client, () => this.#followers.notifyAll(), connectionBinding);
    this.#followers = new Followers(() => this.#client.duplicate() as Subscriber, this.#binding, livenessInterval);
  }

  async acquire(name: string, holder: HolderIdentity, ttl: number, context?: AdapterCallContext): Promise<Lease | null> {
    const key = this.#key(name, 'lock');
    const counter = this.#key(name, 'token');
    try {
      const clientId = await this.#binding.current(context);
      const tail = valueTail(clientId, { holder, acquiredAt: Date.now(), ttl });
      const [granted, value] = (await run(this.#client, ACQUIRE, [key, counter, ttl, holder.id, tail])) as [number, string];
      if (granted === 1) return this.#granted(name, key, value, clientId, holder, ttl);
      const current = parseValue(value);
      if (current?.clientId && (await this.#binding.isAlive(current.clientId, context)) === false) {
        const taken = (await run(this.#client, TAKE_OVER, [key, counter, value, ttl, holder.id, tail])) as string | null;
        if (taken) return this.#granted(name, key, taken, clientId, holder, ttl);
      }
      this.#followers.followHolder(name, current?.clientId ?? null);
      return null;
    } catch (error) {
      throw backendError('acquire', error);
    }
  }

  async renew(lease: Lease, ttl: number): Promise<Lease | null> {
    if (!belongsTo((lease.data as RedisLeaseData | undefined)?.value, lease)) return null;
    const { key, value, clientId } = lease.data as RedisLeaseData;
    // Never renew a lease made on a connection we have since lost: another process may already
    // have taken it over when the server saw that connection close.
    if (clientId !== null && this.#binding.known !== clientId) return null;
    try {
      const renewed = await run(this.#client, RENEW, [key, value, ttl]);
      return renewed === 1 ? { ...lease, renewedAt: Date.now(), ttl } : null;
    } catch (error) {
      throw backendError('renew', error);
    }
  }

  async release(lease: Lease): Promise<void> {
    if (!belongsTo((lease.data as RedisLeaseData | undefined)?.value, lease)) return;
    const { key, value } = lease.data as RedisLeaseData;
    try {
      await run(this.#client, RELEASE, [key, value, this.#key(lease.name, 'events')]);
    } catch (error) {
      throw backendError('release', error);
    }
  }

  async inspect(name: string): Promise<LockRecord | null> {
    const key = this.#key(name, 'lock');
    try {
      const [value, pttl] = await Promise.all([this.#client.get(key), this.#client.pttl(key)]);
      if (value === null) {
        const last = await this.#client.get(this.#key(name, 'token'));
        if (last === null) return null;
        return {
          name,
          state: 'free',
          token: Number(last),
          holder: null,
          acquiredAt: null,
          renewedAt: null,
          expiresAt: null,
          alive: null,
          location: key,
        };
      }
      const parsed = parseValue(value);
      const alive = parsed?.clientId ? await this.#binding.isAlive(parsed.clientId) : null;
      const record = parsed?.record ?? null;
      return {
        name,
        state: 'held',
        token: parsed?.token ?? 0,
        holder: record?.holder ?? null,
        acquiredAt: record?.acquiredAt ?? null,
        renewedAt: record && pttl > 0 ? Date.now() + pttl - record.ttl : null,
        expiresAt: pttl > 0 ? Date.now() + pttl : null,
        alive,
        location: key,
      };
    } catch (error) {
      throw backendError('inspect', error);
    }
  }

  async writeOutcome(lease: Lease, outcome: RunOutcome): Promise<boolean> {
    if (!belongsTo((lease.data as RedisLeaseData | undefined)?.value, lease)) return false;
    const { key, value } = lease.data as RedisLeaseData;
    try {
      return (await run(this.#client, WRITE_OUTCOME, [key, this.#key(lease.name, 'outcome'), value, JSON.stringify(outcome)])) === 1;
    } catch (error) {
      throw backendError('writeOutcome', error);
    }
  }

  async readOutcome(name: string): Promise<RunOutcome | null> {
    try {
      return parseOutcome(await this.#client.get(this.#key(name, 'outcome')));
    } catch (error) {
      throw backendError('readOutcome', error);
    }
  }

  watch(name: string, onChange: () => void): () => void {
    return this.#followers.add(name, this.#key(name, 'events'), onChange);
  }

  async close(): Promise<void> {
    await this.#followers.close();
    if (this.#ownsClient) await this.#client.quit().catch(() => undefined);
  }

  #granted(name: string, key: string, value: string, clientId: string | null, holder: HolderIdentity, ttl: number): Lease {
    this.#followers.stopFollowing(name);
    const now = Date.now();
    const data: RedisLeaseData = { key, value, clientId };
    return { name, token: parseValue(value)?.token ?? 0, holder, acquiredAt: now, renewedAt: now, ttl, data };
  }

  #key(name: string, part: 'lock' | 'token' | 'events' | 'outcome'): string {
    // The hash tag keeps a lock's keys in one Cluster slot; braces in names would break it.
    return `${this.#prefix}{${name.replace(/[{}]/g, '_')}}:${part}`;
  }
}

function validate(options: RedisLockOptions): RedisLockOptions {
  const scope = 'redis';
  if (typeof options !== 'object' || options === null) throw new PrimacyConfigError('options', options, '{ client } or { url }', scope);
  const { client, url, prefix, connectionBinding, livenessInterval } = options;
  if ((client === undefined) === (url === undefined)) {
    throw new PrimacyConfigError('client', client, 'an ioredis client, or `url` instead (exactly one of them)', scope);
  }
  if (client !== undefined) {
    const methods = ['evalsha', 'eval', 'call', 'get', 'pttl', 'duplicate', 'on'];
    const missing = methods.filter((m) => typeof (client as unknown as Record<string, unknown>)?.[m] !== 'function');
    if (missing.length > 0)
      throw new PrimacyConfigError('client', client, `an ioredis client (Redis, Cluster); missing ${missing.join(', ')}`, scope);
  }
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\//.test(url))) {
    throw new PrimacyConfigError('url', url, 'a redis:// or rediss:// URL', scope);
  }
  if (prefix !== undefined && typeof prefix !== 'string') throw new PrimacyConfigError('prefix', prefix, 'a string', scope);
  if (connectionBinding !== undefined && typeof connectionBinding !== 'boolean') {
    throw new PrimacyConfigError('connectionBinding', connectionBinding, 'a boolean', scope);
  }
  if (livenessInterval !== undefined && (typeof livenessInterval !== 'number' || !(livenessInterval >= 10 && livenessInterval <= 60_000))) {
    throw new PrimacyConfigError('livenessInterval', livenessInterval, 'a number of ms from 10 to 60000', scope);
  }
  return options;
}

function backendError(operation: string, error: unknown): PrimacyBackendError {
  if (error instanceof PrimacyBackendError) return error;
  return new PrimacyBackendError('redis', operation, (error as Error)?.message ?? String(error), { cause: error });
}
