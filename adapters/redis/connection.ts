/**
 * Binds leases to connections. The holder records its connection's `CLIENT ID`; a follower that
 * finds that client gone (`CLIENT LIST ID` answers empty the moment a killed process's socket
 * closes) may take over at once instead of waiting for the TTL. The holder, for its part, never
 * renews a lease made on a connection it has since lost.
 *
 * Where the server refuses `CLIENT` (an ACL without it, a proxy) or the client is a Cluster (the
 * key's node is not the connection we could ask), binding is off and failover falls back to expiry.
 *
 * A recorded id is `<CLIENT ID>@<server run_id>`. A server that restarted (with persistence, so the
 * lock survived) has closed every connection, a paused holder's included, and numbers new ones from
 * scratch: a connection recorded before the restart says nothing about its holder, who may still be
 * inside its lease. Its liveness is then unknown, and failover waits for the lease to expire.
 */
import type { AdapterCallContext } from '../../src/adapter.js';

export interface CommandClient {
  call(command: string, ...args: Array<string | number>): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off?(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly isCluster?: boolean;
}

export interface BindingOptions {
  readonly client: CommandClient;
  /** Bind leases to connections at all (`connectionBinding`); off by itself where the server refuses `CLIENT`. */
  readonly enabled: boolean;
  /** See `RedisLockOptions.takeoverGrace`. */
  readonly takeoverGrace: number;
  /** The connection leases were made on closed: their holder steps down now. */
  readonly onLost: () => void;
}

export class ConnectionBinding {
  #id: string | null | undefined;
  #runId: Promise<string> | undefined;
  /** When each holder connection was first found closed (monotonic ms), for the takeover grace. */
  readonly #goneSince = new Map<string, number>();
  /** Counts closed connections, so an answer that straddles a reconnect can be told apart. */
  #connection = 0;
  #enabled: boolean;
  #warned = false;
  readonly #onClose = () => {
    this.#connection += 1;
    this.#runId = undefined;
    if (this.#id === undefined) return;
    this.#id = undefined;
    this.#onLost();
  };
  readonly #client: CommandClient;
  readonly #onLost: () => void;
  /** See `RedisLockOptions.takeoverGrace`. */
  readonly takeoverGrace: number;

  constructor({ client, enabled, takeoverGrace, onLost }: BindingOptions) {
    this.#client = client;
    this.takeoverGrace = takeoverGrace;
    this.#onLost = onLost;
    this.#enabled = enabled && client.isCluster !== true;
    // A reconnect is a new connection: leases made on the old one must not be renewed.
    client.on('close', this.#onClose);
  }

  /** Stops listening to the client (the lock is closed; a client not ours lives on). */
  close(): void {
    this.#client.off?.('close', this.#onClose);
  }

  /** Whether leases are bound to connections (else failover waits for expiry). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The id of the connection commands go out on now (fetched once per connection), or null if unbound. */
  async current(context?: AdapterCallContext): Promise<string | null> {
    if (!this.#enabled) return null;
    for (let attempt = 0; this.#id === undefined; attempt++) {
      const connection = this.#connection;
      let id: unknown;
      let runId: string;
      try {
        [id, runId] = await Promise.all([this.#client.call('CLIENT', 'ID'), this.#serverRunId()]);
      } catch (error) {
        this.#disable(error, context);
        return null;
      }
      // A reset between the two answers (ioredis resends the one still in flight) pairs the id of
      // the closed connection with the new one: binding a lease to it would let anyone take over.
      if (connection === this.#connection) this.#id = `${id}@${runId}`;
      else if (attempt >= 2) throw new Error(`the connection was reset ${attempt + 1} times while asking for its CLIENT ID`);
    }
    return this.#id;
  }

  /** The id known for the live connection, without asking (undefined: lost since). */
  get known(): string | null | undefined {
    return this.#enabled ? this.#id : null;
  }

  /**
   * Whether `clientId` (a lease's connection, null when unbound) is the connection commands go out
   * on now. False from the moment ioredis reports that connection closed: a reply that arrives
   * after that came on a new connection (ioredis resends commands that were in flight).
   */
  isCurrent(clientId: string | null): boolean {
    return clientId === null || this.known === clientId;
  }

  /** Whether the connection `clientId` is still open on the server; null when we cannot tell. */
  async isAlive(clientId: string, context?: AdapterCallContext): Promise<boolean | null> {
    if (!this.#enabled) return null;
    const [id = '', runId] = clientId.split('@');
    const connection = this.#connection;
    try {
      if (runId !== (await this.#serverRunId())) return null;
      const listing = String(await this.#client.call('CLIENT', 'LIST', 'ID', id));
      // ioredis resends a command that was in flight when its connection dropped: the answer may
      // come from a server that restarted meanwhile, where the holder's connection is gone too.
      if (connection !== this.#connection) return null;
      return listing.trim() !== '';
    } catch (error) {
      this.#disable(error, context);
      return null;
    }
  }

  /**
   * Whether `clientId` was recorded on another run of the server than the one we talk to now (it
   * restarted, or a replica was promoted): `isAlive` can never tell for it. False when we cannot
   * tell. Asks nothing once the server's run_id is known for the connection.
   */
  async fromAnotherRun(clientId: string): Promise<boolean> {
    if (!this.#enabled) return false;
    try {
      return clientId.split('@')[1] !== (await this.#serverRunId());
    } catch {
      return false;
    }
  }

  /**
   * For how long (ms) the connection `clientId` has been known closed: null while it is open or
   * unknown. A follower takes over only once this reaches `takeoverGrace`: a running holder sees
   * the close within that time and steps down first, so only a holder whose event loop is blocked
   * longer (the busy class, fenced by the token) can still read `isPrimary` after a takeover.
   */
  async goneFor(clientId: string, context?: AdapterCallContext): Promise<number | null> {
    const alive = await this.isAlive(clientId, context);
    if (alive !== false) return null;
    const now = performance.now();
    const since = this.#goneSince.get(clientId);
    if (since !== undefined) return now - since;
    // Ids are never reused while a server runs: forget those seen long ago.
    for (const [id, at] of this.#goneSince) if (now - at > 60_000) this.#goneSince.delete(id);
    this.#goneSince.set(clientId, now);
    return 0;
  }

  /** The server's run_id (new at every start), asked once per connection. */
  #serverRunId(): Promise<string> {
    this.#runId ??= (async () => {
      const info = String(await this.#client.call('INFO', 'server'));
      const runId = /^run_id:(\w+)/m.exec(info)?.[1];
      if (!runId) throw new Error('unknown command: INFO server has no run_id');
      return runId;
    })();
    // A failed ask is asked again next time.
    this.#runId.catch(() => {
      this.#runId = undefined;
    });
    return this.#runId;
  }

  #disable(error: unknown, context?: AdapterCallContext): void {
    const message = (error as Error).message ?? String(error);
    // Only a refusal disables binding; a dropped connection is just an error to retry.
    if (!isRefusal(message)) throw error;
    this.#enabled = false;
    if (!this.#warned) {
      this.#warned = true;
      context?.warn?.(`[primacy] [redis] the server refuses CLIENT (${message}); crash failover falls back to TTL expiry`);
    }
  }
}

/**
 * Whether a server's error says "not allowed / not known here" (an ACL, a proxy, an old server),
 * as opposed to a dropped connection worth retrying. Redis before 6.2 answers `CLIENT LIST ID` with
 * a syntax error: no binding there either.
 */
export function isRefusal(message: string): boolean {
  return /NOPERM|unknown (sub)?command|ERR unknown|not allowed|DENIED|syntax error/i.test(message);
}
