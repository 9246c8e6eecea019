/**
 * Replacing a holder that is alive to the server but past its TTL: a paused process (SIGSTOP, a
 * VM frozen), whose connection stays open and whose session keeps the advisory lock. The server
 * would keep that lock forever, so a follower ends the holder's session (`pg_terminate_backend`)
 * once the lease has expired on the server's clock, and then takes the lock. Only the session that
 * the row names (pid and start time, so a reused pid is never hit) and only while it still holds
 * the lock with that token (sql.ts `terminate`). When the holder resumes, its connection is gone:
 * its lease is not intact and its renew resolves null.
 */
import type { AdapterCallContext } from '../../src/adapter.js';
import { PrimacyBackendError } from '../../src/errors.js';
import type { LockKeys } from './keys.js';
import type { Session } from './session.js';
import type { LockRow, Statements } from './sql.js';
import { INSUFFICIENT_PRIVILEGE } from './table.js';

export interface ExpiredHolder extends LockRow {
  /** The backend that holds the advisory lock now. */
  readonly holder_pid: number | null;
}

/** Whether `row` names a holder past its TTL whose session still holds the lock: one to end. */
export function isExpiredHolder(row: ExpiredHolder): boolean {
  return row.state === 'held' && row.expired === true && row.holder_pid !== null && row.holder_pid === row.backend_pid;
}

/** Ends the expired holder's session; true once it is ended (the lock is then free, or about to be). */
export async function terminateExpiredHolder(
  session: Session,
  sql: Statements,
  keys: LockKeys,
  row: ExpiredHolder,
  context: AdapterCallContext | undefined,
): Promise<boolean> {
  const { version, db, role } = session.info;
  const who = `the holder of "${keys.name}" (backend pid ${row.holder_pid}, token ${row.token})`;
  try {
    const { rows } = await session.query<{ terminated: boolean }>('acquire', sql.terminate(version), [
      keys.namespace,
      keys.key,
      keys.name,
      db,
      row.token,
      row.holder_pid,
    ]);
    const terminated = rows[0]?.terminated === true;
    if (terminated) {
      context?.warn?.(
        `[primacy] [postgres] ended the session of ${who}: its lease expired on the server's clock without a renew (a paused or hung process); the lock is taken over`,
      );
    }
    return terminated;
  } catch (error) {
    if ((error as { code?: string }).code !== INSUFFICIENT_PRIVILEGE) throw error;
    throw new PrimacyBackendError(
      'postgres',
      'acquire',
      `${who} is past its TTL and must be replaced, but role "${role}" may not end its session (${(error as Error).message}). Run: GRANT pg_signal_backend TO "${role}"; (or use one role for every candidate; a superuser's session can only be ended by a superuser)`,
      { cause: error },
    );
  }
}
