/**
 * The elector's logic on the memory adapter and fake time. `vi.setSystemTime` jumps the clock
 * without running any timer: exactly what a paused process (SIGSTOP, GC, laptop lid) sees on resume.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryLockStore, memoryLock } from '../adapters/memory.js';
import type { Lease, LockAdapter } from '../src/adapter.js';
import { type Election, elect } from '../src/elector.js';
import type { RevokeReason } from '../src/events.js';

const clock = { now: () => Date.now() };
const quiet = { handleSignals: false, logger: false as const, clock };

describe('election on fake time', () => {
  let store: MemoryLockStore;
  let elections: Election[];
  const start = (name: string, extra: Partial<Parameters<typeof elect>[0]> = {}) => {
    const election = elect({ name, lock: memoryLock({ store }), ttl: 3000, retryInterval: 500, jitter: 0, ...quiet, ...extra });
    elections.push(election);
    return election;
  };

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date'] });
    store = new MemoryLockStore();
    elections = [];
  });
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(elections.map((e) => e.stop()));
  });

  it('elects exactly one of several candidates and keeps it by renewing', async () => {
    const [a, b, c] = [start('one'), start('one'), start('one')];
    await vi.advanceTimersByTimeAsync(10);
    expect([a, b, c].filter((e) => e.isPrimary)).toHaveLength(1);
    const primary = [a, b, c].find((e) => e.isPrimary);
    const token = primary?.token;
    await vi.advanceTimersByTimeAsync(30_000); // ten TTLs
    expect(primary?.isPrimary).toBe(true);
    expect(primary?.token).toBe(token);
    expect([a, b, c].filter((e) => e.isPrimary)).toHaveLength(1);
  });

  it('reads isPrimary false at once after a pause past its deadline, before any timer runs', async () => {
    const a = start('pause');
    await vi.advanceTimersByTimeAsync(10);
    expect(a.isPrimary).toBe(true);
    const oldToken = a.token as number;
    const revoked: RevokeReason[] = [];
    a.on('revoked', ({ reason }) => revoked.push(reason));
    vi.setSystemTime(Date.now() + 3000); // the whole process was frozen for one TTL
    expect(a.isPrimary).toBe(false);
    expect(a.token).toBeUndefined();
    expect(a.lease).toBeNull();
    expect(revoked).toEqual([]); // no timer has run yet, and it already knows
    const b = start('pause');
    // Fake timers keep their own clock: let the timers that a real pause leaves overdue run now.
    await vi.advanceTimersByTimeAsync(3000);
    expect(revoked).toEqual(['expired']);
    const primaries = [a, b].filter((e) => e.isPrimary);
    expect(primaries).toHaveLength(1);
    expect(primaries[0]?.token).toBeGreaterThan(oldToken);
  });

  it('fires elected and revoked alternately, never revoked first', async () => {
    const events: string[] = [];
    const a = start('order');
    a.on('elected', () => events.push('elected'));
    a.on('revoked', ({ reason }) => events.push(`revoked:${reason}`));
    await vi.advanceTimersByTimeAsync(10);
    for (let i = 0; i < 3; i++) {
      // Another holder steals the lock: the next renew finds it gone.
      const entry = store.entries.get('order');
      if (entry) entry.holder = { ...entry.holder, id: `thief-${i}` };
      await vi.advanceTimersByTimeAsync(1100);
      expect(a.isPrimary).toBe(false);
      if (entry) entry.state = 'free';
      await vi.advanceTimersByTimeAsync(1000);
      expect(a.isPrimary).toBe(true);
    }
    await a.stop();
    expect(events).toEqual(['elected', 'revoked:lost', 'elected', 'revoked:lost', 'elected', 'revoked:lost', 'elected', 'revoked:stopped']);
  });

  it('runs whilePrimary work on each term with a signal that aborts on loss', async () => {
    const a = start('work');
    const terms: Array<{ token: number; signal: AbortSignal }> = [];
    a.whilePrimary((signal, lease) => {
      terms.push({ token: lease.token, signal });
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(terms).toHaveLength(1);
    expect(terms[0]?.signal.aborted).toBe(false);
    vi.setSystemTime(Date.now() + 5000);
    await vi.advanceTimersByTimeAsync(3000);
    expect(terms[0]?.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(terms).toHaveLength(2);
    expect(terms[1]?.token).toBeGreaterThan(terms[0]?.token as number);
  });

  it('starts work registered while already primary', async () => {
    const a = start('late');
    await vi.advanceTimersByTimeAsync(10);
    let started = 0;
    a.whilePrimary(() => {
      started++;
    });
    expect(started).toBe(1);
  });

  it('releases only after in-flight work has settled, and wakes a follower at once', async () => {
    const a = start('drain');
    const b = start('drain', { retryInterval: 60_000 });
    await vi.advanceTimersByTimeAsync(10);
    const [primary, follower] = a.isPrimary ? [a, b] : [b, a];
    const log: string[] = [];
    let finish!: () => void;
    primary.whilePrimary(async (signal) => {
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
      log.push(`work settled (aborted: ${signal.aborted}, still primary: ${primary.isPrimary})`);
    });
    primary.on('revoked', () => log.push('revoked'));
    follower.on('elected', () => log.push('follower elected'));
    const stopped = primary.stop();
    await vi.advanceTimersByTimeAsync(100);
    expect(follower.isPrimary).toBe(false); // still held while the work drains
    finish();
    await stopped;
    await vi.advanceTimersByTimeAsync(10);
    expect(log).toEqual(['work settled (aborted: true, still primary: true)', 'revoked', 'follower elected']);
  });

  it('releases anyway when work outlives stopTimeout', async () => {
    const a = start('stuck', { stopTimeout: 2000 });
    await vi.advanceTimersByTimeAsync(10);
    a.whilePrimary(() => new Promise(() => {}));
    const stopped = a.stop();
    await vi.advanceTimersByTimeAsync(2100);
    await stopped;
    expect(store.entries.get('stuck')?.state).toBe('free');
  });

  it('survives a failing backend: reports errors, backs off, and is elected once it recovers', async () => {
    let failures = 5;
    const inner = memoryLock({ store });
    const flaky: LockAdapter = {
      ...inner,
      kind: 'flaky',
      acquire: (...args) => (failures-- > 0 ? Promise.reject(new Error('ECONNRESET')) : inner.acquire(...args)),
    };
    const a = start('flaky', { lock: flaky });
    const errors: unknown[] = [];
    a.on('error', (error) => errors.push(error));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(errors).toHaveLength(5);
    expect(a.isPrimary).toBe(true);
  });

  it('steps down when the backend stops answering, at its deadline', async () => {
    let failing = false;
    const inner = memoryLock({ store });
    const down = () => Promise.reject(new Error('timeout'));
    const flaky: LockAdapter = {
      ...inner,
      acquire: (...args) => (failing ? down() : inner.acquire(...args)),
      renew: (...args) => (failing ? down() : inner.renew(...args)),
    };
    const a = start('renew-fails', { lock: flaky });
    a.on('error', () => {});
    await vi.advanceTimersByTimeAsync(10);
    expect(a.isPrimary).toBe(true);
    failing = true;
    const revoked = new Promise<RevokeReason>((resolve) => a.once('revoked', ({ reason }) => resolve(reason)));
    await vi.advanceTimersByTimeAsync(3000);
    expect(await revoked).toBe('expired');
    expect(a.isPrimary).toBe(false);
  });

  it('gives up a renew that hangs at its deadline, then campaigns again with a higher token', async () => {
    let failing = false;
    const inner = memoryLock({ store });
    const flaky: LockAdapter = { ...inner, renew: (...args) => (failing ? new Promise(() => {}) : inner.renew(...args)) };
    const a = start('recampaign', { lock: flaky, ttl: 9000, renewInterval: 8000 });
    await vi.advanceTimersByTimeAsync(10);
    const first = a.token as number;
    failing = true; // renews hang from now on; acquire still works
    const elected: number[] = [];
    a.on('elected', (lease) => elected.push(lease.token));
    // The renew at ~8 s never answers; it is abandoned at the deadline (~8.9 s), not awaited forever.
    await vi.advanceTimersByTimeAsync(9500);
    expect(elected).toHaveLength(1);
    expect(elected[0]).toBeGreaterThan(first);
  });

  it('never uses a lease acquired after its deadline had already passed', async () => {
    const inner = memoryLock({ store });
    let frozen = false;
    const slow: LockAdapter = {
      ...inner,
      acquire: async (...args) => {
        const lease = await inner.acquire(...args);
        if (!frozen) vi.setSystemTime(Date.now() + 4000); // frozen between the request and its answer
        frozen = true;
        return lease;
      },
    };
    const a = start('slow', { lock: slow });
    const elected: Lease[] = [];
    a.on('elected', (lease) => elected.push(lease));
    await vi.advanceTimersByTimeAsync(1000);
    // Token 1 came back too late and was given straight back; the next, timely attempt is used.
    expect(elected.map((lease) => lease.token)).toEqual([2]);
    expect(a.token).toBe(2);
  });

  it('stops when its AbortSignal aborts, and via Symbol.asyncDispose', async () => {
    const controller = new AbortController();
    const a = start('signal', { signal: controller.signal });
    await vi.advanceTimersByTimeAsync(10);
    expect(a.isPrimary).toBe(true);
    controller.abort();
    await vi.advanceTimersByTimeAsync(10);
    expect(a.isPrimary).toBe(false);
    expect(store.entries.get('signal')?.state).toBe('free');
    const b = start('dispose');
    await vi.advanceTimersByTimeAsync(10);
    await b[Symbol.asyncDispose]();
    expect(store.entries.get('dispose')?.state).toBe('free');
  });

  it('emits leader when the observed holder changes', async () => {
    const a = start('observe');
    await vi.advanceTimersByTimeAsync(10);
    const b = start('observe');
    const seen: Array<string | null> = [];
    b.on('leader', (holder) => seen.push(holder?.id ?? null));
    await vi.advanceTimersByTimeAsync(10);
    await a.stop();
    await vi.advanceTimersByTimeAsync(10);
    expect(seen).toEqual([a.holder.id, b.holder.id]);
    expect((await b.leader())?.holder?.id).toBe(b.holder.id);
  });

  it("waits an adapter's idleRetry between lost rounds, and a watch hint still wakes it at once", async () => {
    const lock = memoryLock({ store });
    let attempts = 0;
    const counted: LockAdapter = {
      ...lock,
      kind: 'memory',
      acquire: (...args) => {
        attempts++;
        return lock.acquire(...args);
      },
      idleRetry: () => 20_000,
    };
    const holder = start('rest');
    await vi.advanceTimersByTimeAsync(10);
    start('rest', { lock: counted });
    await vi.advanceTimersByTimeAsync(10_000); // twenty retryIntervals
    expect(attempts).toBe(1); // the first round; the next not before 20 s
    await holder.stop(); // the release wakes the follower through watch
    await vi.advanceTimersByTimeAsync(10);
    expect(attempts).toBe(2);
    expect(elections[1]?.isPrimary).toBe(true);
  });
});
