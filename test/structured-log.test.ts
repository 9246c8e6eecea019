/**
 * The `logger` option takes pino as it is: a real pino instance writing JSON lines into memory.
 * Each line comes from a child bound with the election's fields (`primacy: { election, id,
 * identity, lock }`), the facts of the line (token, reason, err, attempt) are fields of it, and the
 * levels are pino's. A logger that is not pino-shaped still gets the same text, and nothing else.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLockStore, memoryLock } from '../adapters/memory.js';
import type { LockAdapter } from '../src/adapter.js';
import { type Election, elect } from '../src/elector.js';
import type { ElectionOptions } from '../src/options.js';
import { until } from './helpers/until.js';

interface Line {
  level: number;
  msg: string;
  pid: number;
  primacy?: { election?: string; id?: string; identity?: string; lock?: string };
  [field: string]: unknown;
}

/** A real pino logger whose destination is an array of parsed JSON lines. */
function pinoInMemory(level = 'info'): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = pino({ level, base: { pid: process.pid, app: 'test' } }, { write: (chunk: string) => lines.push(JSON.parse(chunk)) });
  return { logger, lines };
}

const elections: Election[] = [];
afterEach(async () => {
  await Promise.all(elections.splice(0).map((election) => election.stop()));
});

function start(options: ElectionOptions): Election {
  const election = elect({ handleSignals: false, ttl: 1000, retryInterval: 50, ...options });
  elections.push(election);
  return election;
}

const INFO = 30;
const WARN = 40;

