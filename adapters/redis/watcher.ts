/**
 * One watcher per lock, whatever the number of followers: idle cost grows with locks, not with
 * followers. The follower that holds a lock's watcher claim polls the holder's connection, and
 * wakes its election when the lease's TTL runs out (a paused holder); the others wait for a
 * message on the lock's channel. The claim lapses unless its watcher refreshes it; a watcher that
 * stops gives it up and asks the others for a new one; and after each renew the holder asks for a
 * watcher when it finds none (or only its own process's, which cannot watch itself die), so a
 * watcher that died is replaced within a claim TTL and a renew interval.
 *
 * Followers still try now and then, in case a wake-up was lost or holder and watcher failed
 * together: each waits an exponentially distributed time with mean `restingRetry` ms times the
 * number of subscribers to the lock's channel, so all of them together try about once per
 * `restingRetry` ms at any moment, however many they are and however recently they were woken
 * together. Bound after a double fault (watcher and holder both gone): about `restingRetry` on
 * average, a few times that rarely (on a Cluster the subscriber count is the lock's node's only,
 * so followers try more often).
 */
import { randomUUID } from 'node:crypto';
import type { LockKeys } from './keys.js';
import { type ParsedValue, parseValue } from './record.js';
import { NEED_WATCHER, run, type ScriptClient, script } from './scripts.js';

/** How long a claim lives without a refresh, in ms, by default. Its watcher refreshes it every third of that. */
export const WATCHER_CLAIM_TTL = 6000;

/** What a claim attempt learns. */
export interface Claim {
  /** The caller watches the lock now. */
  readonly mine: boolean;
  /** The lock's TTL left in ms; negative when no lease is stored. */
  readonly leaseLeft: number;
  /** Connections subscribed to the lock's channel on that server: about one per follower process. */
  readonly subscribers: number;
}

/**
 * KEYS[1] watcher claim, KEYS[2] lock. ARGV[1] claimant id, ARGV[2] claim ttl ms, ARGV[3] channel.
 * Returns {1 if the caller watches now, the lock's PTTL, the channel's subscribers}.
 */
const CLAIM = script(
  2,
  `local current = redis.call('GET', KEYS[1])
local mine = 0
if not current or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  mine = 1
end
return {mine, redis.call('PTTL', KEYS[2]), redis.call('PUBSUB', 'NUMSUB', ARGV[3])[2]}`,
);

/**
 * KEYS[1] watcher claim. ARGV[1] claimant id, ARGV[2] channel. Deletes the claim if it is the
 * caller's, and asks the resting followers for a new watcher.
 */
const UNCLAIM = script(
  1,
  `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], '${NEED_WATCHER}')
end
return 1`,
);

/**
 * The holder's question after a renew. KEYS[1] watcher claim. ARGV[1] the holder adapter's own
 * claimant id, ARGV[2] channel. A claim of the holder's own adapter is none (it would watch
 * itself): it is dropped. No claim: the resting followers are asked for a watcher.
 */
const ASK_FOR_WATCHER = script(
  1,
  `local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('DEL', KEYS[1])
  current = false
end
if not current then redis.call('PUBLISH', ARGV[2], '${NEED_WATCHER}') end
return 1`,
);

export class WatcherClaims {
  /** One per adapter (per node for Redlock): two elections of one process share its claim. */
  readonly #id = randomUUID();

  constructor(
    private readonly client: ScriptClient & { get(key: string): Promise<string | null> },
    /** How long a claim lives without a refresh, in ms. */
    readonly claimTtl: number = WATCHER_CLAIM_TTL,
  ) {}

  /** Claims or refreshes the watch of a lock, and reads what a follower needs to pace itself. */
  async claim(keys: LockKeys): Promise<Claim> {
    const [mine, leaseLeft, subscribers] = (await run(this.client, CLAIM, [
      keys.watcher,
      keys.lock,
      this.#id,
      this.claimTtl,
      keys.events,
    ])) as number[];
    return { mine: mine === 1, leaseLeft: Number(leaseLeft), subscribers: Number(subscribers) || 1 };
  }

  /**
   * Gives the claim up (we hold the lock now, or stopped following it), so another follower takes
   * it at once. EVAL, not EVALSHA: it is often the last command before an owned client closes, and
   * a NOSCRIPT answer's fallback would come too late. Never rejects: the claim lapses by itself.
   */
  unclaim(keys: LockKeys): Promise<void> {
    return this.client.eval(UNCLAIM.source, 1, keys.watcher, this.#id, keys.events).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Who holds the lock now (null: nobody, or a value not ours to read), for a watcher whose holder cannot be judged. */
  async holder(keys: LockKeys): Promise<ParsedValue | null> {
    const value = await this.client.get(keys.lock);
    return value === null ? null : parseValue(value);
  }

  /** As the holder, after a renew: asks for a watcher if none (but our own adapter) holds the claim. Best effort. */
  askForWatcher(keys: LockKeys): void {
    void run(this.client, ASK_FOR_WATCHER, [keys.watcher, this.#id, keys.events]).catch(() => undefined);
  }
}
