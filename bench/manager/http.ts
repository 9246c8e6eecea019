/**
 * HTTP under three supervisors, the same app (http-app.cjs, 4 workers on one port each): primacy's
 * WorkerManager, plain node:cluster and PM2 cluster mode. Throughput through a load generator
 * process (load.ts) in alternating slices; failed requests while each rolls all 4 workers (manager
 * `reload()`, `pm2 reload`); and PM2's reaction to a SIGSTOPped worker.
 */

import { Child } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import type { Pm2 } from './pm2.js';
import { benchScript } from './scripts.js';

export const WORKERS = 4;
export const CONCURRENCY = 32;
export const RELOAD_CONCURRENCY = 8;
const app = benchScript('http-app.cjs');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface LoadResult {
  ok: number;
  failures: Record<string, number>;
  seconds: number;
  rps: number;
}

export interface Supervisor {
  label: string;
  port: number;
  reload?: () => Promise<number>;
}

export async function startManager(dir: string, port: number): Promise<{ child: Child; supervisor: Supervisor }> {
  const child = new Child(benchScript('manager-main.ts'), [app, String(WORKERS), '30000', dir, String(port)]);
  await child.waitFor((e) => e.ev === 'started', 60_000, 0, 'manager started');
  const reload = async () => {
    const from = child.events.length;
    child.send('reload');
    const done = await child.waitFor((e) => e.ev === 'done', 60_000, from, 'reload done');
    if (done.error) throw new Error(`manager reload failed: ${String(done.error)}`);
    return done.ms as number;
  };
  return { child, supervisor: { label: 'primacy WorkerManager', port, reload } };
}

export async function startPlainCluster(port: number): Promise<{ child: Child; supervisor: Supervisor }> {
  const child = new Child(benchScript('plain-cluster.ts'), [app, String(WORKERS), String(port)]);
  await child.waitFor((e) => e.ev === 'started', 60_000, 0, 'cluster started');
  return { child, supervisor: { label: 'plain node:cluster', port } };
}

export async function startPm2(pm2: Pm2, port: number): Promise<Supervisor> {
  await pm2.cmd('start', app, '--name', 'bench', '-i', String(WORKERS));
  const deadline = wallNow() + 60_000;
  while ((await pm2.list()).filter((p) => p.status === 'online').length < WORKERS || !(await answers(port))) {
    if (wallNow() > deadline) throw new Error(`pm2 app never came online: ${JSON.stringify(await pm2.list())}`);
    await sleep(200);
  }
  const reload = async () => {
    const begun = wallNow();
    await pm2.cmd('reload', 'bench');
    return wallNow() - begun;
  };
  return { label: 'PM2 cluster mode', port, reload };
}

async function answers(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/`)).ok;
  } catch {
    return false;
  }
}

/** One load window: `warmupMs` unmeasured, then `ms` measured (or until `stop`). */
export async function load(
  port: number,
  options: { ms: number; warmupMs: number; concurrency: number; mode: 'keep-alive' | 'close'; during?: () => Promise<void> },
): Promise<LoadResult> {
  const { ms, warmupMs, concurrency, mode, during } = options;
  const args = [`http://127.0.0.1:${port}/`, String(concurrency), String(ms), mode, String(warmupMs)];
  const client = new Child(benchScript('load.ts'), args);
  try {
    await client.waitFor((e) => e.ev === 'measuring', 30_000, 0, 'load measuring');
    if (during) {
      await during();
      client.send('stop');
    }
    const result = await client.waitFor((e) => e.ev === 'result', ms + 30_000, 0, 'load result');
    return {
      ok: result.ok as number,
      failures: result.failures as Record<string, number>,
      seconds: result.seconds as number,
      rps: result.rps as number,
    };
  } finally {
    await client.stop();
  }
}

export interface ThroughputRow {
  label: string;
  slices: LoadResult[];
  rps: number;
}

/** Alternating slices (A B C A B C ...), so a drift of the machine hits every contender alike. */
export async function measureThroughput(
  supervisors: Supervisor[],
  slices: number,
  sliceMs: number,
  log: (line: string) => void,
): Promise<ThroughputRow[]> {
  const rows = supervisors.map((s) => ({ label: s.label, slices: [] as LoadResult[], rps: 0 }));
  for (let i = 0; i < slices; i++) {
    for (const [index, supervisor] of supervisors.entries()) {
      const result = await load(supervisor.port, { ms: sliceMs, warmupMs: 500, concurrency: CONCURRENCY, mode: 'keep-alive' });
      rows[index]?.slices.push(result);
      log(
        `  ${supervisor.label}: ${result.rps.toFixed(0)} req/s${Object.keys(result.failures).length ? ` failures ${JSON.stringify(result.failures)}` : ''}`,
      );
    }
  }
  for (const row of rows) {
    row.rps = row.slices.reduce((n, s) => n + s.ok, 0) / row.slices.reduce((n, s) => n + s.seconds, 0);
  }
  return rows;
}

export interface ReloadRow {
  label: string;
  mode: 'keep-alive' | 'close';
  reloadMs: number;
  load: LoadResult;
}

/** Continuous requests; 1 s in, a reload of all workers; 1 s after it returned, stop. */
export async function measureReload(supervisor: Supervisor, mode: 'keep-alive' | 'close'): Promise<ReloadRow> {
  let reloadMs = Number.NaN;
  const result = await load(supervisor.port, {
    ms: 60_000,
    warmupMs: 0,
    concurrency: RELOAD_CONCURRENCY,
    mode,
    during: async () => {
      await sleep(1000);
      reloadMs = await supervisor.reload!();
      await sleep(1000);
    },
  });
  return { label: supervisor.label, mode, reloadMs, load: result };
}

export interface Pm2HangResult {
  waitedMs: number;
  before: { pid: number; status: string; restarts: number };
  after: { pid: number; status: string; restarts: number } | null;
  /** The whole `pm2 jlist` after the wait, as instance:pid:status:restarts. */
  listed: string;
}

/** SIGSTOPs one PM2 worker, waits `waitMs`, and reads `pm2 jlist` again. */
export async function measurePm2Hang(pm2: Pm2, waitMs: number): Promise<Pm2HangResult> {
  const [victim] = await pm2.list();
  if (!victim) throw new Error('pm2 lists no process');
  process.kill(victim.pid, 'SIGSTOP');
  try {
    await sleep(waitMs);
    const list = await pm2.list();
    const after = list.find((p) => p.instance === victim.instance) ?? null;
    return {
      waitedMs: waitMs,
      before: { pid: victim.pid, status: victim.status, restarts: victim.restarts },
      after: after && { pid: after.pid, status: after.status, restarts: after.restarts },
      listed: list.map((p) => `${p.instance}:${p.pid}:${p.status}:${p.restarts}`).join(' '),
    };
  } finally {
    try {
      process.kill(victim.pid, 'SIGCONT');
    } catch {
      // Gone.
    }
  }
}
