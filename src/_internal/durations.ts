/**
 * One check for every duration option: a finite number of milliseconds within [min, MAX_DELAY].
 * Above MAX_DELAY, setTimeout fires after 1 ms (Node warns, TimeoutOverflowWarning): a timeout of
 * 3e9 ms would become an instant one.
 */
import { PrimacyConfigError } from '../errors.js';

/** setTimeout's limit, in ms. */
export const MAX_DELAY = 2_147_483_647;

/** `value` as a duration in ms (`fallback` when undefined), or a PrimacyConfigError naming `option`. */
export function durationOption(option: string, value: unknown, fallback: number, min: number, scope = 'options'): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_DELAY) {
    throw new PrimacyConfigError(option, value, `a finite number >= ${min} ms (and <= ${MAX_DELAY})`, scope);
  }
  return value;
}
