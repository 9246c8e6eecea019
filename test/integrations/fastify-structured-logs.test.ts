/**
 * The Fastify plugin logs through `fastify.log`, which is pino: a real Fastify app whose logger
 * writes into memory gets primacy's lines as JSON, bound with the election's fields, the token a
 * field of the elected line, and no request context mixed in; the plugin's own warning likewise.
 */
import Fastify from 'fastify';
import { type LockAdapter, MemoryLockStore, memoryLock } from 'primacy';
import primacy from 'primacy/fastify';
import { describe, expect, it } from 'vitest';
import { until } from '../helpers/until.js';

describe('primacy/fastify with its pino logger', () => {
  it("the app's pino logger gets the elected line with the token and the election's bindings", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = { write: (chunk: string) => lines.push(JSON.parse(chunk)) };
    const app = Fastify({ logger: { level: 'info', stream } });
    try {
      await app.register(primacy, { name: 'fastify-pino', lock: memoryLock({ store: new MemoryLockStore() }), handleSignals: false });
      await app.ready();
      expect(app.primacy.isPrimary).toBe(true);
      const elected = lines.filter((line) => String(line.msg).includes('elected primary'));
      expect(elected).toEqual([
        expect.objectContaining({
          level: 30,
          primacy: { election: 'fastify-pino', id: app.primacy.holder.id, lock: 'memory' },
          token: app.primacy.token,
          msg: `[primacy] elected primary of "fastify-pino" with token ${app.primacy.token}`,
        }),
      ]);
      expect(elected[0]).not.toHaveProperty('reqId');
    } finally {
      await app.close();
    }
  });

  it("a first round slower than half of pluginTimeout: the plugin's warning and the timed-out acquire, as fields", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = { write: (chunk: string) => lines.push(JSON.parse(chunk)) };
    // A backend that accepts the call and never answers (a paused server): the first round hangs.
    const silent: LockAdapter = { ...memoryLock({ store: new MemoryLockStore() }), acquire: () => new Promise(() => {}) };
    const app = Fastify({ logger: { level: 'info', stream }, pluginTimeout: 1000 });
    try {
      await app.register(primacy, { name: 'fastify-slow', lock: silent, ttl: 2000, handleSignals: false });
      await app.ready();
      expect(app.primacy.isPrimary).toBe(false);
      expect(lines.find((line) => String(line.msg).includes('half of pluginTimeout'))).toMatchObject({
        level: 40,
        primacy: { election: 'fastify-slow' },
        waitedMs: 500,
      });
      // The acquire is bounded by the TTL: its failure comes as a warning with err and attempt.
      const failed = await until(() => lines.find((line) => line.operation === 'acquire'), 10_000, 'the timed-out acquire');
      expect(failed).toMatchObject({
        level: 40,
        primacy: { election: 'fastify-slow', id: app.primacy.holder.id, lock: 'memory' },
        attempt: 1,
        err: { message: expect.stringContaining('acquire'), stack: expect.any(String) },
      });
    } finally {
      await app.close();
    }
  });
});
