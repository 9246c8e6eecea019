/**
 * How followers wait without polling. Every waiting follower's session is blocked in the server:
 *
 * - all but one queue on the lock's second, "watch" lock (`GET_LOCK(watch, followerWait)`), one
 *   statement per `followerWait` each, and nothing else;
 * - the one holding the watch lock is the lock's watcher: it queues on the lock itself
 *   (`GET_LOCK(lock, t)`), with `t` running to the holder's recorded expiry (server clock). When
 *   the holder releases or its session dies (a crash: the server frees the lock with the session)
 *   the server hands the lock straight to the watcher, which gives up the watch lock (the next
 *   follower in line becomes the watcher) and wakes its election to claim it. When `t` runs out
 *   the watcher looks again: a holder that renewed gets a new `t`; one past its lease is paused,
 *   and the watcher ends its session (takeover.ts).
 *
 * So a crash or a release is noticed at once by exactly one follower, a pause after the TTL, and
 * the server sees about `followers / followerWait + 2 / ttl` statements per second for a lock.
 * The watcher's succession is the server's queue: a watcher that dies or leaves hands the watch
 * lock to the next follower at once.
 */

import { PrimacyBackendError } from '../../src/errors.js';
import { parseLook } from './look.js';
import type { LockNames } from './names.js';
import type { Session } from './session.js';
import { GET_LOCK, RELEASE_LOCK, type Statements } from './sql.js';
import type { Takeover } from './takeover.js';

/** After a refused takeover, the watcher asks again this often (ms): the refusal is reported at each acquire. */
const AFTER_REFUSAL = 5000;
/** How long a follower waits for a killed holder's session to let go of the lock, in ms. */
export const AFTER_KILL = 2000;

export interface FollowParts {
  readonly session: Session;
  readonly names: LockNames;
  readonly sql: Statements;
  readonly takeover: Takeover;
  /** How long one blocked wait on the watch lock lasts, in ms (`followerWait`). */
  readonly followerWait: number;
  /** The statement bound beyond a wait's own length, in ms. */
  readonly timeout: number;
  /** Whether anyone still wants the lock through this session. */
  readonly active: () => boolean;
  /** A takeover the server refused (no privilege to end the holder's session): reported at the next acquire. */
  readonly onRefusal: (error: PrimacyBackendError) => void;
}

/**
 * Waits on `session` until the server hands it the lock (`'granted'`: the session holds it, the
 * watch lock is given back) or nobody wants it any more (`'stopped'`). Rejects when the session
 * fails; the caller then closes it.
 */
export async function follow(parts: FollowParts): Promise<'granted' | 'stopped'> {
  const { session, names, followerWait, timeout, active } = parts;
  const wait = (lock: string, ms: number, operation: string) =>
    session
      .run(GET_LOCK, [lock, (Math.max(0, ms) / 1000).toFixed(3)], { ms: ms + timeout, operation })
      .then(({ rows }) => gotLock(rows[0]?.got, lock));
  while (active()) {
    if (!(await wait(names.watch, followerWait, 'follow'))) continue;
    const outcome = await watchHolder(parts, wait);
    if (outcome === 'granted') {
      await session.run(RELEASE_LOCK, [names.watch], { ms: timeout, operation: 'follow' });
      return 'granted';
    }
    await session.run(RELEASE_LOCK, [names.watch], { ms: timeout, operation: 'follow' });
  }
  return 'stopped';
}

/** As the lock's watcher: queue on the lock itself, looking at the holder whenever its lease could have run out. */
async function watchHolder(
  parts: FollowParts,
  wait: (lock: string, ms: number, operation: string) => Promise<boolean>,
): Promise<'granted' | 'stopped'> {
  const { session, names, sql, takeover, followerWait, timeout, active, onRefusal } = parts;
  const bound = { ms: timeout, operation: 'follow' };
  while (active()) {
    const look = parseLook((await session.run(sql.look, [names.lock, names.lock], bound)).rows[0]);
    let ms = takeover.due(names.lock, look) ?? 0;
    if (ms <= 0 && look.usedBy !== null) {
      try {
        await takeover.kill(session, names.lock, look, bound);
        ms = AFTER_KILL;
      } catch (error) {
        if (!(error instanceof PrimacyBackendError)) throw error;
        onRefusal(error);
        ms = AFTER_REFUSAL;
      }
    }
    if (await wait(names.lock, Math.min(Math.max(ms, 0), followerWait), 'follow')) return 'granted';
  }
  return 'stopped';
}

/** GET_LOCK's answer: 1 granted, 0 timed out; NULL means the wait was killed or failed. */
export function gotLock(got: unknown, lock: string): boolean {
  if (got === null || got === undefined) throw new Error(`GET_LOCK('${lock}') returned NULL (the wait was killed or failed)`);
  return Number(got) === 1;
}
