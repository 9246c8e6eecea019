/**
 * Whether a client can reach its server, so a command fails at once, naming the server and the
 * cause (`connect ECONNREFUSED 127.0.0.1:6390`), while it cannot. ioredis would queue the command
 * until `maxRetriesPerRequest` reconnects (20, ~10 s) and the elector would only say "no answer
 * within <ttl> ms": a first round, a `stop()` and a Fastify boot all waited that long. Queued
 * commands also keep a client reconnecting after its owner's `quit()`.
 */
import { bounded, serverError, unreachableError } from '../../src/adapter-kit.js';
import { PrimacyBackendError } from '../../src/errors.js';

/** The ioredis surface read here (`Redis` and `Cluster` have it; anything else is never gated). */
interface ClientState {
  readonly status?: string;
  readonly options?: {
    host?: string;
    port?: number;
    path?: string | null;
    sentinels?: Array<{ host?: string; port?: number }> | null;
    name?: string;
  };
  readonly startupNodes?: Array<{ host?: string; port?: number } | string | number>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off?(event: string, listener: (...args: unknown[]) => void): unknown;
  listenerCount?(event: string): number;
}

/** How many Reachability instances listen to each client's errors (several locks may share one). */
const listening = new WeakMap<object, number>();
/** Errors already reported for a user's client (once, however many locks share it). */
const reported = new WeakSet<object>();
const ENDED = Symbol('the client ended');

export interface ReachabilityOptions {
  readonly client: unknown;
  /** Created by primacy: its errors are ours to swallow. A user's client keeps ioredis's own report. */
  readonly owned: boolean;
  /** The adapter whose errors these are (`redis`, `redlock`). */
  readonly adapter: string;
  /** The client ended (quit() or disconnect(), maybe before the election stopped). */
  readonly onEnd: () => void;
  /** The client is connected (again: after a reset, or a connect() after it ended). */
  readonly onReady: () => void;
}

interface Wait {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class Reachability {
  /** The last connection error since the client was last ready; null while it is. */
  #lastError: Error | null = null;
  /** An owned client being closed because nothing uses the lock any more (see `idle()`). */
  #idleClose: Promise<void> | null = null;
  /** `close()` was called: the lock is done with, its client is not reopened. */
  #closed = false;
  /** One wait shared by every call made while the client connects: listeners do not pile up. */
  #connecting: Wait | null = null;
  readonly #client: ClientState;
  readonly #owned: boolean;
  readonly #adapter: string;
  readonly #onEnd: () => void;
  readonly #onReady: () => void;
  readonly #listeners: Record<'error' | 'ready' | 'end', (...args: unknown[]) => void> = {
    error: (error) => this.#noteError(error),
    ready: () => {
      this.#lastError = null;
      this.#settle()?.resolve();
      this.#onReady();
    },
    end: () => {
      this.#settle()?.reject(ENDED);
      this.#onEnd();
    },
  };

