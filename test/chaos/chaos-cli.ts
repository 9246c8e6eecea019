/**
 * Runs the chaos CLI as a user does (`node --import tsx chaos/run.ts ... --json`) for the tests in
 * chaos*.test.ts, and the checks every run shares: a well-formed report, the kinds asked for really
 * injected, no process left behind, no violation.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Report } from '../../chaos/report.js';
import { isRunning } from '../../harness/pids.js';

const root = join(import.meta.dirname, '../..');

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}
export type JsonReport = Report & {
  seed: number;
  candidates: number;
  /** The mixed fleet's make-up. */
  fleet?: { perManager: number; plain: number };
  ttl: number;
  ttls: number[];
  identity: string | null;
  replay: string;
  clockStepsSeen: number;
  pids: number[];
};

const running = new Set<ReturnType<typeof spawn>>();

/** For afterEach: a timed-out test's run gets SIGINT, so it tears down its candidates and servers. */
export async function stopRuns(): Promise<void> {
  await Promise.all(
    [...running].map((child) => {
      child.kill('SIGINT');
      return new Promise((resolve) => child.once('exit', resolve));
    }),
  );
}

export function chaos(...args: string[]): Promise<Outcome> {
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

/** A run that must have been carried out (exit 0 or 1, not 2), its report well-formed, nothing left running. */
export async function carriedOut(...args: string[]): Promise<{ code: number | null; report: JsonReport; stderr: string }> {
  const { code, stdout, stderr } = await chaos(...args, '--json');
  expect([0, 1], stderr).toContain(code);
  const report = JSON.parse(stdout) as JsonReport;
  expectWellFormed(report);
  expect(code, 'exit code 1 if and only if a violation').toBe(report.violations.length > 0 ? 1 : 0);
  expect(report.pids.filter(isRunning), 'processes left behind').toEqual([]);
  return { code, report, stderr };
}

function expectWellFormed(report: JsonReport): void {
  expect(report.windowMs).toBeGreaterThan(0);
  expect(report.faults.list).toHaveLength(report.faults.total);
  expect(Object.values(report.faults.byKind).reduce((a, b) => a + b, 0)).toBe(report.faults.total);
  for (const kind of Object.keys(report.faults.byKind)) expect(report.failover[kind]?.n).toBe(report.faults.byKind[kind]);
  const { paused, busy, other, list } = report.overlaps;
  expect(list).toHaveLength(paused.count + busy.count + other);
  for (const o of list) expect(['paused', 'busy', 'other']).toContain(o.class);
  expect(list.filter((o) => o.class === 'other').every((o) => !o.harmless)).toBe(true);
  expect(report.violations.every((v) => typeof v === 'string')).toBe(true);
  expect(report.replay).toMatch(/^npm run chaos -- --adapter [\w-]+ .*--seed \d+/);
}

/** Each of these kinds was injected at least once (a skipped fault is not a tested one). */
export function expectInjected(report: JsonReport, kinds: readonly string[]): void {
  expect(Object.keys(report.faults.byKind).sort()).toEqual([...kinds].sort());
  // A clock step, and the step back, reached at least one process each time: the shim works.
  const steps = report.faults.list.filter((f) => f.kind.startsWith('clock-step-')).length;
  expect(report.clockStepsSeen).toBeGreaterThanOrEqual(2 * steps);
}

/**
 * The paused-primary mechanism shared by every adapter's run of the classic kinds: a primary was
 * SIGSTOPped past its TTL (and the run's invariants held, which the caller checks). Whether a
 * follower's takeover landed inside that stop, or a write was in flight, is the schedule's and the
 * machine's luck, so it is not asserted.
 */
export function expectLongStop(report: JsonReport): void {
  const stops = report.faults.list.filter((f) => f.kind.startsWith('stop-primary') && f.ms > report.ttl);
  expect(stops.length).toBeGreaterThan(0);
  expect(report.writes.accepted).toBeGreaterThan(100);
}

/** The base TTL of the quick runs: candidates alternate 1×, 1.5× and 2× it (the CLI's default fleet). */
export const TTL = 1000;

/**
 * A short run of the CLI (the quick mode): `kinds` only, on a seed and length chosen so that one
 * round of the schedule (each kind once) fits. It must inject each kind, keep the fleet's defaults
 * (one shared label, mixed TTLs) and end with no violation.
 */
export async function quickRun(
  adapter: string,
  seconds: number,
  seed: number,
  kinds: readonly string[],
  ...more: string[]
): Promise<JsonReport> {
  const args = ['--adapter', adapter, '--seconds', String(seconds), '--seed', String(seed), '--ttl', String(TTL)];
  const { report, stderr } = await carriedOut(...args, '--kinds', kinds.join(','), ...more);
  expectInjected(report, kinds);
  expect({ identity: report.identity, ttls: report.ttls }).toEqual({ identity: 'chaos-pod', ttls: [TTL, 1.5 * TTL, 2 * TTL] });
  // On failure: the violations and the run's progress, with the replay command.
  expect(report.violations, stderr).toEqual([]);
  return report;
}
