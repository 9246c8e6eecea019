/**
 * What a candidate remembers of each lock between its attempts, so that state loss is never taken
 * for a release (a key gone without a release is not a release: its holder may still be inside its lease):
 *
 * - the last holder it saw (token, connection, TTL): when that holder's key vanishes without a
 *   release (FLUSHALL, eviction, an empty restart), the holder may still be inside its lease, so
 *   the candidate waits one of that holder's TTLs, by its own monotonic clock, from the moment it
 *   first found the key gone (the holder's last renew came before the loss);
 * - the highest token it has seen or held: the floor under the next token, when the counter itself
 *   was lost.
 */
import { TokenFloor } from './floor.js';
import type { ParsedValue } from './record.js';

export interface SeenHolder {
  readonly token: number;
  readonly clientId: string | null;
  readonly ttl: number;
  readonly pid: number | undefined;
  readonly hostname: string | undefined;
}

export class SeenHolders {
  readonly #seen = new Map<string, SeenHolder>();
  readonly #vanishedAt = new Map<string, number>();
  readonly #floor = new TokenFloor();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Someone else holds `name`: remember them. `fallbackTtl` when their record is unreadable. */
  saw(name: string, value: ParsedValue, fallbackTtl: number): void {
    const record = value.record;
    this.#seen.set(name, {
      token: value.token,
      clientId: value.clientId,
      ttl: record?.ttl ?? fallbackTtl,
      pid: record?.holder.pid,
      hostname: record?.holder.hostname,
    });
    this.#vanishedAt.delete(name);
    this.#floor.raise(name, value.token);
  }

  /** `token` was seen on no holder worth remembering (a Redlock value on a minority of the nodes): only the floor rises. */
  raise(name: string, token: number): void {
    this.#floor.raise(name, token);
  }

  /** We hold `name` with `token`: whatever we saw before is over (we know we are the holder). */
  hold(name: string, token: number): void {
    this.forget(name);
    this.#floor.raise(name, token);
  }

  /** The last holder seen (and not known to be over), if any. */
  last(name: string): SeenHolder | undefined {
    return this.#seen.get(name);
  }

  /**
   * The seen holder's key is gone without its release: ms still to wait before taking over
   * (0: its lease has certainly ended). The first call starts the wait.
   */
  remainingAfterVanish(name: string): number {
    const holder = this.#seen.get(name);
    if (!holder) return 0;
    const now = this.now();
    const since = this.#vanishedAt.get(name) ?? now;
    this.#vanishedAt.set(name, since);
    return Math.max(0, since + holder.ttl - now);
  }

  /**
   * The seen holder's state is gone without its release: whether its lease has certainly ended
   * (one of its TTLs since the first call for this loss; it is then forgotten, nothing to wait
   * for). The first call of each loss also calls `onStart` with the ms left, so the caller warns
   * once and wakes its followers when the wait ends, not at some later retry.
   */
  waitedOut(name: string, onStart: (remaining: number, holder: SeenHolder) => void): boolean {
    const holder = this.#seen.get(name);
    const first = this.firstNotice(name);
    const remaining = this.remainingAfterVanish(name);
    if (!holder || remaining <= 0) {
      this.forget(name);
      return true;
    }
    if (first) onStart(remaining, holder);
    return false;
  }

  /** Whether the current vanish was already reported (to warn once per loss). */
  firstNotice(name: string): boolean {
    return this.#vanishedAt.get(name) === undefined;
  }

  /** The seen holder is over (its lease ended, or its connection closed): nothing to wait for. */
  forget(name: string): void {
    this.#seen.delete(name);
    this.#vanishedAt.delete(name);
  }

  /** The highest token seen or held for `name` (0 if none): the next token must be above it. */
  floor(name: string): number {
    return this.#floor.of(name);
  }
}
