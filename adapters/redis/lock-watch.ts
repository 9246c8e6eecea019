/**
 * One adapter's part in watching one lock for its followers (see watcher.ts): whether it holds the
 * lock, tries for the watcher claim, watches the holder (polling its connection, waking at its
 * lease's expiry, keeping the claim alive), or rests while another follower watches.
 */
import type { ConnectionBinding } from './connection.js';
import type { LockKeys } from './keys.js';
import type { Claim, WatcherClaims } from './watcher.js';

/**
 * `holding`: an election of this adapter holds the lock (nothing to watch: a process cannot watch
 * itself die); `unclaimed`: it tries for the claim when next it follows a holder; `claiming`;
 * `watching` the holder for every follower; `resting` while another follower watches.
 */
type Role = 'holding' | 'unclaimed' | 'claiming' | 'watching' | 'resting';

export interface WatchParts {
  readonly claims: WatcherClaims;
  readonly binding: ConnectionBinding;
  readonly livenessInterval: number;
  /** Where the first liveness poll falls within `livenessInterval`, in ms. */
  readonly pollOffset: number;
  /** All followers of a lock together try about once per this many ms while they rest. */
  readonly restingRetry: number;
  /** Wakes the lock's waiting elections after `ms` (at once if <= 0). */
  readonly wake: (ms: number) => void;
}

/**
 * One resting follower's wait, exponential with mean `share` (memoryless): however recently the
 * followers were woken together, all of them together try about once per restingRetry from any
 * moment on. Draw it once per wait: the least of several draws would come several times as often.
 */
export function restingWait(share: number): number {
  return share * -Math.log(1 - Math.random());
}

export class LockWatch {
  #role: Role = 'unclaimed';
  /** The holder's connection, while we follow one (null: unbound). */
  #holder: string | null = null;
  /** The channel's subscribers at the last claim: about how many followers share the lock. */
  #subscribers = 1;
  /** Someone (maybe we) held the watcher claim at our last attempt; we may rest meanwhile. */
  #watcherKnown = false;
  /** The claim attempt in flight (settled: resolved), which gives the claim back if we stopped meanwhile. */
  #claiming: Promise<void> = Promise.resolve();
  #stopped = false;
  /** Holder ids of leases this adapter was granted: a follower of ours never watches them. */
  readonly #ours = new Set<string>();
  #poll: NodeJS.Timeout | undefined;
  #refresh: NodeJS.Timeout | undefined;
  /** As the watcher: wakes the elections when the holder's TTL runs out. */
  #expiry: NodeJS.Timeout | undefined;

  constructor(
    readonly keys: LockKeys,
    private readonly parts: WatchParts,
  ) {}

