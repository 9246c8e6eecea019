import { optionKeys, rejectUnknownKeys } from '../../src/_internal/unknown-keys.js';
import { PrimacyConfigError } from '../../src/errors.js';
import { validateBindingTimes } from '../redis/options.js';
import type { RedlockOptions } from '../redlock.js';

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

/** Checks `redlockLock()`'s options at construction; every error names the option, value and expectation. */
export function validate(options: RedlockOptions): RedlockOptions {
  const scope = 'redlock';
  if (typeof options !== 'object' || options === null) throw new PrimacyConfigError('options', options, '{ clients } or { urls }', scope);
  rejectUnknownKeys(options, KEYS, { call: 'redlockLock()', scope });
  const { clients, urls, prefix, nodeTimeout, driftFactor } = options;
  if ((clients === undefined) === (urls === undefined)) {
    throw new PrimacyConfigError('clients', clients, 'an array of ioredis clients, or `urls` instead (exactly one of them)', scope);
  }
  const list = clients ?? urls;
  if (!Array.isArray(list) || list.length === 0) {
    throw new PrimacyConfigError(
      clients ? 'clients' : 'urls',
      list,
      'a non-empty array (an odd number of independent nodes, e.g. 3 or 5)',
      scope,
    );
  }
  if (urls?.some((url) => typeof url !== 'string' || !/^rediss?:\/\//.test(url))) {
    throw new PrimacyConfigError('urls', urls, 'an array of redis:// or rediss:// URLs', scope);
  }
  if (clients?.some((c) => typeof (c as { evalsha?: unknown })?.evalsha !== 'function')) {
    throw new PrimacyConfigError('clients', clients, 'an array of ioredis clients', scope);
  }
  if (prefix !== undefined && typeof prefix !== 'string') throw new PrimacyConfigError('prefix', prefix, 'a string', scope);
  if (nodeTimeout !== undefined && (typeof nodeTimeout !== 'number' || !(nodeTimeout >= 1))) {
    throw new PrimacyConfigError('nodeTimeout', nodeTimeout, 'a number of ms >= 1', scope);
  }
  if (driftFactor !== undefined && (typeof driftFactor !== 'number' || !(driftFactor >= 0 && driftFactor < 0.5))) {
    throw new PrimacyConfigError('driftFactor', driftFactor, 'a number from 0 to 0.5', scope);
  }
  validateBindingTimes(options, scope);
  return options;
}
