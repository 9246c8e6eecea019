import type { Checks } from '../_internal/checks.js';
import { RENEW_BUCKETS } from './types.js';

/** Histogram bucket bounds in seconds: finite, above 0, increasing; the default when undefined. */
export function renewBuckets(check: Checks, value: unknown): number[] {
  if (value === undefined) return [...RENEW_BUCKETS];
  const expected = 'a non-empty array of increasing numbers of seconds above 0 (such as [0.005, 0.05, 0.5])';
  if (!Array.isArray(value) || value.length === 0) return check.fail('buckets', value, expected);
  value.forEach((bound: unknown, i) => {
    const previous = i === 0 ? 0 : (value[i - 1] as number);
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound <= previous) check.fail(`buckets[${i}]`, bound, expected);
  });
  return [...value];
}
