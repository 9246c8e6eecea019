/**
 * The election loop's sleeps, of two kinds:
 * - `follower-retry`: a follower waiting to campaign again. A wake-up (the holder released or died,
 *   stop() was called) ends it; one that arrives while no such sleep is pending (mid-acquire) is
 *   kept for the next one instead of being lost.
 * - `renew-wait`: a primary waiting for its next renew. Only `wakeAny()` ends it early (the lease
 *   must be re-checked now); a follower's wake-up must not make a primary renew early.
 */
export type SleepKind = 'follower-retry' | 'renew-wait';

export class Nap {
  #current: { kind: SleepKind; done: () => void } | null = null;
  #followerWakePending = false;
  #over = false;

  sleep(ms: number, kind: SleepKind): Promise<void> {
    if (this.#over || (kind === 'follower-retry' && this.#followerWakePending)) {
      this.#followerWakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      // Deliberately not unref'd: a running election keeps its process alive, as a server would.
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        if (this.#current === entry) this.#current = null;
        resolve();
      };
      const entry = { kind, done };
      this.#current = entry;
    });
  }

  /** Ends a follower's retry sleep now, or the next one as soon as it starts. */
  wakeFollower(): void {
    if (this.#current?.kind === 'follower-retry') this.#current.done();
    else this.#followerWakePending = true;
  }

  /** Ends the current sleep, whatever its kind (the primary must re-check its lease now). */
  wakeAny(): void {
    this.#current?.done();
  }

  /** Ends any sleep now and every later one at once. */
  end(): void {
    this.#over = true;
    this.#current?.done();
  }
}
