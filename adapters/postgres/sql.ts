/**
 * Every statement the lock runs, for one table. Values are always parameters; the table name, the
 * one identifier spliced in, was checked (table-name.ts) and is quoted.
 *
 * The row of a lock (`namespace`, `name`) is never deleted: its `token` only grows, across holders,
 * restarts of holders and of the server, and even when the row is lost or restored from an older
 * copy: a new token is at least the server's clock in µs (a 16-digit number, exact in a JS number).
 * No decision reads the server's wall clock against a row: a paused holder is judged on the
 * follower's monotonic clock (sightings.ts, sql-takeover.ts). Statements that take or keep a lock
 * return `backend` (pg_backend_pid()), which Session.query checks against the session's backend.
 */
import type { TableName } from './table-name.js';

/** pg_locks rows of the lock `(namespace $ns, key $key)` in database `$db`: the `$n`s name the parameters. */
export function lockRows(ns: string, key: string, db: string): string {
  return `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND database = ${db}::oid AND classid = ${ns}::int::oid
            AND objid = ${key}::int::oid AND objsubid = 2 AND granted`;
}

/** pg_locks rows of a one-bigint key (seat, mark), by its classid and objid. */
function bigRows(classid: string, objid: string, db: string): string {
  return `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND database = ${db}::oid AND classid = ${classid}::oid
            AND objid = ${objid}::oid AND objsubid = 1 AND granted`;
}

/** The server's clock in µs: the least a new token may be, so a lost or restored row never sends tokens back. */
const CLOCK_US = '(extract(epoch FROM clock_timestamp()) * 1000000)::bigint';

export interface Statements {
  readonly createTable: string;
  /**
   * One acquire round in ONE statement: `pg_try_advisory_lock`, and if got, the row's next token
   * and holder (never a lock held with no row naming its holder, whatever happens between two
   * round trips); if not, the watcher seat and follower mark, and what the row and pg_locks say.
   * $1 ns, $2 key, $3 name, $4 db, $5 our backend pid, $6 take the seat, $7 seat, $8 take the mark,
   * $9 mark, $10/$11 mark classid/objid, $12 token floor, $13 holder, $14 backend start, $15 ttl ms,
   * $16 give up the seat (we watched, and won).
   */
  readonly acquire: string;
  /** $1 ns, $2 key, $3 name, $4 token, $5 holder, $6 backend start, $7 ttl ms, $8 db, $9 acquired at (ms), $10/$11 seat, $12/$13 mark. */
  readonly renew: string;
  /** $1 ns, $2 key, $3 name, $4 token, $5 channel, $6 payload, $7 unlock. */
  readonly release: string;
  /** $1 ns, $2 key, $3 name, $4 db, $5 channel, $6 payload, $7 may notify. */
  readonly watch: string;
  /** $1 ns, $2 key, $3 name, $4 token, $5 outcome, $6 db. */
  readonly writeOutcome: string;
  /** $1 ns, $2 name. */
  readonly readOutcome: string;
  /** $1 ns, $2 key, $3 name. */
  readonly inspect: string;
}

/** The lock row as statements return it (`LockRow`); `renewed_us` and `ttl_ms` are what a follower's judgment reads. */
const ROW = `t.token::text AS token, t.state, t.holder, t.backend_pid, t.backend_start::text AS backend_start,
  (extract(epoch FROM t.acquired_at) * 1000)::float8 AS acquired_at,
  (extract(epoch FROM t.renewed_at) * 1000)::float8 AS renewed_at,
  (extract(epoch FROM t.expires_at) * 1000)::float8 AS expires_at,
  (extract(epoch FROM t.renewed_at) * 1000000)::bigint::text AS renewed_us,
  (extract(epoch FROM t.expires_at - t.renewed_at) * 1000)::float8 AS ttl_ms`;