describe('structured logs with pino', () => {
  it('elected: an info line with the token as a field, from a child bound with the election', async () => {
    const { logger, lines } = pinoInMemory();
    const election = start({ name: 'reports', lock: memoryLock({ store: new MemoryLockStore() }), identity: 'pod-a', logger });
    await election.ready;
    expect(election.isPrimary).toBe(true);
    expect(lines).toEqual([
      {
        level: INFO,
        time: expect.any(Number),
        pid: process.pid,
        app: 'test', // the application's own bindings are kept
        primacy: { election: 'reports', id: election.holder.id, identity: 'pod-a', lock: 'memory' },
        token: election.token,
        msg: `[primacy] elected primary of "reports" with token ${election.token}`,
      },
    ]);
  });

  it("lost leadership: a warn line with the token and the reason; the next term's token on its elected line", async () => {
    const { logger, lines } = pinoInMemory();
    const store = new MemoryLockStore();
    const first = start({ name: 'janitor', lock: memoryLock({ store }), logger });
    await first.ready;
    const second = start({ name: 'janitor', lock: memoryLock({ store }), logger });
    await second.ready;
    expect(first.token).toBe(1);
    // The backend forgets the lease (as an evicted key would): the holder's next renew is refused.
    const entry = store.entries.get('janitor');
    if (entry) entry.expiresAt = 0;
    const lost = await until(() => lines.find((line) => line.level === WARN), 5000, 'the lost-leadership line');
    expect(lost).toMatchObject({
      primacy: { election: 'janitor', id: first.holder.id, lock: 'memory' },
      token: 1,
      reason: 'lost',
      msg: '[primacy] lost leadership of "janitor" (lost), token 1',
    });
    // Whichever candidate wins the next term, its elected line says token 2 and who it is.
    const next = await until(() => lines.find((line) => line.level === INFO && line.token === 2), 5000, 'the next elected line');
    const winner = [first, second].find((election) => election.holder.id === next.primacy?.id);
    expect(winner?.isPrimary).toBe(true);
    expect(lines.filter((line) => line.level === INFO).map((line) => [line.primacy?.id, line.token])).toEqual([
      [first.holder.id, 1],
      [winner?.holder.id, 2],
    ]);
  });

  it('a failing backend: warn lines whose err pino serialized, with the operation and the attempt count', async () => {
    const { logger, lines } = pinoInMemory();
    const lock = memoryLock();
    await lock.close?.();
    start({ name: 'unreachable', lock, logger });
    await until(() => lines.length >= 3, 5000, 'three failure lines');
    for (const [index, line] of lines.slice(0, 3).entries()) {
      expect(line).toMatchObject({
        level: WARN,
        primacy: { election: 'unreachable', lock: 'memory' },
        operation: 'acquire',
        attempt: index + 1, // consecutive failures, this one included
        err: {
          type: 'PrimacyBackendError', // pino's err serializer: type, message, stack and the error's own fields
          message: '[primacy] [memory] acquire failed: the adapter is closed',
          stack: expect.stringContaining('PrimacyBackendError'),
          code: 'ERR_PRIMACY_BACKEND',
        },
      });
      expect(line.msg).toMatch(/^\[primacy\] acquire for "unreachable" failed, retrying: /);
    }
  });

  it('work that threw: its error as err, without an attempt count (it is not retried in the term)', async () => {
    const { logger, lines } = pinoInMemory();
    const election = start({ name: 'mailer', lock: memoryLock({ store: new MemoryLockStore() }), logger });
    election.whilePrimary(() => {
      throw new TypeError('no SMTP host');
    });
    const line = await until(() => lines.find((l) => l.level === WARN), 5000, 'the work failure line');
    expect(line).toMatchObject({
      operation: 'whilePrimary work',
      err: { type: 'TypeError', message: 'no SMTP host', stack: expect.stringContaining('TypeError: no SMTP host') },
      msg: '[primacy] whilePrimary work for "mailer" failed, not run again until the next term: no SMTP host',
    });
    expect(line).not.toHaveProperty('attempt');
  });

  it("pino's level applies: at 'warn' the elected line is dropped, warnings are kept", async () => {
    const { logger, lines } = pinoInMemory('warn');
    const election = start({ name: 'levels', lock: memoryLock({ store: new MemoryLockStore() }), logger });
    election.whilePrimary(() => {
      throw new Error('boom');
    });
    await until(() => lines.length > 0, 5000, 'a warn line');
    expect(election.isPrimary).toBe(true);
    expect(lines.map((line) => [line.level, line.operation])).toEqual([[WARN, 'whilePrimary work']]);
  });

  it("an adapter's warning keeps its details as fields (and as the second argument for other loggers)", async () => {
    const store = new MemoryLockStore();
    const memory = memoryLock({ store });
    // The adapter contract lets adapters warn with details; this one does so on every acquire.
    const warning: LockAdapter = {
      ...memory,
      kind: 'warning',
      acquire: (name, holder, ttl, context) => {
        context?.warn?.('[primacy] [warning] the clock looks odd', { skewMs: 42 });
        return memory.acquire(name, holder, ttl, context);
      },
    };
    const { logger, lines } = pinoInMemory();
    start({ name: 'adapter-warns', lock: warning, logger });
    const line = await until(() => lines.find((l) => l.level === WARN), 5000, 'the adapter warning');
    expect(line).toMatchObject({
      primacy: { election: 'adapter-warns', lock: 'warning' },
      skewMs: 42,
      msg: '[primacy] [warning] the clock looks odd',
    });

    const calls: unknown[][] = [];
    const textLogger = { warn: (...args: unknown[]) => calls.push(args), error: (...args: unknown[]) => calls.push(args) };
    start({ name: 'adapter-warns-text', lock: warning, logger: textLogger });
    await until(() => calls.length > 0, 5000, 'the adapter warning, as text');
    expect(calls[0]).toEqual(['[primacy] [warning] the clock looks odd', { skewMs: 42 }]);
  });
});

describe('loggers that are not pino keep getting text', () => {
  it('a winston-shaped logger (child() but no bindings()) gets the message alone, as before', async () => {
    const calls: Array<[string, unknown[]]> = [];
    const record =
      (level: string) =>
      (...args: unknown[]) =>
        calls.push([level, args]);
    // winston's info(fields, message) would log the object as the message: it must not get that call.
    const winstonLike = { info: record('info'), warn: record('warn'), error: record('error'), child: () => winstonLike };
    const election = start({ name: 'winston', lock: memoryLock({ store: new MemoryLockStore() }), logger: winstonLike });
    election.whilePrimary(() => {
      throw new Error('boom');
    });
    await until(() => calls.length >= 2, 5000, 'two log calls');
    expect(calls).toEqual([
      ['info', [`[primacy] elected primary of "winston" with token ${election.token}`]],
      ['warn', ['[primacy] whilePrimary work for "winston" failed, not run again until the next term: boom']],
    ]);
  });
});
