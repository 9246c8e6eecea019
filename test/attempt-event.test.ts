/**
 * The election's `attempt` event (what primacy/metrics counts acquire attempts and renew latency
 * from): one per backend answer, and a listener that throws never costs the lease it was told of.
 */
import { type AttemptInfo, elect, MemoryLockStore, memoryLock } from 'primacy';
import { expect, it } from 'vitest';
import { until } from './helpers/until.js';

const quiet = { handleSignals: false, logger: false as const };

it('tells each acquire and renew with its result and duration', async () => {
  const store = new MemoryLockStore();
  const options = { name: 'attempts', ttl: 1500, renewInterval: 100, retryInterval: 100, jitter: 0, ...quiet };
  const a = elect({ ...options, lock: memoryLock({ store }) });
  const seenByA: AttemptInfo[] = [];
  a.on('attempt', (info) => seenByA.push(info));
  await a.ready;
  const b = elect({ ...options, lock: memoryLock({ store }) });
  const seenByB: AttemptInfo[] = [];
  b.on('attempt', (info) => seenByB.push(info));
  try {
    await until(() => seenByA.length >= 3 && seenByB.length >= 2, 10_000, 'attempts');
    expect(seenByA[0]).toMatchObject({ operation: 'acquire', result: 'won' });
    expect(seenByA.slice(1).every((info) => info.operation === 'renew' && info.result === 'renewed')).toBe(true);
    expect(seenByB.every((info) => info.operation === 'acquire' && info.result === 'lost')).toBe(true);
    for (const info of [...seenByA, ...seenByB]) expect(info.duration).toBeGreaterThanOrEqual(0);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

it('keeps a lease the backend granted when an attempt listener throws, and warns', async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.message);
  process.on('warning', onWarning);
  const election = elect({ name: 'attempts-throwing', lock: memoryLock({ store: new MemoryLockStore() }), ...quiet });
  election.on('attempt', () => {
    throw new Error('a broken metrics listener');
  });
  try {
    await election.ready;
    expect(election.isPrimary).toBe(true);
    await until(() => warnings.length > 0, 5000, 'a warning');
    expect(warnings[0]).toBe("[primacy] an 'attempt' listener threw: Error: a broken metrics listener");
  } finally {
    process.off('warning', onWarning);
    await election.stop();
  }
});
