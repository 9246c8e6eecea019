/**
 * The manager's own lock service for its workers: one primary among acked workers, granted over
 * IPC. It knows at once when a holder's process exits (the cluster `exit` event), so it re-grants
 * in milliseconds; a holder that merely hangs keeps its grant until the grant's TTL has run out
 * (the holder, measuring from before its request, steps down earlier by its own clock).
 */
import type { HolderIdentity, LockRecord } from '../adapter.js';
import type { EpochStore } from './epoch.js';

export interface Grant {
  readonly name: string;
  readonly token: number;
  readonly holder: HolderIdentity;
  /** Which worker incarnation holds it (a worker's id, unique across restarts of its slot). */
  readonly workerId: string;
  readonly acquiredAt: number;
  renewedAt: number;
  /** Monotonic ms (the manager's clock) after which the grant may go to someone else. */
  expiresAt: number;
  readonly ttl: number;
}

export class Arbiter {
  readonly #grants = new Map<string, Grant>();
  readonly #released = new Map<string, number>();

  constructor(
    private readonly epochs: EpochStore,
    private readonly now: () => number = () => performance.now(),
    /** Called when a lock may have become free, so waiting workers can be woken. */
    private readonly onFree: (name: string) => void = () => {},
  ) {}

  /** Grants `name` if it is free (or expired, or already this holder's). `eligible`: the worker has acked. */
  acquire(name: string, workerId: string, holder: HolderIdentity, ttl: number, eligible: boolean): Grant | null {
    const current = this.#grants.get(name);
    if (current && current.expiresAt > this.now() && current.holder.id !== holder.id) return null;
    if (!eligible) return null;
    const wall = Date.now();
    const grant: Grant = {
      name,
      token: this.epochs.next(name),
      holder,
      workerId,
      acquiredAt: wall,
      renewedAt: wall,
      expiresAt: this.now() + ttl,
      ttl,
    };
    this.#grants.set(name, grant);
    return grant;
  }

  renew(name: string, workerId: string, token: number, ttl: number): Grant | null {
    const grant = this.#grants.get(name);
    if (!grant || grant.token !== token || grant.workerId !== workerId || grant.expiresAt <= this.now()) return null;
    grant.expiresAt = this.now() + ttl;
    grant.renewedAt = Date.now();
    return grant;
  }

  release(name: string, workerId: string, token: number): void {
    const grant = this.#grants.get(name);
    if (!grant || grant.token !== token || grant.workerId !== workerId) return;
    this.#free(name, grant);
  }

  /** A worker's process is gone: whatever it held is free at once. */
  workerGone(workerId: string): void {
    for (const [name, grant] of this.#grants) if (grant.workerId === workerId) this.#free(name, grant);
  }

  inspect(name: string, alive: (workerId: string) => boolean): LockRecord | null {
    const grant = this.#grants.get(name);
    if (!grant) {
      const token = this.#released.get(name);
      if (token === undefined) return null;
      return {
        name,
        state: 'free',
        token,
        holder: null,
        acquiredAt: null,
        renewedAt: null,
        expiresAt: null,
        alive: null,
        location: 'manager',
      };
    }
    const { token, holder, acquiredAt, renewedAt, expiresAt, workerId } = grant;
    const wallExpiry = Date.now() + (expiresAt - this.now());
    return {
      name,
      state: 'held',
      token,
      holder,
      acquiredAt,
      renewedAt,
      expiresAt: wallExpiry,
      alive: alive(workerId),
      location: 'manager',
    };
  }

  /** Who holds `name` now (for status tables), if the grant is live. */
  holderOf(name: string): Grant | null {
    const grant = this.#grants.get(name);
    return grant && grant.expiresAt > this.now() ? grant : null;
  }

  #free(name: string, grant: Grant): void {
    this.#grants.delete(name);
    this.#released.set(name, grant.token);
    this.onFree(name);
  }
}
