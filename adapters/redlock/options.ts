import { checksFor, MAX_DELAY, optionKeys } from '../../src/adapter-kit.js';
import { isRedisUrl, resolveServerSettings, type ServerSettings } from '../redis/options.js';
import type { RedisClientLike } from '../redis.js';
import type { RedlockOptions } from '../redlock.js';

export interface ResolvedRedlockOptions extends ServerSettings {
  /** Exactly one of `clients` and `urls` is set. */
  readonly clients: RedisClientLike[] | undefined;
  readonly urls: string[] | undefined;
  /** undefined: fitted to each call's TTL. */
  readonly nodeTimeout: number | undefined;
  readonly driftFactor: number;
}

const KEYS = optionKeys<RedlockOptions>({
  clients: true,
  urls: true,
  prefix: true,
  connectionBinding: true,
  livenessInterval: true,
  takeoverGrace: true,
  nodeTimeout: true,
  driftFactor: true,
});

/** The largest number below 0.5: `driftFactor` must stay under it (at 0.5 the margin eats half of every lease). */
const BELOW_HALF = 0.5 - 2 ** -54;

/** Checks `redlockLock()`'s options at construction; every error names the option, value and expectation. */
export function resolveRedlockOptions(options: RedlockOptions): ResolvedRedlockOptions {
  const check = checksFor('redlockLock()', 'redlock');
  check.options(options, KEYS, '{ clients } or { urls }');
  const { clients, urls } = options;
  if ((clients === undefined) === (urls === undefined)) {
    check.fail('clients', clients, 'an array of ioredis clients, or `urls` instead (exactly one of them)');
  }
  const list = clients ?? urls;
  if (!Array.isArray(list) || list.length === 0) {
    check.fail(clients ? 'clients' : 'urls', list, 'a non-empty array (an odd number of independent nodes, e.g. 3 or 5)');
  }
  if (urls?.some((url) => !isRedisUrl(url))) check.fail('urls', urls, 'an array of redis:// or rediss:// URLs');
  if (clients?.some((c) => typeof (c as { evalsha?: unknown })?.evalsha !== 'function')) {
    check.fail('clients', clients, 'an array of ioredis clients');
  }
  const settings = resolveServerSettings(check, options);
  // Each node's calls are cut short by a timer: setTimeout's limit bounds it.
  const nodeTimeout = check.number('nodeTimeout', options.nodeTimeout, undefined, {
    min: 1,
    max: MAX_DELAY,
    expected: 'a number of ms >= 1',
  });
  const driftFactor = check.number('driftFactor', options.driftFactor, 0.01, {
    min: 0,
    max: BELOW_HALF,
    expected: 'a number from 0 to 0.5',
  });
  return { clients, urls, ...settings, nodeTimeout, driftFactor };
}
