/**
 * runOnce with a real pino logger: its lines come from a child bound with the task's name, and
 * what they say (the runner's token, the status, the duration, whose outcome a waiter took) is in
 * fields too. The election runOnce campaigns with stays quiet at info, pino or not.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryLockStore, memoryLock } from '../adapters/memory.js';
import { runOnce } from '../src/run-once.js';

interface Line {
  level: number;
  msg: string;
  [field: string]: unknown;
}

function pinoInMemory(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = pino({ level: 'debug' }, { write: (chunk: string) => lines.push(JSON.parse(chunk)) });
  return { logger, lines };
}

const INFO = 30;

describe('runOnce logs with pino', () => {
  it('the runner logs its token and status as fields, a waiter whose outcome it took; nobody "elected primary"', async () => {
    const store = new MemoryLockStore();
    const logs = [pinoInMemory(), pinoInMemory()];
    let release: () => void = () => {};
    const running = new Promise<void>((resolve) => (release = resolve));
    const task = async () => {
      await running;
      return 'migrated';
    };
    // Two calls on one store compete like two processes: one runs it, the other waits and takes its outcome.
    const calls = logs.map(({ logger }) => runOnce('migrate-v3', task, { lock: memoryLock({ store }), logger, progressInterval: 20 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    const results = await Promise.all(calls);
    expect(results.filter((result) => result.ran)).toHaveLength(1);
    const ran = results.findIndex((result) => result.ran);
    const [runner, waiter] = ran === 0 ? logs : [...logs].reverse();
    const { token, holder } = results[ran]?.outcome ?? {};
    if (!runner || !waiter || !holder) throw new Error('two calls, one of which ran');

    const binding = { primacy: { runOnce: 'migrate-v3' } };
    expect(runner.lines).toEqual([
      expect.objectContaining({
        level: INFO,
        ...binding,
        token,
        msg: `[primacy] [runOnce] "migrate-v3": running in pid ${process.pid} (token ${token})`,
      }),
      expect.objectContaining({ level: INFO, ...binding, token, status: 'completed', durationMs: expect.any(Number) }),
    ]);
    const waiting = waiter.lines.filter((line) => /waiting for/.test(line.msg));
    expect(waiting.length).toBeGreaterThan(0);
    for (const line of waiting) {
      expect(line).toMatchObject({ level: INFO, ...binding, holder: { pid: process.pid }, waitedMs: expect.any(Number) });
    }
    expect(waiter.lines.at(-1)).toMatchObject({
      level: INFO,
      ...binding,
      status: 'completed',
      token,
      holder: { pid: process.pid, hostname: holder.hostname },
      msg: expect.stringMatching(/completed by pid \d+ .* while this process waited; not run here$/),
    });
    // Being elected is how runOnce gets to read the outcome, not news (pino is kept quiet too).
    for (const line of [...runner.lines, ...waiter.lines]) expect(line.msg).not.toMatch(/elected primary/);
  });

  it("a task that failed: its error in err on the runner's 'failed' line", async () => {
    const { logger, lines } = pinoInMemory();
    const failing = runOnce(
      'seed-data',
      () => {
        throw new RangeError('row 7 is out of range');
      },
      { lock: memoryLock({ store: new MemoryLockStore() }), logger },
    );
    await expect(failing).rejects.toThrow('row 7 is out of range');
    expect(lines.at(-1)).toMatchObject({
      level: INFO,
      primacy: { runOnce: 'seed-data' },
      status: 'failed',
      err: { type: 'RangeError', message: 'row 7 is out of range', stack: expect.any(String) },
      msg: expect.stringMatching(/"seed-data": failed in \d+ ms$/),
    });
  });
});
