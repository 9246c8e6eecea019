/**
 * primacy/nestjs inside real Nest apps (in one process, two apps share a memory lock store): the
 * election is injected before the app boots but campaigns only on bootstrap; @PrimaryOnly methods
 * run only on the primary, with the term's token and signal; closing the app aborts and awaits them
 * before the lock is released; bad options fail with errors that name them.
 */
import { type INestApplication, Injectable, Module } from '@nestjs/common';
import { type Election, MemoryLockStore, memoryLock } from 'primacy';
import { getElectionToken, PRIMACY_ELECTION, PrimacyModule, PrimaryOnly, primaryRun } from 'primacy/nestjs';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../helpers/until.js';
import { controllerFor, createApp, type JobEvents, jobsFor } from './apps.js';

const apps: INestApplication[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

function primacy(store: MemoryLockStore, name: string, extra: Record<string, unknown> = {}) {
  return PrimacyModule.forRoot({
    name,
    lock: memoryLock({ store }),
    ttl: 1000,
    retryInterval: 100,
    handleSignals: false,
    logger: false,
    ...extra,
  });
}

async function app(...args: Parameters<typeof createApp>): Promise<INestApplication> {
  const created = await createApp(...args);
  apps.push(created);
  return created;
}

describe('PrimacyModule', () => {
  it('injects the election before bootstrap, campaigns on bootstrap, and runs @PrimaryOnly methods on the primary only', async () => {
    const store = new MemoryLockStore();
    const eventsA: JobEvents = { elected: [], runs: [] };
    const eventsB: JobEvents = { elected: [], runs: [] };
    const JobsA = jobsFor(eventsA);
    const JobsB = jobsFor(eventsB);
    const a = await app(primacy(store, 'nest-one'), [JobsA], [controllerFor()]);
    const b = await app(primacy(store, 'nest-one'), [JobsB]);
    const electionA = a.get<Election>(PRIMACY_ELECTION);
    // Created, injected, subscribed to, but not campaigning: a half-booted app never wins.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(store.entries.get('nest-one')).toBeUndefined();
    expect(electionA.isPrimary).toBe(false);
    expect(a.get(JobsA).record('early')).toBeUndefined();

    await a.init();
    // Once init() resolves the first round is over: A, alone in the running, is primary.
    expect(electionA.isPrimary).toBe(true);
    expect(eventsA.elected).toEqual([electionA.token]);
    await b.init();
    expect(b.get<Election>(PRIMACY_ELECTION).isPrimary).toBe(false);

    expect(a.get(JobsA).record('a')).toBe(`a:${electionA.token}`);
    expect(b.get(JobsB).record('b')).toBeUndefined();
    expect(eventsA.runs.map((run) => run.token)).toEqual([electionA.token]);
    expect(eventsB.runs).toEqual([]);
    expect(eventsA.runs[0]?.signal.aborted).toBe(false);
    expect(() => primaryRun()).toThrow(/primaryRun\(\) was called outside a @PrimaryOnly\(\) method/);
  });

  it('on close, aborts the run in flight and awaits it before releasing; the other app takes over with a higher token', async () => {
    const store = new MemoryLockStore();
    const eventsA: JobEvents = { elected: [], runs: [] };
    const eventsB: JobEvents = { elected: [], runs: [] };
    const JobsA = jobsFor(eventsA);
    const JobsB = jobsFor(eventsB);
    const a = await app(primacy(store, 'nest-close'), [JobsA]);
    const b = await app(primacy(store, 'nest-close'), [JobsB]);
    await a.init();
    await b.init();
    const firstToken = a.get<Election>(PRIMACY_ELECTION).token as number;
    const steps: string[] = [];
    const run = a.get(JobsA).long(200, steps);
    expect(steps).toEqual(['started']);

    apps.splice(apps.indexOf(a), 1);
    const closing = a.close();
    // The run was told to stop, and the lock is still A's while it settles.
    await until(() => steps.length === 1 && store.entries.get('nest-close')?.state === 'held');
    await closing;
    expect(steps).toEqual(['started', 'settled']);
    await expect(run).resolves.toBeUndefined();
    const electionB = b.get<Election>(PRIMACY_ELECTION);
    await until(() => electionB.isPrimary, 5000, 'B elected after A released');
    expect(electionB.token).toBeGreaterThan(firstToken);
    expect(b.get(JobsB).record('b')).toBe(`b:${electionB.token}`);
    // A's instance is still bound, but its election is over: a late tick is skipped, not run.
    expect(a.get(JobsA).record('late')).toBeUndefined();
  });

  it('forRootAsync takes its options from a factory with injected values', async () => {
    const store = new MemoryLockStore();
    @Injectable()
    class Config {
      readonly lockName = 'nest-async';
    }
    @Module({ providers: [Config], exports: [Config] })
    class ConfigModule {}
    const events: JobEvents = { elected: [], runs: [] };
    const async = PrimacyModule.forRootAsync({
      imports: [ConfigModule],
      inject: [Config],
      useFactory: async (config: Config) => ({ name: config.lockName, lock: memoryLock({ store }), handleSignals: false, logger: false }),
    });
    const a = await app(async, [jobsFor(events)]);
    await a.init();
    const election = a.get<Election>(PRIMACY_ELECTION);
    expect(election.name).toBe('nest-async');
    expect(election.isPrimary).toBe(true);
    expect(events.elected).toEqual([election.token]);
  });

  it('runs a method on the election its key names, with two elections in one app', async () => {
    const store = new MemoryLockStore();
    // Another process holds "nest-reports": this app is primary of its default election only.
    const other = await app(primacy(store, 'nest-reports'));
    await other.init();
    @Injectable()
    class Two {
      @PrimaryOnly()
      main() {
        return primaryRun().token;
      }
      @PrimaryOnly({ election: 'reports' })
      reports() {
        return primaryRun().token;
      }
    }
    const a = await app([primacy(store, 'nest-main'), primacy(store, 'nest-reports', { key: 'reports' })], [Two]);
    await a.init();
    expect(a.get<Election>(getElectionToken('reports')).name).toBe('nest-reports');
    expect(a.get(Two).main()).toBe(a.get<Election>(PRIMACY_ELECTION).token);
    expect(a.get(Two).reports()).toBeUndefined();
    apps.splice(apps.indexOf(other), 1);
    await other.close();
    await until(() => a.get<Election>(getElectionToken('reports')).isPrimary, 5000, 'reports election won');
    expect(a.get(Two).reports()).toBe(a.get<Election>(getElectionToken('reports')).token);
  });
});

describe('PrimacyModule: bad input', () => {
  it('refuses bad options at forRoot(), naming the option', () => {
    expect(() => PrimacyModule.forRoot({} as never)).toThrow(/\[nestjs\] Expected `name` to be the lock name/);
    expect(() => PrimacyModule.forRoot({ name: 'x', ttl: -5 })).toThrow(
      /Expected `ttl` to be a finite number >= 1000 ms .*got -5 \(number\)/,
    );
    expect(() => PrimacyModule.forRoot({ name: 'x', tll: 5000 } as never)).toThrow(/"tll".*"ttl"/);
    expect(() => PrimacyModule.forRoot({ name: 'x', key: '' })).toThrow(/Expected `key` to be a non-empty string, got ""/);
    expect(() => PrimacyModule.forRootAsync({} as never)).toThrow(/Expected `useFactory` to be a function/);
    expect(() => PrimacyModule.forRootAsync({ useFactory: () => ({ name: 'x' }), inject: 'Config' as never })).toThrow(
      /Expected `inject` to be an array of tokens, got "Config"/,
    );
  });

  it('refuses a bad factory result when the app is created', async () => {
    const bad = PrimacyModule.forRootAsync({ useFactory: () => ({ name: 'x', ttl: 'long' }) as never });
    await expect(createApp(bad)).rejects.toThrow(/\[options\] Expected `ttl` to be a finite number >= 1000 ms .*got "long" \(string\)/);
    const keyed = PrimacyModule.forRootAsync({ useFactory: () => ({ name: 'x', key: 'b' }) as never });
    await expect(createApp(keyed)).rejects.toThrow(/Expected `key` to be absent from useFactory's result/);
  });

  it('refuses a second registration under one key, and a @PrimaryOnly naming an election the app lacks', async () => {
    const store = new MemoryLockStore();
    await expect(createApp([primacy(store, 'dup-a'), primacy(store, 'dup-b')])).rejects.toThrow(
      /Expected `key` to be unique among the PrimacyModule registrations of this app .*got "default"/,
    );
    @Injectable()
    class Stray {
      @PrimaryOnly({ election: 'nope' })
      tick() {}
    }
    const a = await app(primacy(store, 'stray'), [Stray]);
    await expect(a.init()).rejects.toThrow(
      /Expected `election` to be the key of a PrimacyModule registered in this app \('default'\).*Stray\.tick, got "nope"/,
    );
  });

  it('refuses @PrimaryOnly() on what is not an instance method, and bad decorator options', () => {
    expect(() => {
      // biome-ignore lint/complexity/noStaticOnlyClass: the static method is the point.
      class Fields {
        @PrimaryOnly()
        static run() {}
      }
      return Fields;
    }).toThrow(/Expected `run` to be an instance method/);
    expect(() => PrimaryOnly({ election: 5 } as never)).toThrow(/Expected `election` to be a non-empty string, got 5 \(number\)/);
    expect(() => PrimaryOnly({ elction: 'x' } as never)).toThrow(/"elction".*"election"/);
  });
});
