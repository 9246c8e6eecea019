/**
 * The follower side of wake-ups: one beacon connection per watched lock directory, shared by the
 * listeners of an adapter instance, re-pointed at the current holder's beacon (named after its
 * token) whenever an acquire attempt finds the lock held.
 */
import type { HolderIdentity } from '../../src/adapter.js';
import { isHolderDead } from '../../src/adapter-kit.js';
import { BeaconWatch } from './beacon.js';
import { beaconPath } from './beacon-file.js';
import { scan } from './state.js';

interface Entry {
  readonly watch: BeaconWatch;
  readonly listeners: Set<() => void>;
  holder: HolderIdentity | null;
  /** The token of the lease whose beacon to watch, once an attempt found one held. */
  token: number | null;
  /**
   * A token whose beacon closed on us while its holder lived and held the lock (a squatter, or a
   * holder over its connection cap): not followed again, its term is watched by polling. Reconnecting
   * at every poll cost each such follower a rescan burst per attempt.
   */
  shunned: number | null;
}

export class Followers {
  readonly #entries = new Map<string, Entry>();

  /** Calls `onChange` when the holder of `dir` may be gone; returns the unsubscribe function. */
  watch(dir: string, onChange: () => void): () => void {
    let entry = this.#entries.get(dir);
    if (!entry) {
      const created: Entry = {
        listeners: new Set(),
        holder: null,
        token: null,
        shunned: null,
        watch: new BeaconWatch(
          () => (created.token === null ? null : beaconPath(dir, created.token)),
          () => this.#holderGone(dir),
        ),
      };
      this.#entries.set(dir, created);
      entry = created;
    }
    entry.listeners.add(onChange);
    const { listeners, watch } = entry;
    return () => {
      listeners.delete(onChange);
      if (listeners.size > 0) return;
      watch.close();
      this.#entries.delete(dir);
    };
  }

  /** An attempt found `dir` held (at `token` by `holder`, when known): keep a connection to its beacon. */
  follow(dir: string, holder: HolderIdentity | null, token: number | null): null {
    const entry = this.#entries.get(dir);
    if (entry) {
      if (holder) entry.holder = holder;
      if (token !== null) entry.token = token;
      if (entry.token === null || entry.token !== entry.shunned) entry.watch.follow();
    }
    return null;
  }

  close(): void {
    for (const { watch } of this.#entries.values()) watch.close();
    this.#entries.clear();
  }

  /**
   * The beacon closed: wait (briefly) until the lock is free or its holder's pid is dead, then wake.
   * If neither happens, the close was not the holder's going: whoever listens on its socket file (a
   * squatter, or a holder that gave up its beacon, or one over its MAX_FOLLOWERS) closed it. No wake then, or a squatter
   * that closes every connection would make followers campaign in a busy loop; the next poll looks.
   */
  async #holderGone(dir: string): Promise<void> {
    const entry = this.#entries.get(dir);
    if (!entry) return;
    const { holder, token } = entry;
    // Shunned while we judge: an attempt in the meantime (the judging takes 100 ms, and far longer
    // on a busy machine) would otherwise reconnect to the very beacon that just closed on us.
    entry.shunned = token;
    let stillHeld = holder !== null;
    // The kernel closes sockets a moment before the process becomes a zombie.
    for (let waited = 0; holder && stillHeld && waited < 100; waited += 2) {
      const { current } = await scan(dir).catch(() => ({ current: null }));
      stillHeld = isHolderDead(holder) === false && current?.state === 'held';
      if (stillHeld) await new Promise((r) => setTimeout(r, 2));
    }
    if (stillHeld) return;
    if (entry.shunned === token) entry.shunned = null;
    for (const listener of entry.listeners) listener();
  }
}
