/**
 * What a lock adapter remembers of each lock between attempts (and from its watch), so that
 *
 * - a holder is taken over only once its lease has certainly ended. A candidate on the holder's own
 *   monotonic clock (clock.ts) reads the record's `expiresAt`; any other waits one TTL from the
 *   moment it first saw that very value (its mod revision and lease): the holder's last acquire or
 *   renew started before it wrote the value, so before we saw it, and its deadline is at most one
 *   TTL after that start, whatever the two wall clocks say (only their rates must agree, within the
 *   elector's drift margin). A renew writes a new value, so a live holder is never taken over.
 * - state loss is not a release: when the token key we saw is gone, or etcd's revision went back
 *   (an empty restart, a restore from an old snapshot), the last holder seen may still be inside
 *   its lease: nobody here takes over before one of its TTLs has passed since we first found it;
 * - tokens never go backwards: the highest token seen or held is the floor the next one must beat.
 */
import type { EtcdRecord, StoredKey } from './record.js';
import { parseRecord } from './record.js';

export interface Sighting {
  /** `<mod revision>@<lease>`: a value is the same only with both (revisions restart after data loss). */
  readonly id: string;
  /** The etcd lease it is attached to. */
  readonly lease: string;
  /** When we first saw it (monotonic ms). */
  readonly seenAt: number;
  readonly record: EtcdRecord | null;
  /** When its holder's lease has certainly ended (monotonic ms); Infinity for a value we cannot read (etcd's lease expiry frees it). */
  readonly takeoverAt: number;
}

export class LockMemory {
  readonly #sightings = new Map<string, Sighting>();
  readonly #floors = new Map<string, number>();
  /** Per lock: the token key's value as last seen (null: absent). Unknown before the first look. */
  readonly #tokenKeys = new Map<string, string | null>();
  readonly #vanishedAt = new Map<string, number>();
  /** The highest revision any answer of the cluster carried: it never goes back unless etcd lost data. */
  #revision = 0;

  constructor(private readonly clock: string | null) {}

  /**
   * Someone's value of `name` is `kv`, seen at `at` (monotonic ms): when may it be taken over? A
   * value we cannot read on an etcd lease is someone's (another version's?): it waits for etcd to
   * expire that lease. One without a lease was never a holder's (every holder's has one), so it
   * may go once unchanged for `fallbackTtl` (the candidate's own TTL), if given.
   */
  sight(name: string, kv: StoredKey, at: number, fallbackTtl?: number): Sighting {
    const id = `${kv.mod_revision}@${kv.lease}`;
    const known = this.#sightings.get(name);
    const record = known?.id === id ? known.record : parseRecord(kv.value);
    const seenAt = known?.id === id ? known.seenAt : at;
    let takeoverAt = Number.POSITIVE_INFINITY;
    if (record) takeoverAt = seenAt + record.ttl;
    else if (String(kv.lease) === '0' && fallbackTtl !== undefined) takeoverAt = seenAt + fallbackTtl;
    if (record && this.clock !== null && record.clock === this.clock) takeoverAt = Math.min(takeoverAt, record.expiresAt);
    if (known?.id === id && known.takeoverAt <= takeoverAt) return known;
    const sighting = { id, lease: String(kv.lease), seenAt, record, takeoverAt };
    this.#sightings.set(name, sighting);
    if (known?.id !== id) this.#vanishedAt.delete(name);
    return sighting;
  }

  /** The last value seen of `name`, if not known to be over. */
  last(name: string): Sighting | undefined {
    return this.#sightings.get(name);
  }

  /** The lock key was deleted (a release, or etcd expired the lease): nothing to wait for. */
  over(name: string): void {
    this.#sightings.delete(name);
    this.#vanishedAt.delete(name);
  }

  /**
   * The lock key is absent: whether that is state loss rather than a release or an expiry. The
   * token key is never deleted, so it is gone only with etcd's data; and etcd's revision only goes
   * back when its data went back.
   */
  isStateLoss(name: string, tokenKey: StoredKey | null, revision: number): boolean {
    const known = this.#tokenKeys.get(name);
    return (typeof known === 'string' && tokenKey === null) || revision < this.#revision;
  }

  /**
   * State loss of `name`: ms still to wait before taking over (0: the last holder seen, if any,
   * has certainly ended; it is then forgotten). The first call of a loss starts the wait and calls
   * `onStart` with the ms left and the holder.
   */
  waitAfterLoss(name: string, now: number, onStart: (remaining: number, record: EtcdRecord | null) => void): number {
    const seen = this.#sightings.get(name);
    if (!seen) return 0;
    const since = this.#vanishedAt.get(name);
    if (since === undefined) this.#vanishedAt.set(name, now);
    const remaining = Math.max(0, (since ?? now) + (seen.record?.ttl ?? 0) - now);
    if (remaining <= 0) this.over(name);
    else if (since === undefined) onStart(remaining, seen.record);
    return remaining;
  }

  /** What an answer showed of the cluster: its revision, and `name`'s token key. */
  note(name: string, revision: number, tokenKey: StoredKey | null): void {
    this.#tokenKeys.set(name, tokenKey === null ? null : String(tokenKey.value));
    this.noteRevision(revision);
  }

  noteRevision(revision: number): void {
    if (revision > this.#revision) this.#revision = revision;
  }

  /** etcd lost (or went back in) its data: revisions start again from the current one; old sightings name nothing now. */
  newEra(revision: number): void {
    this.#revision = revision;
  }

  /** We hold `name` with `token`: whatever we saw before is over. */
  hold(name: string, token: number): void {
    this.over(name);
    this.raise(name, token);
  }

  /** `token` was seen or held for `name`: the next token must be above it. */
  raise(name: string, token: number): void {
    if (Number.isSafeInteger(token) && token > this.floor(name)) this.#floors.set(name, token);
  }

  floor(name: string): number {
    return this.#floors.get(name) ?? 0;
  }
}
