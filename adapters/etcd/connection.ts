/**
 * The etcd client a lock talks through (the caller's, or one primacy creates from `hosts` and
 * closes), and every request it makes: each bounded by `callTimeout` (a gRPC deadline, and a timer
 * over etcd3's own retries, which could otherwise wait far longer), each failure a
 * PrimacyBackendError naming the endpoints and the cause (`cannot reach http://10.0.0.5:2379: 14
 * UNAVAILABLE: ... connect ECONNREFUSED ...`).
 */
import { Etcd3, type IKeyValue, type IRequestOp, type ITxnResponse, type KVClient } from 'etcd3';
import { bounded, serverError, unreachableError } from '../../src/adapter-kit.js';
import { PrimacyBackendError } from '../../src/errors.js';
import type { EtcdClientLike } from '../etcd.js';
import { ownedFaultHandling } from './policies.js';

/** gRPC's call options (a deadline), as etcd3's calls take them. */
type CallOptions = NonNullable<Parameters<KVClient['txn']>[1]>;

/** A transaction's compare, as etcd's API spells it. */
export interface Compare {
  readonly key: Buffer;
  readonly target: 'Version' | 'Create' | 'Mod' | 'Value' | 'Lease';
  readonly result: 'Equal' | 'NotEqual' | 'Greater' | 'Less';
  readonly version?: number;
  readonly create_revision?: number;
  readonly mod_revision?: string;
  readonly value?: Buffer;
  readonly lease?: string;
}

export interface TxnRequest {
  readonly compare?: Compare[];
  readonly success?: IRequestOp[];
  readonly failure?: IRequestOp[];
}

export const range = (key: Buffer): IRequestOp => ({ request_range: { key } });
export const put = (key: Buffer, value: string, lease?: string): IRequestOp => ({
  request_put: { key, value: Buffer.from(value), ...(lease && { lease }) },
});
export const remove = (key: Buffer): IRequestOp => ({ request_delete_range: { key } });

/** The key a transaction's `index`-th range answered, or null when absent. */
export function rangeAnswer(txn: ITxnResponse, index: number): IKeyValue | null {
  return txn.responses[index]?.response_range?.kvs[0] ?? null;
}

export class EtcdConnection {
  readonly client: EtcdClientLike;
  /** Created by primacy from `hosts`, so closed by it; a caller's client never is. */
  readonly owned: boolean;
  /** The endpoints, for messages and `inspect`'s location. */
  readonly address: string;
  readonly #callTimeout: number;
  /** How many hosts a failed call may be tried on (a caller's client: etcd3's policy decides, once here). */
  readonly #hosts: number;
  /** The time one try gets on a client of ours: a share of `callTimeout` per host. */
  readonly #attemptMs: number;
  #closed = false;

