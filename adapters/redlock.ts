import { Redis } from 'ioredis';
import { parseOutcome } from '../src/_internal/outcome.js';
import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord, RunOutcome } from '../src/adapter.js';
import { PrimacyBackendError } from '../src/errors.js';
import { belongsTo, parseValue, valueTail } from './redis/record.js';
import { HELD, NEVER_GRANTED, RELEASE, RENEW, WRITE_OUTCOME } from './redis/scripts.js';
import type { RedisClientLike } from './redis.js';
import { claimMissingNodes, type QuorumLeaseData } from './redlock/extend.js';
import { inspectQuorum } from './redlock/inspect.js';
import { QuorumNode } from './redlock/node.js';
import { validate } from './redlock/options.js';
import { ACQUIRE_WITH_TOKEN, TAKE_OVER_WITH_TOKEN } from './redlock/scripts.js';

export interface RedlockOptions {
  /** Independent Redis nodes (not replicas of one another), as ioredis clients. Never closed by primacy. */
  clients?: RedisClientLike[];
  /**
   * Or their URLs: primacy creates the clients, connects them on first use, closes them whenever no
   * election uses the lock (so they never keep the process alive) and in `close()`.
   */
  urls?: string[];
  /** Key prefix, as in `redisLock`. @default 'primacy:' */
  prefix?: string;
  /** Bind leases to connections, per node (see `redisLock`). @default true */
  connectionBinding?: boolean;
  /** How often a waiting follower checks the holder's connection on each node, in ms. @default 150 */
  livenessInterval?: number;
  /** Per node, as `redisLock`'s `takeoverGrace`. @default 50 */
  takeoverGrace?: number;
  /** How long one node may take to answer before it counts as failed, in ms. @default max(50, ttl / 20) */
  nodeTimeout?: number;
  /** Clock drift allowed, as a share of the TTL (plus 2 ms), as in the Redlock algorithm. @default 0.01 */
  driftFactor?: number;
}

/**
 * A lock held on a majority of N independent Redis nodes (the Redlock algorithm, with fencing
 * tokens and connection-bound takeover added). Survives a minority of nodes down or paused.
 */
export function redlockLock(options: RedlockOptions): LockAdapter {
  return new QuorumLock(options);
}

class QuorumLock implements LockAdapter {
  readonly kind = 'redlock';
  readonly #nodes: QuorumNode[];
  readonly #quorum: number;
  readonly #prefix: string;
  readonly #nodeTimeout: number | undefined;
  readonly #driftFactor: number;
  /** Per lock, the highest token seen or held: the floor under the next one, should counters be lost. */
  readonly #floor = new Map<string, number>();

