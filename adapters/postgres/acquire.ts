/**
 * One acquire round's two statements: the attempt (`pg_try_advisory_lock`, plus, for a watching
 * follower, its seat and mark, and what the row and pg_locks say of the holder), and, when the lock
 * was got, the grant (the row's next token, under the lock).
 */
import type { HolderIdentity } from '../../src/adapter.js';
import type { LockKeys } from './keys.js';
import type { Session } from './session.js';
import type { LockRow, Statements } from './sql.js';

export interface AttemptRow extends LockRow {
  /** The lock was got (null: the statement ran on another backend than the session's). */
  readonly got: boolean | null;
  readonly seated: boolean | null;
  readonly marked: boolean | null;
  /** How many sessions hold the lock's follower mark. */
  readonly followers: number;
  /** The backend holding the lock now, if not ours. */
  readonly holder_pid: number | null;
}

/** One `pg_try_advisory_lock`; a follower that watches `keys` also asks for its seat and mark once. */
export async function attempt(session: Session, sql: Statements, keys: LockKeys, watched: boolean): Promise<AttemptRow> {
  const { seat, marker, name } = keys;
  const { rows } = await session.query<AttemptRow>('acquire', sql.attempt, [
    keys.namespace,
    keys.key,
    name,
    session.info.db,
    session.info.pid,
    watched && !session.seats.has(name),
    seat.value,
    watched && !session.markers.has(name),
    marker.value,
    marker.classid,
    marker.objid,
  ]);
  const row = rows[0] as AttemptRow;
  if (row.seated) session.seats.add(name);
  if (row.marked) session.markers.add(name);
  return row;
}

/**
 * The lock is ours: the row gets the next token (never below `floor`, the highest this adapter saw)
 * and the holder. A follower that held the seat gives it up. On failure the advisory lock is given
 * back (no token, no lease).
 */
export async function grant(
  session: Session,
  sql: Statements,
  keys: LockKeys,
  request: { readonly holder: HolderIdentity; readonly ttl: number; readonly floor: bigint },
): Promise<number> {
  const { name } = keys;
  const seated = session.seats.has(name);
  try {
    const { rows } = await session.query<{ token: string }>('acquire', sql.grant, [
      keys.namespace,
      keys.key,
      name,
      String(request.floor),
      JSON.stringify(request.holder),
      session.info.backendStart,
      request.ttl,
      seated,
      keys.seat.value,
    ]);
    if (seated) session.seats.delete(name);
    const token = Number(rows[0]?.token);
    session.held.set(name, { holderId: request.holder.id, token });
    return token;
  } catch (error) {
    session.held.delete(name);
    await session
      .query('acquire', 'SELECT pg_advisory_unlock($1::int, $2::int)', [keys.namespace, keys.key])
      .catch(() => session.destroy());
    throw error;
  }
}