  constructor({ client, hosts, callTimeout }: { client?: EtcdClientLike; hosts?: readonly string[]; callTimeout: number }) {
    this.#callTimeout = callTimeout;
    this.owned = client === undefined;
    const urls = hosts ?? endpointsOf(client);
    this.address = urls.length > 0 ? urls.join(', ') : 'etcd';
    this.#hosts = client ? 1 : urls.length;
    // One try per host within the call's time (see policies.ts): a paused host leaves time for the next.
    const attempt = this.#hosts > 1 ? Math.max(250, Math.floor(callTimeout / this.#hosts)) : callTimeout;
    this.#attemptMs = attempt;
    this.client =
      client ??
      (new Etcd3({
        hosts: [...urls],
        faultHandling: ownedFaultHandling(urls.length),
        // Pings on an idle connection, so a watch on a dead one (a host gone without a reset) is
        // seen broken, and its followers retry at their own pace, within 15 s. etcd accepts pings
        // every 5 s or more (--grpc-keepalive-min-time).
        grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5000 },
        defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + attempt }),
      }) as unknown as EtcdClientLike);
  }

  /** The client's namespace prefix (empty for a plain `Etcd3`): raw requests carry it themselves. */
  get namespace(): Buffer {
    return this.client.prefix;
  }

  txn(operation: string, request: TxnRequest): Promise<ITxnResponse> {
    return this.call(operation, (options) => this.client.kv.txn(request as Parameters<EtcdClientLike['kv']['txn']>[0], options));
  }

  /** A new lease of `ttl` seconds: its id and the TTL etcd granted (at least its minimum, 2 s by default). */
  async grant(operation: string, ttl: number): Promise<{ id: string; ttl: number }> {
    const granted = await this.call(operation, (options) => this.client.leaseClient.leaseGrant({ TTL: ttl }, options));
    return { id: String(granted.ID), ttl: Number(granted.TTL) };
  }

  /** Revokes a lease (its keys go with it); a lease etcd no longer knows is no error. */
  async revoke(operation: string, id: string): Promise<void> {
    try {
      await this.call(operation, (options) => this.client.leaseClient.leaseRevoke({ ID: id }, options));
    } catch (error) {
      if (!isLeaseGone(error)) throw error;
    }
  }

  /** Whether etcd still knows lease `id` (not expired, not revoked). */
  async leaseAlive(operation: string, id: string): Promise<boolean> {
    const answer = await this.call(operation, (options) => this.client.leaseClient.leaseTimeToLive({ ID: id }, options));
    return Number(answer.TTL) > 0;
  }

  /**
   * One keep-alive of lease `id` (not etcd3's keep-alive loop: the elector decides when to renew):
   * the TTL it has again, in seconds, or 0 when etcd no longer knows it (expired or revoked). A
   * stream is never retried by etcd3: with several hosts, a try that failed (a paused host) is made
   * again on another, each within its share of the call's time.
   */
  keepAliveOnce(operation: string, id: string): Promise<number> {
    return this.call(operation, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#keepAlive(id, this.owned ? this.#attemptMs : this.#callTimeout);
        } catch (error) {
          if (attempt >= this.#hosts || !isConnectionError(error)) throw error;
        }
      }
    });
  }

  async #keepAlive(id: string, ms: number): Promise<number> {
    // A stream has no deadline by default (etcd3's own loop keeps it open): this one lives for one answer.
    const stream = await this.client.leaseClient.leaseKeepAlive({ deadline: Date.now() + ms });
    return new Promise<number>((resolve, reject) => {
      stream.on('data', (answer: { TTL: string }) => {
        resolve(Number(answer.TTL));
        stream.end();
      });
      // Also after the answer (the deadline, the end): listened to, so never an unhandled 'error'.
      stream.on('error', reject);
      stream.on('end', () => reject(new Error('the keep-alive stream ended without an answer')));
      stream.write({ ID: id });
    });
  }

  /** `work` with a gRPC deadline, bounded the same; its failure as a backend error naming the endpoints. */
  async call<T>(operation: string, work: (options: CallOptions) => Promise<T>): Promise<T> {
    const ms = this.#callTimeout;
    try {
      if (this.#closed) throw new PrimacyBackendError('etcd', operation, `the lock is closed (close() was called) (${this.address})`);
      // A caller's client keeps its own retries: one deadline over all of them. Ours sets one per try.
      const options: CallOptions = this.owned ? {} : { deadline: Date.now() + ms };
      const timeoutError = () => this.#unreachable(operation, new Error(`no answer within ${ms} ms`));
      return await bounded(work(options), { ms: ms + 100, adapter: 'etcd', operation, timeoutError });
    } catch (error) {
      throw this.error(operation, error);
    }
  }

  /** A failed request as a backend error: the connection's errors as `cannot reach`, the server's answers as such. */
  error(operation: string, error: unknown): PrimacyBackendError {
    if (error instanceof PrimacyBackendError) return error;
    if (isConnectionError(error)) return this.#unreachable(operation, error);
    return serverError('etcd', operation, this.address, error);
  }

  /** Closes a client primacy created; a caller's lives on. Calls made after this fail at once. */
  close(): void {
    this.#closed = true;
    if (this.owned) (this.client as unknown as Etcd3).close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #unreachable(operation: string, cause: unknown): PrimacyBackendError {
    return unreachableError('etcd', operation, this.address, cause);
  }
}

/** etcd's "requested lease not found": the lease expired or was revoked. */
export function isLeaseGone(error: unknown): boolean {
  const cause = error instanceof PrimacyBackendError ? error.cause : error;
  return /requested lease not found/.test(String((cause as Error)?.message ?? cause));
}

/** A failure to get an answer at all (unreachable, deadline, cancelled, a closed client, a skipped host). */
function isConnectionError(error: unknown): boolean {
  const { name, message, code } = (error ?? {}) as { name?: string; message?: string; code?: unknown };
  const grpc = /^GRPC(Unavailable|DeadlineExceeded|Cancelled)Error$/.test(String(error?.constructor?.name ?? name));
  return (
    grpc ||
    /ClientClosedError|BrokenCircuitError/.test(String(error?.constructor?.name ?? name)) ||
    /^(14|4|1) /.test(String(message)) ||
    code === 14
  );
}

/** The hosts a caller's client was made with (etcd3 keeps its options), for messages. */
function endpointsOf(client: EtcdClientLike | undefined): string[] {
  const hosts = (client as unknown as { options?: { hosts?: string | string[] } })?.options?.hosts;
  return hosts === undefined ? [] : typeof hosts === 'string' ? [hosts] : [...hosts];
}
