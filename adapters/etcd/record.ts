/**
 * What the lock key holds (JSON) and how a token is read from the token key. The record says who
 * holds the lock and until when by the holder's own monotonic clock (`expiresAt` on `clock`, see
 * clock.ts); `ttl` is the elector's TTL, which a candidate on another clock waits out itself.
 */
import type { HolderIdentity } from '../../src/adapter.js';

export interface EtcdRecord {
  readonly holder: HolderIdentity;
  /** Wall-clock ms, for people (inspect, lock-status). */
  readonly acquiredAt: number;
  readonly renewedAt: number;
  /** The elector's TTL, in ms. */
  readonly ttl: number;
  /** The holder's clock identity (clock.ts), null where it has none. */
  readonly clock: string | null;
  /** When the lease ends on that clock (monotonic ms): at or after the holder's own deadline. */
  readonly expiresAt: number;
}

/** The part of etcd's KeyValue the lock reads. */
export interface StoredKey {
  readonly create_revision: string;
  readonly mod_revision: string;
  readonly value: Buffer;
  readonly lease: string;
}

export function parseRecord(value: Buffer | undefined): EtcdRecord | null {
  try {
    const record = JSON.parse(String(value ?? '')) as EtcdRecord;
    const ok = typeof record?.holder?.id === 'string' && Number.isFinite(record.ttl) && Number.isFinite(record.expiresAt);
    return ok ? record : null;
  } catch {
    return null;
  }
}

/** The base a token key holds: a whole number >= 0 (an unreadable one counts as 0: tokens still rise with revisions). */
export function baseOf(tokenKey: StoredKey): number {
  const base = Number(String(tokenKey.value));
  return Number.isSafeInteger(base) && base >= 0 ? base : 0;
}

/** The fencing token the token key stands for: the revision it was written at, plus its base. */
export function tokenOf(tokenKey: StoredKey): number {
  return Number(tokenKey.mod_revision) + baseOf(tokenKey);
}
