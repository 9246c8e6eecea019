import type { Election } from '../elector.js';
import { PrimacyConfigError } from '../errors.js';

/**
 * Whether `value` is an Election. By shape, not `instanceof`: an app that loads primacy both as
 * ESM and as CommonJS has two Election classes, and either one's elections are fine here.
 */
export function isElection(value: unknown): value is Election {
  return (
    typeof value === 'object' &&
    value !== null &&
    'isPrimary' in value &&
    typeof (value as Election).leader === 'function' &&
    typeof (value as Election).whilePrimary === 'function'
  );
}

/** Throws a PrimacyConfigError naming `option` unless `value` is an Election. */
export function checkElection(value: unknown, scope: string, option = 'election'): asserts value is Election {
  if (!isElection(value)) throw new PrimacyConfigError(option, value, 'an Election (from elect())', scope);
}
