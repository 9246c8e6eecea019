/**
 * Scripts of the quorum lock. Unlike the single-node ones, the token is chosen by the acquirer
 * (the highest counter it read on a majority, plus one) and written to every node, so a token
 * stays the same across the quorum and strictly increases across holders: any two majorities share
 * a node, whose counter is at least the last holder's token.
 * Values are `<token>|<holder id>|<client id>|<record>`, as in `../redis/scripts.ts`.
 */
import type { LockKeys } from '../redis/keys.js';
import { script } from '../redis/scripts.js';

/** Where a node keeps the last vote given back (a value never granted as a lease), by value. */
export function givenKey(keys: LockKeys): string {
  return `${keys.lock.slice(0, -'lock'.length)}given`;
}

/**
 * Grants a node to the caller if the lock is free there (or already the caller's own).
 *
 * Except where the caller saw a holder (ARGV[5]: its token, else 0) whose state this node lost: the
 * key gone without a release of that token (the marker RELEASE leaves) and the counter gone too
 * (FLUSHALL, an empty restart), or the node may evict (ARGV[6] = '1'), so expiry cannot be told
 * from loss. The holder may still be inside its lease there: the node answers {2, ''} and writes
 * nothing (a counter or marker left by this call would make the loss look like a release to the
 * next look). A key that merely expired leaves its counter, and is granted as before.
 * KEYS[1] lock, KEYS[2] token counter, KEYS[3] released marker. ARGV[1] ttl ms, ARGV[2] holder id,
 * ARGV[3] token, ARGV[4] `<client id>|<record>`, ARGV[5] token seen, ARGV[6] may evict.
 * Returns {1, value} if granted, {0, current value} if held, {2, ''} if lost under the seen holder.
 */
export const ACQUIRE_WITH_TOKEN = script(
  3,
  `local current = redis.call('GET', KEYS[1])
if current then
  if string.match(current, '^%d+|([^|]*)|') ~= ARGV[2] then return {0, current} end
elseif tonumber(ARGV[5]) > tonumber(redis.call('GET', KEYS[3]) or '0') and (ARGV[6] == '1' or redis.call('EXISTS', KEYS[2]) == 0) then
  return {2, ''}
end
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], ARGV[3])
end
local value = ARGV[3] .. '|' .. ARGV[2] .. '|' .. ARGV[4]
redis.call('SET', KEYS[1], value, 'PX', ARGV[1])
return {1, value}`,
);

/**
 * Takes over a node's lock from a holder whose connection to that node is gone, if unchanged.
 * KEYS[1] lock, KEYS[2] token counter. ARGV[1] value seen, ARGV[2] ttl ms, ARGV[3] holder id,
 * ARGV[4] token, ARGV[5] `<client id>|<record>`. Returns the new value, or false.
 */
export const TAKE_OVER_WITH_TOKEN = script(
  2,
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[4]) then
  redis.call('SET', KEYS[2], ARGV[4])
end
local value = ARGV[4] .. '|' .. ARGV[3] .. '|' .. ARGV[5]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value`,
);

/**
 * Gives back a vote short of quorum (compare-and-delete, the released marker as RELEASE leaves it,
 * nobody woken) and records the value given back (for 10 minutes): a candidate that saw it on a
 * minority of the nodes then knows it was no lease, nothing to wait for.
 * KEYS[1] lock, KEYS[2] released marker, KEYS[3] given back. ARGV[1] the vote's value. Returns 1 or 0.
 */
export const GIVE_BACK = script(
  3,
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
local token = tonumber(string.match(ARGV[1], '^(%d+)|'))
if token > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], string.format('%d', token))
end
redis.call('SET', KEYS[3], ARGV[1], 'PX', 600000)
return 1`,
);

/**
 * What a candidate looks at before it votes, in one command: the lock's value, its token counter,
 * the last released value, the last vote given back, and the server's clock (TIME, the floor under the next token, as
 * `redisLock`'s tokens: a majority of counters lost, a candidate that remembers nothing still
 * issues a token above any issued before, as long as the servers' clocks do not step back).
 * KEYS[1] lock, KEYS[2] token counter, KEYS[3] last released value, KEYS[4] last given back.
 * Returns {value, counter, last, given (each false if none), seconds, microseconds}.
 */
export const LOOK = script(
  4,
  `local now = redis.call('TIME')
local get = function(key) return redis.call('GET', key) end
return {get(KEYS[1]), get(KEYS[2]), get(KEYS[3]), get(KEYS[4]), now[1], now[2]}`,
);
