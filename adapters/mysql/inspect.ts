/**
 * A MySQL lock's record for `inspect()` and `lock-status`. The truth of "held" is the server's
 * (`IS_USED_LOCK`), not the row: a row still marked held whose session is gone is a crashed
 * holder, and the lock is free. Times are the server's clock shifted onto this host's.
 */
import type { LockRecord } from '../../src/adapter.js';
import { type Look, recordedHolder } from './look.js';

export function lockRecord(name: string, look: Look, location: string): LockRecord | null {
  const { usedBy, row } = look;
  if (row === null && usedBy === null) return null;
  const shift = Date.now() - look.now;
  const local = (at: number | null | undefined) => (at === null || at === undefined ? null : at + shift);
  const recorded = recordedHolder(look);
  if (usedBy === null) {
    return {
      name,
      state: 'free',
      token: row?.token ?? 0,
      // The last holder: released, or gone with its session (a crash) while the row said held.
      holder: row?.holder ?? null,
      acquiredAt: local(row?.acquiredAt),
      renewedAt: null,
      expiresAt: null,
      alive: row?.state === 'held' ? false : null,
      location,
    };
  }
  return {
    name,
    state: 'held',
    token: row?.token ?? 0,
    // Held by a session the row does not name yet (it is recording itself): nobody to show.
    holder: recorded?.holder ?? null,
    acquiredAt: local(recorded?.acquiredAt),
    renewedAt: local(recorded?.renewedAt),
    expiresAt: local(recorded?.expiresAt),
    // The holder's session is open (a paused process's too: its lease's expiry tells).
    alive: recorded ? true : null,
    location,
  };
}
