/**
 * In-process costs: what one `election.isPrimary` read costs (it is meant to be read on hot paths,
 * so it must stay in the tens of nanoseconds), and uncontended lock throughput of primacy's file
 * adapter against proper-lockfile, both at adapter level, on the same disk.
 */
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { createHolderIdentity } from '../src/identity.js';
import { elect, fileLock, memoryLock } from '../src/index.js';

export interface MicroResult {
  reads: number;
  nsPerRead: number;
  /** The same loop reading `performance.now()` alone: isPrimary is one clock read plus a compare. */
  nsPerClockRead: number;
  primacyOpsPerSec: number;
  properLockfileOpsPerSec: number;
  /** ops/s of each alternating slice, in order: the spread the totals above hide. */
  primacySlices: number[];
  properLockfileSlices: number[];
  opsSeconds: number;
}

export async function measureMicro(dir: string, reads = 10_000_000, opsSeconds = 2.5): Promise<MicroResult> {
  const { nsPerRead, nsPerClockRead } = await isPrimaryCost(reads);
  const ops = await compareOps(dir, opsSeconds);
  return {
    reads,
    nsPerRead,
    nsPerClockRead,
    primacyOpsPerSec: ops.primacy,
    properLockfileOpsPerSec: ops.properLockfile,
    primacySlices: ops.slices.primacy,
    properLockfileSlices: ops.slices.properLockfile,
    opsSeconds,
  };
}

async function isPrimaryCost(reads: number): Promise<{ nsPerRead: number; nsPerClockRead: number }> {
  // handleSignals off: this is the orchestrator's process, its SIGINT must stay its own.
  const election = elect({ name: 'bench-micro', lock: memoryLock(), handleSignals: false, logger: false });
  try {
    await election.ready;
    if (!election.isPrimary) throw new Error('the memory election did not become primary');
    timeLoop(reads / 10, () => election.isPrimary); // warm-up: let the JIT settle first
    const nsPerRead = timeLoop(reads, () => election.isPrimary);
    timeLoop(reads / 10, () => performance.now() > 0);
    const nsPerClockRead = timeLoop(reads, () => performance.now() > 0);
    return { nsPerRead, nsPerClockRead };
  } finally {
    await election.stop();
  }
}

/** ns per call of `read`; the true-count is checked so the reads cannot be optimised away. */
function timeLoop(n: number, read: () => boolean): number {
  let hits = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (read()) hits++;
  const elapsed = Number(process.hrtime.bigint() - start);
  // A 10 s lease cannot run out during the loop (renewals wait on the event loop we block): all true.
  if (hits !== n) throw new Error(`expected ${n} true reads, got ${hits}`);
  return elapsed / n;
}

/**
 * Acquire + release back to back, in alternating slices (5 × 0.5 s each by default) after a 0.3 s
 * warm-up: this VM's disk and CPU drift by up to 2× within a minute, and alternating makes both
 * libraries meet the same drift.
 */
async function compareOps(
  dir: string,
  seconds: number,
): Promise<{ primacy: number; properLockfile: number; slices: { primacy: number[]; properLockfile: number[] } }> {
  const lock = fileLock({ dir: join(dir, 'micro-primacy') });
  const holder = createHolderIdentity();
  const file = join(dir, 'micro-proper-lockfile');
  const cycles = {
    primacy: async () => {
      const lease = await lock.acquire('bench-ops', holder, 10_000);
      if (!lease) throw new Error('uncontended primacy acquire failed');
      await lock.release(lease);
    },
    properLockfile: async () => {
      const release = await lockfile.lock(file, { realpath: false, retries: 0 });
      await release();
    },
  };
  const totals = { primacy: { ops: 0, ms: 0 }, properLockfile: { ops: 0, ms: 0 } };
  const perSlice = { primacy: [] as number[], properLockfile: [] as number[] };
  const slices = 5;
  try {
    for (const cycle of Object.values(cycles)) await runFor(300, cycle);
    for (let slice = 0; slice < slices; slice++) {
      for (const kind of ['primacy', 'properLockfile'] as const) {
        const { ops, ms } = await runFor((seconds * 1000) / slices, cycles[kind]);
        totals[kind].ops += ops;
        totals[kind].ms += ms;
        perSlice[kind].push((ops / ms) * 1000);
      }
    }
  } finally {
    await lock.close?.();
  }
  return {
    primacy: (totals.primacy.ops / totals.primacy.ms) * 1000,
    properLockfile: (totals.properLockfile.ops / totals.properLockfile.ms) * 1000,
    slices: perSlice,
  };
}

/** Runs `cycle` back to back for about `ms`; returns how many cycles ran in how long exactly. */
export async function runFor(ms: number, cycle: () => Promise<void>): Promise<{ ops: number; ms: number }> {
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await cycle();
    ops++;
  }
  return { ops, ms: performance.now() - start };
}