export function statements(table: TableName): Statements {
  const t = table.sql;
  return {
    createTable: `CREATE TABLE IF NOT EXISTS ${t} (
  namespace integer NOT NULL,
  name text NOT NULL,
  lock_key integer NOT NULL,
  token bigint NOT NULL,
  state text NOT NULL,
  holder jsonb,
  backend_pid integer,
  backend_start timestamptz,
  acquired_at timestamptz,
  renewed_at timestamptz,
  expires_at timestamptz,
  outcome text,
  PRIMARY KEY (namespace, name)
)`,
    // `a` is evaluated once (a volatile function: never inlined), and the INSERT runs only if it got
    // the lock. The row read is the statement's snapshot: as it was before this grant.
    acquire: `WITH a AS (
  SELECT CASE WHEN pg_backend_pid() = $5::int THEN pg_try_advisory_lock($1::int, $2::int) END AS got
), h AS (
  SELECT (SELECT l.pid FROM (${lockRows('$1', '$2', '$4')}) l WHERE l.pid <> pg_backend_pid() LIMIT 1) AS pid
), granted AS (
  INSERT INTO ${t} AS t (namespace, name, lock_key, token, state, holder, backend_pid, backend_start, acquired_at, renewed_at, expires_at)
  SELECT $1::int, $3::text, $2::int, greatest($12::bigint + 1, ${CLOCK_US}), 'held', $13::jsonb, pg_backend_pid(), $14::timestamptz,
         now(), now(), now() + $15::float8 * interval '1 millisecond'
  FROM a WHERE a.got
  ON CONFLICT (namespace, name) DO UPDATE SET token = greatest(t.token + 1, $12::bigint + 1, ${CLOCK_US}), lock_key = EXCLUDED.lock_key,
    state = 'held', holder = EXCLUDED.holder, backend_pid = EXCLUDED.backend_pid, backend_start = EXCLUDED.backend_start,
    acquired_at = EXCLUDED.acquired_at, renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at
  RETURNING t.token::text AS token
)
SELECT a.got, (SELECT g.token FROM granted g) AS granted, pg_backend_pid() AS backend,
  CASE WHEN a.got AND $16::boolean THEN pg_advisory_unlock($7::bigint) END AS unseated,
  CASE WHEN a.got IS FALSE AND $6::boolean THEN pg_try_advisory_lock($7::bigint) END AS seated,
  CASE WHEN $8::boolean THEN pg_try_advisory_lock_shared($9::bigint) END AS marked,
  (SELECT count(*)::int FROM (${bigRows('$10', '$11', '$4')}) m) AS followers,
  h.pid AS holder_pid,
  CASE WHEN a.got IS FALSE AND h.pid IS DISTINCT FROM t.backend_pid THEN
    (SELECT o.name FROM ${t} o WHERE o.namespace = $1::int AND o.lock_key = $2::int AND o.name <> $3::text
       AND o.state IN ('held', 'ending') AND o.backend_pid = h.pid LIMIT 1) END AS held_as,
  ${ROW}
FROM a CROSS JOIN h LEFT JOIN ${t} t ON t.namespace = $1::int AND t.name = $3::text`,
    // A row deleted under a live holder is put back with its token: the counter survives. A row
    // another session marked 'ending' (a follower is ending ours) is not renewed.
    renew: `INSERT INTO ${t} AS t (namespace, name, lock_key, token, state, holder, backend_pid, backend_start, acquired_at, renewed_at, expires_at)
SELECT $1::int, $3::text, $2::int, $4::bigint, 'held', $5::jsonb, pg_backend_pid(), $6::timestamptz, to_timestamp($9::float8 / 1000), now(),
       now() + $7::float8 * interval '1 millisecond'
WHERE EXISTS (SELECT 1 FROM (${lockRows('$1', '$2', '$8')}) h WHERE h.pid = pg_backend_pid())
ON CONFLICT (namespace, name) DO UPDATE SET holder = EXCLUDED.holder, renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at
  WHERE t.token = EXCLUDED.token AND t.state = 'held' AND t.backend_pid = EXCLUDED.backend_pid
RETURNING pg_backend_pid() AS backend,
  NOT EXISTS (${bigRows('$10', '$11', '$8')}) AND EXISTS (SELECT 1 FROM (${bigRows('$12', '$13', '$8')}) m WHERE m.pid <> pg_backend_pid()) AS seat_vacant`,
    release: `WITH released AS (
  UPDATE ${t} SET state = 'released', renewed_at = now(), expires_at = now()
  WHERE namespace = $1::int AND name = $3::text AND token = $4::bigint AND state = 'held' AND backend_pid = pg_backend_pid()
  RETURNING 1
)
SELECT (SELECT count(*) FROM released)::int AS released, pg_backend_pid() AS backend,
  CASE WHEN $7::boolean THEN pg_advisory_unlock($1::int, $2::int) END AS unlocked, pg_notify($5::text, $6::text)::text AS notified`,
    watch: `SELECT h.holder_pid, ${ROW},
  CASE WHEN h.holder_pid IS NULL AND $7::boolean THEN pg_notify($5::text, $6::text)::text END AS notified
FROM (SELECT (SELECT pid FROM (${lockRows('$1', '$2', '$4')}) l LIMIT 1) AS holder_pid) h
LEFT JOIN ${t} t ON t.namespace = $1::int AND t.name = $3::text`,
    writeOutcome: `UPDATE ${t} t SET outcome = $5::text
WHERE t.namespace = $1::int AND t.name = $3::text AND t.token = $4::bigint AND t.state = 'held' AND t.backend_pid = pg_backend_pid()
  AND EXISTS (SELECT 1 FROM (${lockRows('$1', '$2', '$6')}) h WHERE h.pid = pg_backend_pid())
RETURNING pg_backend_pid() AS backend`,
    readOutcome: `SELECT outcome FROM ${t} WHERE namespace = $1::int AND name = $2::text`,
    inspect: `SELECT ${ROW},
  (SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.objsubid = 2 AND l.granted LIMIT 1) AS lock_pid,
  now() AS server_now
FROM ${t} t WHERE t.namespace = $1::int AND t.name = $3::text`,
  };
}

/** A lock row as the statements return it (`ROW`). `ending`: a follower is ending its holder's session. */
export interface LockRow {
  readonly token: string | null;
  readonly state: 'held' | 'ending' | 'released' | null;
  readonly holder: unknown;
  readonly backend_pid: number | null;
  readonly backend_start: string | null;
  readonly acquired_at: number | null;
  readonly renewed_at: number | null;
  readonly expires_at: number | null;
  readonly renewed_us: string | null;
  readonly ttl_ms: number | null;
}
