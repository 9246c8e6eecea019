/**
 * The option checks every public function uses (src/_internal/checks.ts): each takes its fallback
 * for undefined, returns a good value as given, and refuses a bad one with one error shape that
 * names the call's scope, the option, the expectation and the value.
 */
import { describe, expect, it } from 'vitest';
import { checksFor, MAX_DELAY } from '../src/_internal/checks.js';
import { PrimacyConfigError } from '../src/errors.js';
import { resolveManagerOptions } from '../src/manager/options.js';
import { DEFAULTS, resolveOptions } from '../src/options.js';

const check = checksFor('thing()', 'scope');

/** The PrimacyConfigError `attempt` throws. */
function refusal(attempt: () => unknown): PrimacyConfigError {
  try {
    attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(PrimacyConfigError);
    return error as PrimacyConfigError;
  }
  throw new Error('expected a PrimacyConfigError, nothing was thrown');
}

describe('checksFor', () => {
  it('words every refusal alike: scope, option, expectation, value', () => {
    const error = refusal(() => check.flag('verbose', 'yes', false));
    expect(error.message).toBe('[primacy] [scope] Expected `verbose` to be a boolean, got "yes" (string)');
    expect(error).toMatchObject({ option: 'verbose', value: 'yes', code: 'ERR_PRIMACY_CONFIG' });
  });

  it('options: an object with known keys only, naming the call and the nearest key', () => {
    expect(check.options({ ttl: 1 }, ['ttl'])).toEqual({ ttl: 1 });
    expect(refusal(() => check.options([] as never, ['ttl'])).message).toMatch(/Expected `options` to be an object, got an array/);
    expect(refusal(() => check.options({ tll: 1 }, ['ttl'])).message).toMatch(/thing\(\): unknown option "tll"; did you mean "ttl"\?/);
    expect(() => check.nested('backoff', undefined, ['max'])).not.toThrow();
    expect(refusal(() => check.nested('backoff', { mx: 1 }, ['max'])).message).toMatch(/"backoff\.mx"; did you mean "backoff\.max"/);
    expect(refusal(() => check.nested('backoff', 5, ['max'])).message).toMatch(/Expected `backoff` to be an object of max, got 5/);
  });

  it('duration: a finite number of ms from min up to setTimeout’s limit', () => {
    expect(check.duration('ttl', undefined, 10, 1)).toBe(10);
    expect(check.duration('ttl', MAX_DELAY, 10, 1)).toBe(MAX_DELAY);
    for (const bad of [0, MAX_DELAY + 1, Number.NaN, Number.POSITIVE_INFINITY, '5']) {
      expect(refusal(() => check.duration('ttl', bad, 10, 1)).message).toContain(`a finite number >= 1 ms (and <= ${MAX_DELAY})`);
    }
  });

  it('number: bounds, whole numbers, and a custom expectation', () => {
    expect(check.number('n', undefined, undefined, { min: 0 })).toBeUndefined();
    expect(check.number('n', 0.5, 1, { min: 0, max: 1 })).toBe(0.5);
    expect(refusal(() => check.number('n', -1, 1, { min: 0 })).message).toContain('a finite number >= 0, got -1');
    expect(refusal(() => check.number('n', 2, 1, { min: 0, max: 1, expected: 'a number from 0 to 1' })).message).toContain(
      'a number from 0 to 1, got 2',
    );
    expect(refusal(() => check.number('n', 1.5, 1, { min: 1, whole: true })).message).toContain('a whole number >= 1, got 1.5');
    expect(refusal(() => check.number('n', 0, 1, { min: 1, whole: true })).message).toContain('a finite number >= 1, got 0');
  });

  it('oneOf, text, callback, signal and shape', () => {
    expect(check.oneOf('mode', undefined, ['a', 'b'], 'a')).toBe('a');
    expect(check.oneOf('mode', 'b', ['a', 'b'], 'a')).toBe('b');
    expect(refusal(() => check.oneOf('mode', 'c', ['a', 'b', 'c2'], 'a')).message).toContain("'a', 'b' or 'c2', got \"c\"");
    expect(check.text('id', undefined, 'x')).toBe('x');
    expect(refusal(() => check.text('id', '', undefined)).message).toContain('a non-empty string');
    expect(refusal(() => check.text('dir', 5, undefined, 'a directory path')).message).toContain('a directory path, got 5');
    expect(() => check.callback('fn', undefined)).not.toThrow();
    expect(refusal(() => check.callback('fn', {})).message).toContain('Expected `fn` to be a function');
    expect(() => check.signal('signal', new AbortController().signal)).not.toThrow();
    expect(refusal(() => check.signal('signal', {})).message).toContain('an AbortSignal');
    expect(() => check.shape('clock', { now: () => 0 }, ['now'], 'a clock')).not.toThrow();
    expect(refusal(() => check.shape('clock', { now: 0 }, ['now'], 'a clock')).message).toContain('Expected `clock` to be a clock');
    expect(refusal(() => check.shape('clock', null, ['now'], 'a clock')).message).toContain('got null');
    expect(refusal(() => check.shape('clock', undefined, ['now'], 'a clock')).message).toContain('got undefined');
  });

  it('takes the fallback for undefined only; options that always took their default for null still do', () => {
    expect(refusal(() => check.flag('verbose', null, false)).message).toContain('a boolean, got null');
    expect(resolveOptions({ name: 'n', jitter: null, handleSignals: null, onLoss: null } as never)).toMatchObject({
      jitter: DEFAULTS.jitter,
      handleSignals: DEFAULTS.handleSignals,
      onLoss: DEFAULTS.onLoss,
    });
    expect(resolveManagerOptions({ script: 'a.js', restart: null, ackOn: null } as never)).toMatchObject({
      restart: 'always',
      ackOn: 'listening',
    });
    expect(refusal(() => resolveOptions({ name: 'n', ttl: null } as never)).message).toContain('Expected `ttl` to be a finite number');
  });
});
