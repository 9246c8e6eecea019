/**
 * Unknown option keys (`elect({ name, tll: 5000 })`) fail at the call in every public function that
 * takes an options object, with a PrimacyConfigError naming the function, the key and the nearest
 * known option; known keys holding `undefined` stay fine.
 */
import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { type Election, elect, electionHealth, envLock, fileLock, MemoryLockStore, memoryLock, PrimacyConfigError, runOnce } from 'primacy';
import { scheduleWhilePrimary } from 'primacy/cron';
import { attachPrimacy, listenWithPrimacy, primacyHealth } from 'primacy/express';
import { primacyPlugin } from 'primacy/fastify';
import { managerLock, WorkerManager } from 'primacy/manager';
import { redisLock } from 'primacy/redis';
import { redlockLock } from 'primacy/redlock';
import { afterEach, describe, expect, it } from 'vitest';
import { nearestKey } from '../src/_internal/unknown-keys.js';
import { resolveManagerOptions } from '../src/manager/options.js';

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const elections: Election[] = [];
afterEach(async () => {
  await Promise.all(elections.splice(0).map((election) => election.stop()));
});

/** Election options that work; each test adds its typo. */
function valid(extra: Record<string, unknown> = {}) {
  return {
    name: 'unknown-keys',
    lock: memoryLock({ store: new MemoryLockStore() }),
    handleSignals: false,
    logger: false as const,
    ...extra,
  };
}

function candidate(): Election {
  const election = elect(valid());
  elections.push(election);
  return election;
}

/** The error `call` throws, checked to be a PrimacyConfigError naming `option`. */
function refusal(call: () => unknown, option: string): PrimacyConfigError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(PrimacyConfigError);
    expect((error as PrimacyConfigError).option).toBe(option);
    return error as PrimacyConfigError;
  }
  throw new Error(`expected a PrimacyConfigError for ${option}, none was thrown`);
}

