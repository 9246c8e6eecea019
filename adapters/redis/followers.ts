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
import { LockWatch } from './lock-watch.js';
import { type ParsedValue, parseValue } from './record.js';
import { NEED_WATCHER } from './scripts.js';
import type { WatcherClaims } from './watcher.js';

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

interface Watched {
  readonly keys: LockKeys;
  readonly listeners: Set<() => void>;
  /** Whether the channel is subscribed now: a resting follower relies on it. */
  subscribed: boolean;
  readonly watch: LockWatch;
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
      const { claims, binding, livenessInterval, pollOffset = 0, restingRetry } = this.options;
      const wake = (ms: number) => this.wakeAfter(name, ms);
      const watch = new LockWatch(keys, { claims, binding, livenessInterval, pollOffset, restingRetry, wake });
      watched = { keys, listeners: new Set(), subscribed: false, watch };
      this.#watched.set(name, watched);
      this.#subscribe(watched);
    }
    watched.listeners.add(onChange);
    return () => {
      const current = this.#watched.get(name);
      if (!current) return;
      current.listeners.delete(onChange);
      if (current.listeners.size > 0) return;
      const unclaimed = current.watch.stop();
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
   * we hold the lock's watcher claim or can take it; else rest (see `idleRetry`).
   */
  followHolder(name: string, clientId: string | null, holderId: string | null): void {
    this.#watched.get(name)?.watch.follow(clientId, holderId);
  }

  /** The mean time a follower of `name` may go without trying (see `LockWatch.restingShare`). */
  restingShare(name: string): number | undefined {
    const watched = this.#watched.get(name);
    return watched?.watch.restingShare(watched.subscribed);
  }

  /** Wakes the followers of `name` after `ms` (at once if <= 0): when a takeover grace ends. */
  wakeAfter(name: string, ms: number): void {
    if (ms <= 0) this.notify(name);
    else setTimeout(() => this.notify(name), ms).unref();
  }

  /** We hold `name` now (as `holderId`): nothing to watch, and another follower may take the watch. */
  stopFollowing(name: string, holderId: string): void {
    this.#watched.get(name)?.watch.held(holderId);
  }

  /** As the holder of `name`, after a renew: asks for a watcher if none (but ours) watches. */
  askForWatcher(name: string): void {
    this.#watched.get(name)?.watch.askForWatcher();
  }

  notify(name: string): void {
    for (const listener of this.#watched.get(name)?.listeners ?? []) listener();
  }

  notifyAll(): void {
    for (const name of this.#watched.keys()) this.notify(name);
  }

  async close(): Promise<void> {
    const unclaimed = [...this.#watched.values()].map((watched) => watched.watch.stop());
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

  #announced(name: string, watched: Watched, value: string): void {
    const parsed = parseValue(value);
    // Our own grant is no holder to wait for (the adapter knows it holds).
    if (parsed && !watched.watch.isOurs(parsed.holderId)) this.options.onHolder(name, parsed);
  }

  #ensureSubscriber(): Subscriber {
    if (this.#subscriber) return this.#subscriber;
    const subscriber = this.options.createSubscriber();
    subscriber.on('error', () => undefined); // Reconnects by itself; missed wake-ups are covered by polling.
    subscriber.on('message', (channel, message) => {
      for (const [name, watched] of this.#watched) {
        if (watched.keys.events !== channel) continue;
        if (message === NEED_WATCHER) watched.watch.needWatcher();
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