  constructor({ client, owned, adapter, onEnd, onReady }: ReachabilityOptions) {
    this.#client = client as ClientState;
    this.#owned = owned;
    this.#adapter = adapter;
    this.#onEnd = onEnd;
    this.#onReady = onReady;
    for (const [event, listener] of Object.entries(this.#listeners)) this.#client.on(event, listener);
    listening.set(this.#client, (listening.get(this.#client) ?? 0) + 1);
  }

  /** The server, as configured (`host:port`, a socket path, the Sentinels, a Cluster's seed nodes). */
  get address(): string {
    const { options, startupNodes } = this.#client;
    if (options?.sentinels?.length) return `Sentinels ${options.sentinels.map(hostPort).join(', ')} (master "${options.name}")`;
    if (options?.path) return options.path;
    if (startupNodes?.length)
      return `Cluster ${startupNodes.map((node) => (typeof node === 'object' ? hostPort(node) : String(node))).join(', ')}`;
    if (options?.host !== undefined) return hostPort(options);
    return 'the server';
  }

  /**
   * Resolves once the client is connected; rejects at once when its last connection attempt
   * failed, and as soon as the current one fails. A client still connecting is waited for (a
   * refused connection fails in a millisecond; the caller bounds the rest).
   */
  async ready(operation: string): Promise<void> {
    if (this.#idleClose) await this.#idleClose;
    const status = this.#client.status;
    if (status === undefined || status === 'ready') return;
    // Our own client, closed while idle, is opened again by the next call; a user's stays closed.
    const reopen = status === 'end' && this.#owned && !this.#closed;
    if (status === 'end' && !reopen) throw this.#closedError(operation);
    if (reopen) this.#lastError = null;
    if (this.#lastError !== null && status !== 'connect') throw this.unreachable(operation, this.#lastError);
    if (!this.#connecting) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#connecting = { promise, resolve, reject };
      // A lazyConnect client connects on its first command; ours is not sent until it has.
      if (status === 'wait' || reopen) (this.#client as { connect?: () => Promise<unknown> }).connect?.().catch(() => undefined);
    }
    try {
      await this.#connecting.promise;
    } catch (error) {
      throw error === ENDED ? this.#closedError(operation) : this.unreachable(operation, error);
    }
  }

  /** The error for a server that cannot be reached: its address, the errno and the cause. */
  unreachable(operation: string, cause: unknown): PrimacyBackendError {
    return unreachableError(this.#adapter, operation, this.address, cause);
  }

  /** A failed command as a backend error naming the server (its connection's errors as `unreachable`). */
  error(operation: string, error: unknown): PrimacyBackendError {
    if (error instanceof PrimacyBackendError) return error;
    if (isConnectionError(error)) return this.unreachable(operation, error);
    return serverError(this.#adapter, operation, this.address, error);
  }

  /**
   * Nothing uses the lock any more (its last election stopped): a client primacy created is closed,
   * so a lock nobody calls `close()` on does not keep the process alive. The next call reopens it.
   */
  idle(): void {
    if (!this.#owned || this.#closed || this.#idleClose) return;
    const client = this.#client as ClientState & { quit(): Promise<unknown>; disconnect?(): void };
    this.#idleClose = closeOwnedClient(client).finally(() => {
      this.#idleClose = null;
    });
  }

  /** Stops listening to the client (the lock is closed; a client not ours lives on). */
  close(): void {
    this.#closed = true;
    for (const [event, listener] of Object.entries(this.#listeners)) this.#client.off?.(event, listener);
    listening.set(this.#client, (listening.get(this.#client) ?? 1) - 1);
  }

  /** The wait in progress, if any, ended: the next call starts another. */
  #settle(): Wait | null {
    const connecting = this.#connecting;
    this.#connecting = null;
    return connecting;
  }

  #closedError(operation: string): PrimacyBackendError {
    return new PrimacyBackendError(this.#adapter, operation, `the client of ${this.address} is closed (quit() or disconnect() was called)`);
  }

  #noteError(error: unknown): void {
    // Only a failed connection attempt makes calls fail fast. A reset of a working connection
    // does not: ioredis reconnects and sends what was queued meanwhile (a release after a reset
    // must still reach the server, or followers wait out the TTL).
    if (error instanceof Error && this.#client.status !== 'ready') this.#lastError = error;
    this.#settle()?.reject(error);
    // A listener silences ioredis's own "Unhandled error event" report: keep it for a user's
    // client that nobody but primacy listens to, as it was before primacy listened.
    if (this.#owned || (typeof error === 'object' && error !== null && reported.has(error))) return;
    if (typeof error === 'object' && error !== null) reported.add(error);
    if (this.#client.listenerCount?.('error') === listening.get(this.#client)) {
      console.error('[ioredis] Unhandled error event:', (error as Error)?.stack ?? error);
    }
  }
}

/** An error of the connection (a socket's errno, or a command ioredis gave up on), not of the server's answer. */
function isConnectionError(error: unknown): boolean {
  const { code, syscall, name } = (error ?? {}) as NodeJS.ErrnoException;
  return syscall !== undefined || /^E[A-Z]+$/.test(code ?? '') || name === 'MaxRetriesPerRequestError';
}

function hostPort({ host, port }: { host?: string; port?: number }): string {
  return `${host ?? 'localhost'}:${port ?? 6379}`;
}

/**
 * Closes a client primacy created. `quit()` waits for the server's answer, which an unreachable or
 * paused server never gives (and a quit queued behind other commands waits for them): disconnect
 * then instead, so `close()` returns promptly and nothing is left reconnecting.
 */
export async function closeOwnedClient(client: {
  status?: string;
  quit(): Promise<unknown>;
  disconnect?(): void;
  once?(event: 'end', listener: () => void): unknown;
}): Promise<void> {
  const disconnect = () => client.disconnect?.();
  if (client.status !== undefined && client.status !== 'ready') return disconnect();
  // quit() resolves on the server's OK; the client is reusable (connect()) only once it ended.
  const ended = new Promise<void>((resolve) => client.once?.('end', resolve) ?? resolve());
  await bounded(client.quit(), { ms: 1000, adapter: 'redis', operation: 'quit' }).catch(disconnect);
  if ((client.status as string | undefined) !== 'end')
    await bounded(ended, { ms: 1000, adapter: 'redis', operation: 'quit' }).catch(disconnect);
}
