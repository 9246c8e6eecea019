/**
 * The statements of the MySQL lock. Each one that changes a lock's row carries its own proof that
 * the session changing it holds the lock (`IS_USED_LOCK(name) = CONNECTION_ID()`), so no write
 * can land for a session that has lost it, whatever the client believes. Every time is the
 * SERVER's clock in ms (one clock for every holder and follower); values are always parameters,
 * the table name a checked identifier.
 */
import { quoteTable } from './names.js';

/** The server's clock, in ms and in µs since the epoch, whatever the session's time zone. */
const NOW_US = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6))";
const NOW_MS = `(${NOW_US} DIV 1000)`;

/** The lock is held by the session running the statement. */
const OURS = 'IS_USED_LOCK(?) = CONNECTION_ID()';

export interface Statements {
  /** Creates the fencing table if it is missing (rows are never deleted: the token lives on). */
  readonly create: string;
  /** Reads nothing from the table: fails with ER_NO_SUCH_TABLE (1146) where it is missing. */
  readonly probe: string;
  /**
   * Records a new holder under the lock, with the next token as LAST_INSERT_ID (the OK packet's
   * insertId): one more than the last, and never below the server's clock in µs, so tokens go on
   * rising even after the row is deleted or restored from an old backup (while the clock does not
   * step back). Values: lock, name, holder JSON, ttl, ttl, lock. Affects 0 rows unless the lock is ours.
   */
  readonly record: string;
  /** Extends a lease. Values: ttl, ttl, lock, token, lock. Matches 1 row only while the lease is ours. */
  readonly renew: string;
  /** Puts back a row someone deleted under a live holder. Values: lock, name, token, holder JSON, acquiredAt, ttl, ttl, lock. */
  readonly restore: string;
  /** Marks a lease released (before the lock is). Values: lock, token, lock. */
  readonly markReleased: string;
  /** Stores a `runOnce` outcome while the lease is ours. Values: outcome JSON, lock, token, lock. */
  readonly writeOutcome: string;
  /** Values: lock. */
  readonly readOutcome: string;
  /**
   * What a follower, a taker-over and `inspect` see: the lock's holding session (`used_by`), the
   * row, and the server's clock, in one statement. Values: lock, lock.
   */
  readonly look: string;
}

export function statements(table: string): Statements {
  const t = quoteTable(table);
  return {
    create: `CREATE TABLE IF NOT EXISTS ${t} (
  lock_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  name VARCHAR(512) CHARACTER SET utf8mb4 NOT NULL,
  token BIGINT UNSIGNED NOT NULL,
  state VARCHAR(8) NOT NULL,
  holder TEXT CHARACTER SET utf8mb4,
  connection_id BIGINT UNSIGNED,
  acquired_at BIGINT,
  renewed_at BIGINT,
  expires_at BIGINT,
  ttl INT UNSIGNED,
  outcome TEXT CHARACTER SET utf8mb4,
  PRIMARY KEY (lock_name)
) ENGINE=InnoDB`,
    probe: `SELECT 1 FROM ${t} LIMIT 0`,
    record: `INSERT INTO ${t} (lock_name, name, token, state, holder, connection_id, acquired_at, renewed_at, expires_at, ttl)
SELECT ?, ?, LAST_INSERT_ID(${NOW_US}), 'held', ?, CONNECTION_ID(), ${NOW_MS}, ${NOW_MS}, ${NOW_MS} + ?, ? FROM DUAL WHERE ${OURS}
ON DUPLICATE KEY UPDATE token = LAST_INSERT_ID(GREATEST(token + 1, VALUES(token))), name = VALUES(name), state = 'held',
  holder = VALUES(holder), connection_id = VALUES(connection_id), acquired_at = VALUES(acquired_at),
  renewed_at = VALUES(renewed_at), expires_at = VALUES(expires_at), ttl = VALUES(ttl)`,
    renew: `UPDATE ${t} SET renewed_at = ${NOW_MS}, expires_at = ${NOW_MS} + ?, ttl = ?
WHERE lock_name = ? AND token = ? AND state = 'held' AND ${OURS}`,
    restore: `INSERT INTO ${t} (lock_name, name, token, state, holder, connection_id, acquired_at, renewed_at, expires_at, ttl)
SELECT ?, ?, ?, 'held', ?, CONNECTION_ID(), ?, ${NOW_MS}, ${NOW_MS} + ?, ? FROM DUAL WHERE ${OURS}
ON DUPLICATE KEY UPDATE lock_name = lock_name`,
    markReleased: `UPDATE ${t} SET state = 'released', expires_at = ${NOW_MS} WHERE lock_name = ? AND token = ? AND ${OURS}`,
    writeOutcome: `UPDATE ${t} SET outcome = ? WHERE lock_name = ? AND token = ? AND state = 'held' AND ${OURS}`,
    readOutcome: `SELECT outcome FROM ${t} WHERE lock_name = ?`,
    look: `SELECT IS_USED_LOCK(?) AS used_by, ${NOW_MS} AS now, r.name, r.token, r.state, r.holder, r.connection_id,
  r.acquired_at, r.renewed_at, r.expires_at, r.ttl
FROM (SELECT 1 AS one) AS here LEFT JOIN ${t} AS r ON r.lock_name = ?`,
  };
}

/** The lock is free now, or a name was never taken: `GET_LOCK(?, 0)`. Values: lock, timeout in s. */
export const GET_LOCK = 'SELECT GET_LOCK(?, ?) AS got';
export const RELEASE_LOCK = 'SELECT RELEASE_LOCK(?) AS released';
/** Values: the connection id (a number, so it is written as one). */
export const KILL = 'KILL CONNECTION ?';
