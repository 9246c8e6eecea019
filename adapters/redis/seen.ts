/**
 * What a candidate remembers of each lock between its attempts, so that state loss is never taken
 * for a release (a key gone without a release is not a release: its holder may still be inside its lease):
 *
 * - the last holder it saw (token, connection, TTL): when that holder's key vanishes without a
 *   release (FLUSHALL, eviction, an empty restart), the holder may still be inside its lease, so
 *   the candidate waits one of that holder's TTLs, by its own monotonic clock, from the moment it
 *   first found the key gone (the holder's last renew came before the loss);
 * - the highest token it has seen or held: the floor under the next token, when the counter itself
 *   was lost;
 * - for a quorum (Redlock), also a value a loss left on a minority of the nodes (`sawOnMinority`,
 *   keyed on token and holder id), and the end of a wait by that holder's own release (`released`).
 */
import { TokenFloor } from './floor.js';
import type { ParsedValue } from './record.js';

export interface SeenHolder {
  readonly token: number;
  readonly holderId: string;
  readonly clientId: string | null;
  readonly ttl: number;
  readonly pid: number | undefined;
  readonly hostname: string | undefined;
}

export class SeenHolders {
  readonly #seen = new Map<string, SeenHolder>();
  readonly #vanishedAt = new Map<string, number>();
  readonly #floor = new TokenFloor();
  /** Per lock, the holder (`<token>|<holder id>`) whose TTL was last waited out. */
  readonly #over = new Map<string, string>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Someone else holds `name`: remember them. `fallbackTtl` when their record is unreadable. */
  saw(name: string, value: ParsedValue, fallbackTtl: number): void {
    this.#seen.set(name, seenHolder(value, fallbackTtl));
    this.#vanishedAt.delete(name);
    this.#floor.raise(name, value.token);
  }

  /**
   * `value` was seen only where a majority's state was lost (a Redlock value on a minority of the
   * nodes): its holder may still be inside its lease, renewed before the loss. Remembered as the
   * holder to wait for when it is newer than the one remembered (a wait started for an older lease
   * does not cover it: it starts again); the same holder again keeps its wait running (it cannot
   * renew without a majority), with the longest TTL its values showed; an older one only raises the floor.
   */
  sawOnMinority(name: string, value: ParsedValue, fallbackTtl: number): void {
    this.#floor.raise(name, value.token);
    const known = this.#seen.get(name);
    const shown = seenHolder(value, fallbackTtl);
    const next = { ...shown, ttl: Math.max(shown.ttl, fallbackTtl) };
    // A value whose TTL was already waited out is a leftover (about to expire), not a holder.
    if (this.#over.get(name) === `${next.token}|${next.holderId}`) return;
    if (known && known.token === next.token && known.holderId === next.holderId) {
      if (next.ttl > known.ttl) this.#seen.set(name, { ...known, ttl: next.ttl });
    } else if (!known || next.token > known.token) {
      this.#seen.set(name, next);
      this.#vanishedAt.delete(name);
    }
  }

  /**
   * A new holder announced itself on the lock's channel (its grant: on a majority, for Redlock): a
   * follower that rests, and so rarely looks, still knows whom a key lost later belonged to. Only
   * a newer one than remembered counts (messages may arrive late).
   */
  announced(name: string, value: ParsedValue): void {
    const known = this.#seen.get(name);
    if (known && known.token >= value.token) return;
    this.#floor.raise(name, value.token);
    this.#seen.set(name, seenHolder(value, known?.ttl ?? 0));
    this.#vanishedAt.delete(name);
  }

  /** `token` was seen (on any value a Redlock candidate finds, remembered as a holder or not): the floor rises. */
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
      if (holder) this.#over.set(name, `${holder.token}|${holder.holderId}`);
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

  /**
   * `value` was released by its holder (a node's record of the last release): if it is the holder
   * remembered, it is over, and its leftovers on other nodes are no holder to wait for.
   */
  released(name: string, value: ParsedValue): void {
    const known = this.#seen.get(name);
    if (!known || known.token !== value.token || known.holderId !== value.holderId) return;
    this.#over.set(name, `${value.token}|${value.holderId}`);
    this.forget(name);
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

function seenHolder(value: ParsedValue, fallbackTtl: number): SeenHolder {
  const record = value.record;
  return {
    token: value.token,
    holderId: value.holderId,
    clientId: value.clientId,
    ttl: record?.ttl ?? fallbackTtl,
    pid: record?.holder.pid,
    hostname: record?.holder.hostname,
  };
}
