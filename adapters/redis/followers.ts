/**
 * Wakes waiting followers without making them poll the lock: a release PUBLISHes on the lock's
 * channel (one lazily created subscriber connection serves every lock of the adapter), and a
 * holder's death is seen by polling its connection (`CLIENT LIST ID`, one cheap command) every
 * `livenessInterval` ms, by one follower per lock: the one holding the lock's watcher claim
 * (adapters/redis/watcher.ts), which also wakes its election when the lease's TTL runs out. The
 * others rest, and retry about once per `restingRetry` ms all together. A new holder announces
 * itself on the channel (`HELD`), so a resting follower knows whom a lost key belonged to.
 *
 * The subscriber lives only while someone watches: it is closed when the last watcher leaves (an
 * election stopped), so a lock never keeps a process alive, whoever owns the client it came from.
 */
import type { ConnectionBinding } from './connection.js';
import type { LockKeys } from './keys.js';
import { type ParsedValue, parseValue } from './record.js';
import { NEED_WATCHER } from './scripts.js';
import { type Claim, WATCHER_CLAIM_TTL, type WatcherClaims } from './watcher.js';

export interface Subscriber {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready' | 'close', listener: () => void): unknown;
  disconnect(): void;
}

/** The prefix of the message a new holder publishes with its value, for followers that rest. */
export const HELD = 'held:';

/**
 * This adapter's part in watching a lock: `holding` it (nothing to watch), `unclaimed` (it will try
 * for the watcher claim when next it follows a holder), `claiming`, `watching` the holder for
 * every follower, or `resting` while another follower watches.
 */
type Role = 'holding' | 'unclaimed' | 'claiming' | 'watching' | 'resting';

interface Watched {
  readonly keys: LockKeys;
  readonly listeners: Set<() => void>;
  /** The holder's connection, while we follow one (null: unbound). */
  holder: string | null;
  role: Role;
  /** Whether the channel is subscribed now: a resting follower relies on it. */
  subscribed: boolean;
  /** The channel's subscribers at the last claim: about how many followers share the lock. */
  subscribers: number;
  /** Someone (maybe we) held the watcher claim at our last attempt; we may rest meanwhile. */
  watcherKnown: boolean;
  /** The claim attempt in flight (settled: resolved), which gives the claim back if we stopped meanwhile. */
  claiming: Promise<void>;
  /** Holder ids of leases this adapter was granted: a follower of ours never watches them (it would watch itself). */
  readonly ours: Set<string>;
  poll: NodeJS.Timeout | undefined;
  refresh: NodeJS.Timeout | undefined;
  /** As the watcher: wakes the election when the holder's TTL runs out. */
  expiry: NodeJS.Timeout | undefined;
}

export interface FollowersOptions {
  readonly createSubscriber: () => Subscriber;
  readonly binding: ConnectionBinding;
  readonly claims: WatcherClaims;
  readonly livenessInterval: number;
  /** Where the first liveness poll falls within `livenessInterval`, in ms (Redlock staggers its nodes). @default 0 */
  readonly pollOffset?: number;
  /** All followers of a lock together try about once per this many ms while they rest (see watcher.ts). */
  readonly restingRetry: number;
  /** The last watcher left: no election uses the lock any more. */
  readonly onIdle: () => void;
  /** A holder announced itself on the lock's channel (see `HELD`). */
  readonly onHolder: (name: string, value: ParsedValue) => void;
}

export class Followers {
  readonly #watched = new Map<string, Watched>();
  #subscriber: Subscriber | null = null;

  constructor(private readonly options: FollowersOptions) {}

