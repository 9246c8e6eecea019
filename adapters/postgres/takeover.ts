/**
 * Replacing a holder that is alive to the server but past its TTL: a paused process (SIGSTOP, a
 * VM frozen), whose connection stays open and whose session keeps the advisory lock. The server
 * would keep that lock forever, so a follower ends the holder's session (`pg_terminate_backend`)
 * once the lease has certainly ended, judged on the follower's own monotonic clock (sightings.ts),
 * and then takes the lock. Only the session the row names (pid and start time), only while the row
 * is exactly as judged and every other lease of that session is over too (sql-takeover.ts). When
 * the holder resumes, its connection is gone: its lease is not intact and its renew resolves null.
 */
import type { AdapterCallContext } from '../../src/adapter.js';
import { PrimacyBackendError } from '../../src/errors.js';
import type { LockKeys } from './keys.js';
import type { Session } from './session.js';
import { HolderSightings, type Verdict } from './sightings.js';
import type { LockRow } from './sql.js';
import { takeoverStatement } from './sql-takeover.js';
import { INSUFFICIENT_PRIVILEGE } from './table.js';
import type { TableName } from './table-name.js';

export interface HolderRow extends LockRow {
  /** The backend that holds the advisory lock now (null: free). */
  readonly holder_pid: number | null;
}

/** Judges `row` (read at `at`, monotonic ms): whether its holder's session should be ended now. */
export function judge(sightings: HolderSightings, name: string, row: HolderRow, at: number): Verdict | null {
  const verdict = sightings.see(name, row, at);
  return verdict.over && row.holder_pid !== null && row.holder_pid === row.backend_pid ? verdict : null;
}

/** Ends the judged holder's session; true once it is ended (the lock is then free, or about to be). */
export async function endHolder(
  session: Session,
  table: TableName,
  keys: LockKeys,
  judged: { readonly row: HolderRow; readonly verdict: Verdict; readonly sightings: HolderSightings },
  context: AdapterCallContext | undefined,
): Promise<boolean> {
  const { row, verdict, sightings } = judged;
  const { version, db, role } = session.info;
  const who = `the holder of "${keys.name}" (backend pid ${row.holder_pid}, token ${row.token})`;
  try {
    const { rows } = await session.query<{ terminated: boolean }>('acquire', takeoverStatement(table, version), [
      keys.namespace,
      keys.key,
      keys.name,
      db,
      row.token,
      row.holder_pid,
      row.renewed_us,
      verdict.unchangedFor,
      sightings.clockId,
      sightings.nowMs(),
    ]);
    const terminated = rows[0]?.terminated === true;
    if (terminated) {
      context?.warn?.(
        `[primacy] [postgres] ended the session of ${who}: its lease ended without a renew (a paused or hung process); the lock is taken over`,
      );
    }
    return terminated;
  } catch (error) {
    const message = (error as Error).message;
    if ((error as { code?: string }).code !== INSUFFICIENT_PRIVILEGE || !/terminate|signal/i.test(message)) throw error;
    throw new PrimacyBackendError(
      'postgres',
      'acquire',
      `${who} is past its TTL and must be replaced, but role "${role}" may not end its session (${message}). Run: GRANT pg_signal_backend TO "${role}"; (or use one role for every candidate; a superuser's session can only be ended by a superuser)`,
      { cause: error },
    );
  }
}

/** A lock adapter's takeovers: what it saw of each holder (sightings.ts), and the ending of one whose lease is over. */
export class Takeovers {
  readonly sightings = new HolderSightings();

  constructor(private readonly table: TableName) {}

  /** Someone else holds `keys`' lock (`row`, read at `at`): ends its session if its lease has certainly ended. */
  async endIfOver(session: Session, keys: LockKeys, row: HolderRow, at: number, context?: AdapterCallContext): Promise<boolean> {
    const verdict = judge(this.sightings, keys.name, row, at);
    // Never our own session (a lease of ours past its end is the elector's to give back).
    if (!verdict || row.holder_pid === session.info.pid) return false;
    return endHolder(session, this.table, keys, { row, verdict, sightings: this.sightings }, context);
  }
}
