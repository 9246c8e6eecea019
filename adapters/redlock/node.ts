/**
 * One independent Redis node of a quorum lock: its client, its connection binding and its
 * follower wake-ups. Every call is bounded by `timeout`, so a paused or dead node answers
 * "failed" in time for the quorum decision instead of holding it up.
 */
import { bounded } from '../../src/_internal/bounded.js';
import type { AdapterCallContext } from '../../src/adapter.js';
import { PrimacyBackendError } from '../../src/errors.js';
import { ConnectionBinding } from '../redis/connection.js';
import { Followers, type Subscriber } from '../redis/followers.js';
import { closeOwnedClient, Reachability } from '../redis/reach.js';
import { run, type Script } from '../redis/scripts.js';
import type { RedisClientLike } from '../redis.js';

export interface QuorumNodeSettings {
  /** Created by primacy (closed in `close()`), not passed in by the user. */
  readonly owned: boolean;
  readonly timeout: number;
  readonly connectionBinding: boolean;
  readonly livenessInterval: number;
  readonly takeoverGrace: number;
  readonly onConnectionLost: () => void;
}

export class QuorumNode {
  readonly owned: boolean;
  readonly binding: ConnectionBinding;
  readonly followers: Followers;
  readonly reach: Reachability;
  /** Why this node's last call failed (`<address>: <reason>`), null once one succeeds: for quorum errors. */
  failure: { readonly reason: string; readonly error: unknown } | null = null;
  /** How long this node may take to answer, in ms (fitted to the TTL of each call). */
  timeout: number;

  constructor(
    readonly client: RedisClientLike,
    { owned, timeout, connectionBinding, livenessInterval, takeoverGrace, onConnectionLost }: QuorumNodeSettings,
  ) {
    this.owned = owned;
    this.timeout = timeout;
    // Errors are surfaced through failed calls, naming the node and the cause.
    // A client ended under a running election (quit() before stop()): its subscriber goes too.
    this.reach = new Reachability(
      client,
      owned,
      'redlock',
      () => this.followers.closeSubscriber(),
      () => this.followers.resubscribe(),
    );
    this.binding = new ConnectionBinding(client, onConnectionLost, connectionBinding, takeoverGrace);
    this.followers = new Followers(
      () => client.duplicate() as Subscriber,
      this.binding,
      livenessInterval,
      () => this.reach.idle(),
    );
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

  async pttl(key: string): Promise<number | undefined> {
    return this.#call('pttl', () => this.client.pttl(key), undefined);
  }

  async clientId(context?: AdapterCallContext): Promise<string | null | undefined> {
    return this.#call('clientId', () => this.binding.current(context), undefined);
  }

  /** See `ConnectionBinding.goneFor`; a node that does not answer in time says null (unknown). */
  async goneFor(clientId: string, context?: AdapterCallContext): Promise<number | null> {
    return this.#call('goneFor', () => this.binding.goneFor(clientId, context), null);
  }

  async isAlive(clientId: string, context?: AdapterCallContext): Promise<boolean | null> {
    return this.#call('isAlive', () => this.binding.isAlive(clientId, context), null);
  }

  async close(): Promise<void> {
    await this.followers.close();
    this.reach.close();
    this.binding.close();
    if (this.owned) await closeOwnedClient(this.client);
  }

  /**
   * `work` once the node is connected, bounded by `timeout`; `failed` (and the reason kept in
   * `failure`) when it cannot be reached, fails or does not answer in time.
   */
  async #call<T, F>(operation: string, work: () => Promise<T>, failed: F): Promise<T | F> {
    try {
      const value = await bounded(this.reach.ready(operation).then(work), this.timeout, 'redlock', operation);
      this.failure = null;
      return value;
    } catch (error) {
      this.failure = { reason: this.#reason(error), error };
      return failed;
    }
  }

  #reason(error: unknown): string {
    const message = (error as Error)?.message ?? String(error);
    const reason = error instanceof PrimacyBackendError ? message.replace(/^\[primacy\] \[[^\]]+\] \S+ failed: /, '') : message;
    const { address } = this.reach;
    return reason.includes(address) ? reason : `${address}: ${reason}`;
  }
}
