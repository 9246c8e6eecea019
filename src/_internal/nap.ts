/**
 * The election loop's sleeps. Stop cuts any sleep short; a wake-up hint (the holder released or
 * died) cuts short only a follower's sleep, and a hint that arrives while no such sleep is pending
 * (mid-acquire) is kept for the next one instead of being lost.
 */
export class Nap {
  #current: { wakeable: boolean; done: () => void } | null = null;
  #hintPending = false;
  #over = false;

  sleep(ms: number, wakeable: boolean): Promise<void> {
    if (this.#over || (wakeable && this.#hintPending)) {
      this.#hintPending = false;
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
      const entry = { wakeable, done };
      this.#current = entry;
    });
  }

  /** A wake-up hint: ends a wakeable sleep now, or the next one as soon as it starts. */
  hint(): void {
    if (this.#current?.wakeable) this.#current.done();
    else this.#hintPending = true;
  }

  /** Ends the current sleep, wakeable or not (the primary must re-check its lease now). */
  urgent(): void {
    this.#current?.done();
  }

  /** Ends any sleep now and every later one at once. */
  end(): void {
    this.#over = true;
    this.#current?.done();
  }
}
