/**
 * Cron errors reach the caller, never only the election's "whilePrimary work failed, retrying" log:
 * a time zone the engine does not know fails at the call (it used to fail only once elected, and
 * then every term), and whatever fails in a term — the engine starting the job, a run, onError
 * itself — goes to onError or, failing that, to the election's `error` event.
 */
import { type Election, elect, type Logger, MemoryLockStore, memoryLock, PrimacyConfigError } from 'primacy';
import { scheduleWhilePrimary } from 'primacy/cron';
import { afterEach, describe, expect, it } from 'vitest';
import { pause, until } from '../helpers/until.js';

const elections: Election[] = [];
afterEach(async () => {
  await Promise.all(elections.splice(0).map((election) => election.stop()));
});

/** An election on its own memory lock, whose logger keeps every warning. */
function candidate(name: string): { election: Election; warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (message: string) => void warnings.push(message), error() {} };
  const election = elect({ name, lock: memoryLock({ store: new MemoryLockStore() }), handleSignals: false, logger });
  elections.push(election);
  return { election, warnings };
}

describe.each(['croner', 'node-cron'] as const)('cron errors with %s', (engine) => {
  it('refuses a time zone the engine does not know at the call, naming the option and the value', () => {
    const { election } = candidate(`tz-${engine}`);
    for (const timezone of ['Mars/Olympus', 'Europe/Pariss', '', 42]) {
      let thrown: unknown;
      try {
        scheduleWhilePrimary(election, '* * * * * *', () => {}, { engine, timezone: timezone as string });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, `timezone ${JSON.stringify(timezone)}`).toBeInstanceOf(PrimacyConfigError);
      expect((thrown as PrimacyConfigError).option).toBe('timezone');
      expect((thrown as PrimacyConfigError).value).toBe(timezone);
      expect((thrown as Error).message).toContain(`Expected \`timezone\` to be`);
      expect((thrown as Error).message).toContain(JSON.stringify(timezone));
    }
  });

  it('runs with a time zone the engine knows', async () => {
    const { election, warnings } = candidate(`tz-ok-${engine}`);
    await election.ready;
    let runs = 0;
    const job = scheduleWhilePrimary(
      election,
      '* * * * * *',
      () => {
        runs += 1;
      },
      { engine, timezone: 'Asia/Kolkata' },
    );
    await until(() => runs >= 1, 3000);
    job.stop();
    expect(warnings).toEqual([]);
  });

  it('hands a failing run to onError, sync or async, and logs nothing as "retrying"', async () => {
    const { election, warnings } = candidate(`run-errors-${engine}`);
    await election.ready;
    const errors: unknown[] = [];
    let n = 0;
    const job = scheduleWhilePrimary(
      election,
      '* * * * * *',
      async () => {
        n += 1;
        if (n % 2 === 1) throw new Error(`sync ${n}`);
        await pause(1);
        throw new Error(`async ${n}`);
      },
      { engine, onError: (error) => errors.push(error) },
    );
    await until(() => errors.length >= 2, 4000);
    expect((errors as Error[]).slice(0, 2).map((e) => e.message)).toEqual(['sync 1', 'async 2']);
    expect(job.scheduled).toBe(true);
    job.stop();
    expect(warnings.filter((w) => /whilePrimary work/.test(w))).toEqual([]);
  });
});

describe('cron errors when a term starts', () => {
  // croner keeps a registry of named jobs: a second job by a name in use fails when it starts,
  // which is once this process is elected, not at the call.
  it('a job the engine refuses to start goes to onError, not to the election as work to retry', async () => {
    const { election, warnings } = candidate('start-error');
    const errors: unknown[] = [];
    const first = scheduleWhilePrimary(election, '0 0 1 1 *', () => {}, { name: 'taken-name' });
    const second = scheduleWhilePrimary(election, '* * * * * *', () => {}, { name: 'taken-name', onError: (error) => errors.push(error) });
    await election.ready;
    await until(() => errors.length >= 1, 2000);
    expect((errors[0] as Error).message).toMatch(/name already taken/);
    expect(first.scheduled).toBe(true);
    expect(second.scheduled).toBe(false);
    await pause(50);
    expect(warnings.filter((w) => /whilePrimary work/.test(w))).toEqual([]);
    first.stop();
    second.stop();
  });

  it('without onError, such a failure is the election’s `error` event; an onError that throws is too', async () => {
    const { election, warnings } = candidate('start-error-event');
    const events: unknown[] = [];
    election.on('error', (error) => events.push(error));
    const failing = new Error('onError failed');
    const jobs = [
      scheduleWhilePrimary(election, '0 0 1 1 *', () => {}, { name: 'taken-again' }),
      scheduleWhilePrimary(election, '0 0 1 1 *', () => {}, { name: 'taken-again' }),
      scheduleWhilePrimary(
        election,
        '* * * * * *',
        () => {
          throw new Error('run failed');
        },
        {
          onError: () => {
            throw failing;
          },
        },
      ),
    ];
    await election.ready;
    await until(() => events.includes(failing) && events.some((e) => /name already taken/.test((e as Error).message)), 3000);
    expect(warnings.filter((w) => /whilePrimary work/.test(w))).toEqual([]);
    for (const job of jobs) job.stop();
  });
});
