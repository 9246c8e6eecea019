/**
 * The manager's arbiter: one primary among its acked workers, through the same lock every other
 * process uses. For each lock name, the arbiter holds the backend lease on behalf of one worker
 * (acquired with that worker's identity, so `lock-status` names the worker) and grants it only
 * while it holds it: a worker's renew is a renew of the backend lease. So a plain `node` process,
 * a PM2 instance and the workers of several managers that share a lock name elect one primary,
 * and the fencing token is the backend's. What the manager adds: only acked workers are granted,
 * and the lease is given back the moment the holder's process exits (the cluster `exit` event), so
 * the next holder is elected in milliseconds instead of after a TTL.
 */
import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord } from '../adapter.js';
import type { GrantReply } from './protocol.js';

export interface Grant {
  readonly name: string;
  /** The worker incarnation it is granted to (`worker-<index>#<start>`, unique across restarts). */
  readonly workerId: string;
  /** The backend lease, held by the manager on the worker's behalf. */
  lease: Lease;
  /** The id of the worker's request that this grant last answered (see GrantReply.grantId). */
  grantId: string;
  /** Monotonic ms (the manager's clock) past which the holder has not renewed in time: another worker may have it. */
  deadline: number;
}

export interface ArbiterHooks {
  /** The lock may be free (given back here, or a hint from the backend): wake the waiting workers. */
  onFree(name: string): void;
  /** A grant ended without its holder asking (the backend no longer vouches for the lease): tell it. */
  onLost(grant: Grant): void;
  /** Whether the worker may be granted a lock now (acked, not draining, the manager not stopping). */
  eligible(workerId: string): boolean;
  readonly context: AdapterCallContext;
}

/** What a worker's renew or release names: the grant's token, and which acquire answered it. */
export interface GrantRef {
  readonly token: number;
  readonly grantId: string;
}

export class Arbiter {
  readonly #grants = new Map<string, Grant>();
  /** One backend operation at a time per lock name, in arrival order. */
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #unwatch = new Map<string, () => void>();

  constructor(
    private readonly backend: LockAdapter,
    private readonly hooks: ArbiterHooks,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Grants `name` to the worker if the backend grants it; null if another holder has it. */
  acquire(name: string, workerId: string, holder: HolderIdentity, ttl: number, grantId: string): Promise<GrantReply | null> {
    this.#watch(name);
    return this.#serialized(name, async () => {
      const current = this.#grants.get(name);
      if (current && current.workerId === workerId && current.lease.holder.id === holder.id) {
        // The holder asks again (it gave up waiting for a reply): the lease is still ours. From now
        // on only this request's grant id counts: the worker gives back the replies it stopped
        // waiting for, and those give-backs must not end the grant it was just given again.
        current.grantId = grantId;
        return this.#renewHeld(current, ttl);
      }
      // A holder that stopped renewing (hung, stopped) loses its grant at its lease's end, as it would anywhere.
      if (current && current.deadline > this.now()) return null;
      if (current) await this.#giveBack(current);
      if (!this.hooks.eligible(workerId)) return null;
      const asked = this.now();
      const lease = await this.backend.acquire(name, holder, ttl, this.hooks.context);
      if (lease === null) return null;
      if (!this.hooks.eligible(workerId)) {
        // It exited or began draining while the backend answered: the lease is nobody's to use.
        await this.backend.release(lease, this.hooks.context);
        this.hooks.onFree(name);
        return null;
      }
      this.#grants.set(name, { name, workerId, lease, grantId, deadline: asked + ttl });
      return grantReply(lease, grantId);
    });
  }

  renew(name: string, workerId: string, ref: GrantRef, ttl: number): Promise<GrantReply | null> {
    return this.#serialized(name, async () => {
      const grant = this.#grants.get(name);
      if (!grant || !refersTo(grant, workerId, ref)) return null;
      return this.#renewHeld(grant, ttl);
    });
  }

  release(name: string, workerId: string, ref: GrantRef): Promise<void> {
    return this.#serialized(name, async () => {
      const grant = this.#grants.get(name);
      if (grant && refersTo(grant, workerId, ref)) await this.#giveBack(grant);
    });
  }

  /** A worker's process is gone: whatever it held is given back at once, and the others are woken. */
  async workerGone(workerId: string): Promise<void> {
    const held = [...this.#grants.values()].filter((grant) => grant.workerId === workerId);
    await Promise.all(held.map((grant) => this.#giveBackInTurn(grant)));
  }

  inspect(name: string): Promise<LockRecord | null> {
    return this.backend.inspect(name);
  }

  /** Resolves once the worker holds no grant (it stepped down and released), or after `timeout` ms. */
  async relinquished(workerId: string, timeout: number): Promise<void> {
    const giveUpAt = performance.now() + timeout;
    while ([...this.#grants.values()].some((grant) => grant.workerId === workerId) && performance.now() < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Who holds `name` through this manager now (for status tables). */
  holderOf(name: string): Grant | null {
    return this.#grants.get(name) ?? null;
  }

  /** Gives back every lease still held (the manager is stopping) and stops watching the backend. */
  async close(): Promise<void> {
    await Promise.all([...this.#grants.values()].map((grant) => this.#giveBackInTurn(grant)));
    for (const unwatch of this.#unwatch.values()) unwatch();
    this.#unwatch.clear();
  }

  async #renewHeld(grant: Grant, ttl: number): Promise<GrantReply | null> {
    const asked = this.now();
    const renewed = this.#intact(grant) ? await this.backend.renew(grant.lease, ttl, this.hooks.context) : null;
    if (renewed === null) {
      await this.#giveBack(grant);
      return null;
    }
    grant.lease = renewed;
    grant.deadline = asked + ttl;
    return grantReply(renewed, grant.grantId);
  }

  /** Ends a grant and releases its lease (compare-and-delete: a lease already lost is left alone). */
  async #giveBack(grant: Grant): Promise<void> {
    this.#grants.delete(grant.name);
    try {
      await this.backend.release(grant.lease, this.hooks.context);
    } finally {
      this.hooks.onFree(grant.name);
    }
  }

  /** Gives `grant` back after the operations queued on its name, unless one of them already ended it. */
  #giveBackInTurn(grant: Grant): Promise<void> {
    return this.#serialized(grant.name, async () => {
      if (this.#grants.get(grant.name) === grant) await this.#giveBack(grant);
    });
  }

  #intact(grant: Grant): boolean {
    return this.backend.isIntact?.(grant.lease) !== false;
  }

  /** Subscribes once per name to the backend's hints: a release or death elsewhere, or our own lease voided. */
  #watch(name: string): void {
    if (this.#unwatch.has(name) || !this.backend.watch) return;
    this.#unwatch.set(
      name,
      this.backend.watch(name, () => {
        const grant = this.#grants.get(name);
        if (grant && !this.#intact(grant)) {
          this.hooks.onLost(grant);
          void this.#giveBackInTurn(grant).catch(() => undefined);
        } else if (!grant) this.hooks.onFree(name);
      }),
    );
  }

  #serialized<T>(name: string, step: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(name) ?? Promise.resolve();
    const next = previous.then(step, step);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(name, settled);
    void settled.then(() => {
      if (this.#queues.get(name) === settled) this.#queues.delete(name);
    });
    return next;
  }
}

function grantReply(lease: Lease, grantId: string): GrantReply {
  return { grantId, token: lease.token, acquiredAt: lease.acquiredAt, renewedAt: lease.renewedAt };
}

function refersTo(grant: Grant, workerId: string, ref: GrantRef): boolean {
  return grant.workerId === workerId && grant.lease.token === ref.token && grant.grantId === ref.grantId;
}
