import { bounded } from './_internal/bounded.js';
import type { HolderIdentity, LockAdapter } from './adapter.js';

export interface LeaderObserverParts {
  readonly lock: LockAdapter;
  readonly name: string;
  /** How long a backend read may take, in ms. */
  readonly timeout: number;
  /** Where `leader` goes out (the election). */
  readonly events: { emit(event: 'leader', holder: HolderIdentity | null): boolean; listenerCount(event: 'leader'): number };
  readonly report: (error: unknown, operation: string) => void;
}

/**
 * The `leader` event of an election: who holds the lock, announced once per change of holder.
 * A follower asks the backend only when someone listens, after each round it lost.
 */
export class LeaderObserver {
  #leaderId: string | null | undefined;

  constructor(private readonly parts: LeaderObserverParts) {}

  /** After a lost round: read the holder from the backend (bounded), if anyone listens. */
  async observe(): Promise<void> {
    const { lock, name, timeout, events, report } = this.parts;
    if (events.listenerCount('leader') === 0) return;
    try {
      const record = await bounded(lock.inspect(name), { ms: timeout, adapter: lock.kind, operation: 'inspect' });
      this.note(record?.state === 'held' ? record.holder : null);
    } catch (error) {
      report(error, 'inspect');
    }
  }

  /** `holder` holds the lock now (null: nobody). Announced only when it differs from the last one. */
  note(holder: HolderIdentity | null): void {
    const id = holder?.id ?? null;
    if (id === this.#leaderId) return;
    this.#leaderId = id;
    this.parts.events.emit('leader', holder);
  }
}
