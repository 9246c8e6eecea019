/** The statements of the followers' side (followers.ts): the watcher's look, leaving a lock, a NOTIFY. */

import type { FollowersHost, WatchRow } from './followers.js';
import { type LockKeys, payloadOf } from './keys.js';
import type { Session } from './session.js';
import type { Statements } from './sql.js';
import type { Takeovers } from './takeover.js';

/** The watcher's look at the lock; `notify`: NOTIFY `free` in the same statement if it is free. */
export async function look(session: Session, sql: Statements, channel: string, keys: LockKeys, notify: boolean): Promise<WatchRow> {
  const values = [keys.namespace, keys.key, keys.name, session.info.db, channel, payloadOf(keys, 'free'), notify];
  const { rows } = await session.query<WatchRow>('watch', sql.watch, values);
  return rows[0] as WatchRow;
}

/** The last watcher of `keys` in this session left: give up its seat (and say so, so another follower takes it) and mark. */
export function leave(session: Session, channel: string, keys: LockKeys): void {
  const seated = session.seats.delete(keys.name);
  const marked = session.markers.delete(keys.name);
  if (!seated && !marked) return;
  void session
    .query(
      'watch',
      `SELECT CASE WHEN $1::boolean THEN pg_advisory_unlock($2::bigint) END, CASE WHEN $3::boolean THEN pg_advisory_unlock_shared($4::bigint) END,
              CASE WHEN $1::boolean THEN pg_notify($5::text, $6::text)::text END`,
      [seated, keys.seat.value, marked, keys.marker.value, channel, payloadOf(keys, 'seat')],
    )
    .catch(() => undefined);
}

/** NOTIFY `event` about `keys`, without waiting (a lost NOTIFY only delays a follower's next try). */
export function say(session: Session, channel: string, keys: LockKeys, event: 'seat'): void {
  void session.query('watch', 'SELECT pg_notify($1::text, $2::text)', [channel, payloadOf(keys, event)]).catch(() => undefined);
}

/** What the followers need, on the adapter's live session (none: a look fails, nothing is ended). */
export function followersHost(adapter: {
  readonly current: () => Session | null;
  readonly sql: Statements;
  readonly channel: string;
  readonly takeovers: Takeovers;
  /** A token was seen (the adapter's floor). */
  readonly seen: (name: string, token: string | null) => void;
  readonly idle: () => void;
}): FollowersHost {
  const { current, sql, channel, takeovers } = adapter;
  return {
    look: async (keys, notify) => {
      const session = current();
      if (!session) throw new Error('no session');
      const row = await look(session, sql, channel, keys, notify);
      adapter.seen(keys.name, row.token);
      return row;
    },
    takeOver: async (keys, row, at, context) => {
      const session = current();
      if (!session) return false;
      return takeovers.endIfOver(session, keys, row, at, context).catch((error) => {
        context?.warn?.((error as Error).message);
        return false;
      });
    },
    now: () => takeovers.sightings.nowMs(),
    leave: (keys) => {
      const session = current();
      if (session) leave(session, channel, keys);
    },
    idle: adapter.idle,
    listening: () => current() !== null,
  };
}