  constructor(options: RedlockOptions) {
    const {
      clients,
      urls,
      prefix = 'primacy:',
      connectionBinding = true,
      livenessInterval = 150,
      takeoverGrace = 50,
      nodeTimeout,
      driftFactor = 0.01,
    } = validate(options);
    const owned = clients === undefined;
    // Ours connect on first use and close whenever no election uses the lock (Reachability.idle).
    const nodeClients = clients ?? (urls ?? []).map((url) => new Redis(url, { lazyConnect: true }) as unknown as RedisClientLike);
    this.#nodeTimeout = nodeTimeout;
    this.#nodes = nodeClients.map(
      (client) =>
        new QuorumNode(client, {
          owned,
          timeout: nodeTimeout ?? 500,
          connectionBinding,
          livenessInterval,
          takeoverGrace,
          onConnectionLost: () => this.#notifyAll(),
        }),
    );
    this.#quorum = Math.floor(this.#nodes.length / 2) + 1;
    this.#prefix = prefix;
    this.#driftFactor = driftFactor;
  }

  get connectionBound(): boolean {
    return this.#nodes.some((node) => node.binding.enabled);
  }

  async acquire(name: string, holder: HolderIdentity, ttl: number, context?: AdapterCallContext): Promise<Lease | null> {
    const started = performance.now();
    const [key, counter] = [this.#key(name, 'lock'), this.#key(name, 'token')];
    const nodes = this.#withTimeout(ttl);
    // The token: one more than the highest counter on a majority (which includes the last holder's).
    const counters = await Promise.all(nodes.map((node) => node.get(counter)));
    const answered = counters.filter((c) => c !== undefined);
    if (answered.length < this.#quorum) throw this.#noQuorum('acquire', answered.length);
    // Never at or below a token this adapter has seen: a majority of counters may have been lost.
    const token = Math.max(this.#floor.get(name) ?? 0, ...answered.map((c) => Number(c ?? 0))) + 1;
    const clientIds = await Promise.all(nodes.map((node) => node.clientId(context).then((id) => id ?? null)));
    const record = { holder, acquiredAt: Date.now(), ttl };
    const values = await Promise.all(
      nodes.map(async (node, i) => {
        const tail = valueTail(clientIds[i] ?? null, record);
        const result = (await node.script(ACQUIRE_WITH_TOKEN, [key, counter, ttl, holder.id, token, tail])) as [number, string] | undefined;
        if (!result) return null;
        if (result[0] === 1) return node.onSameConnection(clientIds[i] ?? null, result[1]);
        const current = parseValue(result[1]);
        if (current) this.#raiseFloor(name, current.token);
        const gone = current?.clientId ? await node.goneFor(current.clientId, context) : null;
        if (gone !== null && gone < node.binding.takeoverGrace) node.followers.wakeAfter(name, node.binding.takeoverGrace - gone);
        else if (gone !== null) {
          const taken = (await node.script(TAKE_OVER_WITH_TOKEN, [key, counter, result[1], ttl, holder.id, token, tail])) as string | null;
          return node.onSameConnection(clientIds[i] ?? null, taken ?? null);
        }
        node.followers.followHolder(name, current?.clientId ?? null);
        return null;
      }),
    );
    const granted = values.filter((v) => v !== null).length;
    if (granted >= this.#quorum && performance.now() - started < ttl - this.#drift(ttl)) {
      for (const node of nodes) node.followers.stopFollowing(name);
      this.#raiseFloor(name, token);
      const now = Date.now();
      const data: QuorumLeaseData = { values, clientIds };
      return { name, token, holder, acquiredAt: now, renewedAt: now, ttl, data };
    }
    // No quorum (or too late to use it): give back what we got, so others need not wait for expiry.
    // Quietly: waking the other candidates of a split vote makes them all split again at once, a
    // storm of rounds after every outage; they retry on their own (jittered) schedule instead.
    await this.#releaseValues(name, values, false);
    return null;
  }

  async renew(lease: Lease, ttl: number): Promise<Lease | null> {
    const started = performance.now();
    if (!ownValues(lease)) return null;
    const { values, clientIds } = lease.data as QuorumLeaseData;
    const key = this.#key(lease.name, 'lock');
    const renewed = await Promise.all(
      this.#withTimeout(ttl).map(async (node, i) => {
        const value = values[i];
        // A node whose connection we lost since may already belong to someone else: skip it. So is
        // a node whose answer came on a new connection (ioredis resent the renew after a reset).
        const clientId = clientIds[i] ?? null;
        if (!value || !node.binding.isCurrent(clientId)) return false;
        const renewed = (await node.script(RENEW, [key, value, ttl])) === 1;
        return renewed && node.binding.isCurrent(clientId);
      }),
    );
    if (renewed.filter(Boolean).length < this.#quorum || performance.now() - started >= ttl - this.#drift(ttl)) return null;
    const keys = { lock: key, counter: this.#key(lease.name, 'token') };
    const data = await claimMissingNodes(this.#withTimeout(ttl), keys, lease, ttl, renewed);
    return { ...lease, renewedAt: Date.now(), ttl, data };
  }

  /** Intact while the connections of a majority of the nodes that granted it are still open. */
  isIntact(lease: Lease): boolean {
    const data = lease.data as QuorumLeaseData | undefined;
    if (!data) return false;
    const intact = this.#nodes.filter((node, i) => data.values[i] && node.binding.isCurrent(data.clientIds[i] ?? null));
    return intact.length >= this.#quorum;
  }

  async release(lease: Lease): Promise<void> {
    if (!ownValues(lease)) return;
    await this.#releaseValues(lease.name, (lease.data as QuorumLeaseData).values);
  }

  async inspect(name: string): Promise<LockRecord | null> {
    const keys = { lock: this.#key(name, 'lock'), token: this.#key(name, 'token'), last: this.#key(name, 'last') };
    return inspectQuorum(this.#nodes, this.#quorum, name, keys, (answered) => this.#noQuorum('inspect', answered));
  }

  async writeOutcome(lease: Lease, outcome: RunOutcome): Promise<boolean> {
    if (!ownValues(lease)) return false;
    const { values } = lease.data as QuorumLeaseData;
    const args = [this.#key(lease.name, 'lock'), this.#key(lease.name, 'outcome'), JSON.stringify(outcome)] as const;
    const written = await Promise.all(
      this.#nodes.map(async (node, i) => !!values[i] && (await node.script(WRITE_OUTCOME, [args[0], args[1], values[i], args[2]])) === 1),
    );
    return written.filter(Boolean).length >= this.#quorum;
  }

  /**
   * The outcome with the highest token on any node that answered: one written to a majority is on
   * at least one node of every majority. (A write that reached only a minority may be read too:
   * the run it records did end that way.)
   */
  async readOutcome(name: string): Promise<RunOutcome | null> {
    const texts = await Promise.all(this.#nodes.map((node) => node.get(this.#key(name, 'outcome'))));
    const answered = texts.filter((text) => text !== undefined).length;
    if (answered < this.#quorum) throw this.#noQuorum('readOutcome', answered);
    const outcomes = texts.map(parseOutcome).filter((outcome) => outcome !== null);
    return outcomes.sort((a, b) => b.token - a.token)[0] ?? null;
  }

  watch(name: string, onChange: () => void): () => void {
    const stops = this.#nodes.map((node) => node.followers.add(name, this.#key(name, 'events'), onChange));
    return () => {
      for (const stop of stops) stop();
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.#nodes.map((node) => node.close()));
  }

  /** `held`: a lease's release (wakes the followers, recorded as the last release); else a give-back of votes short of quorum. */
  async #releaseValues(name: string, values: ReadonlyArray<string | null>, held = true): Promise<void> {
    const [key, released, last] = [this.#key(name, 'lock'), this.#key(name, 'released'), this.#key(name, 'last')];
    const channel = held ? this.#key(name, 'events') : '';
    const args = (value: string) => [key, released, last, value, channel, held ? HELD : NEVER_GRANTED];
    await Promise.all(this.#nodes.map((node, i) => (values[i] ? node.script(RELEASE, args(values[i] as string)) : undefined)));
  }

  /** The nodes, with a per-node timeout fitted to this TTL unless one was configured. */
  #withTimeout(ttl: number): QuorumNode[] {
    if (this.#nodeTimeout !== undefined) return this.#nodes;
    const timeout = Math.max(50, ttl / 20);
    for (const node of this.#nodes) node.timeout = timeout;
    return this.#nodes;
  }

  #drift(ttl: number): number {
    return ttl * this.#driftFactor + 2;
  }

  #raiseFloor(name: string, token: number): void {
    if (Number.isSafeInteger(token) && token > (this.#floor.get(name) ?? 0)) this.#floor.set(name, token);
  }

  #notifyAll(): void {
    for (const node of this.#nodes) node.followers.notifyAll();
  }

  /** Names each node that failed, and why (its address, the errno): the cause is their errors. */
  #noQuorum(operation: string, answered: number): PrimacyBackendError {
    const failures = this.#nodes.flatMap((node) => (node.failure ? [node.failure] : []));
    const reasons = failures.length > 0 ? `: ${failures.map((f) => f.reason).join('; ')}` : '';
    const message = `only ${answered} of ${this.#nodes.length} nodes answered; a quorum is ${this.#quorum}${reasons}`;
    const cause = new AggregateError(
      failures.map((f) => f.error),
      'the nodes that failed',
    );
    return new PrimacyBackendError('redlock', operation, message, failures.length > 0 ? { cause } : undefined);
  }

  #key(name: string, part: 'lock' | 'token' | 'released' | 'last' | 'events' | 'outcome'): string {
    return `${this.#prefix}{${name.replace(/[{}]/g, '_')}}:${part}`;
  }
}

/** Every value a lease carries must be its own (same token, same holder): a forged lease is refused. */
function ownValues(lease: Lease): boolean {
  const values = (lease.data as QuorumLeaseData | undefined)?.values ?? [];
  return values.some((v) => v !== null) && values.every((v) => v === null || belongsTo(v, lease));
}
