/**
 * The clock shim of the `clock-step-*` kinds (chaos/clock-shim.c), on a real Node process: its
 * Date.now() moves by the offset the orchestrator writes, its monotonic clocks (the leases' and the
 * chaos stamps') do not. And a missing compiler: an error under CI=true, a loud skip elsewhere.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildClockShim, ShimBuildError, setClockOffset, setUpClock, shimEnv } from '../../chaos/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'primacy-clock-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Prints its clocks for every line it reads on stdin.
const PROBE = `
process.stdin.setEncoding('utf8');
require('node:readline').createInterface({ input: process.stdin }).on('line', () => {
  console.log(JSON.stringify({ now: Date.now(), date: new Date().getTime(), hr: Number(process.hrtime.bigint()) / 1e6, perf: performance.now() + performance.timeOrigin }));
});`;

/**
 * How far a probe's clocks may be from ours: the child reads its clocks when it gets to the line,
 * after starting up for the first one, which a busy machine stretches. The offsets are 12 s and
 * more: a shim that applied a wrong one, or moved a monotonic clock, is still far outside.
 */
const SLACK = 5000;

interface Clocks {
  now: number;
  date: number;
  hr: number;
  perf: number;
}

describe('the clock shim', () => {
  it('steps Date.now() of one process by the offset in its file, and leaves its monotonic clocks alone', async () => {
    const shim = buildClockShim(dir);
    const child = spawn(process.execPath, ['-e', PROBE], {
      env: { ...process.env, ...shimEnv(shim, dir) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const probe = async (): Promise<Clocks & { wall: number; mono: number }> => {
      const wall = Date.now();
      const mono = Number(process.hrtime.bigint()) / 1e6;
      child.stdin.write('\n');
      const { value } = await lines.next();
      return { ...(JSON.parse(value as string) as Clocks), wall, mono };
    };
    try {
      const before = await probe();
      expect(Math.abs(before.now - before.wall)).toBeLessThan(SLACK);
      for (const offset of [15_000, -12_000, 0]) {
        setClockOffset(dir, child.pid as number, offset);
        await new Promise((resolve) => setTimeout(resolve, 30)); // the shim re-reads every 5 ms at most
        const c = await probe();
        expect(c.now - c.wall).toBeGreaterThan(offset - SLACK);
        expect(c.now - c.wall).toBeLessThan(offset + SLACK);
        expect(c.date - c.wall).toBeGreaterThan(offset - SLACK);
        // CLOCK_MONOTONIC is shared by every process on the host and never stepped.
        expect(Math.abs(c.hr - c.mono)).toBeLessThan(SLACK);
        // performance.now() is monotonic too; its origin was fixed at start, before any step.
        expect(Math.abs(c.perf - c.now + offset)).toBeLessThan(SLACK);
      }
    } finally {
      child.kill();
    }
  });

  it('without a compiler: the clock kinds fail the run under CI=true, and are left out loudly elsewhere', () => {
    const kinds = ['kill-primary', 'clock-step-all'] as const;
    vi.stubEnv('CI', 'true');
    try {
      expect(() => setUpClock(dir, kinds, () => undefined, 'no-such-cc')).toThrow(ShimBuildError);
      vi.stubEnv('CI', '');
      const warn = vi.fn();
      expect(setUpClock(dir, kinds, warn, 'no-such-cc')).toEqual({ env: {}, dir: undefined, kinds: ['kill-primary'] });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('cannot build the clock shim with `no-such-cc`'));
      // Only clock kinds asked for: nothing left to run, so an error anyway.
      expect(() => setUpClock(dir, ['clock-step-primary'], warn, 'no-such-cc')).toThrow(ShimBuildError);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('builds nothing when no clock kind runs', () => {
    expect(setUpClock(dir, ['kill-primary'], () => undefined, 'no-such-cc')).toEqual({ env: {}, dir: undefined, kinds: ['kill-primary'] });
  });
});
