/**
 * The statement that ends a paused holder's session, in one transaction so nothing slips between
 * the judgment and the signal:
 *
 * - `locked`: every row naming the holder's backend pid, locked (FOR UPDATE, in one order, so two
 *   followers ending one session never deadlock), so a renew of any of them either commits first
 *   (READ COMMITTED then reads its new version: the judged row's `renewed_at` differs and nothing is
 *   ended) or waits and then finds its row `ending` (sql.ts `renew` renews only `held` rows), or
 *   its backend gone;
 * - `w`: the lock's row, exactly as the follower judged it (token, `renewed_at` to the µs), whose
 *   backend (pid and start time: a reused pid is never hit) still holds the lock;
 * - `others`: every other lease that backend holds (a row naming it whose lock it still holds). One
 *   session holds all the locks of its adapter: ending it ends them all, so it is ended only if
 *   every one of them is over too (`OVER`);
 * - `ending`: the row is marked `ending`, and only then is the backend signalled. From PostgreSQL
 *   14 on, pg_terminate_backend waits (up to 1 s) for the backend to be gone.
 *
 * $1 ns, $2 key, $3 name, $4 db, $5 token, $6 holder pid, $7 renewed_at in µs, $8 ms the follower
 * has seen the row unchanged, $9 the follower's clock identity, $10 its monotonic now (ms).
 */

import { DRIFT_FACTOR, DRIFT_MARGIN } from './sightings.js';
import { lockRows } from './sql.js';
import type { TableName } from './table-name.js';

/**
 * Whether another lease `o` of the same holder is over. On our own monotonic clock: its note says.
 * Otherwise both must say so (each is fooled only by a step of the server's clock in one direction):
 * the server's clock (`expires_at < now()`), and the time since its renew measured from ours: the
 * judged row has been unchanged `$8` ms, and `o` was renewed `w.renewed_at - o.renewed_at` before it.
 * Anything unreadable counts as live.
 */
const OVER = `coalesce(CASE WHEN $9::text IS NOT NULL AND o.holder->'_lease'->>'clock' = $9::text
    THEN (o.holder->'_lease'->>'expiresAt')::float8 < $10::float8
    ELSE o.expires_at < now()
      AND $8::float8 + (extract(epoch FROM o.judged_renewed_at - o.renewed_at) * 1000)::float8
        > coalesce((o.holder->'_lease'->>'ttl')::float8, (extract(epoch FROM o.expires_at - o.renewed_at) * 1000)::float8)
          * ${1 + DRIFT_FACTOR} + ${DRIFT_MARGIN}
  END, false)`;

export function takeoverStatement(table: TableName, serverVersion: number): string {
  const t = table.sql;
  const wait = serverVersion >= 140000 ? ', 1000' : '';
  return `WITH locked AS (
  SELECT t.namespace, t.name, t.lock_key, t.token, t.state, t.holder, t.backend_pid, t.backend_start, t.renewed_at, t.expires_at
  FROM ${t} t WHERE t.backend_pid = $6::int AND t.state IN ('held', 'ending')
  ORDER BY t.namespace, t.name
  FOR UPDATE
), w AS (
  SELECT k.namespace, k.name, k.backend_pid, k.backend_start, k.renewed_at
  FROM locked k
  JOIN (${lockRows('$1', '$2', '$4')}) l ON l.pid = k.backend_pid
  LEFT JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE k.namespace = $1::int AND k.name = $3::text AND k.token = $5::bigint
    AND (extract(epoch FROM k.renewed_at) * 1000000)::bigint = $7::bigint
    AND (k.backend_start IS NULL OR a.backend_start IS NULL OR a.backend_start = k.backend_start)
), others AS (
  SELECT o.holder, o.renewed_at, o.expires_at, w.renewed_at AS judged_renewed_at
  FROM locked o JOIN w ON o.backend_start IS NOT DISTINCT FROM w.backend_start AND (o.namespace, o.name) <> (w.namespace, w.name)
  WHERE o.state = 'held' AND EXISTS (SELECT 1 FROM pg_locks k WHERE k.locktype = 'advisory' AND k.pid = o.backend_pid
    AND k.classid = o.namespace::oid AND k.objid = o.lock_key::oid AND k.objsubid = 2 AND k.granted)
), ending AS (
  UPDATE ${t} t SET state = 'ending' FROM w
  WHERE t.namespace = w.namespace AND t.name = w.name AND NOT EXISTS (SELECT 1 FROM others o WHERE NOT ${OVER})
  RETURNING t.backend_pid
)
SELECT pg_terminate_backend(e.backend_pid${wait}) AS terminated FROM ending e`;
}
