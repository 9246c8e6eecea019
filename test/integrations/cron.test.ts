import { type Election, elect, MemoryLockStore, memoryLock } from 'primacy';
import { type PrimaryRun, primaryOnly, scheduleWhilePrimary } from 'primacy/cron';
import { afterEach, describe, expect, it } from 'vitest';
import { pause, until } from '../helpers/until.js';

const elections: Election[] = [];
afterEach(async () => {
  await Promise.all(elections.splice(0).map((election) => election.stop()));
});

function candidate(store: MemoryLockStore, name = 'cron-test'): Election {
  const election = elect({ name, lock: memoryLock({ store }), ttl: 1000, retryInterval: 100, handleSignals: false, logger: false });
  elections.push(election);
  return election;
}

/** Takes the lock away from its holder behind its back: its next renew finds it gone ("lost"). */
function steal(store: MemoryLockStore, name: string): void {
  const entry = store.entries.get(name);
  if (!entry) throw new Error(`no entry for ${name}`);
  store.entries.set(name, { ...entry, token: entry.token + 1, holder: { ...entry.holder, id: 'thief' }, expiresAt: Date.now() + 60_000 });
}

describe.each(['croner', 'node-cron'] as const)('scheduleWhilePrimary with %s', (engine) => {
  it('runs the schedule only on the primary, and moves it with leadership', async () => {
    const store = new MemoryLockStore();
    const [a, b] = [candidate(store), candidate(store)];
    await Promise.all([a.ready, b.ready]);
    const ticks: Array<{ who: string; token: number; second: number }> = [];
    const record = (who: string) => (run: PrimaryRun) => {
      ticks.push({ who, token: run.token, second: Math.floor(run.firedAt.getTime() / 1000) });
    };
    const jobA = scheduleWhilePrimary(a, '* * * * * *', record('a'), { engine });
    const jobB = scheduleWhilePrimary(b, '* * * * * *', record('b'), { engine });
    const [first, second] = a.isPrimary ? (['a', 'b'] as const) : (['b', 'a'] as const);
    const primary = first === 'a' ? a : b;
    await until(() => ticks.length >= 2);
    expect(new Set(ticks.map((tick) => tick.who))).toEqual(new Set([first]));
    expect((first === 'a' ? jobA : jobB).scheduled).toBe(true);
    expect((first === 'a' ? jobB : jobA).scheduled).toBe(false);
    const firstToken = ticks[0]?.token;
    expect(firstToken).toBe(primary.lease?.token);

    await primary.stop();
    const handedOver = ticks.length;
    await until(() => ticks.slice(handedOver).length >= 2);
    const later = ticks.slice(handedOver);
    expect(new Set(later.map((tick) => tick.who))).toEqual(new Set([second]));
    expect(later[0]?.token).toBeGreaterThan(firstToken as number);
    const seconds = ticks.map((tick) => tick.second);
    expect(new Set(seconds).size).toBe(seconds.length);
    jobA.stop();
    jobB.stop();
  });

  it('aborts a run in flight when leadership is lost, and stops scheduling', async () => {
    const store = new MemoryLockStore();
    const election = candidate(store, 'cron-loss');
    await election.ready;
    let aborted: unknown;
    let started = 0;
    const job = scheduleWhilePrimary(
      election,
      '* * * * * *',
      async ({ signal }) => {
        started += 1;
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        aborted = signal.reason;
      },
      { engine },
    );
    await until(() => started === 1, 3000);
    steal(store, 'cron-loss');
    await until(() => aborted !== undefined, 3000);
    expect(String((aborted as Error).message)).toMatch(/leadership of "cron-loss" lost/);
    expect(election.isPrimary).toBe(false);
    expect(job.scheduled).toBe(false);
    await pause(1200);
    expect(started).toBe(1);
    job.stop();
  });
});

describe('scheduleWhilePrimary lifecycle', () => {
  it('lets election.stop() wait for the run in flight before releasing the lock', async () => {
    const store = new MemoryLockStore();
    const election = candidate(store, 'cron-drain');
    await election.ready;
    const order: string[] = [];
    scheduleWhilePrimary(election, '* * * * * *', async ({ signal }) => {
      order.push('run started');
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      await pause(150);
      order.push(`run settled, lock still ${store.entries.get('cron-drain')?.state}`);
    });
    await until(() => order.length === 1, 3000);
    await election.stop();
    order.push(`stopped, lock ${store.entries.get('cron-drain')?.state}`);
    expect(order).toEqual(['run started', 'run settled, lock still held', 'stopped, lock free']);
  });

  it('job.stop() ends the schedule at once and for later terms', async () => {
    const election = candidate(new MemoryLockStore(), 'cron-job-stop');
    await election.ready;
    let runs = 0;
    const job = scheduleWhilePrimary(election, '* * * * * *', () => {
      runs += 1;
    });
    await until(() => runs >= 1, 3000);
    job.stop();
    await until(() => !job.scheduled, 1000);
    const after = runs;
    await pause(1200);
    expect(runs).toBe(after);
    expect(job.runs).toBe(after);
  });

  it('reports a failing run without stopping the schedule', async () => {
    const election = candidate(new MemoryLockStore(), 'cron-errors');
    await election.ready;
    const errors: unknown[] = [];
    const job = scheduleWhilePrimary(
      election,
      '* * * * * *',
      () => {
        throw new Error('boom');
      },
      { onError: (error) => errors.push(error) },
    );
    await until(() => errors.length >= 2, 4000);
    expect((errors[0] as Error).message).toBe('boom');
    expect(job.scheduled).toBe(true);
    job.stop();
  });

  it('refuses bad input with errors that name the option', () => {
    const election = candidate(new MemoryLockStore(), 'cron-input');
    expect(() => scheduleWhilePrimary(election, 'not a pattern', () => {})).toThrow(
      /Expected `pattern` to be a cron pattern croner accepts/,
    );
    expect(() => scheduleWhilePrimary(election, '61 * * * *', () => {}, { engine: 'node-cron' })).toThrow(
      /Expected `pattern` to be a cron pattern node-cron accepts, got "61 \* \* \* \*"/,
    );
    expect(() => scheduleWhilePrimary(election, '* * * * *', () => {}, { engine: 'agenda' as never })).toThrow(
      /Expected `engine` to be 'croner' or 'node-cron', got "agenda"/,
    );
    expect(() => scheduleWhilePrimary({} as Election, '* * * * *', () => {})).toThrow(/\[cron\] Expected `election` to be an Election/);
    expect(() => primaryOnly(election, 'fn' as never)).toThrow(/Expected `fn` to be a function, got "fn"/);
  });
});

describe('primaryOnly', () => {
  it('runs only on the primary, with its token, and aborts the run when leadership is lost', async () => {
    const store = new MemoryLockStore();
    const [a, b] = [candidate(store, 'guard'), candidate(store, 'guard')];
    await Promise.all([a.ready, b.ready]);
    const [primary, follower] = a.isPrimary ? [a, b] : [b, a];
    const calls: string[] = [];
    const work = (election: Election) =>
      primaryOnly(election, async ({ token, signal }, label: string) => {
        calls.push(`${label}:${token}`);
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return signal.reason as Error;
      });
    expect(await work(follower)('follower')).toBeUndefined();
    const pending = work(primary)('primary');
    expect(calls).toEqual([`primary:${primary.token}`]);
    steal(store, 'guard');
    const reason = await pending;
    expect(reason?.message).toMatch(/leadership of "guard" ended/);
  });
});
