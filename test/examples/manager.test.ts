/**
 * examples/manager/app.ts under `primacy start --workers 3`, through the real CLI: a per-second
 * scheduler runs on exactly one worker; when that worker is SIGKILLed, the manager's arbiter grants
 * the role to another worker and the ticks go on with no second run twice and no second skipped
 * for long; the manager replaces the dead worker; SIGTERM to the manager ends every process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { isRunning } from '../../harness/pids.js';
import { freePort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';

const cli = join(import.meta.dirname, '../../src/cli/primacy.ts');
const app = join(import.meta.dirname, '../../examples/manager/app.ts');
const WORKERS = 3;

/** The pids in the manager's "N workers ready: worker-0 pid 123, ..." line, once it printed it. */
const readyPids = (manager: Child): number[] | null => {
  const line = /\d+ workers? ready: (.*)/.exec(manager.stderr)?.[1];
  return line ? [...line.matchAll(/pid (\d+)/g)].map((m) => Number(m[1])) : null;
};

describe('examples/manager under primacy start', () => {
  let stateDir: string;
  const children: Child[] = [];
  const workerPids = new Set<number>();

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'primacy-example-manager-'));
  });
  afterEach(async () => {
    await killAll(children);
    for (const pid of workerPids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await rm(stateDir, { recursive: true, force: true });
  });

  it('keeps one tick per second across a SIGKILL of the primary worker, replaces it, and stops everything on SIGTERM', async () => {
    const port = await freePort();
    const manager = new Child(cli, ['start', app, '--workers', String(WORKERS), '--state-dir', stateDir], {
      PORT: String(port),
      XDG_RUNTIME_DIR: stateDir,
    });
    children.push(manager);
    const started = await until(
      () => readyPids(manager),
      20_000,
      () => `the manager to start: ${manager.stderr}`,
    );
    expect(started).toHaveLength(WORKERS);
    for (const pid of started) workerPids.add(pid);
    const answer = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
    expect(answer).toMatch(/^hello from worker-\d \(pid \d+\)/);

    const ticks = () => manager.events.filter((e) => e.ev === 'tick');
    await until(
      () => ticks().length >= 3,
      10_000,
      () => `3 ticks: ${JSON.stringify(manager.events)}`,
    );
    const primaryPids = new Set(ticks().map((e) => e.pid));
    expect(primaryPids.size).toBe(1);
    const [primary] = primaryPids as Set<number>;
    expect(started).toContain(primary);

    const killedAt = wallNow();
    process.kill(primary as number, 'SIGKILL');
    const takeover = await manager.waitFor((e) => e.ev === 'tick' && e.t > killedAt, 5000);
    expect(takeover.pid).not.toBe(primary);
    expect(started).toContain(takeover.pid);
    expect(takeover.token as number).toBeGreaterThan(ticks()[0]?.token as number);
    // Three more seconds of ticks from the new primary.
    await until(
      () => ticks().filter((e) => e.t > killedAt).length >= 4,
      10_000,
      () => 'ticks after the kill',
    );

    const all = ticks();
    const seconds = all.map((e) => e.second as number);
    expect(new Set(seconds).size, `a second ran twice: ${seconds}`).toBe(seconds.length);
    const sorted = [...all].sort((a, b) => (a.second as number) - (b.second as number));
    for (let i = 1; i < sorted.length; i++) {
      const previous = sorted[i - 1] as ChildEvent;
      const current = sorted[i] as ChildEvent;
      expect(current.second as number, `gap after ${previous.second}`).toBeLessThanOrEqual((previous.second as number) + 2);
      // Time order and second order agree: the new primary never ran a second the old one had left.
      expect(current.t).toBeGreaterThan(previous.t);
    }
    expect(new Set(all.filter((e) => e.t > killedAt).map((e) => e.pid))).toEqual(new Set([takeover.pid]));

    // The manager filled the dead worker's slot: every request is answered, by the new worker too.
    await until(
      () => /exited; restarting/.test(manager.stderr),
      5000,
      () => `a restart: ${manager.stderr}`,
    );
    const seen = new Set<number>();
    await until(
      async () => {
        const text = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } }).then((r) => r.text());
        seen.add(Number(/pid (\d+)/.exec(text)?.[1]));
        return seen.size >= WORKERS && [...seen].some((pid) => !started.includes(pid));
      },
      10_000,
      () => `an answer from the replacement worker (seen ${[...seen]})`,
    );
    const replacement = [...seen].find((pid) => !started.includes(pid)) as number;
    workerPids.add(replacement);
    expect(seen).not.toContain(primary);

    manager.kill('SIGTERM');
    expect(await manager.exited, `the manager's stderr: ${manager.stderr}`).toEqual({ code: 0, signal: null });
    for (const pid of workerPids) expect(isRunning(pid), `worker pid ${pid} outlived the manager`).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});
