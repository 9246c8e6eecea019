/**
 * Wakes waiting followers without making them poll: one etcd watch per lock and adapter, however
 * many elections of the process follow that lock, woken by the lock key's deletion (a release, or
 * etcd expiring a crashed holder's lease) and by the moment the value last seen may be taken over
 * (`wakeAt`). etcd pushes every change on one stream, so idle followers cost the server nothing
 * per second; they retry rarely (`idleRetry`) only while their watch is connected. A broken
 * stream (etcd restarting, a network cut) makes the watch unhealthy until etcd3 connects it again:
 * followers then retry at the elector's pace, and are woken on reconnection (a change may have
 * gone unseen).
 *
 * A watch resumes from the revision it last saw. If etcd answers with a lower revision on
 * reconnection, etcd lost its data (an empty restart): the watch would wait for a revision that may
 * come much later, so it is replaced by a new one, and `onLoss` tells the lock.
 */
import type { IKeyValue, Watcher } from 'etcd3';
import type { EtcdClientLike } from '../etcd.js';

export interface WatchEvents {
  /** A value was written (an acquire, a renew, a takeover). Called before waking anyone. */
  onPut(name: string, kv: IKeyValue): void;
  /** The key was deleted (a release, an expiry, someone's delete). */
  onDelete(name: string, kv: IKeyValue): void;
  /** etcd lost its data (its revision went back). */
  onLoss(name: string, revision: number): void;
}

interface Watched {
  readonly key: string;
  readonly listeners: Set<() => void>;
  watcher: Watcher | null;
  healthy: boolean;
  /** The highest revision the watch has seen (0: not connected yet). */
  revision: number;
  wake: NodeJS.Timeout | undefined;
  retry: NodeJS.Timeout | undefined;
}

/** How soon a watch etcd cancelled (a compaction, a refused request) is made again, in ms. */
const REWATCH_MS = 250;

export class Watches {
  readonly #watched = new Map<string, Watched>();

  constructor(
    private readonly client: () => EtcdClientLike,
    private readonly events: WatchEvents,
  ) {}

  add(name: string, key: string, onChange: () => void): () => void {
    let watched = this.#watched.get(name);
    if (!watched) {
      watched = { key, listeners: new Set(), watcher: null, healthy: false, revision: 0, wake: undefined, retry: undefined };
      this.#watched.set(name, watched);
      this.#start(name, watched);
    }
    watched.listeners.add(onChange);
    return () => {
      const current = this.#watched.get(name);
      if (!current?.listeners.delete(onChange) || current.listeners.size > 0) return;
      this.#watched.delete(name);
      this.#stop(current);
    };
  }

  /** Whether `name`'s watch is connected, so its followers are woken by etcd. */
  healthy(name: string): boolean {
    return this.#watched.get(name)?.healthy === true;
  }

  watching(name: string): boolean {
    return this.#watched.has(name);
  }

  notify(name: string): void {
    for (const listener of this.#watched.get(name)?.listeners ?? []) listener();
  }

  /** Wakes `name`'s followers at `at` (monotonic ms, now if past), instead of any wake set before. */
  wakeAt(name: string, at: number, now: number): void {
    const watched = this.#watched.get(name);
    if (!watched || !Number.isFinite(at)) return;
    clearTimeout(watched.wake);
    // +1: woken strictly after the moment, so the attempt finds it passed.
    watched.wake = setTimeout(() => this.notify(name), Math.max(0, at - now) + 1);
    watched.wake.unref();
  }

  /** Replaces `name`'s watch by a new one from the current revision (etcd lost the revisions it resumed from). */
  restart(name: string): void {
    const watched = this.#watched.get(name);
    if (!watched) return;
    this.#stop(watched);
    watched.revision = 0;
    this.#start(name, watched);
  }

  close(): void {
    for (const watched of this.#watched.values()) this.#stop(watched);
    this.#watched.clear();
  }

  #start(name: string, watched: Watched): void {
    const watcher = this.client().watch().key(watched.key).watcher();
    watched.watcher = watcher;
    const current = () => this.#watched.get(name) === watched && watched.watcher === watcher;
    // etcd3 calls these inside its stream handlers: nothing may throw out of them.
    const guard =
      <A extends unknown[]>(handler: (...args: A) => void) =>
      (...args: A) => {
        try {
          if (current()) handler(...args);
        } catch {
          // A wake-up hint is lost at worst; the follower's next retry covers it.
        }
      };
    watcher.on(
      'connected',
      guard((answer) => {
        const revision = Number(answer.header.revision);
        if (revision < watched.revision) {
          this.events.onLoss(name, revision);
          this.restart(name);
        } else {
          watched.revision = revision;
          watched.healthy = true;
        }
        // A change may have gone unseen while disconnected (or before the first connection).
        this.notify(name);
      }),
    );
    watcher.on(
      'disconnected',
      guard(() => {
        watched.healthy = false;
      }),
    );
    watcher.on(
      'data',
      guard((answer) => {
        watched.revision = Math.max(watched.revision, Number(answer.header.revision));
      }),
    );
    watcher.on(
      'put',
      guard((kv) => this.events.onPut(name, kv)),
    );
    watcher.on(
      'delete',
      guard((kv) => {
        clearTimeout(watched.wake);
        this.events.onDelete(name, kv);
        this.notify(name);
      }),
    );
    // Listened to, or EventEmitter would throw it inside etcd3's stream handler.
    // etcd cancelled the watch (a compaction past its revision, a refusal): etcd3 has dropped it
    // already (no cancel of ours to send), so a new one is made. Listened to in any case, or
    // EventEmitter would throw the error inside etcd3's stream handler.
    watcher.on(
      'error',
      guard(() => {
        watched.healthy = false;
        watched.watcher = null;
        clearTimeout(watched.retry);
        watched.retry = setTimeout(() => {
          if (this.#watched.get(name) === watched && watched.watcher === null) this.#start(name, watched);
        }, REWATCH_MS);
        watched.retry.unref();
      }),
    );
  }

  #stop(watched: Watched): void {
    clearTimeout(watched.wake);
    clearTimeout(watched.retry);
    watched.healthy = false;
    const watcher = watched.watcher;
    watched.watcher = null;
    // Not awaited: a cancel waits for etcd's answer, which an unreachable etcd never gives.
    if (watcher) void watcher.cancel().catch(() => undefined);
  }
}
