/**
 * The lock every Redis tutorial shows, on plain ioredis: `SET key token NX PX ttl` to acquire, a
 * compare-and-PEXPIRE Lua script to renew and a compare-and-DEL one to release (both through
 * `defineCommand`, i.e. EVALSHA with an EVAL fallback). Shared by the raw-ioredis contender, the
 * contention worker and the in-process comparison, so all three measure the same code.
 */
import { Redis } from 'ioredis';

export interface RawLockClient extends Redis {
  renewIfOwner(key: string, token: string, ttl: number): Promise<number>;
  deleteIfOwner(key: string, token: string): Promise<number>;
}

export function rawLockClient(url: string, onError: (error: Error) => void = () => undefined): RawLockClient {
  const client = new Redis(url);
  client.on('error', onError);
  client.defineCommand('renewIfOwner', {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
  });
  client.defineCommand('deleteIfOwner', {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  });
  return client as RawLockClient;
}

/** One attempt: true if this token now holds `key` for `ttl` ms. */
export async function trySet(client: Redis, key: string, token: string, ttl: number): Promise<boolean> {
  return (await client.set(key, token, 'PX', ttl, 'NX')) === 'OK';
}
