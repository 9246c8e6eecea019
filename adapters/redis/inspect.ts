/**
 * A Redis lock's record for `inspect()` and `lock-status`: the holder while held (with whether its
 * connection is open); once free, the holder who released the last lease granted, or none when
 * that lease expired or vanished instead.
 */
import type { LockRecord } from '../../src/adapter.js';
import type { ConnectionBinding } from './connection.js';
import type { LockKeys } from './keys.js';
import { parseValue } from './record.js';

export interface InspectClient {
  get(key: string): Promise<string | null>;
  pttl(key: string): Promise<number>;
}

/** The keys `inspect` reads: the lock's value, its token counter, and the last released value. */
export type InspectKeys = Pick<LockKeys, 'lock' | 'token' | 'last'>;

export async function inspectRedisLock(
  client: InspectClient,
  binding: ConnectionBinding,
  name: string,
  keys: InspectKeys,
): Promise<LockRecord | null> {
  const location = keys.lock;
  const [value, pttl] = await Promise.all([client.get(keys.lock), client.pttl(keys.lock)]);
  if (value === null) {
    const [last, released] = await Promise.all([client.get(keys.token), client.get(keys.last)]);
    if (last === null) return null;
    // Recorded by the RELEASE script; absent (or older) when the last lease expired or vanished
    // instead, or was released by a version that did not record it.
    const parsed = released === null ? null : parseValue(released);
    const record = parsed?.token === Number(last) ? parsed.record : null;
    const holder = record?.holder ?? null;
    const acquiredAt = record?.acquiredAt ?? null;
    return { name, state: 'free', token: Number(last), holder, acquiredAt, renewedAt: null, expiresAt: null, alive: null, location };
  }
  const parsed = parseValue(value);
  const alive = parsed?.clientId ? await binding.isAlive(parsed.clientId) : null;
  const record = parsed?.record ?? null;
  return {
    name,
    state: 'held',
    token: parsed?.token ?? 0,
    holder: record?.holder ?? null,
    acquiredAt: record?.acquiredAt ?? null,
    renewedAt: record && pttl > 0 ? Date.now() + pttl - record.ttl : null,
    expiresAt: pttl > 0 ? Date.now() + pttl : null,
    alive,
    location,
  };
}
