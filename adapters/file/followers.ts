/**
 * The follower side of wake-ups: one beacon connection per watched lock directory, shared by the
 * listeners of an adapter instance, re-pointed at the current holder whenever an acquire attempt
 * finds the lock held.
 */
import type { HolderIdentity } from '../../src/adapter.js';
import { isHolderDead } from '../../src/identity.js';
import { BeaconWatch, beaconAddress } from './beacon.js';
import { scan } from './state.js';

interface Entry {
  readonly watch: BeaconWatch;
  readonly listeners: Set<() => void>;
  holder: HolderIdentity | null;
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
        watch: new BeaconWatch(beaconAddress(dir), () => this.#holderGone(dir)),
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

  /** An attempt found `dir` held (by `holder`, if known): keep a connection to its beacon. */
  follow(dir: string, holder: HolderIdentity | null): null {
    const entry = this.#entries.get(dir);
    if (entry) {
      if (holder) entry.holder = holder;
      entry.watch.follow();
    }
    return null;
  }

  close(): void {
    for (const { watch } of this.#entries.values()) watch.close();
    this.#entries.clear();
  }

  /** The beacon closed: wait (briefly) until the lock is free or its holder's pid is dead, then wake. */
  async #holderGone(dir: string): Promise<void> {
    const entry = this.#entries.get(dir);
    if (!entry) return;
    const { holder } = entry;
    // The kernel closes sockets a moment before the process becomes a zombie.
    for (let waited = 0; holder && waited < 100; waited += 2) {
      if (isHolderDead(holder) !== false) break;
      const { current } = await scan(dir).catch(() => ({ current: null }));
      if (current?.state !== 'held') break;
      await new Promise((r) => setTimeout(r, 2));
    }
    for (const listener of entry.listeners) listener();
  }
}
