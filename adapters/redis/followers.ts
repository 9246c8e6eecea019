/**
 * Wakes waiting followers without making them poll the lock: a release PUBLISHes on the lock's
 * channel (one lazily created subscriber connection serves every lock of the adapter), and a
 * holder's death is seen by polling its connection (`CLIENT LIST ID`, one cheap command) every
 * `livenessInterval` ms while someone waits.
 *
 * The subscriber lives only while someone watches: it is closed when the last watcher leaves (an
 * election stopped), so a lock never keeps a process alive, whoever owns the client it came from.
 */
import type { ConnectionBinding } from './connection.js';

export interface Subscriber {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  disconnect(): void;
}

interface Watched {
  readonly channel: string;
  readonly listeners: Set<() => void>;
  poll: NodeJS.Timeout | undefined;
}

export class Followers {
  readonly #watched = new Map<string, Watched>();
  #subscriber: Subscriber | null = null;

  constructor(
    private readonly createSubscriber: () => Subscriber,
    private readonly binding: ConnectionBinding,
    private readonly livenessInterval: number,
    /** The last watcher left: no election uses the lock any more. */
    private readonly onIdle: () => void = () => undefined,
  ) {}

  add(name: string, channel: string, onChange: () => void): () => void {
    let watched = this.#watched.get(name);
    if (!watched) {
      watched = { channel, listeners: new Set(), poll: undefined };
      this.#watched.set(name, watched);
      void this.#ensureSubscriber()
        .subscribe(channel)
        .catch(() => undefined); // Polling still covers us; the subscriber reconnects by itself.
    }
    watched.listeners.add(onChange);
    return () => {
      const current = this.#watched.get(name);
      if (!current) return;
      current.listeners.delete(onChange);
      if (current.listeners.size > 0) return;
      clearInterval(current.poll);
      this.#watched.delete(name);
      if (this.#watched.size === 0) {
        this.closeSubscriber();
        this.onIdle();
      } else void this.#subscriber?.unsubscribe(channel).catch(() => undefined);
    };
  }

  /** Someone else holds `name` on connection `clientId`: watch that connection until it closes. */
  followHolder(name: string, clientId: string | null): void {
    const watched = this.#watched.get(name);
    if (!watched) return;
    clearInterval(watched.poll);
    watched.poll = undefined;
    if (clientId === null || !this.binding.enabled) return;
    watched.poll = setInterval(async () => {
      const gone = await this.binding.goneFor(clientId).catch(() => null);
      if (gone === null || this.#watched.get(name) !== watched) return;
      clearInterval(watched.poll);
      watched.poll = undefined;
      this.wakeAfter(name, this.binding.takeoverGrace - gone);
    }, this.livenessInterval);
    watched.poll.unref();
  }

  /** Wakes the followers of `name` after `ms` (at once if <= 0): when a takeover grace ends. */
  wakeAfter(name: string, ms: number): void {
    if (ms <= 0) this.notify(name);
    else setTimeout(() => this.notify(name), ms).unref();
  }

  /** We hold `name` now: nothing to watch. */
  stopFollowing(name: string): void {
    const watched = this.#watched.get(name);
    if (watched) clearInterval(watched.poll);
  }

  notify(name: string): void {
    for (const listener of this.#watched.get(name)?.listeners ?? []) listener();
  }

  notifyAll(): void {
    for (const name of this.#watched.keys()) this.notify(name);
  }

  async close(): Promise<void> {
    for (const watched of this.#watched.values()) clearInterval(watched.poll);
    this.#watched.clear();
    this.closeSubscriber();
  }

  /**
   * Closes the subscriber connection now (the next watcher of a new name opens another). Not
   * `quit()`: that waits behind a SUBSCRIBE queued while the server is unreachable, and the
   * connection goes on reconnecting meanwhile.
   */
  closeSubscriber(): void {
    const subscriber = this.#subscriber;
    this.#subscriber = null;
    subscriber?.disconnect();
  }

  /**
   * The client is connected again after it ended (its owner called connect() after a quit): the
   * subscriber closed with it, so subscribe again to what is still watched, and wake the watchers
   * (a release may have gone unheard meanwhile).
   */
  resubscribe(): void {
    if (this.#subscriber !== null || this.#watched.size === 0) return;
    const subscriber = this.#ensureSubscriber();
    for (const watched of this.#watched.values()) void subscriber.subscribe(watched.channel).catch(() => undefined);
    this.notifyAll();
  }

  #ensureSubscriber(): Subscriber {
    if (this.#subscriber) return this.#subscriber;
    const subscriber = this.createSubscriber();
    subscriber.on('error', () => undefined); // Reconnects by itself; missed wake-ups are covered by polling.
    subscriber.on('message', (channel) => {
      for (const [name, watched] of this.#watched) if (watched.channel === channel) this.notify(name);
    });
    this.#subscriber = subscriber;
    return subscriber;
  }
}
