/**
 * One independent Redis node of a quorum lock: its client, its connection binding and its
 * follower wake-ups. Every call is bounded by `timeout`, so a paused or dead node answers
 * "failed" in time for the quorum decision instead of holding it up.
 */
import { bounded } from '../../src/_internal/bounded.js';
import type { AdapterCallContext } from '../../src/adapter.js';
import { ConnectionBinding } from '../redis/connection.js';
import { Followers, type Subscriber } from '../redis/followers.js';
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
  /** How long this node may take to answer, in ms (fitted to the TTL of each call). */
  timeout: number;

  constructor(
    readonly client: RedisClientLike,
    { owned, timeout, connectionBinding, livenessInterval, takeoverGrace, onConnectionLost }: QuorumNodeSettings,
  ) {
    this.owned = owned;
    this.timeout = timeout;
    if (owned) client.on('error', () => undefined); // Surfaced through failed commands.
    this.binding = new ConnectionBinding(client, onConnectionLost, connectionBinding, takeoverGrace);
    this.followers = new Followers(() => client.duplicate() as Subscriber, this.binding, livenessInterval);
  }

  /** Runs a script; a node that fails or does not answer in time yields `undefined`. */
  async script(script: Script, args: Array<string | number>): Promise<unknown> {
    return bounded(run(this.client, script, args), this.timeout, 'redlock', 'node').catch(() => undefined);
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
    return bounded(this.client.get(key), this.timeout, 'redlock', 'node').catch(() => undefined);
  }

  async pttl(key: string): Promise<number | undefined> {
    return bounded(this.client.pttl(key), this.timeout, 'redlock', 'node').catch(() => undefined);
  }

  async clientId(context?: AdapterCallContext): Promise<string | null | undefined> {
    return bounded(this.binding.current(context), this.timeout, 'redlock', 'node').catch(() => undefined);
  }

  /** See `ConnectionBinding.goneFor`; a node that does not answer in time says null (unknown). */
  async goneFor(clientId: string, context?: AdapterCallContext): Promise<number | null> {
    return bounded(this.binding.goneFor(clientId, context), this.timeout, 'redlock', 'node').catch(() => null);
  }

  async isAlive(clientId: string, context?: AdapterCallContext): Promise<boolean | null> {
    return bounded(this.binding.isAlive(clientId, context), this.timeout, 'redlock', 'node').catch(() => null);
  }

  async close(): Promise<void> {
    await this.followers.close();
    if (this.owned) await this.client.quit().catch(() => undefined);
  }
}
