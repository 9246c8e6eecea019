/**
 * An etcd lock's record for `inspect()` and `lock-status`: one read of the lock and token keys.
 * While held: the holder's record, with the token the token key stands for; once free (the lock
 * key deleted, the token key kept): the last token, no holder. Null when the lock was never taken.
 */
import type { LockRecord } from '../../src/adapter.js';
import { isHolderDead } from '../../src/adapter-kit.js';
import { type EtcdConnection, range, rangeAnswer } from './connection.js';
import type { LockKeys } from './keys.js';
import { parseRecord, tokenOf } from './record.js';

export async function inspectEtcdLock(connection: EtcdConnection, name: string, keys: LockKeys): Promise<LockRecord | null> {
  const look = await connection.txn('inspect', { success: [range(keys.lock), range(keys.token)] });
  const lock = rangeAnswer(look, 0);
  const tokenKey = rangeAnswer(look, 1);
  if (!lock && !tokenKey) return null;
  const location = `${connection.address} ${keys.lock.toString()}`;
  const token = tokenKey ? tokenOf(tokenKey) : 0;
  if (!lock) {
    return { name, state: 'free', token, holder: null, acquiredAt: null, renewedAt: null, expiresAt: null, alive: null, location };
  }
  const record = parseRecord(lock.value);
  const holder = record?.holder ?? null;
  return {
    name,
    state: 'held',
    token,
    holder,
    acquiredAt: record?.acquiredAt ?? null,
    renewedAt: record?.renewedAt ?? null,
    // By the holder's wall clock: for people. Candidates judge by monotonic clocks (memory.ts).
    expiresAt: record ? record.renewedAt + record.ttl : null,
    // etcd cannot tell; a holder on this host can be seen dead (its lease still runs until its TTL).
    alive: holder && isHolderDead(holder) === true ? false : null,
    location,
  };
}