describe('unknown option keys', () => {
  it('elect() names the key, the nearest known option and every known one', () => {
    const error = refusal(() => elect(valid({ tll: 5000 }) as never), 'tll');
    expect(error.message).toBe(
      '[primacy] [options] elect(): unknown option "tll"; did you mean "ttl"? Known options: name, lock, ttl, renewInterval, ' +
        'retryInterval, jitter, identity, logger, signal, handleSignals, onLoss, stopTimeout, clock',
    );
    expect(error.code).toBe('ERR_PRIMACY_CONFIG');
    expect(error.value).toBe(5000);
    expect(refusal(() => elect(valid({ TTL: 5000 }) as never), 'TTL').message).toMatch(/did you mean "ttl"\?/);
    expect(refusal(() => elect(valid({ renewIntrval: 1000 }) as never), 'renewIntrval').message).toMatch(/did you mean "renewInterval"/);
    // Several at once are all named; one far from every option gets no guess.
    const several = refusal(() => elect(valid({ tll: 1, colour: 'red' }) as never), 'tll');
    expect(several.message).toMatch(/elect\(\): unknown options "tll" \(did you mean "ttl"\?\) and "colour"\. Known options: name,/);
    expect(refusal(() => elect(valid({ database: 'x' }) as never), 'database').message).toMatch(
      /elect\(\): unknown option "database"\. Known options:/,
    );
    // A misspelt key is refused even when it holds undefined: it is still not the option meant.
    refusal(() => elect(valid({ tll: undefined }) as never), 'tll');
  });

  it('elect() accepts every known key, undefined included', () => {
    const election = elect(
      valid({
        ttl: undefined,
        renewInterval: undefined,
        retryInterval: undefined,
        jitter: undefined,
        identity: undefined,
        signal: undefined,
        onLoss: undefined,
        stopTimeout: undefined,
        clock: undefined,
      }),
    );
    elections.push(election);
    expect(election.name).toBe('unknown-keys');
  });

  it('suggests only a near key (edit distance, case ignored)', () => {
    const known = ['ttl', 'renewInterval', 'retryInterval', 'stopTimeout', 'lock', 'logger'];
    expect(nearestKey('tll', known)).toBe('ttl');
    expect(nearestKey('tl', known)).toBe('ttl');
    expect(nearestKey('retryIntervall', known)).toBe('retryInterval');
    expect(nearestKey('stoptimeout', known)).toBe('stopTimeout');
    expect(nearestKey('lokc', known)).toBe('lock'); // one swap
    expect(nearestKey('timeout', known)).toBeUndefined();
    expect(nearestKey('x', known)).toBeUndefined();
  });

  it('runOnce()', async () => {
    const lock = memoryLock({ store: new MemoryLockStore() });
    await expect(runOnce('task', () => 1, { lock, waitTimout: 5000 } as never)).rejects.toThrow(
      /\[runOnce\] runOnce\(\): unknown option "waitTimout"; did you mean "waitTimeout"\?/,
    );
    await expect(runOnce('task', () => 1, { lock, ttl: undefined, logger: false })).resolves.toMatchObject({ ran: true });
  });

  it('the manager, top level and nested options', () => {
    expect(refusal(() => new WorkerManager({ script: 'app.js', worker: 2 } as never), 'worker').message).toMatch(
      /\[manager\] new WorkerManager\(\): unknown option "worker"; did you mean "workers"\?/,
    );
    expect(refusal(() => new WorkerManager({ script: 'app.js', crashLoop: { brust: 3 } } as never), 'crashLoop.brust').message).toMatch(
      /unknown option "crashLoop\.brust"; did you mean "crashLoop\.burst"\? Known options of "crashLoop": burst, window/,
    );
    refusal(() => new WorkerManager({ script: 'app.js', backoff: { initial: 10 } } as never), 'backoff.initial');
    refusal(() => new WorkerManager({ script: 'app.js', health: { timeoutMs: 10 } } as never), 'health.timeoutMs');
    refusal(() => new WorkerManager({ script: 'app.js', backoff: 100 } as never), 'backoff');
    const process = { name: 'jobs', module: 'jobs.js', restartble: false };
    expect(
      refusal(() => new WorkerManager({ script: 'app.js', processes: [process] } as never), 'processes[0].restartble').message,
    ).toMatch(/did you mean "processes\[0\]\.restartable"\?/);
    // What the CLI passes, undefined values included.
    const resolved = resolveManagerOptions({
      script: 'app.js',
      args: undefined,
      workers: 2,
      name: undefined,
      stateDir: undefined,
      lock: undefined,
      ackOn: undefined,
      backoff: { backoffMax: 500 },
      processes: [{ name: 'jobs', module: 'jobs.js', workers: 1 }],
    });
    expect(resolved.backoff.backoffMax).toBe(500);
  });

  it('the adapters: fileLock, memoryLock, envLock, managerLock', () => {
    expect(refusal(() => fileLock({ dri: '/tmp' } as never), 'dri').message).toMatch(
      /\[file\] fileLock\(\): unknown option "dri"; did you mean "dir"\? Known options: dir, shared$/,
    );
    expect(refusal(() => memoryLock({ stor: new MemoryLockStore() } as never), 'stor').message).toMatch(/did you mean "store"\?/);
    expect(refusal(() => envLock({ variabel: 'PRIMARY', env: {} } as never), 'variabel').message).toMatch(
      /\[env\] envLock\(\): unknown option "variabel"; did you mean "variable"\?/,
    );
    expect(envLock({ variable: 'P', instanceVariable: undefined, env: { P: 'true' } }).kind).toBe('env');
    expect(refusal(() => managerLock({ dir: '/tmp' } as never), 'dir').message).toMatch(
      /managerLock\(\): unknown option "dir"\. managerLock\(\) takes no options/,
    );
  });

  it('redisLock and redlockLock, whose client objects are not checked', async () => {
    expect(refusal(() => redisLock({ url: REDIS, prefx: 'app:' } as never), 'prefx').message).toMatch(
      /\[redis\] redisLock\(\): unknown option "prefx"; did you mean "prefix"\?/,
    );
    expect(refusal(() => redisLock({ url: REDIS, connectionBindings: false } as never), 'connectionBindings').message).toMatch(
      /did you mean "connectionBinding"\?/,
    );
    expect(refusal(() => redlockLock({ urls: [REDIS], nodeTimout: 5 } as never), 'nodeTimout').message).toMatch(
      /\[redlock\] redlockLock\(\): unknown option "nodeTimout"; did you mean "nodeTimeout"\?/,
    );
    expect(refusal(() => redlockLock({ url: REDIS } as never), 'url').message).toMatch(/did you mean "urls"\?/);
    // An ioredis client has keys of its own (options, status, ...): only redisLock's own keys are checked.
    const client = new Redis(REDIS, { lazyConnect: true });
    try {
      const lock = redisLock({ client, prefix: undefined, takeoverGrace: 50 });
      await lock.close?.();
    } finally {
      client.disconnect();
    }
  });

  it('the Fastify plugin, registered in a real app, leaving Fastify’s own register options alone', async () => {
    const bad = Fastify();
    bad.register(primacyPlugin, valid({ tll: 5000 }) as never);
    await expect(bad.ready()).rejects.toThrow(
      /\[fastify\] register\(primacyPlugin\): unknown option "tll"; did you mean "ttl"\? Known options: name, lock, .*decorator, healthRoute, election, prefix, logLevel, logSerializers/,
    );
    await bad.close().catch(() => undefined);

    const typo = Fastify();
    typo.register(primacyPlugin, valid({ healthRoot: '/healthz' }) as never);
    await expect(typo.ready()).rejects.toThrow(/did you mean "healthRoute"\?/);
    await typo.close().catch(() => undefined);

    const app = Fastify();
    app.register(primacyPlugin, { ...valid(), prefix: '/api', logLevel: 'warn', healthRoute: '/healthz', decorator: undefined });
    await app.ready();
    expect(app.primacy.name).toBe('unknown-keys');
    await app.close();
  });

  it('the Express helpers: attachPrimacy, listenWithPrimacy, primacyHealth', () => {
    const app = express();
    const server = createServer(app);
    expect(refusal(() => attachPrimacy(server, app, valid({ retryIntervall: 100 }) as never), 'retryIntervall').message).toMatch(
      /attachPrimacy\(\): unknown option "retryIntervall"; did you mean "retryInterval"\?/,
    );
    expect(refusal(() => listenWithPrimacy(app, 0, valid({ lokc: null }) as never), 'lokc').message).toMatch(
      /listenWithPrimacy\(\): unknown option "lokc"; did you mean "lock"\?/,
    );
    expect(server.listening).toBe(false);
    expect(refusal(() => primacyHealth(undefined, { timout: 100 } as never), 'timout').message).toMatch(
      /\[express\] primacyHealth\(\): unknown option "timout"; did you mean "timeout"\?/,
    );
    expect(typeof primacyHealth(undefined, { timeout: undefined })).toBe('function');
  });

  it('electionHealth() and scheduleWhilePrimary()', async () => {
    const election = candidate();
    await expect(electionHealth(election, { timeOut: 100 } as never)).rejects.toThrow(
      /\[health\] electionHealth\(\): unknown option "timeOut"; did you mean "timeout"\?/,
    );
    await expect(electionHealth(election, { timeout: undefined })).resolves.toMatchObject({ name: 'unknown-keys' });
    expect(refusal(() => scheduleWhilePrimary(election, '* * * * *', () => {}, { timeZone: 'UTC' } as never), 'timeZone').message).toMatch(
      /\[cron\] scheduleWhilePrimary\(\): unknown option "timeZone"; did you mean "timezone"\? Known options: engine, timezone, name, protect, onError/,
    );
    const job = scheduleWhilePrimary(election, '0 0 1 1 *', () => {}, { timezone: undefined, name: undefined, onError: undefined });
    job.stop();
  });
});
