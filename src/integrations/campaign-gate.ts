import type { Lease, LockAdapter } from '../adapter.js';

/**
 * A lock that refuses every acquire until it is opened: an election on it exists (listeners,
 * `whilePrimary` work and `isPrimary` all work, as a follower) but cannot win before its host is
 * ready. The NestJS module needs this because Nest injects the Election into constructors, long
 * before `onApplicationBootstrap`, and a half-booted app must not become primary.
 *
 * While closed, an acquire answers "held" without asking the backend; `open()` wakes the election
 * through `watch` so it campaigns at once, and resolves once that first real round is over.
 */
export class CampaignGate {
  readonly lock: LockAdapter;
  #open = false;
  readonly #wakers = new Set<() => void>();
  #firstRound: ((outcome: Promise<unknown>) => void) | undefined;

  constructor(inner: LockAdapter) {
    const gate = this;
    const lock: LockAdapter = {
      kind: inner.kind,
      async acquire(name, holder, ttl, context) {
        if (!gate.#open) return null;
        const attempt = inner.acquire(name, holder, ttl, context);
        gate.#firstRound?.(attempt);
        gate.#firstRound = undefined;
        return attempt;
      },
      renew: (lease, ttl, context) => inner.renew(lease, ttl, context),
      release: (lease, context) => inner.release(lease, context),
      inspect: (name) => inner.inspect(name),
      // Always present: it is how open() wakes the election (the inner lock's own hints pass through).
      watch(name, onChange) {
        gate.#wakers.add(onChange);
        const unwatch = inner.watch?.(name, onChange);
        return () => {
          gate.#wakers.delete(onChange);
          unwatch?.();
        };
      },
      // While closed, the election's own pace (open() wakes it anyway): no long idle sleep.
      idleRetry: (name) => (gate.#open ? inner.idleRetry?.(name) : undefined),
    };
    if (inner.isIntact) lock.isIntact = (lease: Lease) => inner.isIntact?.(lease) !== false;
    if (inner.connectionBound !== undefined) Object.assign(lock, { connectionBound: inner.connectionBound });
    this.lock = lock;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /**
   * Lets the election campaign, wakes it, and resolves once its first real acquire has settled and
   * the election has acted on the answer (`isPrimary` is then meaningful). Never rejects: a failed
   * round is the election's to report.
   */
  open(): Promise<void> {
    if (this.#open) return Promise.resolve();
    const round = new Promise<Promise<unknown>>((resolve) => (this.#firstRound = resolve));
    this.#open = true;
    for (const wake of this.#wakers) wake();
    return round
      .then((attempt) => attempt)
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => new Promise<void>((resolve) => setImmediate(resolve))); // the elector's own continuation runs first
  }
}
