/**
 * What one `look` statement (sql.ts) saw of a lock: which session holds it now, the fencing row,
 * and the server's clock. Followers, takers-over and `inspect` all judge from this.
 */
import type { HolderIdentity } from '../../src/adapter.js';

/** A lock's fencing row, times in the server's ms. */
export interface LockRow {
  readonly name: string;
  readonly token: number;
  readonly state: 'held' | 'released';
  readonly holder: HolderIdentity | null;
  readonly connectionId: number | null;
  readonly acquiredAt: number | null;
  readonly renewedAt: number | null;
  readonly expiresAt: number | null;
  readonly ttl: number | null;
}

export interface Look {
  /** `IS_USED_LOCK`: the connection id of the session holding the lock, null while it is free. */
  readonly usedBy: number | null;
  /** The server's clock, in ms. */
  readonly now: number;
  /** Null where the lock was never recorded. */
  readonly row: LockRow | null;
}

export function parseLook(raw: Record<string, unknown> | undefined): Look {
  if (!raw) throw new Error('the look at the lock returned no row');
  const row: LockRow | null =
    raw.token === null || raw.token === undefined
      ? null
      : {
          name: String(raw.name),
          token: Number(raw.token),
          state: raw.state === 'held' ? 'held' : 'released',
          holder: parseHolder(raw.holder),
          connectionId: numberOrNull(raw.connection_id),
          acquiredAt: numberOrNull(raw.acquired_at),
          renewedAt: numberOrNull(raw.renewed_at),
          expiresAt: numberOrNull(raw.expires_at),
          ttl: numberOrNull(raw.ttl),
        };
  return { usedBy: numberOrNull(raw.used_by), now: Number(raw.now), row };
}

/**
 * Whether the session holding the lock is the one its row records as a live holder: a lease we
 * can time. Otherwise the holder is not recorded (yet): between its `GET_LOCK` and its record, a
 * follower that was handed the lock and has not claimed it, or a row deleted under it.
 */
export function recordedHolder(look: Look): LockRow | null {
  const { usedBy, row } = look;
  return usedBy !== null && row?.state === 'held' && row.connectionId === usedBy ? row : null;
}

function parseHolder(value: unknown): HolderIdentity | null {
  if (typeof value !== 'string' || value === '') return null;
  try {
    const parsed = JSON.parse(value) as HolderIdentity;
    return typeof parsed === 'object' && parsed !== null && typeof parsed.id === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
