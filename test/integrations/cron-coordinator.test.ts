/**
 * `runCoordinator` in one process, on real locks (memory and file): who wins a firing, what a late
 * instance is told, how it fails closed, and its input checks. The multi-process runs with node-cron
 * itself are in cron-coordinator-file.test.ts and cron-coordinator-redis.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { elect, envLock, fileLock, MemoryLockStore, memoryLock, runOnce } from 'primacy';
import { runCoordinator } from 'primacy/cron';
import { redisLock } from 'primacy/redis';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis } from '../helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'primacy-cron-coordinator-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const at = (task: string, second: number) => `${task}:${new Date(Date.UTC(2030, 0, 1, 0, 0, second)).toISOString()}`;

describe.each([
  ['memory', () => memoryLock({ store: new MemoryLockStore() })],
  ['file', () => fileLock({ dir: mkdtempSync(join(dir, 'locks-')) })],
] as const)('runCoordinator on the %s lock', (_kind, makeLock) => {
  it('lets one of three instances run each firing, and each task on its own', async () => {
    const lock = makeLock();
    const instances = [runCoordinator(lock), runCoordinator(lock), runCoordinator(lock)];
    for (const second of [0, 1, 2]) {
      const answers = await Promise.all(instances.map((c) => c.shouldRun(at('report', second), 30_000)));
      expect(answers.filter(Boolean)).toHaveLength(1);
    }
    // Another task firing at the same times is claimed on its own lock.
    const other = await Promise.all(instances.map((c) => c.shouldRun(at('cleanup', 0), 30_000)));
    expect(other.filter(Boolean)).toHaveLength(1);
    expect(instances[0]?.lockName('report')).not.toBe(instances[0]?.lockName('cleanup'));
  });

  it('refuses a firing to a late instance, after the lock was released and whoever ran it is gone', async () => {
    const lock = makeLock();
    expect(await runCoordinator(lock).shouldRun(at('late', 5), 1000)).toBe(true);
    // A new coordinator (another process, a second later): the claim is in the record, not in memory.
    const late = runCoordinator(lock);
    expect(await late.shouldRun(at('late', 5), 1000)).toBe(false);
    // A firing never claimed, even older than one claimed, is still free (a clock running ahead made
    // an instance claim 5 first).
    expect(await late.shouldRun(at('late', 4), 1000)).toBe(true);
    expect(await late.shouldRun(at('late', 4), 1000)).toBe(false);
  });

  it('remembers the last 64 firings of a task and refuses any older one', async () => {
    const lock = makeLock();
    const coordinator = runCoordinator(lock);
    for (let second = 10; second < 10 + 64; second++) expect(await coordinator.shouldRun(at('many', second), 1000)).toBe(true);
    expect(await coordinator.shouldRun(at('many', 9), 1000)).toBe(false); // older than every claim kept: may have run
    expect(await coordinator.shouldRun(at('many', 74), 1000)).toBe(true);
    expect(await coordinator.shouldRun(at('many', 10), 1000)).toBe(false); // dropped from the list: still refused
    const record = (await lock.readOutcome?.(coordinator.lockName('many'))) as unknown as { cronFirings: number[] };
    expect(record.cronFirings).toHaveLength(64);
  });
});

describe('runCoordinator fails closed', () => {
  it('rejects when the task lock stays held past `timeout`, and reports it', async () => {
    const store = new MemoryLockStore();
    const errors: Array<[unknown, string]> = [];
    const coordinator = runCoordinator({ lock: memoryLock({ store }), timeout: 300, onError: (error, key) => errors.push([error, key]) });
    // A stalled claimer: something else holds the task's lock for its whole term.
    const squatter = elect({
      name: coordinator.lockName('busy'),
      lock: memoryLock({ store }),
      ttl: 5000,
      handleSignals: false,
      logger: false,
    });
    await squatter.ready;
    expect(squatter.isPrimary).toBe(true);
    const started = performance.now();
    await expect(coordinator.shouldRun(at('busy', 0), 1000)).rejects.toMatchObject({ code: 'ERR_PRIMACY_CRON_BUSY' });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[1]).toBe(at('busy', 0));
    await squatter.stop();
    expect(await coordinator.shouldRun(at('busy', 0), 1000)).toBe(true);
  });

  it('rejects within `timeout` when the backend does not answer (Redis paused)', async () => {
    const redis = await startRedis();
    const lock = redisLock({ url: redis.url });
    try {
      const coordinator = runCoordinator({ lock, timeout: 500 });
      expect(await coordinator.shouldRun(at('paused', 0), 5000)).toBe(true);
      redis.pause();
      const started = performance.now();
      await expect(coordinator.shouldRun(at('paused', 1), 5000)).rejects.toMatchObject({ code: 'ERR_PRIMACY_CRON_TIMEOUT' });
      expect(performance.now() - started).toBeLessThan(3000);
      redis.resume();
      expect(await coordinator.shouldRun(at('paused', 2), 5000)).toBe(true);
    } finally {
      redis.resume();
      await lock.close?.();
      await redis.stop();
    }
  });

  it('rejects when the backend fails (a closed memory lock), naming the firing', async () => {
    const lock = memoryLock({ store: new MemoryLockStore() });
    await lock.close?.();
    const failure = runCoordinator(lock).shouldRun(at('closed', 0), 1000);
    await expect(failure).rejects.toMatchObject({ code: 'ERR_PRIMACY_CRON_CLAIM' });
    await expect(failure).rejects.toThrow(/could not claim firing "closed:2030-01-01T00:00:00\.000Z" on the memory lock/);
  });

  it('rejects a record it did not write (runOnce on the same lock name) instead of reading it as "never ran"', async () => {
    const lock = memoryLock({ store: new MemoryLockStore() });
    const coordinator = runCoordinator(lock);
    await runOnce(coordinator.lockName('shared'), () => 'migrated', { lock, logger: false });
    await expect(coordinator.shouldRun(at('shared', 0), 1000)).rejects.toMatchObject({ code: 'ERR_PRIMACY_CRON_RECORD' });
  });

  it('rejects a key that is not node-cron 4 shaped', async () => {
    const coordinator = runCoordinator(memoryLock({ store: new MemoryLockStore() }));
    await expect(coordinator.shouldRun('report', 1000)).rejects.toThrow(
      /cannot coordinate the firing key "report": expected "<task name>:<ISO time>"/,
    );
    await expect(coordinator.shouldRun(at('report', 0), Number.NaN)).rejects.toThrow(/Expected `ttlMs` to be a lease in ms/);
  });
});

describe('runCoordinator input', () => {
  it('names the option, the value and what it expects', () => {
    const lock = memoryLock({ store: new MemoryLockStore() });
    expect(() => runCoordinator({} as never)).toThrow(/\[cron\] Expected `lock` to be a primacy lock/);
    expect(() => runCoordinator(envLock({ env: { PRIMARY_WORKER: 'true' } }))).toThrow(/Expected `lock` to be a lock that stores outcomes/);
    expect(() => runCoordinator({ lock, namespace: 'a.b' })).toThrow(/Expected `namespace` to be at most 32 letters, digits/);
    expect(() => runCoordinator({ lock, timeout: 10 })).toThrow(/Expected `timeout` to be a finite number >= 100 ms/);
    expect(() => runCoordinator({ lock, onError: 'log' as never })).toThrow(/Expected `onError` to be a function, got "log"/);
    expect(() => runCoordinator({ lock, timout: 1000 } as never)).toThrow(/timout/);
  });

  it('keeps lock names file-safe, short and distinct for names alike', () => {
    const coordinator = runCoordinator(memoryLock({ store: new MemoryLockStore() }));
    const [spaced, underscored] = [coordinator.lockName('a b'), coordinator.lockName('a_b')];
    expect(spaced).not.toBe(underscored);
    for (const name of [spaced, underscored, coordinator.lockName('x'.repeat(300)), coordinator.lockName('../../etc/passwd')]) {
      expect(name).toMatch(/^node-cron\.[A-Za-z0-9_-]{1,48}\.[0-9a-f]{12}$/);
    }
  });
});
