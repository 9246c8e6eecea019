/**
 * One acquire round, one statement (sql.ts `acquire`): `pg_try_advisory_lock`, and if got, the
 * row's next token and holder in the same statement. Two round trips left a window in which the
 * session held the lock with no row naming it: a client silent there (SIGSTOP, a partition) kept
 * the lock and no follower could ever tell whose it was. For a watching follower that lost, the
 * same statement asks for its seat and mark, and reads what the row and pg_locks say of the holder.
 */
import type { HolderIdentity } from '../../src/adapter.js';
import { type LockKeys, lockKeys } from './keys.js';
import type { Session } from './session.js';
import { leaseNote } from './sightings.js';
import type { Statements } from './sql.js';
import type { HolderRow } from './takeover.js';

export interface AttemptRow extends HolderRow {
  /** The lock was got (null: the statement ran on another backend than the session's). */
  readonly got: boolean | null;
  /** The token granted, when got. */
  readonly granted: string | null;
  readonly seated: boolean | null;
  readonly marked: boolean | null;
  /** How many sessions hold the lock's follower mark. */
  readonly followers: number;
  /** Another name whose row names the backend holding our key: its 32-bit hash equals ours. */
  readonly held_as: string | null;
}

export interface AttemptRequest {
  /** A follower watches the lock: ask for its seat and mark. */
  readonly watched: boolean;
  readonly holder: HolderIdentity;
  readonly ttl: number;
  /** The highest token this adapter saw: the next one is above it. */
  readonly floor: bigint;
}

/** The holder as stored: its identity, and its lease's end on its own monotonic clock (sightings.ts). */
export function storedHolder(holder: HolderIdentity, ttl: number): string {
  return JSON.stringify({ ...holder, _lease: leaseNote(ttl) });
}

/**
 * One attempt. A statement that fails may have taken the advisory lock (a session lock outlives
 * the failed transaction): it is given back, or the session ended, so no lock is left without a
 * lease. Re-entrancy: if this session holds another name with the same key, an unlock could free
 * that one's lock, so the session is ended instead.
 */
export async function attempt(session: Session, sql: Statements, keys: LockKeys, request: AttemptRequest): Promise<AttemptRow> {
  const { seat, marker, name } = keys;
  const seated = session.seats.has(name);
  try {
    const { rows } = await session.query<AttemptRow>('acquire', sql.acquire, [
      keys.namespace,
      keys.key,
      name,
      session.info.db,
      session.info.pid,
      request.watched && !seated,
      seat.value,
      request.watched && !session.markers.has(name),
      marker.value,
      marker.classid,
      marker.objid,
      String(request.floor),
      storedHolder(request.holder, request.ttl),
      session.info.backendStart,
      request.ttl,
      seated,
    ]);
    const row = rows[0] as AttemptRow;
    if (row.got && row.granted === null) throw new Error('the lock was got but no token was granted');
    if (row.seated) session.seats.add(name);
    if (row.marked) session.markers.add(name);
    if (row.got && seated) session.seats.delete(name);
    if (row.got) session.held.set(name, { holderId: request.holder.id, token: Number(row.granted) });
    return row;
  } catch (error) {
    session.held.delete(name);
    if (sharesKey(session, keys)) session.destroy();
    else {
      await session
        .query('acquire', 'SELECT pg_advisory_unlock($1::int, $2::int)', [keys.namespace, keys.key])
        .catch(() => session.destroy());
    }
    throw error;
  }
}

/** Whether the session holds another name whose advisory key is `keys`' (a 32-bit hash collision). */
export function sharesKey(session: Session, keys: LockKeys): boolean {
  for (const other of session.held.keys()) {
    if (other !== keys.name && lockKeys(keys.namespace, other).key === keys.key) return true;
  }
  return false;
}
