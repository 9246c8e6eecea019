import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord, RunOutcome } from '../src/adapter.js';
import { noQuorumError } from '../src/adapter-kit.js';
import type { PrimacyBackendError } from '../src/errors.js';
import { type LockKeys, lockKeys } from './redis/keys.js';
import { restingWait } from './redis/lock-watch.js';
import { belongsTo, valueTail } from './redis/record.js';
import { RELEASE, RENEW, releaseArgs, renewArgs } from './redis/scripts.js';
import { SeenHolders } from './redis/seen.js';
import { ownedClient } from './redis/server.js';
import type { RedisClientLike } from './redis.js';
import { claimMissingNodes, type QuorumLeaseData } from './redlock/extend.js';
import { inspectQuorum } from './redlock/inspect.js';
import { QuorumNode } from './redlock/node.js';
import { resolveRedlockOptions } from './redlock/options.js';
import { readQuorumOutcome, writeQuorumOutcome } from './redlock/outcome.js';
import { GIVE_BACK, givenKey } from './redlock/scripts.js';
import { lostHolderIsOver, noteHolders, noteReleases } from './redlock/seen.js';
import { vote } from './redlock/vote.js';

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
  /**
   * The last holder seen, and a token floor: never at or below a token this adapter has seen, as a
   * majority of counters may have been lost.
   */
  readonly #seen = new SeenHolders();

  constructor(options: RedlockOptions) {
    const { clients, urls, prefix, nodeTimeout, driftFactor, ...settings } = resolveRedlockOptions(options);
    const owned = clients === undefined;
    const servers = clients ?? (urls ?? []).map(ownedClient);
    // A holder's crash closes its connection on every node: the watchers' polls take turns over
    // the nodes, their claims live 15 s (refreshed every 5 s), and all followers together try about
    // once per 10 s, so a lock costs about what one Redis lock does however many nodes and
    // followers it has.
    const spread = (i: number) => ({
      livenessInterval: settings.livenessInterval * servers.length,
      pollOffset: settings.livenessInterval * i,
      restingRetry: 10_000,
      claimTtl: 15_000,
    });
    this.#nodes = servers.map(
      (client, i) =>
        new QuorumNode({
          ...settings,
          ...spread(i),
          client,
          owned,
          timeout: nodeTimeout ?? 500,
          onConnectionLost: () => this.#notifyAll(),
          onHolder: (name, value) => this.#seen.announced(name, value),
        }),
    );
    this.#quorum = Math.floor(this.#nodes.length / 2) + 1;
    this.#prefix = prefix;
    this.#nodeTimeout = nodeTimeout;
    this.#driftFactor = driftFactor;
  }

  get connectionBound(): boolean {
    return this.#nodes.some((node) => node.binding.enabled);
  }

  async acquire(name: string, holder: HolderIdentity, ttl: number, context?: AdapterCallContext): Promise<Lease | null> {
    // A second attempt only once a holder whose state a majority lost has had its TTL to end.
    for (let pass = 0; pass < 2; pass++) {
      const outcome = await this.#attempt(name, holder, ttl, context);
      if (outcome === null || !('lost' in outcome)) return outcome;
      const where = { key: this.#keys(name).lock, lost: outcome.lost, nodes: this.#nodes };
      if (!lostHolderIsOver(this.#seen, name, where, context)) return null;
    }
    return null;
  }

  /** One round over the nodes: a lease, null (held, or no quorum), or how many nodes lost the seen holder (see `lostHolderIsOver`). */
  async #attempt(name: string, holder: HolderIdentity, ttl: number, context?: AdapterCallContext): Promise<Lease | null | Lost> {
    const started = performance.now();
    const keys = this.#keys(name);
    const nodes = this.#withTimeout(ttl);
    const [looks, clientIds, evicting] = await Promise.all([
      Promise.all(nodes.map((node) => node.look(keys))),
      Promise.all(nodes.map((node) => node.clientId(context).then((id) => id ?? null))),
      Promise.all(nodes.map((node) => node.mayEvict(context))),
    ]);
    const answered = looks.filter((look) => look !== undefined);
    if (answered.length < this.#quorum) throw this.#noQuorum('acquire', answered.length);
    // Who holds it, before anything is written (the token floor, the holder whose state a node
    // may have lost since we last looked).
    const shown = answered.map((look) => look.value);
    noteHolders(this.#seen, name, shown, holder.id, this.#quorum, ttl);
    noteReleases(
      this.#seen,
      name,
      answered.flatMap((look) => [look.last, look.given]),
    );
    // The token: one more than the highest counter on a majority (which includes the last holder's),
    // and never below a server's clock (µs), as redisLock's: counters lost, tokens still go on.
    const highest = Math.max(this.#seen.floor(name), ...answered.map((look) => Number(look.counter ?? 0)));
    const token = Math.max(highest + 1, ...answered.map((look) => look.now));
    const ballot = { name, keys, ttl, holderId: holder.id, token, seen: this.#seen.last(name)?.token ?? 0, context };
    const record = { holder, acquiredAt: Date.now(), ttl };
    const votes = await Promise.all(
      nodes.map((node, i) => vote(node, ballot, clientIds[i] ?? null, valueTail(clientIds[i] ?? null, record), evicting[i] ?? true)),
    );
    noteHolders(
      this.#seen,
      name,
      votes.map((v) => v.held),
      holder.id,
      this.#quorum,
      ttl,
    );
    const values = votes.map((v) => v.value);
    const granted = values.filter((v) => v !== null).length;
    if (granted >= this.#quorum && performance.now() - started < ttl - this.#drift(ttl)) {
      for (const [i, node] of nodes.entries()) {
        node.followers.stopFollowing(name, holder.id);
        if (values[i]) node.announce(keys.events, values[i] as string);
      }
      this.#seen.hold(name, token);
      const now = Date.now();
      const data: QuorumLeaseData = { values, clientIds };
      return { name, token, holder, acquiredAt: now, renewedAt: now, ttl, data };
    }
    // No quorum (or too late to use it): give back what we got, so others need not wait for expiry.
    // Quietly: waking the other candidates of a split vote makes them all split again at once, a
    // storm of rounds after every outage; they retry on their own (jittered) schedule instead.
    await this.#releaseValues(name, values, false);
    // Nodes that answered the look but failed the acquire script (a write refused: OOM, READONLY,
    // MISCONF) cost the quorum: an error the elector reports, not a silent "held elsewhere".
    const voted = votes.filter((v) => !v.failed).length;
    if (voted < this.#quorum) throw this.#noQuorum('acquire', voted);
    // A quorum only with nodes that lost the seen holder's state: no release, so no takeover yet.
    const lost = votes.filter((v) => v.lost).length;
    return lost > 0 && granted + lost >= this.#quorum ? { lost } : null;
  }

  async renew(lease: Lease, ttl: number): Promise<Lease | null> {
    const started = performance.now();
    if (!ownValues(lease)) return null;
    const { values, clientIds } = lease.data as QuorumLeaseData;
    const keys = this.#keys(lease.name);
    const renewed = await Promise.all(
      this.#withTimeout(ttl).map(async (node, i) => {
        const value = values[i];
        // A node whose connection we lost since may already belong to someone else: skip it. So is
        // a node whose answer came on a new connection (ioredis resent the renew after a reset).
        const clientId = clientIds[i] ?? null;
        if (!value || !node.binding.isCurrent(clientId)) return false;
        const renewed = (await node.script(RENEW, renewArgs(keys, value, ttl))) === 1;
        if (renewed) node.followers.askForWatcher(lease.name);
        return renewed && node.binding.isCurrent(clientId);
      }),
    );
    if (renewed.filter(Boolean).length < this.#quorum || performance.now() - started >= ttl - this.#drift(ttl)) return null;
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
    return inspectQuorum(this.#nodes, this.#quorum, name, this.#keys(name), (answered) => this.#noQuorum('inspect', answered));
  }

  async writeOutcome(lease: Lease, outcome: RunOutcome): Promise<boolean> {
    return ownValues(lease) && writeQuorumOutcome(this.#nodes, this.#quorum, this.#keys(lease.name), lease, outcome);
  }

  async readOutcome(name: string): Promise<RunOutcome | null> {
    return readQuorumOutcome(this.#nodes, this.#quorum, this.#keys(name), (answered) => this.#noQuorum('readOutcome', answered));
  }

  /** Long only while a quorum of nodes can wake us: one wait for all nodes (see `restingWait`). */
  idleRetry(name: string): number | undefined {
    const shares = this.#nodes.map((node) => node.followers.restingShare(name)).filter((share) => share !== undefined);
    return shares.length >= this.#quorum ? restingWait(Math.max(...shares)) : undefined;
  }

  watch(name: string, onChange: () => void): () => void {
    const stops = this.#nodes.map((node) => node.followers.add(name, this.#keys(name), onChange));
    return () => {
      for (const stop of stops) stop();
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.#nodes.map((node) => node.close()));
  }

  /** `held`: a lease's release (wakes the followers, recorded as the last release); else a give-back of votes short of quorum. */
  async #releaseValues(name: string, values: ReadonlyArray<string | null>, held = true): Promise<void> {
    const keys = this.#keys(name);
    const release = (node: QuorumNode, value: string) =>
      held
        ? node.script(RELEASE, releaseArgs(keys, value, { held, wake: true }))
        : node.script(GIVE_BACK, [keys.lock, keys.released, givenKey(keys), value]);
    await Promise.all(this.#nodes.map((node, i) => (values[i] ? release(node, values[i] as string) : undefined)));
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

  #notifyAll(): void {
    for (const node of this.#nodes) node.followers.notifyAll();
  }

  /** Names each node that failed, and why (its address, the errno): the cause is their errors. */
  #noQuorum(operation: string, answered: number): PrimacyBackendError {
    const failures = this.#nodes.flatMap((node) => (node.failure ? [node.failure] : []));
    return noQuorumError('redlock', operation, { answered, nodes: this.#nodes.length, quorum: this.#quorum }, failures);
  }

  #keys(name: string): LockKeys {
    return lockKeys(this.#prefix, name);
  }
}

/** Nodes that lost the seen holder's state without its release, enough to make a majority free without one. */
type Lost = { readonly lost: number };

/** Every value a lease carries must be its own (same token, same holder): a forged lease is refused. */
function ownValues(lease: Lease): boolean {
  const values = (lease.data as QuorumLeaseData | undefined)?.values ?? [];
  return values.some((v) => v !== null) && values.every((v) => v === null || belongsTo(v, lease));
}
