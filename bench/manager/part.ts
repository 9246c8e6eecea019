/**
 * The worker-manager part of `npm run bench` (group `manager`): failover under primacy's
 * WorkerManager, then HTTP throughput and reloads against plain node:cluster and PM2 (private
 * PM2_HOME, always `pm2 kill`ed), then PM2's reaction to a hung worker.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Child } from '../../harness/child.js';
import { type ManagerFailoverResult, measureManagerFailover } from './failover.js';
import {
  measurePm2Hang,
  measureReload,
  measureThroughput,
  type Pm2HangResult,
  type ReloadRow,
  type Supervisor,
  startManager,
  startPlainCluster,
  startPm2,
  type ThroughputRow,
} from './http.js';
import { Pm2, pm2Version } from './pm2.js';

export const MANAGER_PART_IDS = ['manager-failover', 'manager-hang', 'manager-http', 'manager-reload', 'pm2-hang'] as const;
export const HANG_ROUNDS = Number(process.env.BENCH_HANG_ROUNDS ?? 5);
export const THROUGHPUT_SLICES = 4;
export const SLICE_MS = 1500;
export const PM2_HANG_WAIT_MS = 15_000;

export interface ManagerPartResult {
  pm2: string;
  failover: ManagerFailoverResult | null;
  throughput: ThroughputRow[] | null;
  reloads: ReloadRow[] | null;
  pm2Hang: Pm2HangResult | null;
  errors: string[];
  runtimeMs: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export async function runManagerPart(options: {
  dir: string;
  rounds: number;
  selected: (id: string) => boolean;
  log: (line: string) => void;
}): Promise<ManagerPartResult> {
  const { dir, rounds, selected, log } = options;
  const begun = performance.now();
  const result: ManagerPartResult = {
    pm2: pm2Version(),
    failover: null,
    throughput: null,
    reloads: null,
    pm2Hang: null,
    errors: [],
    runtimeMs: 0,
  };
  // Each step is guarded: a failure is reported and the part goes on with what it can measure.
  const step = async (what: string, body: () => Promise<void>) => {
    try {
      await body();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`manager: ${what} failed: ${message}`);
      result.errors.push(`${what}: ${message}`);
    }
  };
  if (selected('manager-failover') || selected('manager-hang')) {
    await step('failover', async () => {
      const failoverDir = join(dir, 'manager-failover');
      result.failover = await measureManagerFailover({
        dir: failoverDir,
        port: await freePort(),
        rounds,
        hangRounds: HANG_ROUNDS,
        phases: { primary: selected('manager-failover'), worker: selected('manager-failover'), hang: selected('manager-hang') },
        log,
      });
    });
  }
  if (!['manager-http', 'manager-reload', 'pm2-hang'].some(selected)) return { ...result, runtimeMs: performance.now() - begun };
  const pm2 = new Pm2(dir, {});
  const children: Child[] = [];
  try {
    const manager = await startManager(join(dir, 'manager-http'), await freePort());
    children.push(manager.child);
    const cluster = await startPlainCluster(await freePort());
    children.push(cluster.child);
    const pm2Port = await freePort();
    pm2.env.APP_PORT = String(pm2Port);
    let pm2Supervisor: Supervisor | null = null;
    await step('pm2 start', async () => {
      pm2Supervisor = await startPm2(pm2, pm2Port);
    });
    const supervisors = [manager.supervisor, cluster.supervisor, ...(pm2Supervisor ? [pm2Supervisor] : [])];
    if (selected('manager-http')) {
      log(`manager: HTTP throughput, ${THROUGHPUT_SLICES} alternating slices of ${SLICE_MS} ms each`);
      await step('throughput', async () => {
        result.throughput = await measureThroughput(supervisors, THROUGHPUT_SLICES, SLICE_MS, log);
      });
    }
    if (selected('manager-reload')) {
      const reloads: ReloadRow[] = [];
      result.reloads = reloads;
      for (const supervisor of supervisors.filter((s) => s.reload)) {
        for (const mode of ['keep-alive', 'close'] as const) {
          await step(`reload ${supervisor.label} ${mode}`, async () => {
            const row = await measureReload(supervisor, mode);
            reloads.push(row);
            log(
              `  reload ${supervisor.label} (${mode}): ${row.reloadMs.toFixed(0)} ms, ${row.load.ok} ok, failures ${JSON.stringify(row.load.failures)}`,
            );
          });
        }
      }
    }
    if (selected('pm2-hang') && pm2Supervisor) {
      log(`manager: SIGSTOP a PM2 worker, ${PM2_HANG_WAIT_MS / 1000} s`);
      await step('pm2 hang', async () => {
        result.pm2Hang = await measurePm2Hang(pm2, PM2_HANG_WAIT_MS);
      });
    }
  } finally {
    await pm2.kill();
    await Promise.all(children.map((child) => child.stop()));
  }
  return { ...result, runtimeMs: performance.now() - begun };
}
