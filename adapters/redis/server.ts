/**
 * One Redis server a lock talks to: `redisLock`'s only one, or one node of `redlockLock`'s quorum.
 * Each has its client, whether it can be reached now, the binding of leases to its connection, and
 * the followers it wakes; both adapters set them up, decide a takeover and close them alike, here.
 */
import { Redis } from 'ioredis';
import type { AdapterCallContext } from '../../src/adapter.js';
import type { RedisClientLike } from '../redis.js';
import { ConnectionBinding } from './connection.js';
import { Followers, HELD, type Subscriber } from './followers.js';
import type { ServerSettings } from './options.js';
import { closeOwnedClient, Reachability } from './reach.js';
import type { ParsedValue } from './record.js';
import { WatcherClaims } from './watcher.js';

export interface ServerOptions extends Omit<ServerSettings, 'prefix'> {
  readonly client: RedisClientLike;
  /** Created by primacy from a URL (`ownedClient`), so closed by it; a caller's client never is. */
  readonly owned: boolean;
  /** The adapter whose errors these are. */
  readonly adapter: 'redis' | 'redlock';
  /** The connection leases were made on closed: wake the lock's followers (its holder steps down). */
  readonly onConnectionLost: () => void;
  /** A new holder announced itself (see `HELD`): the adapter remembers it as seen. */
  readonly onHolder: (name: string, value: ParsedValue) => void;
  /** See `FollowersOptions`: Redlock spreads its nodes' polls and its followers' tries. */
  readonly pollOffset?: number;
  /** @default 2000 */
  readonly restingRetry?: number;
  /** How long a watcher claim lives without a refresh, in ms (see watcher.ts). @default 6000 */
  readonly claimTtl?: number;
}

/** A client primacy creates from `url`: it connects on first use and closes whenever no election uses the lock (Reachability.idle). */
export function ownedClient(url: string): RedisClientLike {
  return new Redis(url, { lazyConnect: true }) as unknown as RedisClientLike;
}

/**
 * The connection followers listen on: a duplicate of the client. Without ioredis's own
 * resubscription, whose SUBSCRIBE after a reconnect has no handler (an unhandled rejection if the
 * subscriber is closed right then); Followers subscribes again itself on `ready`.
 */
function subscriberOf(client: RedisClientLike): Subscriber {
  const duplicate = client.duplicate as (options?: { autoResubscribe: boolean }) => unknown;
  return (client.isCluster === true ? client.duplicate() : duplicate.call(client, { autoResubscribe: false })) as Subscriber;
}

export class RedisServer {
  readonly client: RedisClientLike;
  readonly owned: boolean;
  readonly reach: Reachability;
  readonly binding: ConnectionBinding;
  readonly followers: Followers;

  constructor(options: ServerOptions) {
    const { client, owned, adapter, connectionBinding, livenessInterval, takeoverGrace, onConnectionLost } = options;
    this.client = client;
    this.owned = owned;
    // Errors are surfaced through failed calls, naming the server and the cause.
    // A client ended under a running election (quit() before stop()): its subscriber goes too.
    this.reach = new Reachability({
      client,
      owned,
      adapter,
      onEnd: () => this.followers.closeSubscriber(),
      onReady: () => this.followers.resubscribe(),
    });
    this.binding = new ConnectionBinding({ client, enabled: connectionBinding, takeoverGrace, onLost: onConnectionLost });
    this.followers = new Followers({
      createSubscriber: () => subscriberOf(client),
      binding: this.binding,
      claims: new WatcherClaims(client, options.claimTtl),
      livenessInterval,
      pollOffset: options.pollOffset,
      restingRetry: options.restingRetry ?? 2000,
      onIdle: () => this.reach.idle(),
      onHolder: options.onHolder,
    });
  }

  /** See `ConnectionBinding.goneFor`. */
  goneFor(clientId: string, context?: AdapterCallContext): Promise<number | null> {
    return this.binding.goneFor(clientId, context);
  }

  /**
   * Whether the holder of `name` on connection `clientId` (null: unbound, never known gone) may be
   * taken over now: its connection has been closed for the takeover grace. Within the grace, the
   * followers are woken when it ends: a running holder sees the close by then and steps down first.
   */
  async holderGone(name: string, clientId: string | null, context?: AdapterCallContext): Promise<boolean> {
    const gone = clientId ? await this.goneFor(clientId, context) : null;
    const grace = this.binding.takeoverGrace;
    if (gone !== null && gone < grace) this.followers.wakeAfter(name, grace - gone);
    return gone !== null && gone >= grace;
  }

  /** We were just granted a lock with `value`: tell the resting followers whom to wait for if its key is lost. Best effort. */
  announce(events: string, value: string): void {
    void this.client.call('PUBLISH', events, `${HELD}${value}`).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.followers.close();
    this.reach.close();
    this.binding.close();
    if (this.owned) await closeOwnedClient(this.client);
  }
}
