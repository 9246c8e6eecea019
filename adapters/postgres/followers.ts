/**
 * Waiting followers, at a cost per lock rather than per follower:
 *
 * - every follower LISTENs (on its adapter's session, one LISTEN for every lock of the table) and
 *   is woken when a holder releases (`released`), when the lock is found free (`free`) and when the
 *   lock has no watcher (`seat`);
 * - one follower per lock, the one whose session holds the lock's watcher seat (an advisory lock
 *   of its own), checks every `livenessInterval` that the holder's session still holds the lock
 *   (a crash frees it: NOTIFY `free`) and that its lease has not ended, judged on this process's
 *   monotonic clock (sightings.ts: a paused holder's session is ended, then the lock is free: NOTIFY `free`);
 * - the others try again only now and then (`idleRetry`): every follower holds the lock's follower
 *   mark (a shared advisory lock), so a try counts them, and each waits about `count / 2` seconds
 *   (at random, so their tries spread): the lock sees some 2 tries a second however many they are,
 *   which also finds a free lock soon if the holder and the watcher died together;
 * - a holder's renew looks whether the seat is taken; if not while followers wait, it notifies
 *   `seat` and one of them takes it.
 */
import type { AdapterCallContext } from '../../src/adapter.js';
import { type LockKeys, parsePayload } from './keys.js';
import type { LockRow } from './sql.js';

/** What the watcher sees at each look: the lock row, and which backend holds the lock (null: free). */
export interface WatchRow extends LockRow {
  readonly holder_pid: number | null;
}

/** What the followers need of the adapter. */
export interface FollowersHost {
  /** One look at the lock (`notify`: say `free` if it is free). Rejects when the session is gone. */
  look(keys: LockKeys, notify: boolean): Promise<WatchRow>;
  /** The lock is held: ends its holder's session if its lease has certainly ended (takeover.ts). */
  takeOver(keys: LockKeys, row: WatchRow, at: number, context: AdapterCallContext | undefined): Promise<boolean>;
  /** Monotonic ms (the clock the takeover judges on). */
  now(): number;
  /** The last watcher of `keys` left: give up its seat and mark. */
  leave(keys: LockKeys): void;
  /** Nobody watches any lock any more. */
  idle(): void;
  /** Whether the session (and so the LISTEN) is up now. */
  listening(): boolean;
}

/** What a lost acquire round learned. */
export interface FollowState {
  /** This session holds the lock's watcher seat. */
  readonly seated: boolean;
  /** How many sessions wait for the lock (hold its follower mark). */
  readonly followers: number;
}

/** Tries a second, across every follower of a lock, while they wait. */
const TRIES_PER_SECOND = 2;

interface Watched {
  readonly keys: LockKeys;
  readonly listeners: Set<() => void>;
  followers: number;
  poll: NodeJS.Timeout | undefined;
  looking: boolean;
  /** A `free` was sent for the current free spell: not again every look. */
  saidFree: boolean;
  context: AdapterCallContext | undefined;
}

export class Followers {
  readonly #watched = new Map<string, Watched>();
  readonly #host: FollowersHost;
  readonly #livenessInterval: number;

  constructor(host: FollowersHost, livenessInterval: number) {
    this.#host = host;
    this.#livenessInterval = livenessInterval;
  }

  add(keys: LockKeys, onChange: () => void): () => void {
    let watched = this.#watched.get(keys.name);
    if (!watched) {
      watched = { keys, listeners: new Set(), followers: 0, poll: undefined, looking: false, saidFree: false, context: undefined };
      this.#watched.set(keys.name, watched);
    }
    watched.listeners.add(onChange);
    return () => {
      const current = this.#watched.get(keys.name);
      if (!current?.listeners.delete(onChange) || current.listeners.size > 0) return;
      clearInterval(current.poll);
      this.#watched.delete(keys.name);
      this.#host.leave(keys);
      if (this.#watched.size === 0) this.#host.idle();
    };
  }

  isWatched(name: string): boolean {
    return this.#watched.has(name);
  }

  /** We lost a round for `name`: remember how many wait, and watch the holder if we hold the seat. */
  follow(name: string, state: FollowState, context: AdapterCallContext | undefined): void {
    const watched = this.#watched.get(name);
    if (!watched) return;
    watched.followers = state.followers;
    watched.context = context ?? watched.context;
    if (!state.seated) {
      this.stopFollowing(name);
      return;
    }
    if (watched.poll) return;
    watched.saidFree = false;
    watched.poll = setInterval(() => void this.#look(watched), this.#livenessInterval);
    watched.poll.unref();
  }

  /** We hold `name` now (or lost the seat): nothing to watch. */
  stopFollowing(name: string): void {
    const watched = this.#watched.get(name);
    if (!watched) return;
    clearInterval(watched.poll);
    watched.poll = undefined;
  }

  /**
   * How long a follower of `name` may wait between tries: long while its session listens (it is
   * woken), spread at random around `followers / TRIES_PER_SECOND` seconds. Undefined (the
   * elector's own pace) while the session is down or nobody is counted yet.
   */
  idleRetry(name: string): number | undefined {
    const watched = this.#watched.get(name);
    if (!watched || watched.followers < 1 || !this.#host.listening()) return undefined;
    return Math.random() * 2 * ((watched.followers * 1000) / TRIES_PER_SECOND);
  }

  /** A notification on the table's channel: wake the followers of the lock it names. */
  onNotification(payload: string | undefined): void {
    const about = parsePayload(payload);
    if (!about) return;
    for (const [name, watched] of this.#watched) {
      if (watched.keys.namespace === about.namespace && watched.keys.key === about.key) this.notify(name);
    }
  }

  notify(name: string): void {
    for (const listener of [...(this.#watched.get(name)?.listeners ?? [])]) listener();
  }

  /** The session is gone: its seats with it. Everyone tries again (and a holder steps down). */
  sessionLost(): void {
    for (const name of this.#watched.keys()) this.stopFollowing(name);
    for (const name of [...this.#watched.keys()]) this.notify(name);
  }

  close(): void {
    for (const watched of this.#watched.values()) clearInterval(watched.poll);
    this.#watched.clear();
  }

  /** The watcher's look: is the holder's session still there, and its lease not past its TTL? */
  async #look(watched: Watched): Promise<void> {
    if (watched.looking || this.#watched.get(watched.keys.name) !== watched) return;
    watched.looking = true;
    try {
      const row = await this.#host.look(watched.keys, !watched.saidFree);
      const at = this.#host.now();
      // Free: the NOTIFY reaches every follower, this one too.
      watched.saidFree = row.holder_pid === null;
      if (row.holder_pid !== null) await this.#host.takeOver(watched.keys, row, at, watched.context);
    } catch {
      // The session's trouble is reported by the calls the elector makes; its loss wakes everyone.
    } finally {
      watched.looking = false;
    }
  }
}
