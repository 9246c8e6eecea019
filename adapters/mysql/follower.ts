/**
 * How followers wait without polling. Every waiting follower's session is blocked in the server:
 *
 * - all but one queue on the lock's second, "watch" lock (`GET_LOCK(watch, ~followerWait)`);
 * - the one holding the watch lock is the lock's watcher: it queues on the lock itself
 *   (`GET_LOCK(lock, t)`), with `t` running to the holder's recorded expiry (server clock). When
 *   the holder releases or its session dies (a crash: the server frees the lock with the session)
 *   the server hands the lock straight to the watcher, which gives up the watch lock (the next
 *   follower in line becomes the watcher) and wakes its election to claim it. When `t` runs out
 *   the watcher looks again: a holder that renewed gets a new `t`; one past its lease is paused,
 *   and the watcher ends its session (takeover.ts).
 * - a follower whose wait for the watch lock runs out looks at the lock too, as the watcher would:
 *   the watcher itself may be paused (its session open, the lock perhaps handed to it and never
 *   claimed), and nobody else would notice. A paused watcher so delays a takeover by up to
 *   `followerWait` (plus the grace of a holder not recorded, takeover.ts).
 *
 * So a crash or a release is noticed at once by exactly one follower, a paused holder after its
 * TTL, and the server sees about `2 × followers / (0.9 × followerWait)` statements per second for
 * a lock, plus the holder's renewals and a few looks of the watcher per TTL. The watcher's
 * succession is the server's queue: a watcher that dies or leaves hands the watch lock to the next
 * follower at once.
 */
import { PrimacyBackendError } from '../../src/errors.js';
import { type Look, parseLook, recordedHolder } from './look.js';
import type { LockNames } from './names.js';
import type { Session } from './session.js';
import { GET_LOCK, RELEASE_LOCK, type Statements } from './sql.js';
import type { Takeover } from './takeover.js';

/** After a refused takeover, the watcher asks again this often (ms): the refusal is reported at each acquire. */
const AFTER_REFUSAL = 5000;
/** How long a follower waits for a killed holder's session to let go of the lock, in ms. */
export const AFTER_KILL = 2000;
/** The soonest a follower looks at the holder again, in ms. */
const MIN_LOOK = 100;

export interface FollowParts {
  readonly session: Session;
  readonly names: LockNames;
  readonly sql: Statements;
  readonly takeover: Takeover;
  /** How long one blocked wait on the watch lock lasts, in ms (`followerWait`). */
  readonly followerWait: number;
  /** See `MysqlLockOptions.takeoverGrace`. */
  readonly takeoverGrace: number;
  /** The statement bound beyond a wait's own length, in ms. */
  readonly timeout: number;
  /** Whether anyone still wants the lock through this session. */
  readonly active: () => boolean;
  /** A takeover the server refused (no privilege to end the holder's session): reported at the next acquire. */
  readonly onRefusal: (error: PrimacyBackendError) => void;
}

/**
 * Waits on `session` until the server hands it the lock (`'granted'`: the session holds it, and
 * not the watch lock) or nobody wants it any more (`'stopped'`). Rejects when the session fails;
 * the caller then closes it.
 */
export async function follow(parts: FollowParts): Promise<'granted' | 'stopped'> {
  const { session, names, followerWait, timeout, active } = parts;
  const wait = (lock: string, ms: number) =>
    session
      .run(GET_LOCK, [lock, (Math.max(0, ms) / 1000).toFixed(3)], { ms: ms + timeout, operation: 'follow' })
      .then(({ rows }) => gotLock(rows[0]?.got, lock));
  let next = followerWait;
  while (active()) {
    // Spread over 80-100% of followerWait, so followers started together do not look together.
    if (await wait(names.watch, next * (0.8 + 0.2 * Math.random()))) {
      const outcome = await watchHolder(parts, wait);
      await session.run(RELEASE_LOCK, [names.watch], { ms: timeout, operation: 'follow' });
      if (outcome === 'granted') return granted(parts);
      continue;
    }
    const due = await lookAtHolder(parts, wait);
    if (due === 'granted') return granted(parts);
    next = Math.min(followerWait, Math.max(due, MIN_LOOK));
  }
  return 'stopped';
}

/**
 * Handed the lock: where its last holder did not release it (its session ended: a crash, or an
 * administrator's KILL of a live process), waits `takeoverGrace` first, time for a running holder
 * to see its connection close and step down before anyone is elected.
 */
async function granted(parts: FollowParts): Promise<'granted'> {
  const { session, names, sql, timeout, takeoverGrace } = parts;
  if (takeoverGrace > 0) {
    const { row } = parseLook((await session.run(sql.look, [names.lock, names.lock], { ms: timeout, operation: 'follow' })).rows[0]);
    if (row?.state === 'held' && row.connectionId !== session.id) await new Promise((resolve) => setTimeout(resolve, takeoverGrace));
  }
  return 'granted';
}

/** As the lock's watcher: queue on the lock itself, looking at the holder whenever its lease could have run out. */
async function watchHolder(parts: FollowParts, wait: Wait): Promise<'granted' | 'stopped'> {
  const { session, names, sql, takeover, followerWait, timeout, active } = parts;
  const bound = { ms: timeout, operation: 'follow' };
  while (active()) {
    const look = parseLook((await session.run(sql.look, [names.lock, names.lock], bound)).rows[0]);
    let ms = takeover.due(names.lock, look) ?? 0;
    if (ms <= 0 && look.usedBy !== null) ms = await endHolder(parts, look);
    if (await wait(names.lock, Math.min(Math.max(ms, 0), followerWait))) return 'granted';
  }
  return 'stopped';
}

/**
 * As a follower whose wait for the watch lock ran out: takes the lock if it is free, ends its
 * holder if that is overdue; else says in how many ms to look again: after `followerWait` while a
 * recorded holder renews (timing its lease is the watcher's work), sooner for one not recorded
 * (perhaps a paused watcher that was handed the lock), as soon as its grace is over.
 */
async function lookAtHolder(parts: FollowParts, wait: Wait): Promise<number | 'granted'> {
  const { session, names, sql, takeover, timeout, followerWait } = parts;
  const look = parseLook((await session.run(sql.look, [names.lock, names.lock], { ms: timeout, operation: 'follow' })).rows[0]);
  const due = takeover.due(names.lock, look);
  if (due !== null && due > 0) return recordedHolder(look) ? followerWait : due;
  const ms = due === null ? 0 : await endHolder(parts, look);
  return (await wait(names.lock, Math.min(ms, AFTER_KILL))) ? 'granted' : ms;
}

/** Ends the session of a holder past its lease; returns how long to wait for the lock now (ms). */
async function endHolder(parts: FollowParts, look: Look): Promise<number> {
  const { session, names, takeover, timeout, onRefusal } = parts;
  try {
    await takeover.kill(session, names.lock, look, { ms: timeout, operation: 'follow' });
    return AFTER_KILL;
  } catch (error) {
    if (!(error instanceof PrimacyBackendError)) throw error;
    onRefusal(error);
    return AFTER_REFUSAL;
  }
}

type Wait = (lock: string, ms: number) => Promise<boolean>;

/** GET_LOCK's answer: 1 granted, 0 timed out; NULL means the wait was killed or failed. */
export function gotLock(got: unknown, lock: string): boolean {
  if (got === null || got === undefined) throw new Error(`GET_LOCK('${lock}') returned NULL (the wait was killed or failed)`);
  return Number(got) === 1;
}
