import type { Lease } from './adapter.js';

/** Singleton work: runs while this process is primary; `signal` aborts when it no longer is. */
export type PrimaryWork = (signal: AbortSignal, lease: Lease) => unknown;

/**
 * Starts every registered work function at each election and tracks the runs, so the lock is only
 * released once in-flight work has settled.
 */
export class WorkRunner {
  readonly #work = new Set<PrimaryWork>();
  readonly #runs = new Set<Promise<void>>();
  #controller: AbortController | null = null;
  #lease: Lease | null = null;

  constructor(private readonly onError: (error: unknown) => void) {}

  add(work: PrimaryWork): () => void {
    if (typeof work !== 'function') {
      throw new TypeError(`[primacy] Expected \`whilePrimary\` to get a function, got ${typeof work}`);
    }
    this.#work.add(work);
    if (this.#controller && this.#lease) this.#start(work, this.#controller.signal, this.#lease);
    return () => this.#work.delete(work);
  }

  /** Leadership began: run every work function with a fresh signal. */
  begin(lease: Lease): void {
    this.end(new Error('superseded by a new term'));
    this.#controller = new AbortController();
    this.#lease = lease;
    for (const work of this.#work) this.#start(work, this.#controller.signal, lease);
  }

  /** Leadership ended (or is ending): abort the signal handed to the work. */
  end(reason: Error): void {
    this.#controller?.abort(reason);
    this.#controller = null;
    this.#lease = null;
  }

  /** Resolves when every run started so far has settled. */
  settled(): Promise<unknown> {
    return Promise.allSettled([...this.#runs]);
  }

  #start(work: PrimaryWork, signal: AbortSignal, lease: Lease): void {
    const run = (async () => {
      try {
        await work(signal, lease);
      } catch (error) {
        if (!signal.aborted || error !== signal.reason) this.onError(error);
      }
    })();
    this.#runs.add(run);
    void run.finally(() => this.#runs.delete(run));
  }
}
