/**
 * Refuses a pooler that shares server sessions (PgBouncer in `transaction` or `statement` mode,
 * and the like). There a session advisory lock stays on whichever server connection ran the
 * statement, and the pooler hands that connection to other clients next: they would hold our lock
 * too (advisory locks are re-entrant within a session), and our own next statement may run on a
 * connection that does not hold it. Session pooling is fine: a client keeps its server connection,
 * and the pooler's reset (`DISCARD ALL`) frees the locks when the client goes.
 *
 * How it is told, when the session opens:
 * - a direct connection is recognized at once: the backend sees our socket's own port as its
 *   client port. Nothing more is asked;
 * - otherwise (a proxy, a Unix socket) the session takes a probe lock of its own (a random key in
 *   the probe space), and a second, short-lived connection opens a transaction and looks whether
 *   its backend holds that probe: a pooler that shares connections gives the idle one, ours, next.
 *   While that transaction keeps its connection, our session asks for its backend again: it must be
 *   the same one.
 * Afterwards every statement that takes or keeps a lock runs only on the session's own backend
 * (`backend` columns, checked by Session.query), so a pooler that shares later is caught there too.
 */
import pg from 'pg';
import { bounded } from '../../src/adapter-kit.js';
import { PrimacyBackendError } from '../../src/errors.js';
import { PROBE_SPACE } from './keys.js';
import type { Session, SessionSettings } from './session.js';

/** What a session learned about itself when it opened. */
export interface SessionInfo {
  /** Its backend's pid and start time (a pid is reused; the pair is not). */
  readonly pid: number;
  readonly backendStart: string | null;
  /** `server_version_num` (150020 for 15.20). */
  readonly version: number;
  /** The database's oid: pg_locks lists advisory locks per database. */
  readonly db: string;
  /** `current_user`: named in the GRANTs an error asks for. */
  readonly role: string;
  /** The port the backend sees us connect from (null over a Unix socket). */
  readonly clientPort: number | null;
  /** Its probe lock's second key (the first is PROBE_SPACE). */
  readonly probe: number;
}

export function poolingRefusal(address: string, how: string): PrimacyBackendError {
  return new PrimacyBackendError(
    'postgres',
    'connect',
    `${address} shares server sessions between clients (${how}): a pooler in transaction or statement mode, such as PgBouncer with pool_mode = transaction, is in between. A session advisory lock needs a session of its own: connect to PostgreSQL directly, or through a pool in session mode (pool_mode = session)`,
  );
}

export async function checkSessionIsPinned(session: Session, settings: SessionSettings): Promise<void> {
  const { info } = session;
  if (info.clientPort !== null && session.localPort !== null && info.clientPort === session.localPort) return;
  const pin = new pg.Client({
    ...settings.connection,
    application_name: 'primacy-probe',
    connectionTimeoutMillis: settings.connectTimeout,
  });
  pin.on('error', () => undefined);
  const bound = <T>(work: Promise<T>) => bounded(work, { ms: settings.connectTimeout, adapter: 'postgres', operation: 'connect' });
  try {
    await bound(pin.connect());
    await bound(pin.query('BEGIN'));
    const { rows } = await bound(
      pin.query<{ shares: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                 AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2) AS shares`,
        [PROBE_SPACE, info.probe],
      ),
    );
    if (rows[0]?.shares) {
      // Our probe is on a server connection the pooler hands out: take it off (best effort).
      await bound(pin.query('SELECT pg_advisory_unlock($1::int, $2::int)', [PROBE_SPACE, info.probe])).catch(() => undefined);
      throw poolingRefusal(settings.address, 'another connection was given the server session this one had');
    }
    const again = await session.query<{ pid: number }>('connect', 'SELECT pg_backend_pid() AS pid');
    if (again.rows[0]?.pid !== info.pid) {
      throw poolingRefusal(settings.address, `this connection's statements ran on backend ${info.pid}, then on ${again.rows[0]?.pid}`);
    }
  } finally {
    await bounded(pin.end(), { ms: 1000, adapter: 'postgres', operation: 'connect' }).catch(() => undefined);
  }
}