  /** Someone holds the lock on connection `clientId`: watch it if we hold or can take the claim, else rest. */
  follow(clientId: string | null, holderId: string | null): void {
    const changed = this.#holder !== clientId;
    this.#holder = clientId;
    if ((holderId !== null && this.#ours.has(holderId)) || (clientId !== null && clientId === this.parts.binding.known)) {
      if (this.#role === 'watching') void this.#giveUp();
      this.#role = 'holding';
      return;
    }
    if (this.#role === 'holding') this.#role = 'unclaimed';
    if (this.#role === 'watching' && (changed || this.#poll === undefined)) this.#startPoll();
    // A resting follower asks again each time: the claim may have lapsed, the followers' count changed.
    if (this.#role === 'unclaimed' || this.#role === 'resting') this.#claim();
  }

  /** An election of ours was granted the lock as `holderId`. */
  held(holderId: string): void {
    void this.#giveUp();
    this.#role = 'holding';
    this.#ours.add(holderId);
    if (this.#ours.size > 16) this.#ours.delete(this.#ours.values().next().value as string); // the oldest
  }

  isOurs(holderId: string): boolean {
    return this.#ours.has(holderId);
  }

  /**
   * The mean time a follower may go without trying (see `restingWait`), given that our channel is
   * `subscribed`: its share of `restingRetry` while a watcher (maybe itself) is known; undefined
   * (the elector's own pace) otherwise.
   */
  restingShare(subscribed: boolean): number | undefined {
    if (!subscribed || (!this.#watcherKnown && this.#role !== 'holding')) return undefined;
    return this.#subscribers * this.parts.restingRetry;
  }

  /** The holder asks for a watcher (the claim lapsed or was given up): a resting follower tries. */
  needWatcher(): void {
    this.#watcherKnown = false;
    if (this.#role === 'resting' || this.#role === 'unclaimed') this.#claim();
  }

  /** As the holder, after a renew: asks for a watcher if none (but ours) watches. */
  askForWatcher(): void {
    this.parts.claims.askForWatcher(this.keys);
  }

  /** No election of ours follows the lock any more. Resolves once our claim, one in flight included, is given up. */
  stop(): Promise<void> {
    this.#stopped = true;
    return this.#giveUp();
  }

  #giveUp(): Promise<void> {
    this.#stopTimers();
    const given = this.#role === 'watching' ? this.parts.claims.unclaim(this.keys) : this.#claiming;
    this.#role = 'unclaimed';
    this.#watcherKnown = false;
    return given;
  }

  #claim(): void {
    this.#role = 'claiming';
    this.#claiming = this.parts.claims.claim(this.keys).then(
      async (claim) => {
        if (this.#stopped || this.#role !== 'claiming') {
          if (claim.mine) await this.parts.claims.unclaim(this.keys); // stopped or holding meanwhile
          return;
        }
        this.#role = claim.mine ? 'watching' : 'resting';
        this.#subscribers = claim.subscribers;
        this.#watcherKnown = true;
        if (claim.mine) this.#watch(claim);
      },
      () => {
        this.#watcherKnown = false;
        if (this.#role === 'claiming') this.#role = 'unclaimed'; // tried again on the next round
      },
    );
  }

  /** We are the lock's watcher now: keep the claim alive, poll the holder's connection, wake at its expiry. */
  #watch(claim: Claim): void {
    this.#wakeAtExpiry(claim);
    this.#refresh = setInterval(async () => {
      const refreshed = await this.parts.claims.claim(this.keys).catch(() => null); // unreachable: it lapses by itself
      if (refreshed === null || this.#role !== 'watching') return;
      this.#subscribers = refreshed.subscribers;
      if (refreshed.mine) return this.#wakeAtExpiry(refreshed);
      this.#stopTimers(); // we were away longer than the claim: another follower watches now
      this.#role = 'unclaimed';
    }, this.parts.claims.claimTtl / 3).unref();
    this.#startPoll();
  }

  /** A paused holder keeps its connection: only its lease's TTL ends it. Wake the elections then. */
  #wakeAtExpiry({ leaseLeft }: Claim): void {
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(() => this.parts.wake(0), Math.max(0, leaseLeft) + 1).unref();
  }

  /** As the lock's watcher: poll the holder's connection until it closes. */
  #startPoll(): void {
    clearInterval(this.#poll);
    this.#poll = undefined;
    const { binding, livenessInterval, pollOffset } = this.parts;
    const clientId = this.#holder;
    if (clientId === null || !binding.enabled) return;
    const check = async () => {
      const gone = await binding.goneFor(clientId).catch(() => null);
      if (this.#stopped) return;
      if (gone === null) return this.#lookAgain(clientId);
      clearInterval(this.#poll);
      this.#poll = undefined;
      this.parts.wake(binding.takeoverGrace - gone);
    };
    // The first check after the offset, then every interval (a timeout's handle, cleared alike).
    this.#poll = setTimeout(() => {
      if (this.#poll === undefined) return;
      this.#poll = setInterval(check, livenessInterval).unref();
      void check();
    }, pollOffset).unref();
  }

  /**
   * The poll cannot judge `clientId` when it was recorded on another run of the server (it
   * restarted, or failed over): its liveness stays unknown, and we learn of a newer holder only
   * when our election next looks at the lock, which after a key lost in an empty restart is once
   * it has waited out the lost holder's TTL. Meanwhile our claim keeps the others resting and the
   * new holder from asking for a watcher, so nobody would see it die: read who holds the lock now,
   * at each poll, and watch that one as soon as there is one.
   */
  async #lookAgain(clientId: string): Promise<void> {
    if (!(await this.parts.binding.fromAnotherRun(clientId))) return;
    const current = await this.parts.claims.holder(this.keys).catch(() => null);
    if (current === null || this.#stopped || this.#role !== 'watching' || this.#holder !== clientId) return;
    if (current.clientId !== clientId) this.follow(current.clientId, current.holderId);
  }

  #stopTimers(): void {
    clearInterval(this.#poll);
    clearInterval(this.#refresh);
    clearTimeout(this.#expiry);
    this.#poll = undefined;
    this.#refresh = undefined;
    this.#expiry = undefined;
  }
}
