/**
 * The Lua scripts of the Redis lock. A lock's value is `<token>|<holder id>|<client id>|<record>`,
 * so every compare is one string comparison and the token travels with the value.
 * All keys of one lock share a hash tag, so they live in one Cluster slot.
 */
import { createHash } from 'node:crypto';
import type { LockKeys } from './keys.js';

export interface Script {
  readonly source: string;
  readonly sha: string;
  readonly keys: number;
}

export function script(keys: number, source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex'), keys };
}

/**
 * Lua for "the next token": one more than the counter, and never below the server's clock in
 * microseconds (a 16-digit number, exact below 2^53 until the year 2255) nor at or below `floor`
 * (the highest token the caller has seen, or the last released one). The counter can be lost
 * (FLUSHALL, eviction, a restart without data) or rolled back (a restart from an older RDB
 * snapshot); the clock goes on, so tokens never go backwards nor repeat, whoever acquires next and
 * whatever it remembers, as long as the server's clock does not step back. Expects `floor` (a
 * number) in scope; the script must start with NONDETERMINISTIC.
 */
const NEXT_TOKEN = `local now = redis.call('TIME')
local token = math.max(tonumber(redis.call('GET', KEYS[2]) or '0') + 1, floor + 1, tonumber(now[1]) * 1000000 + tonumber(now[2]))
redis.call('SET', KEYS[2], string.format('%d', token))`;

/** Redis before 7 replicates scripts verbatim and refuses writes after TIME unless told to replicate effects. */
const NONDETERMINISTIC = `if redis.replicate_commands then redis.replicate_commands() end`;

/** Lua: the last released token (the RELEASE script's marker), 0 if none. */
const RELEASED = `tonumber(redis.call('GET', KEYS[3]) or '0')`;

/**
 * Grants the lock if it is free, or if its current holder is the caller itself (it lost track of
 * its lease and campaigns again): a new token either way.
 *
 * A lock key can vanish four ways: a release (which leaves its token in the marker), expiry, or
 * state loss (FLUSHALL, eviction, an empty restart) under a holder that may still be inside its
 * lease. A caller that saw a holder (ARGV[4]: its token, else 0) gets {2, released} instead of the
 * lock when that holder was not released and the loss cannot be told from expiry: the counter is
 * gone too, or the server may evict (ARGV[6] = '1'). The caller then waits one of that holder's
 * TTLs by its own clock.
 * KEYS[1] lock, KEYS[2] token counter, KEYS[3] released marker. ARGV[1] ttl ms, ARGV[2] holder id,
 * ARGV[3] `<client id>|<record>`, ARGV[4] token seen, ARGV[5] token floor, ARGV[6] may evict.
 * Returns {1, value} when granted, {0, current value} when held by someone else.
 */
export const ACQUIRE = script(
  3,
  `${NONDETERMINISTIC}
local current = redis.call('GET', KEYS[1])
if current then
  if string.match(current, '^%d+|([^|]*)|') ~= ARGV[2] then return {0, current} end
elseif tonumber(ARGV[4]) > ${RELEASED} and (ARGV[6] == '1' or redis.call('EXISTS', KEYS[2]) == 0) then
  return {2, ''}
end
local floor = math.max(tonumber(ARGV[5]), ${RELEASED})
${NEXT_TOKEN}
local value = string.format('%d', token) .. '|' .. ARGV[2] .. '|' .. ARGV[3]
redis.call('SET', KEYS[1], value, 'PX', ARGV[1])
return {1, value}`,
);

/**
 * Takes the lock over from a holder whose connection is gone, only if nothing changed since.
 * KEYS[1] lock, KEYS[2] token counter, KEYS[3] released marker. ARGV[1] value seen, ARGV[2] ttl
 * ms, ARGV[3] holder id, ARGV[4] `<client id>|<record>`. Returns the new value, or false.
 */
export const TAKE_OVER = script(
  3,
  `${NONDETERMINISTIC}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
local floor = math.max(tonumber(string.match(ARGV[1], '^(%d+)|')), ${RELEASED})
${NEXT_TOKEN}
local value = string.format('%d', token) .. '|' .. ARGV[3] .. '|' .. ARGV[4]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value`,
);

/** The message asking resting followers for a watcher of the lock (adapters/redis/watcher.ts). */
export const NEED_WATCHER = 'watch';

/**
 * Compare-and-renew. One key: on a Cluster, a second key absent while the slot migrates would make
 * the server answer TRYAGAIN and the holder step down.
 * KEYS[1] lock. ARGV[1] our value, ARGV[2] ttl ms. Returns 1 or 0.
 */
export const RENEW = script(
  1,
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
);

/** RENEW's keys and arguments for `value`. */
export function renewArgs(keys: LockKeys, value: string, ttl: number): Array<string | number> {
  return [keys.lock, value, ttl];
}

/** RELEASE's ARGV[3]: a lease someone held, or a value never granted. */
const HELD = '1';
const NEVER_GRANTED = '0';

/**
 * Compare-and-delete, then leave the released token in the marker (so a vanished key is never
 * mistaken for a release, and tokens continue above it), the released value in the last-release
 * key (so `inspect` can say who released it), and wake the followers. The marker stays a bare
 * number: older versions read it with `tonumber`.
 * KEYS[1] lock, KEYS[2] released marker, KEYS[3] last release. ARGV[1] our value, ARGV[2] channel
 * (empty: wake nobody), ARGV[3] '1' if the value was a lease someone held, '0' for a give-back of
 * a value never granted (a Redlock vote short of quorum, an answer on a new connection): that
 * one is no release by a holder, and `inspect` must not name its candidate as the releaser.
 * Returns 1 if released, 0 if it was no longer ours.
 */
export const RELEASE = script(
  3,
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
local token = tonumber(string.match(ARGV[1], '^(%d+)|'))
if token > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], string.format('%d', token))
  if ARGV[3] == '1' then redis.call('SET', KEYS[3], ARGV[1]) end
end
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], 'released') end
return 1`,
);

/**
 * RELEASE's keys and arguments for `value`: `held`, a lease's release (recorded as the last one),
 * else a give-back of a value never granted; `wake` publishes on the lock's channel.
 */
export function releaseArgs(keys: LockKeys, value: string, { held, wake }: { held: boolean; wake: boolean }): string[] {
  return [keys.lock, keys.released, keys.last, value, wake ? keys.events : '', held ? HELD : NEVER_GRANTED];
}

/**
 * Stores a `runOnce` outcome while the lease is still ours (compare-and-set).
 * KEYS[1] lock, KEYS[2] outcome. ARGV[1] our value, ARGV[2] outcome JSON. Returns 1 or 0.
 */
export const WRITE_OUTCOME = script(
  2,
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1`,
);

/** The commands a script runner needs: ioredis `Redis` and `Cluster` both have them. */
export interface ScriptClient {
  evalsha(sha: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  eval(source: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

/** EVALSHA, loading the script with EVAL the first time a server does not know it (NOSCRIPT). */
export async function run(client: ScriptClient, { source, sha, keys }: Script, args: Array<string | number>): Promise<unknown> {
  try {
    return await client.evalsha(sha, keys, ...args);
  } catch (error) {
    if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
    return client.eval(source, keys, ...args);
  }
}