  add(name: string, keys: LockKeys, onChange: () => void): () => void {
    let watched = this.#watched.get(name);
    if (!watched) {
      watched = {
        keys,
        listeners: new Set(),
        holder: null,
        role: 'unclaimed',
        subscribed: false,
        subscribers: 1,
        watcherKnown: false,
        ours: new Set(),
        claiming: Promise.resolve(),
        poll: undefined,
        refresh: undefined,
        expiry: undefined,
      };
      this.#watched.set(name, watched);
      this.#subscribe(watched);
    }
    watched.listeners.add(onChange);
    return () => {
      const current = this.#watched.get(name);
      if (!current) return;
      current.listeners.delete(onChange);
      if (current.listeners.size > 0) return;
      const unclaimed = this.#stopWatching(current);
      this.#watched.delete(name);
      if (this.#watched.size === 0) {
        this.closeSubscriber();
        // The claim goes before the client: an owned one closes when idle.
        void unclaimed.then(() => this.#watched.size === 0 && this.options.onIdle());
      } else void this.#subscriber?.unsubscribe(current.keys.events).catch(() => undefined);
    };
  }

  /**
   * Someone else holds `name` on connection `clientId`: watch that connection until it closes, if
   * we hold the lock's watcher claim or can take it; else rest (see `idleRetry`). A resting
   * follower asks again each time: the claim may have lapsed, and the followers' count changed.
   */
  followHolder(name: string, clientId: string | null, holderId: string | null): void {
    const watched = this.#watched.get(name);
    if (!watched) return;
    const changed = watched.holder !== clientId;
    watched.holder = clientId;
    // Another election of this adapter holds it: a process cannot watch itself die.
    const ours = (holderId !== null && watched.ours.has(holderId)) || (clientId !== null && clientId === this.options.binding.known);
    if (ours) {
      if (watched.role === 'watching') void this.#stopWatching(watched);
      watched.role = 'holding';
      return;
    }
    if (watched.role === 'holding') watched.role = 'unclaimed';
    if (watched.role === 'watching' && (changed || watched.poll === undefined)) this.#poll(name, watched);
    if (watched.role === 'unclaimed' || watched.role === 'resting') this.#claim(name, watched);
  }

  /**
   * How long a follower of `name` may go without trying (see `LockAdapter.idleRetry`): its share
   * of `restingRetry` while a watcher (maybe itself) is known and our channel is subscribed, else
   * the elector's own pace.
   */
  idleRetry(name: string): number | undefined {
    const watched = this.#watched.get(name);
    if (!watched?.subscribed || (!watched.watcherKnown && watched.role !== 'holding')) return undefined;
    // Exponential (memoryless): however recently the followers were woken together, all of them
    // together try about once per restingRetry from any moment on, never all after one long silence.
    const share = watched.subscribers * this.options.restingRetry;
    return share * -Math.log(1 - Math.random());
  }

  /** Wakes the followers of `name` after `ms` (at once if <= 0): when a takeover grace ends. */
  wakeAfter(name: string, ms: number): void {
    if (ms <= 0) this.notify(name);
    else setTimeout(() => this.notify(name), ms).unref();
  }

  /** We hold `name` now (as `holderId`): nothing to watch, and another follower may take the watch. */
  stopFollowing(name: string, holderId: string): void {
    const watched = this.#watched.get(name);
    if (!watched) return;
    void this.#stopWatching(watched);
    watched.role = 'holding';
    watched.ours.add(holderId);
    if (watched.ours.size > 16) watched.ours.delete(watched.ours.values().next().value as string); // the oldest
  }

  /** As the holder of `name`, after a renew: asks for a watcher if none (but ours) watches. */
  askForWatcher(name: string): void {
    const watched = this.#watched.get(name);
    if (watched) this.options.claims.askForWatcher(watched.keys);
  }

  notify(name: string): void {
    for (const listener of this.#watched.get(name)?.listeners ?? []) listener();
  }

  notifyAll(): void {
    for (const name of this.#watched.keys()) this.notify(name);
  }

  async close(): Promise<void> {
    const unclaimed = [...this.#watched.values()].map((watched) => this.#stopWatching(watched));
    this.#watched.clear();
    this.closeSubscriber();
    await Promise.all(unclaimed);
  }

  /**
   * Closes the subscriber connection now (the next watcher of a new name opens another). Not
   * `quit()`: that waits behind a SUBSCRIBE queued while the server is unreachable, and the
   * connection goes on reconnecting meanwhile.
   */
  closeSubscriber(): void {
    const subscriber = this.#subscriber;
    this.#subscriber = null;
    for (const watched of this.#watched.values()) watched.subscribed = false;
    subscriber?.disconnect();
  }

  /**
   * The client is connected again after it ended (its owner called connect() after a quit): the
   * subscriber closed with it, so subscribe again to what is still watched, and wake the watchers
   * (a release may have gone unheard meanwhile).
   */
  resubscribe(): void {
    if (this.#subscriber !== null || this.#watched.size === 0) return;
    for (const watched of this.#watched.values()) this.#subscribe(watched);
    this.notifyAll();
  }

  #subscribe(watched: Watched): void {
    this.#ensureSubscriber()
      .subscribe(watched.keys.events)
      .then(() => {
        watched.subscribed = this.#subscriber !== null;
      })
      .catch(() => undefined); // The watcher's polling still covers us; the subscriber reconnects by itself.
  }

  #claim(name: string, watched: Watched): void {
    watched.role = 'claiming';
    watched.claiming = this.options.claims.claim(watched.keys).then(
      async (claim) => {
        if (this.#watched.get(name) !== watched || watched.role !== 'claiming') {
          if (claim.mine) await this.options.claims.unclaim(watched.keys); // stopped meanwhile
          return;
        }
        watched.role = claim.mine ? 'watching' : 'resting';
        watched.subscribers = claim.subscribers;
        watched.watcherKnown = true;
        if (claim.mine) this.#watch(name, watched, claim);
      },
      () => {
        watched.watcherKnown = false;
        if (watched.role === 'claiming') watched.role = 'unclaimed'; // tried again on the next round
      },
    );
  }

  /** We are the lock's watcher now: keep the claim alive, poll the holder's connection, wake at its expiry. */
  #watch(name: string, watched: Watched, claim: Claim): void {
    this.#wakeAtExpiry(name, watched, claim);
    watched.refresh = setInterval(async () => {
      const refreshed = await this.options.claims.claim(watched.keys).catch(() => null); // unreachable: it lapses by itself
      if (refreshed === null || this.#watched.get(name) !== watched || watched.role !== 'watching') return;
      watched.subscribers = refreshed.subscribers;
      if (refreshed.mine) return this.#wakeAtExpiry(name, watched, refreshed);
      this.#stopTimers(watched); // we were away longer than the claim: another follower watches now
      watched.role = 'unclaimed';
    }, WATCHER_CLAIM_TTL / 3);
    watched.refresh.unref();
    this.#poll(name, watched);
  }

  /** A paused holder keeps its connection: only its lease's TTL ends it. Wake the election then. */
  #wakeAtExpiry(name: string, watched: Watched, { leaseLeft }: Claim): void {
    clearTimeout(watched.expiry);
    watched.expiry = setTimeout(() => this.notify(name), Math.max(0, leaseLeft) + 1);
    watched.expiry.unref();
  }

  /** As the lock's watcher: poll the holder's connection until it closes. */
  #poll(name: string, watched: Watched): void {
    clearInterval(watched.poll);
    watched.poll = undefined;
    const { binding, livenessInterval, pollOffset = 0 } = this.options;
    const clientId = watched.holder;
    if (clientId === null || !binding.enabled) return;
    const check = async () => {
      const gone = await binding.goneFor(clientId).catch(() => null);
      if (gone === null || this.#watched.get(name) !== watched) return;
      clearInterval(watched.poll);
      watched.poll = undefined;
      this.wakeAfter(name, binding.takeoverGrace - gone);
    };
    // The first check after the offset, then every interval (a timeout's handle, cleared alike).
    watched.poll = setTimeout(() => {
      if (watched.poll === undefined) return;
      watched.poll = setInterval(check, livenessInterval);
      watched.poll.unref();
      void check();
    }, pollOffset);
    watched.poll.unref();
  }

  #stopTimers(watched: Watched): void {
    clearInterval(watched.poll);
    clearInterval(watched.refresh);
    clearTimeout(watched.expiry);
    watched.poll = undefined;
    watched.refresh = undefined;
    watched.expiry = undefined;
  }

  /** Resolves once our claim, if any, is given up, one in flight included (never rejects). */
  #stopWatching(watched: Watched): Promise<void> {
    this.#stopTimers(watched);
    const unclaimed = watched.role === 'watching' ? this.options.claims.unclaim(watched.keys) : watched.claiming;
    watched.role = 'unclaimed';
    watched.watcherKnown = false;
    return unclaimed;
  }

  /** The holder asks for a watcher: the claim lapsed (its watcher died). Every resting follower tries. */
  #needWatcher(name: string, watched: Watched): void {
    watched.watcherKnown = false;
    if (watched.role === 'resting' || watched.role === 'unclaimed') this.#claim(name, watched);
  }

  #announced(name: string, watched: Watched, value: string): void {
    const parsed = parseValue(value);
    // Our own grant is no holder to wait for (the adapter knows it holds).
    if (parsed && !watched.ours.has(parsed.holderId)) this.options.onHolder(name, parsed);
  }

  #ensureSubscriber(): Subscriber {
    if (this.#subscriber) return this.#subscriber;
    const subscriber = this.options.createSubscriber();
    subscriber.on('error', () => undefined); // Reconnects by itself; missed wake-ups are covered by polling.
    subscriber.on('message', (channel, message) => {
      for (const [name, watched] of this.#watched) {
        if (watched.keys.events !== channel) continue;
        if (message === NEED_WATCHER) this.#needWatcher(name, watched);
        else if (message.startsWith(HELD)) this.#announced(name, watched, message.slice(HELD.length));
        else this.notify(name);
      }
    });
    // ioredis resubscribes what it had subscribed; a SUBSCRIBE it dropped while the server was
    // down (after its reconnect attempts) is sent again here, so no follower rests unsubscribed.
    subscriber.on('close', () => {
      for (const watched of this.#watched.values()) watched.subscribed = false;
    });
    subscriber.on('ready', () => {
      for (const watched of this.#watched.values()) if (!watched.subscribed && this.#subscriber === subscriber) this.#subscribe(watched);
    });
    this.#subscriber = subscriber;
    return subscriber;
  }
}
