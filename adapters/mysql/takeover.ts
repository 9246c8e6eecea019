/**
 * Taking a lock over from a holder that stopped renewing but whose session is still open: a
 * paused process (SIGSTOP, a debugger, a frozen VM), or one whose network vanished without a
 * close. The server keeps its lock as long as the session lives, so a follower that sees the
 * holder's lease expired (by the server's clock, plus a margin for clocks that run at slightly
 * different rates) ends that session with `KILL CONNECTION`, after checking that `IS_USED_LOCK`
 * still names it (a connection id is never reused while the server runs, so a live stranger is
 * never killed). When the holder resumes its session is gone: its renew fails and it steps down.
 */
import { PrimacyBackendError } from '../../src/errors.js';
import type { Look } from './look.js';
import { recordedHolder } from './look.js';
import type { Session, StatementBound } from './session.js';
import { KILL } from './sql.js';

/**
 * How long a follower handed the lock by the server keeps it for its election to claim, in ms;
 * unclaimed by then, it gives it back. A holder not recorded for longer than this (and the last
 * holder's TTL) is taken over like an expired one.
 */
export const GRANT_HOLD = 2000;
/** The TTL assumed for a holder when no row says one. */
const DEFAULT_TTL = 10_000;

/** ER_KILL_DENIED_ERROR: "You are not owner of thread N". */
const KILL_DENIED = 1095;
/** ER_NO_SUCH_THREAD: the session ended by itself meanwhile. */
const NO_SUCH_THREAD = 1094;

export class Takeover {
  /** Per lock: a holding session found without a record of it, and since when (server ms). */
  readonly #unrecorded = new Map<string, { readonly connectionId: number; readonly since: number }>();

  constructor(private readonly margin: number) {}

  /**
   * In how many ms the session holding `lock` may be ended (<= 0: now), or null while the lock is
   * free. A recorded holder's lease runs to its expiry; an unrecorded one gets `GRANT_HOLD` or its
   * predecessor's TTL from when we first saw it, whichever is longer.
   */
  due(lock: string, look: Look): number | null {
    const { usedBy, now, row } = look;
    if (usedBy === null) return null;
    const recorded = recordedHolder(look);
    if (recorded) {
      this.#unrecorded.delete(lock);
      return (recorded.expiresAt ?? now) + this.margin - now;
    }
    const grace = Math.max(row?.ttl ?? DEFAULT_TTL, GRANT_HOLD) + this.margin;
    let seen = this.#unrecorded.get(lock);
    // Seen long ago (followers look again once the grace is over): a server restarted since numbers
    // its connections afresh, and the same id is another session now.
    if (seen?.connectionId !== usedBy || now - seen.since > 3 * grace) {
      seen = { connectionId: usedBy, since: now };
      this.#unrecorded.set(lock, seen);
    }
    return seen.since + grace - now;
  }

  /**
   * Ends the session `look` found holding `lock` (a look taken just before). A refusal is an error
   * that names what to grant; a session that ended meanwhile is fine.
   */
  async kill(session: Session, lock: string, look: Look, bound: StatementBound): Promise<void> {
    const id = look.usedBy as number;
    try {
      await session.run(KILL, [id], bound);
      this.#unrecorded.delete(lock);
    } catch (error) {
      const errno = (error as { errno?: number }).errno;
      if (errno === NO_SUCH_THREAD) return;
      if (errno !== KILL_DENIED) throw error;
      const user = await currentUser(session, bound);
      const overdue = Math.max(0, -(this.due(lock, look) ?? 0));
      throw new PrimacyBackendError(
        'mysql',
        bound.operation,
        `the holder of lock "${lock}" (connection ${id}) is ${overdue} ms past its lease (paused, or its network gone) and ` +
          `cannot be replaced: KILL CONNECTION ${id} was refused (${(error as Error).message}). Let ${user} end other users' ` +
          `sessions: GRANT CONNECTION ADMIN ON *.* TO ${user} (MariaDB 10.5.2+; SUPER before), ` +
          `GRANT CONNECTION_ADMIN ON *.* TO ${user} (MySQL 8; SUPER on 5.7), or connect every candidate as one user (a user may always end its own sessions)`,
        { cause: error },
      );
    }
  }

  /** We hold `lock` now, or stopped following it: nothing unrecorded to time. */
  forget(lock: string): void {
    this.#unrecorded.delete(lock);
  }
}

async function currentUser(session: Session, bound: StatementBound): Promise<string> {
  try {
    const { rows } = await session.run('SELECT CURRENT_USER() AS user', [], bound);
    const [name = '', host = '%'] = String(rows[0]?.user ?? '').split('@');
    return `'${name}'@'${host}'`;
  } catch {
    return 'this user';
  }
}
