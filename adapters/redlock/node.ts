/**
 * One independent Redis node of a quorum lock: a Redis server as `redisLock` has one, whose every
 * call is bounded by `timeout`, so a paused or dead node answers "failed" in time for the quorum
 * decision instead of holding it up.
 */
import type { AdapterCallContext } from '../../src/adapter.js';
import { bounded, type NodeFailure, reasonOf } from '../../src/adapter-kit.js';
import { EvictionCheck } from '../redis/eviction.js';
import type { LockKeys } from '../redis/keys.js';
import { run, type Script } from '../redis/scripts.js';
import { RedisServer, type ServerOptions } from '../redis/server.js';
import { givenKey, LOOK } from './scripts.js';

export interface QuorumNodeOptions extends Omit<ServerOptions, 'adapter'> {
  /** How long the node may take to answer, in ms, until a call fits it to its TTL. */
  readonly timeout: number;
}

/** What a node shows of a lock before a quorum acquire. */
export interface Look {
  readonly value: string | null;
  readonly counter: string | null;
  readonly last: string | null;
  /** The last vote given back there (never a lease). */
  readonly given: string | null;
  /** The server's clock, in µs (0: unknown). */
  readonly now: number;
}

/** A Lua GET's answer: its string, or null (Lua false arrives as null). */
function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** TIME's answer in µs; 0 if it is not one. */
function microseconds(seconds: unknown, micros: unknown): number {
  const now = Number(seconds) * 1_000_000 + Number(micros);
  return Number.isSafeInteger(now) ? now : 0;
}

export class QuorumNode extends RedisServer {
  /** Why this node's last call failed (`<address>: <reason>`), null once one succeeds: for quorum errors. */
  failure: NodeFailure | null = null;
  /** How long this node may take to answer, in ms (fitted to the TTL of each call). */
  timeout: number;
  readonly #eviction: EvictionCheck;

  constructor({ timeout, ...server }: QuorumNodeOptions) {
    super({ ...server, adapter: 'redlock' });
    this.timeout = timeout;
    this.#eviction = new EvictionCheck(this.client);
  }

  /** Runs a script; a node that fails or does not answer in time yields `undefined`. */
  async script(script: Script, args: Array<string | number>): Promise<unknown> {
    return this.#call('script', () => run(this.client, script, args), undefined);
  }

  /**
   * `value` if the answer that carried it came on the connection `clientId` names (null: unbound);
   * else null: ioredis resent the command on a new connection, and the value names a closed one.
   * Such a grant is left to expire or be taken over, never counted.
   */
  onSameConnection(clientId: string | null, value: string | null): string | null {
    return value !== null && this.binding.isCurrent(clientId) ? value : null;
  }

  async get(key: string): Promise<string | null | undefined> {
    return this.#call('get', () => this.client.get(key), undefined);
  }

  /** What the node shows of the lock (see `LOOK`), in one command; a node that does not answer costs one timeout. */
  async look(keys: LockKeys): Promise<Look | undefined> {
    const read = async () => {
      const [value, counter, last, given, seconds, micros] = (await run(this.client, LOOK, [
        keys.lock,
        keys.token,
        keys.last,
        givenKey(keys),
      ])) as unknown[];
      return { value: text(value), counter: text(counter), last: text(last), given: text(given), now: microseconds(seconds, micros) };
    };
    return this.#call('look', read, undefined);
  }

  /**
   * Whether this node may evict the lock's key (see `EvictionCheck`): a key gone there may then be
   * lost state rather than an expiry. A node that does not answer in time: it may (the safe side).
   */
  async mayEvict(context?: AdapterCallContext): Promise<boolean> {
    return this.#call('mayEvict', () => this.#eviction.mayEvict(context), true);
  }

  async pttl(key: string): Promise<number | undefined> {
    return this.#call('pttl', () => this.client.pttl(key), undefined);
  }

  async clientId(context?: AdapterCallContext): Promise<string | null | undefined> {
    return this.#call('clientId', () => this.binding.current(context), undefined);
  }

  /** See `ConnectionBinding.goneFor`; a node that does not answer in time says null (unknown). */
  override async goneFor(clientId: string, context?: AdapterCallContext): Promise<number | null> {
    return this.#call('goneFor', () => this.binding.goneFor(clientId, context), null);
  }

  async isAlive(clientId: string, context?: AdapterCallContext): Promise<boolean | null> {
    return this.#call('isAlive', () => this.binding.isAlive(clientId, context), null);
  }

  /**
   * `work` once the node is connected, bounded by `timeout`; `failed` (and the reason kept in
   * `failure`) when it cannot be reached, fails or does not answer in time.
   */
  async #call<T, F>(operation: string, work: () => Promise<T>, failed: F): Promise<T | F> {
    try {
      const value = await bounded(this.reach.ready(operation).then(work), { ms: this.timeout, adapter: 'redlock', operation });
      this.failure = null;
      return value;
    } catch (error) {
      const reason = reasonOf(error);
      const { address } = this.reach;
      this.failure = { reason: reason.includes(address) ? reason : `${address}: ${reason}`, error };
      return failed;
    }
  }
}
