import { optionKeys, rejectUnknownKeys } from '../../src/_internal/unknown-keys.js';
import { PrimacyConfigError } from '../../src/errors.js';
import type { RedisLockOptions } from '../redis.js';

// The client itself is not checked for keys: it is the caller's object.
const KEYS = optionKeys<RedisLockOptions>({
  client: true,
  url: true,
  prefix: true,
  connectionBinding: true,
  livenessInterval: true,
  takeoverGrace: true,
});

/** Checks `redisLock()`'s options at construction; every error names the option, value and expectation. */
export function validate(options: RedisLockOptions): RedisLockOptions {
  const scope = 'redis';
  if (typeof options !== 'object' || options === null) throw new PrimacyConfigError('options', options, '{ client } or { url }', scope);
  rejectUnknownKeys(options, KEYS, { call: 'redisLock()', scope });
  const { client, url, prefix, connectionBinding } = options;
  if ((client === undefined) === (url === undefined)) {
    throw new PrimacyConfigError('client', client, 'an ioredis client, or `url` instead (exactly one of them)', scope);
  }
  if (client !== undefined) {
    const methods = ['evalsha', 'eval', 'call', 'get', 'pttl', 'duplicate', 'on'];
    const missing = methods.filter((m) => typeof (client as unknown as Record<string, unknown>)?.[m] !== 'function');
    if (missing.length > 0)
      throw new PrimacyConfigError('client', client, `an ioredis client (Redis, Cluster); missing ${missing.join(', ')}`, scope);
  }
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\//.test(url))) {
    throw new PrimacyConfigError('url', url, 'a redis:// or rediss:// URL', scope);
  }
  if (prefix !== undefined && typeof prefix !== 'string') throw new PrimacyConfigError('prefix', prefix, 'a string', scope);
  if (connectionBinding !== undefined && typeof connectionBinding !== 'boolean') {
    throw new PrimacyConfigError('connectionBinding', connectionBinding, 'a boolean', scope);
  }
  validateBindingTimes(options, scope);
  return options;
}

/** The connection-binding timings `redisLock` and `redlockLock` share (per node for Redlock). */
export function validateBindingTimes(
  { livenessInterval, takeoverGrace }: { livenessInterval?: unknown; takeoverGrace?: unknown },
  scope: string,
): void {
  if (livenessInterval !== undefined && (typeof livenessInterval !== 'number' || !(livenessInterval >= 10 && livenessInterval <= 60_000))) {
    throw new PrimacyConfigError('livenessInterval', livenessInterval, 'a number of ms from 10 to 60000', scope);
  }
  if (takeoverGrace !== undefined && (typeof takeoverGrace !== 'number' || !(takeoverGrace >= 0 && takeoverGrace <= 60_000))) {
    throw new PrimacyConfigError('takeoverGrace', takeoverGrace, 'a number of ms from 0 to 60000', scope);
  }
}
