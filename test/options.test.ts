/**
 * Every option of `elect()`: bad input fails at construction with a PrimacyConfigError that names
 * the option, the value and what is expected; valid edge values are accepted and take effect.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULTS,
  type Election,
  type ElectionOptions,
  elect,
  MemoryLockStore,
  memoryLock,
  PrimacyConfigError,
  PrimacyError,
} from '../src/index.js';

const LIMIT = 2_147_483_647;

let created: Election[] = [];
afterEach(async () => {
  const elections = created;
  created = [];
  await Promise.all(elections.map((e) => e.stop()));
});

/** Valid options; each test overrides the one it is about. */
function base(overrides: Record<string, unknown> = {}): ElectionOptions {
  return {
    name: 'options-test',
    handleSignals: false,
    logger: false,
    lock: memoryLock({ store: new MemoryLockStore() }),
    ...overrides,
  } as ElectionOptions;
}

/** Creates an election that is stopped after the test. */
function start(options: ElectionOptions): Election {
  const election = elect(options);
  created.push(election);
  return election;
}

/** The error `elect(options)` throws; fails the test if it does not throw. */
function configError(options: unknown): PrimacyConfigError {
  let election: Election | undefined;
  try {
    election = elect(options as ElectionOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(PrimacyConfigError);
    expect(error).toBeInstanceOf(PrimacyError);
    const e = error as PrimacyConfigError;
    expect(e.name).toBe('PrimacyConfigError');
    expect(e.code).toBe('ERR_PRIMACY_CONFIG');
    return e;
  }
  created.push(election);
  throw new Error(`elect() accepted ${JSON.stringify(options)}`);
}

const expectMessage = (option: string, expected: string, got: string) =>
  `[primacy] [options] Expected \`${option}\` to be ${expected}, got ${got}`;

type Case = [label: string, overrides: Record<string, unknown>, option: string, value: unknown, expected: string, got: string];

const DURATION = (min: number) => `a finite number >= ${min} ms (and <= ${LIMIT})`;
const NAME = 'a non-empty string of at most 256 characters, without NUL';
const LOCK = 'a lock adapter (fileLock(), redisLock(), ...)';
const LOGGER = 'false or a logger with warn() and error() (pino, console)';

const lockWithout = (missing: string) => {
  const lock: Record<string, unknown> = { ...memoryLock({ store: new MemoryLockStore() }) };
  delete lock[missing];
  return lock;
};
const noInspect = lockWithout('inspect');
const noAcquire = lockWithout('acquire');
const noKind = lockWithout('kind');
const emptyLock = {};
const halfLogger = { error() {} };
const controller = new AbortController();
const fakeSignal = { aborted: false, addEventListener() {} };
const emptyClock = {};
const badClock = { now: 5 };
const longName = 'n'.repeat(257);

const invalid: Case[] = [
  ['name missing', { name: undefined }, 'name', undefined, NAME, 'undefined'],
  ['name empty', { name: '' }, 'name', '', NAME, '"" (string)'],
  ['name of 257 characters', { name: longName }, 'name', longName, NAME, `"${longName}" (string)`],
  ['name not a string', { name: 42 }, 'name', 42, NAME, '42 (number)'],
  ['name with a NUL', { name: 'a\0b' }, 'name', 'a\0b', NAME, '"a\\u0000b" (string)'],
  ['ttl negative', { ttl: -5 }, 'ttl', -5, DURATION(1000), '-5 (number)'],
  ['ttl below 1000', { ttl: 999 }, 'ttl', 999, DURATION(1000), '999 (number)'],
  ['ttl NaN', { ttl: Number.NaN }, 'ttl', Number.NaN, DURATION(1000), 'NaN (number)'],
  ['ttl Infinity', { ttl: Number.POSITIVE_INFINITY }, 'ttl', Number.POSITIVE_INFINITY, DURATION(1000), 'Infinity (number)'],
  ['ttl as a string', { ttl: '10s' }, 'ttl', '10s', DURATION(1000), '"10s" (string)'],
  ['ttl beyond setTimeout', { ttl: LIMIT + 1 }, 'ttl', LIMIT + 1, DURATION(1000), `${LIMIT + 1} (number)`],
  ['renewInterval 0', { renewInterval: 0 }, 'renewInterval', 0, DURATION(1), '0 (number)'],
  ['retryInterval 0', { retryInterval: 0 }, 'retryInterval', 0, DURATION(1), '0 (number)'],
  ['jitter negative', { jitter: -0.1 }, 'jitter', -0.1, 'a number from 0 to 1', '-0.1 (number)'],
  ['jitter above 1', { jitter: 1.5 }, 'jitter', 1.5, 'a number from 0 to 1', '1.5 (number)'],
  ['jitter as a string', { jitter: '0.2' }, 'jitter', '0.2', 'a number from 0 to 1', '"0.2" (string)'],
  ['jitter NaN', { jitter: Number.NaN }, 'jitter', Number.NaN, 'a number from 0 to 1', 'NaN (number)'],
  ['identity empty', { identity: '' }, 'identity', '', 'a non-empty string', '"" (string)'],
  ['handleSignals a string', { handleSignals: 'yes' }, 'handleSignals', 'yes', 'a boolean', '"yes" (string)'],
  ['onLoss unknown', { onLoss: 'crash' }, 'onLoss', 'crash', "'abort' or 'exit'", '"crash" (string)'],
  ['stopTimeout negative', { stopTimeout: -1 }, 'stopTimeout', -1, DURATION(0), '-1 (number)'],
  ['lock empty object', { lock: emptyLock }, 'lock', emptyLock, LOCK, 'an object (Object)'],
  ['lock without inspect()', { lock: noInspect }, 'lock', noInspect, LOCK, 'an object (Object)'],
  ['lock without acquire()', { lock: noAcquire }, 'lock', noAcquire, LOCK, 'an object (Object)'],
  ['lock without kind', { lock: noKind }, 'lock', noKind, LOCK, 'an object (Object)'],
  ['lock null', { lock: null }, 'lock', null, LOCK, 'null'],
  ['logger without warn()', { logger: halfLogger }, 'logger', halfLogger, LOGGER, 'an object (Object)'],
  ['logger true', { logger: true }, 'logger', true, LOGGER, 'true (boolean)'],
  ['signal an AbortController', { signal: controller }, 'signal', controller, 'an AbortSignal', 'an object (AbortController)'],
  ['signal a look-alike', { signal: fakeSignal }, 'signal', fakeSignal, 'an AbortSignal', 'an object (Object)'],
  ['clock without now()', { clock: emptyClock }, 'clock', emptyClock, 'an object with a now() method', 'an object (Object)'],
  ['clock.now not a function', { clock: badClock }, 'clock', badClock, 'an object with a now() method', 'an object (Object)'],
];

describe('elect() rejects bad options at construction', () => {
  it.each(invalid)('%s', (_label, overrides, option, value, expected, got) => {
    const error = configError(base(overrides));
    expect(error.option).toBe(option);
    expect(error.value).toBe(value); // Object.is: NaN matches NaN, objects by identity
    expect(error.message).toBe(expectMessage(option, expected, got));
  });

  it('gives the exact documented message for ttl -5', () => {
    expect(configError(base({ ttl: -5 })).message).toBe(
      '[primacy] [options] Expected `ttl` to be a finite number >= 1000 ms (and <= 2147483647), got -5 (number)',
    );
  });

  it.each([
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['a string', 'reports', '"reports" (string)'],
    ['a number', 7, '7 (number)'],
  ])('rejects options that are %s', (_label, options, got) => {
    const error = configError(options);
    expect(error.option).toBe('options');
    expect(error.value).toBe(options);
    expect(error.message).toBe(expectMessage('options', 'an object', got));
  });

  it.each([
    // The limit: (ttl × 90% − drift) / (1 + jitter), drift = ttl × 1% + 2 ms, jitter 0.2 by default.
    [10_000, 0.2, 7416, 7415],
    [10_000, 0.2, 9898, 7415],
    [10_000, 0.2, 20_000, 7415],
    [3000, 0.2, 2224, 2223],
    [1000, 0.2, 741, 740],
    // ttl 1000 / renewInterval 900 was accepted once and expired five times in 20 s with one candidate.
    [1000, 0.2, 900, 740],
    [1000, 0, 889, 888],
    [1000, 1, 445, 444],
  ])(
    'rejects renewInterval that leaves no room before the TTL (ttl %i, jitter %d, renewInterval %i)',
    (ttl, jitter, renewInterval, limit) => {
      const error = configError(base({ ttl, jitter, renewInterval }));
      expect(error.option).toBe('renewInterval');
      expect(error.value).toBe(renewInterval);
      expect(error.message).toBe(
        expectMessage(
          'renewInterval',
          `at most ${limit} ms for ttl ${ttl} and jitter ${jitter} (a renew may start as late as renewInterval × (1 + jitter) and must leave 10% of the TTL and the drift margin for its round trip)`,
          `${renewInterval} (number)`,
        ),
      );
    },
  );

  it('throws before registering signal handlers or starting anything', () => {
    const before = process.listenerCount('SIGTERM');
    configError(base({ handleSignals: true, ttl: 5 }));
    configError(base({ handleSignals: true, lock: {} }));
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});

describe('elect() accepts valid edge values', () => {
  it.each<[string, Record<string, unknown>]>([
    ['ttl 1000', { ttl: 1000 }],
    ['ttl at the setTimeout limit', { ttl: LIMIT }],
    ['jitter 0', { jitter: 0 }],
    ['jitter 1', { jitter: 1 }],
    ['renewInterval at the limit (default ttl)', { renewInterval: 7415 }],
    ['renewInterval at the limit (ttl 1000)', { ttl: 1000, renewInterval: 740 }],
    ['renewInterval at the limit (ttl 1000, no jitter)', { ttl: 1000, jitter: 0, renewInterval: 888 }],
    ['renewInterval 1', { renewInterval: 1 }],
    ['retryInterval 1', { retryInterval: 1 }],
    ['stopTimeout 0', { stopTimeout: 0 }],
    ['name of 256 characters (npm names reach 214)', { name: 'n'.repeat(256) }],
    ['logger false', { logger: false }],
    ['logger console', { logger: console }],
    ["onLoss 'exit'", { onLoss: 'exit' }],
    ["onLoss 'abort'", { onLoss: 'abort' }],
    ['identity', { identity: 'pod-7' }],
    ['an AbortSignal', { signal: new AbortController().signal }],
    ['a clock', { clock: { now: () => performance.now() } }],
  ])('%s', async (_label, overrides) => {
    const election = start(base(overrides));
    await election.ready;
    expect(election.isPrimary).toBe(true);
  });
});

describe('options take effect', () => {
  it('uses the default ttl when none is given, and the given one otherwise', async () => {
    const a = start(base({ name: 'default-ttl' }));
    const b = start(base({ name: 'short-ttl', ttl: 1000 }));
    await Promise.all([a.ready, b.ready]);
    expect(a.lease?.ttl).toBe(10_000);
    expect(b.lease?.ttl).toBe(1000);
  });

  it('records the identity in the lease as a label; the id compared by adapters stays unique', async () => {
    const election = start(base({ identity: 'pod-7' }));
    await election.ready;
    expect(election.holder.label).toBe('pod-7');
    expect(election.holder.id).not.toBe('pod-7');
    expect((await election.leader())?.holder).toMatchObject({ id: election.holder.id, label: 'pod-7' });
  });

  it('elects one primary per name', async () => {
    const store = new MemoryLockStore();
    const [a, b, c] = ['x', 'x', 'y'].map((name) => start(base({ name, lock: memoryLock({ store }) })));
    await Promise.all([a!.ready, b!.ready, c!.ready]);
    expect([a!.isPrimary, b!.isPrimary].filter(Boolean)).toHaveLength(1);
    expect(c!.isPrimary).toBe(true);
  });

  it('computes isPrimary from the injected clock', async () => {
    let now = 0;
    const election = start(base({ ttl: 1000, clock: { now: () => now } }));
    await election.ready;
    expect(election.isPrimary).toBe(true);
    now = 1000; // one TTL later by that clock, before any timer ran
    expect(election.isPrimary).toBe(false);
  });

  it('renews every renewInterval', async () => {
    const election = start(base({ ttl: 1000, renewInterval: 20, jitter: 0 }));
    await election.ready;
    const acquired = election.lease!.renewedAt;
    await new Promise((r) => setTimeout(r, 150));
    expect(election.isPrimary).toBe(true);
    expect(election.lease!.renewedAt).toBeGreaterThan(acquired);
  });

  it('stops when the signal aborts, releasing the lock', async () => {
    const store = new MemoryLockStore();
    const controller = new AbortController();
    const election = start(base({ lock: memoryLock({ store }), signal: controller.signal }));
    await election.ready;
    expect(election.isPrimary).toBe(true);
    const revoked = once(election, 'revoked');
    controller.abort();
    const [{ reason }] = (await revoked) as [{ reason: string }];
    expect(reason).toBe('stopped');
    expect(election.isPrimary).toBe(false);
    expect((await memoryLock({ store }).inspect('options-test'))?.state).toBe('free');
  });

  it('stops at once when given an already aborted signal', async () => {
    const election = start(base({ signal: AbortSignal.abort() }));
    await election.stop();
    expect(election.isPrimary).toBe(false);
  });

  it('registers a SIGTERM/SIGINT handler only with handleSignals (the default), removed by stop()', async () => {
    const before = [process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')];
    const quiet = start(base({ name: 'no-signals', handleSignals: false }));
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]).toEqual(before);
    const { handleSignals: _, ...rest } = base({ name: 'signals' });
    const loud = start(rest as ElectionOptions);
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]).toEqual(before.map((n) => n + 1));
    await Promise.all([quiet.stop(), loud.stop()]);
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]).toEqual(before);
  });

  it('reports backend errors to the given logger', async () => {
    const lock = memoryLock({ store: new MemoryLockStore() });
    await lock.close?.();
    const warnings: string[] = [];
    const logger = { warn: (message: string) => warnings.push(message), error: (message: string) => warnings.push(message) };
    const election = start(base({ lock, logger }));
    await election.ready;
    expect(election.isPrimary).toBe(false);
    expect(warnings.join('\n')).toMatch(/acquire for "options-test" failed, retrying: .*the adapter is closed/);
  });

  it('releases after stopTimeout even if the work ignores its signal', async () => {
    const store = new MemoryLockStore();
    const election = start(base({ lock: memoryLock({ store }), stopTimeout: 50 }));
    election.whilePrimary(() => new Promise(() => {})); // never settles
    await election.ready;
    expect(election.isPrimary).toBe(true);
    const started = performance.now();
    await election.stop();
    expect(performance.now() - started).toBeLessThan(2000);
    expect((await memoryLock({ store }).inspect('options-test'))?.state).toBe('free');
  });
});

describe('DEFAULTS', () => {
  it('is frozen', () => {
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
    expect(() => {
      (DEFAULTS as { ttl: number }).ttl = 1;
    }).toThrow(TypeError);
    expect(DEFAULTS.ttl).toBe(10_000);
  });

  it('documents the defaults', () => {
    expect(DEFAULTS).toMatchObject({
      ttl: 10_000,
      retryInterval: 1000,
      jitter: 0.2,
      stopTimeout: 5000,
      handleSignals: true,
      onLoss: 'abort',
    });
  });
});
