/**
 * The one vocabulary every public function checks its options with (after p-retry's
 * `validateNumberOption` and p-queue's uniform errors): each check names the option, the value it
 * got and what it expected, in one PrimacyConfigError shape, `[primacy] [scope] Expected `x` to be …`.
 * A function takes `checksFor(call, scope)` once and asks it for each option.
 *
 * Only `undefined` takes an option's fallback. Options whose default has always applied to `null`
 * too (a JSON config's "not set") are passed as `value ?? undefined` by their caller.
 */
import { PrimacyConfigError } from '../errors.js';
import { rejectUnknownKeys } from './unknown-keys.js';

/** setTimeout's limit, in ms. Above it setTimeout fires after 1 ms: a 3e9 ms timeout would be instant. */
export const MAX_DELAY = 2_147_483_647;

export interface NumberBounds {
  /** Smallest value accepted. */
  min: number;
  /** Largest value accepted. @default Infinity */
  max?: number;
  /** Only whole numbers. @default false */
  whole?: boolean;
  /** How the expectation reads, when `a finite number >= min` does not say enough. */
  expected?: string;
}

export interface Checks {
  /** Throws a PrimacyConfigError naming `option`, its `value` and what was `expected`. */
  fail(option: string, value: unknown, expected: string): never;
  /** `options` as an object with only the `known` keys (an unknown key names the nearest known one). */
  options<T extends object>(options: T, known: readonly string[], expected?: string): T;
  /** A nested options object (`backoff`, `processes[0]`), if given, with only the `known` keys. */
  nested(path: string, value: unknown, known: readonly string[], expected?: string): void;
  /** A duration in ms within [min, MAX_DELAY]; `fallback` when undefined. */
  duration(option: string, value: unknown, fallback: number, min: number): number;
  /** A finite number within the bounds; `fallback` when undefined. */
  number<F extends number | undefined>(option: string, value: unknown, fallback: F, bounds: NumberBounds): number | F;
  /** A boolean; `fallback` when undefined. */
  flag<F extends boolean | undefined>(option: string, value: unknown, fallback: F): boolean | F;
  /** One of `choices`; `fallback` when undefined. */
  oneOf<C extends string, F extends C | undefined>(option: string, value: unknown, choices: readonly C[], fallback: F): C | F;
  /** A non-empty string; `fallback` when undefined. */
  text<F extends string | undefined>(option: string, value: unknown, fallback: F, expected?: string): string | F;
  /** A function, if given. */
  callback(option: string, value: unknown, expected?: string): void;
  /** An AbortSignal, if given. */
  signal(option: string, value: unknown): void;
  /** An object with every method in `methods`. */
  shape(option: string, value: unknown, methods: readonly string[], expected: string): void;
}

/** The checks of one public call: `call` as the user wrote it (`'redisLock()'`), `scope` the error prefix. */
export function checksFor(call: string, scope: string): Checks {
  const fail = (option: string, value: unknown, expected: string): never => {
    throw new PrimacyConfigError(option, value, expected, scope);
  };
  const number = <F extends number | undefined>(option: string, value: unknown, fallback: F, bounds: NumberBounds): number | F => {
    if (value === undefined) return fallback;
    const { min, max = Number.POSITIVE_INFINITY, whole = false } = bounds;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      return fail(option, value, bounds.expected ?? `a finite number >= ${min}`);
    }
    return whole && !Number.isInteger(value) ? fail(option, value, `a whole number >= ${min}`) : value;
  };
  return {
    fail,
    options(options, known, expected = 'an object') {
      if (typeof options !== 'object' || options === null || Array.isArray(options)) fail('options', options, expected);
      rejectUnknownKeys(options, known, { call, scope });
      return options;
    },
    nested(path, value, known, expected = `an object of ${known.join(', ')}`) {
      if (value === undefined) return;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(path, value, expected);
      rejectUnknownKeys(value, known, { call, scope, path });
    },
    duration: (option, value, fallback, min) =>
      number(option, value, fallback, { min, max: MAX_DELAY, expected: `a finite number >= ${min} ms (and <= ${MAX_DELAY})` }),
    number,
    flag(option, value, fallback) {
      if (value === undefined) return fallback;
      return typeof value === 'boolean' ? value : fail(option, value, 'a boolean');
    },
    oneOf(option, value, choices, fallback) {
      if (value === undefined) return fallback;
      if ((choices as readonly unknown[]).includes(value)) return value as (typeof choices)[number];
      const quoted = choices.map((choice) => `'${choice}'`);
      return fail(option, value, `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`);
    },
    text(option, value, fallback, expected = 'a non-empty string') {
      if (value === undefined) return fallback;
      return typeof value === 'string' && value !== '' ? value : fail(option, value, expected);
    },
    callback(option, value, expected = 'a function') {
      if (value !== undefined && typeof value !== 'function') fail(option, value, expected);
    },
    signal(option, value) {
      if (value !== undefined && !(value instanceof AbortSignal)) fail(option, value, 'an AbortSignal');
    },
    shape(option, value, methods, expected) {
      const ok =
        typeof value === 'object' && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
      if (!ok) fail(option, value, expected);
    },
  };
}
