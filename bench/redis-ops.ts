/**
 * Lock throughput on Redis: uncontended acquire + release in this process (alternating slices, as
 * the file comparison in micro.ts), and 4 processes contending for one key as fast as they can.
 * Both go through `bench/redis-cycles.ts`, so every library runs the same code in both.
 */
import { fileURLToPath } from 'node:url';
import { Child } from '../harness/child.js';
import { wallNow } from '../harness/clock.js';
import { runFor } from './micro.js';
import { type CycleKind, type Cycler, createCycler } from './redis-cycles.js';

export interface RedisLibrary {
  label: string;
  kind: CycleKind;
  /** One URL, or the quorum's. */
  urls: readonly string[];
}

export interface OpsResult {
  label: string;
  nodes: number;
  opsPerSec: number;
  /** ops/s of each alternating slice, in order. */
  slices: number[];
}

export interface OpsRun {
  seconds: number;
  slices: number;
  results: OpsResult[];
}

/** Uncontended acquire + release, `seconds` per library in `slices` alternating slices after a 0.3 s warm-up. */
export async function measureRedisOps(libraries: readonly RedisLibrary[], seconds = 2.5, slices = 5): Promise<OpsRun> {
  const cyclers: Cycler[] = [];
  const totals = libraries.map(() => ({ ops: 0, ms: 0, slices: [] as number[] }));
  try {
    for (const library of libraries)
      cyclers.push(createCycler(library.kind, library.urls, `bench-ops-${library.kind}-${library.urls.length}`));
    const cycles = libraries.map((library, i) => async () => {
      if (!(await cyclers[i]?.cycle())) throw new Error(`uncontended ${library.label} acquire failed`);
    });
    for (const cycle of cycles) await runFor(300, cycle);
    for (let slice = 0; slice < slices; slice++) {
      for (const [i, cycle] of cycles.entries()) {
        const { ops, ms } = await runFor((seconds * 1000) / slices, cycle);
        const total = totals[i] as { ops: number; ms: number; slices: number[] };
        total.ops += ops;
        total.ms += ms;
        total.slices.push((ops / ms) * 1000);
      }
    }
  } finally {
    await Promise.all(cyclers.map((cycler) => cycler.close().catch(() => undefined)));
  }
  return {
    seconds,
    slices,
    results: libraries.map((library, i) => ({
      label: library.label,
      nodes: library.urls.length,
      opsPerSec: ((totals[i]?.ops ?? 0) / (totals[i]?.ms ?? 1)) * 1000,
      slices: totals[i]?.slices ?? [],
    })),
  };
}

export interface ContentionResult {
  label: string;
  nodes: number;
  processes: number;
  /** Successful acquisitions per second, all processes together. */
  acquisitionsPerSec: number;
  /** Per process, in spawn order. */
  perProcess: number[];
  /** Attempts (successful or not) per second, all processes together. */
  attemptsPerSec: number;
  errors: string[];
}

interface WorkerReport {
  acquired: number;
  attempts: number;
  errors: number;
  lastError: string;
  ms: number;
  lateMs: number;
}

const churnScript = fileURLToPath(new URL('./contenders/redis-churn.ts', import.meta.url));

/**
 * `processes` workers loop acquire → release on one key for `durationMs`, all starting at the same
 * shared-clock instant (sent once every worker is connected and warmed up).
 */
export async function measureContention(library: RedisLibrary, key: string, processes = 4, durationMs = 3000): Promise<ContentionResult> {
  const args = [library.kind, key, String(durationMs), library.urls.join(',')];
  const workers = Array.from({ length: processes }, () => new Child(churnScript, args));
  try {
    // Each worker prints two lines, {ready} then its report; one that dies fails its wait (with its stderr) at once.
    await Promise.all(workers.map((worker) => worker.waitFor((e) => e.ready === true, 60_000, 0, `${library.label} worker ready`)));
    const startAt = wallNow() + 300;
    for (const worker of workers) worker.send(String(startAt));
    const reports = (await Promise.all(
      workers.map((worker) =>
        worker.waitFor((e) => typeof e.acquired === 'number', durationMs + 30_000, 0, `${library.label} worker report`),
      ),
    )) as unknown as WorkerReport[];
    const errors: string[] = [];
    for (const [i, report] of reports.entries()) {
      if (report.errors) errors.push(`worker ${i + 1}: ${report.errors} errors, last: ${report.lastError}`);
      if (report.lateMs > 50) errors.push(`worker ${i + 1} started ${report.lateMs.toFixed(0)} ms late`);
    }
    const rate = (count: number, ms: number) => (count / ms) * 1000;
    const perProcess = reports.map((r) => rate(r.acquired, r.ms));
    return {
      label: library.label,
      nodes: library.urls.length,
      processes,
      acquisitionsPerSec: perProcess.reduce((a, b) => a + b, 0),
      perProcess,
      attemptsPerSec: reports.reduce((sum, r) => sum + rate(r.attempts, r.ms), 0),
      errors,
    };
  } finally {
    for (const worker of workers) worker.kill('SIGKILL');
  }
}
