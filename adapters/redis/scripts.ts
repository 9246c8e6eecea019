/**
 * The Lua scripts of the Redis lock. A lock's value is `<token>|<holder id>|<client id>|<record>`,
 * so every compare is one string comparison and the token travels with the value.
 * All keys of one lock share a hash tag, so they live in one Cluster slot.
 */
import { createHash } from 'node:crypto';

export interface Script {
  readonly source: string;
  readonly sha: string;
  readonly keys: number;
}

export function script(keys: number, source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex'), keys };
}

/**
 * Grants the lock if it is free, or if its current holder is the caller itself (it lost track of
 * its lease and campaigns again): a new token either way.
 * KEYS[1] lock, KEYS[2] token counter. ARGV[1] ttl ms, ARGV[2] holder id, ARGV[3] `<client id>|<record>`.
 * Returns {1, value} when granted, {0, current value} when held by someone else.
 */
export const ACQUIRE = script(
  2,
  `local current = redis.call('GET', KEYS[1])
if current and string.match(current, '^%d+|([^|]*)|') ~= ARGV[2] then
  return {0, current}
end
local value = redis.call('INCR', KEYS[2]) .. '|' .. ARGV[2] .. '|' .. ARGV[3]
redis.call('SET', KEYS[1], value, 'PX', ARGV[1])
return {1, value}`,
);

/**
 * Takes the lock over from a holder whose connection is gone, only if nothing changed since.
 * KEYS[1] lock, KEYS[2] token counter. ARGV[1] value seen, ARGV[2] ttl ms, ARGV[3] holder id,
 * ARGV[4] `<client id>|<record>`. Returns the new value, or false.
 */
export const TAKE_OVER = script(
  2,
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
local value = redis.call('INCR', KEYS[2]) .. '|' .. ARGV[3] .. '|' .. ARGV[4]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value`,
);

/** Compare-and-renew. KEYS[1] lock. ARGV[1] our value, ARGV[2] ttl ms. Returns 1 or 0. */
export const RENEW = script(
  1,
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
);

/**
 * Compare-and-delete, then wake the followers. KEYS[1] lock. ARGV[1] our value, ARGV[2] channel
 * (empty: wake nobody). Returns 1 if released, 0 if it was no longer ours.
 */
export const RELEASE = script(
  1,
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], 'released') end
return 1`,
);

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
