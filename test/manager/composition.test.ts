/**
 * One lock name, one primary, however the processes are started: two `WorkerManager`s side by
 * side (blue/green) and a plain `node` process, all calling `elect({ name: 'jobs' })` with the
 * default lock. Before the manager held the backend lease for its workers, each manager elected
 * its own primary and the plain process a third.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { isRunning } from '../../harness/pids.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { expectOnePrimaryAtATime, termEvents } from '../helpers/terms.js';

const managerMain = join(import.meta.dirname, '../fixtures/manager-main.ts');
const app = join(import.meta.dirname, '../fixtures/managed-app.ts');
const candidate = join(import.meta.dirname, '../fixtures/candidate.ts');
const primacyCli = join(import.meta.dirname, '../../src/cli/primacy.ts');
/** The apps' retryInterval: 5 s by default; APP_RETRY_INTERVAL sets it (the file lock test: 1 s). */
const APP_RETRY = 5000;
const QUICK_RETRY = 1000;
/**
 * Past a retryInterval (± 20%) with room for a campaign: every follower has campaigned at least once
 * since (6.5 s for the apps' 5 s). Redis followers rest between tries instead (their draws, not the
 * retryInterval), so the Redis test keeps the apps' default and its window.
 */
const everyFollowerTried = (retry: number) => retry * 1.2 + 500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('one primary per lock name across managers and plain processes', () => {
  let dir: string;
  let redis: RedisServer | null = null;
  const children: Child[] = [];
  const workerPids = () => children.flatMap((c) => c.events.filter((e) => e.ev === 'acked').map((e) => e.workerPid as number));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-composition-'));
  });
  afterEach(async () => {
    const pids = workerPids();
    await killAll(children);
    for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
    await redis?.stop();
    redis = null;
  });

  /** Every elected/revoked line any process printed (workers print through their manager's stdout). */
  const elections = () =>
    children
      .flatMap((c) => c.events)
      .filter((e) => e.ev === 'elected')
      .sort((a, b) => a.t - b.t);
  const nextElected = async (after: number, timeout = 15_000): Promise<ChildEvent> => {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = elections().find((e) => e.t > after);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`nobody was elected within ${timeout} ms; saw ${JSON.stringify(elections())}`);
      await sleep(50);
    }
  };

  /**
   * SIGKILLs the primary: exactly one other process takes over, with a higher token, wherever it
   * runs (another worker of the same manager, the other manager, a plain process), and nobody else
   * is elected while every follower campaigns at least once more.
   */
  const killAndExpectOneSuccessor = async (holder: ChildEvent, retry: number): Promise<ChildEvent> => {
    const killedAt = wallNow();
    process.kill(holder.pid, 'SIGKILL');
    const next = await nextElected(killedAt);
    expect(next.pid).not.toBe(holder.pid);
    expect(next.token as number).toBeGreaterThan(holder.token as number);
    await sleep(everyFollowerTried(retry));
    expect(elections().filter((e) => e.t > killedAt)).toEqual([next]);
    return next;
  };

  it('elects exactly one primary among two managers and a plain process, and hands over across them', { timeout: 90_000 }, async () => {
    const env = { XDG_RUNTIME_DIR: dir, WORKERS: '2', APP_RETRY_INTERVAL: String(QUICK_RETRY) };
    const blue = new Child(managerMain, [], { ...env, STATE_DIR: join(dir, 'blue'), MANAGER_NAME: 'blue' });
    const green = new Child(managerMain, [], { ...env, STATE_DIR: join(dir, 'green'), MANAGER_NAME: 'green' });
    const plain = new Child(app, [], { XDG_RUNTIME_DIR: dir, APP_RETRY_INTERVAL: String(QUICK_RETRY) });
    children.push(blue, green, plain);
    await Promise.all([blue, green].map((m) => m.waitFor((e) => e.ev === 'started', 30_000)));
    const first = await nextElected(0);
    await sleep(everyFollowerTried(QUICK_RETRY));
    expect(elections()).toEqual([first]);

    // Twice: whoever is primary, wherever it runs.
    const second = await killAndExpectOneSuccessor(first, QUICK_RETRY);
    await killAndExpectOneSuccessor(second, QUICK_RETRY);
  });

  it('puts `primacy start --lock redis://...` workers and a plain process on one Redis lock', { timeout: 90_000 }, async () => {
    redis = await startRedis();
    const manager = new Child(primacyCli, ['start', app, '--workers', '2', '--state-dir', dir, '--lock', redis.url], {
      XDG_RUNTIME_DIR: dir,
    });
    // The plain process uses the Redis lock itself (name jobs, ttl 3 s, retry 5 s, as the app).
    const plain = new Child(candidate, [redis.url, 'jobs', '3000', '5000']);
    children.push(manager, plain);
    const first = await nextElected(0, 30_000);
    await sleep(everyFollowerTried(APP_RETRY));
    expect(elections()).toEqual([first]);
    await killAndExpectOneSuccessor(first, APP_RETRY);
  });

  it('leaves no second primary when a stopped manager loses its Redis connection (the worker cannot see that close)', {
    timeout: 90_000,
  }, async () => {
    redis = await startRedis();
    const manager = new Child(primacyCli, ['start', app, '--workers', '2', '--state-dir', dir, '--lock', redis.url], {
      XDG_RUNTIME_DIR: dir,
    });
    children.push(manager);
    const worker = await nextElected(0, 30_000);
    // A plain process on the same lock that would take over the moment the holder's connection
    // closed (its own leases are connection-bound; it polls every 200 ms).
    const plain = new Child(candidate, [redis.url, 'jobs', '3000', '200']);
    children.push(plain);
    await plain.waitFor((e) => e.ev === 'ready', 20_000);
    manager.kill('SIGSTOP');
    await redis.admin().call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await sleep(1500); // less than the TTL: the worker is still inside its lease, and running
    manager.kill('SIGCONT');
    await sleep(6000);
    const events = children.flatMap((c) => c.events);
    expectOnePrimaryAtATime(events);
    expect(termEvents(events)[0]).toMatchObject({ ev: 'elected', pid: worker.pid });
  });
});
