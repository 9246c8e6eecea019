/**
 * Short real chaos runs: the CLI as a user runs it (`node --import tsx chaos/run.ts ... --json`),
 * with real candidate processes, real signals, a real fenced store and real redis-servers. Each
 * run must end with exit code 0 and no violation, having injected faults of several kinds, a
 * SIGSTOP longer than the TTL among them, and leave no process behind. Long runs live in bench.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Report } from '../../chaos/report.js';
import { isRunning } from '../helpers/processes.js';

const root = join(import.meta.dirname, '../..');
const TTL = 1000;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}
type JsonReport = Report & { seed: number; pids: number[] };

const running = new Set<ReturnType<typeof spawn>>();
afterEach(async () => {
  // A timed-out test: SIGINT lets the orchestrator tear down its candidates and servers.
  await Promise.all(
    [...running].map((child) => {
      child.kill('SIGINT');
      return new Promise((resolve) => child.once('exit', resolve));
    }),
  );
});

function chaos(...args: string[]): Promise<Outcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'chaos/run.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
}

async function run(...args: string[]): Promise<JsonReport> {
  const { code, stdout, stderr } = await chaos(...args, '--ttl', String(TTL), '--json');
  const report = JSON.parse(stdout) as JsonReport;
  // On failure, show the violations and the run's progress, with the seed to replay it.
  expect({ code, violations: report.violations }, stderr).toEqual({ code: 0, violations: [] });
  expect(report.pids.filter(isRunning), 'processes left behind').toEqual([]);
  return report;
}

/** The paused-primary checks shared by every adapter. */
function expectFencedPauses(report: JsonReport): void {
  // A primary was SIGSTOPped past its TTL and someone else took over meanwhile...
  const stops = report.faults.list.filter((f) => f.kind.startsWith('stop-primary') && f.ms > TTL);
  expect(stops.length).toBeGreaterThan(0);
  expect(report.overlaps.paused.count).toBeGreaterThan(0);
  // ...and the writes it still had in flight when it resumed were rejected by the store.
  expect(report.writes.rejected).toBeGreaterThan(0);
  expect(report.writes.accepted).toBeGreaterThan(100);
}

describe('chaos runs', () => {
  it('file adapter, 17 s: every candidate fault kind, no violation', { timeout: 45_000 }, async () => {
    const report = await run('--adapter', 'file', '--seconds', '17', '--seed', '42');
    expect(Object.keys(report.faults.byKind).sort()).toEqual([
      'busy-primary',
      'kill-follower',
      'kill-primary',
      'restart-primary',
      'stop-follower',
      'stop-primary-long',
      'stop-primary-short',
    ]);
    expectFencedPauses(report);
    // A killed primary's dead pid is seen at once: the takeover does not wait for its TTL.
    expect(report.failover['kill-primary']?.max).toBeLessThan(TTL);
    expect(report.failover['restart-primary']?.max).toBeLessThan(TTL);
  });

  it('redis adapter, 14 s: primary faults and Redis pauses and restarts, no violation', { timeout: 40_000 }, async () => {
    // With `redis-restart-primary-stopped`: the primary paused while Redis restarts, the case in
    // which connection-bound takeover once let a follower in before the paused holder's lease ended.
    const kinds =
      'kill-primary,stop-primary-long,restart-primary,busy-primary,redis-pause,redis-kill-restart,redis-restart-primary-stopped';
    const report = await run('--adapter', 'redis', '--seconds', '14', '--seed', '42', '--kinds', kinds);
    expect(report.faults.byKind).toMatchObject({
      'redis-pause': 1,
      'redis-kill-restart': 1,
      'kill-primary': 1,
      'redis-restart-primary-stopped': 1,
    });
    expectFencedPauses(report);
    expect(report.failover['kill-primary']?.max).toBeLessThan(TTL);
  });

  it('manager, 15 s: worker kills, stops and hangs under the arbiter, no violation', { timeout: 40_000 }, async () => {
    // A stop past the TTL (the election fails over) and one past the heartbeat timeout (the manager
    // kills and replaces the hung worker itself).
    const kinds = 'kill-primary,stop-primary-long,stop-primary-hung,busy-primary,restart-primary';
    const report = await run('--adapter', 'manager', '--seconds', '15', '--seed', '42', '--kinds', kinds);
    expect(report.faults.byKind).toMatchObject({ 'stop-primary-long': 1, 'stop-primary-hung': 1, 'kill-primary': 1 });
    expectFencedPauses(report);
    // The manager re-grants the moment the primary's process exits.
    expect(report.failover['kill-primary']?.max).toBeLessThan(TTL);
  });

  it('refuses a bad option with exit code 64 and names it', async () => {
    const { code, stderr } = await chaos('--adapter', 'etcd');
    expect(code).toBe(64);
    expect(stderr).toContain('Expected --adapter to be one of file, redis, redlock, manager, got "etcd"');
  });
});
