/**
 * `npm run demo`: four workers on the embedded file lock elect one primary; the demo SIGKILLs the
 * primary and times the takeover, then SIGTERMs the new primary and times the hand-over.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileLockPath } from '../src/index.js';

interface WorkerEvent {
  ev: 'ready' | 'elected';
  slot: string;
  pid: number;
  t: number;
  token?: number;
}

const WORKERS = 4;
const events: WorkerEvent[] = [];
const listeners = new Set<() => void>();
const now = () => performance.timeOrigin + performance.now();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const banner = (text: string) => console.log(`\n=== ${text}`);

function start(slot: number): ChildProcess {
  const child = fork(join(import.meta.dirname, 'demo-worker.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DEMO_SLOT: String(slot) },
  });
  child.on('message', (message) => {
    events.push(message as WorkerEvent);
    for (const listener of listeners) listener();
  });
  return child;
}

function next(match: (event: WorkerEvent) => boolean, timeout = 15_000): Promise<WorkerEvent> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = events.find(match);
      if (!found) return;
      listeners.delete(check);
      clearTimeout(timer);
      resolve(found);
    };
    const timer = setTimeout(() => reject(new Error('the demo timed out waiting for a worker')), timeout);
    listeners.add(check);
    check();
  });
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));

const workers = new Map<number, ChildProcess>();
try {
  banner(`starting ${WORKERS} workers on the default file lock (${fileLockPath('primacy-demo')})`);
  for (let slot = 1; slot <= WORKERS; slot++) {
    const child = start(slot);
    workers.set(child.pid as number, child);
  }
  for (const pid of workers.keys()) await next((e) => e.ev === 'ready' && e.pid === pid);
  const first = await next((e) => e.ev === 'elected');
  await pause(1300);

  banner(`SIGKILL the primary (worker ${first.slot}, pid ${first.pid}): no chance to release`);
  const killedAt = now();
  workers.get(first.pid)?.kill('SIGKILL');
  const second = await next((e) => e.ev === 'elected' && e.t > killedAt);
  const failover = second.t - killedAt;
  console.log(`--> worker ${second.slot} took over ${failover.toFixed(1)} ms after the kill (token ${first.token} -> ${second.token})`);
  await pause(1300);

  banner(`SIGTERM the new primary (worker ${second.slot}, pid ${second.pid}): it stops its work and releases`);
  const termAt = now();
  workers.get(second.pid)?.kill('SIGTERM');
  const third = await next((e) => e.ev === 'elected' && e.t > termAt);
  const handover = third.t - termAt;
  console.log(`--> worker ${third.slot} took over ${handover.toFixed(1)} ms after the SIGTERM (token ${second.token} -> ${third.token})`);
  await pause(900);

  banner('shutting down');
  for (const child of workers.values()) child.kill('SIGTERM');
  await Promise.all([...workers.values()].map(exited));
  banner('summary');
  console.log(`crash failover (SIGKILL):     ${failover.toFixed(1)} ms   (proper-lockfile waits for its stale time: ~10 s by default)`);
  console.log(`graceful hand-over (SIGTERM): ${handover.toFixed(1)} ms`);
  console.log(`fencing tokens: ${first.token} -> ${second.token} -> ${third.token} (strictly increasing)`);
} finally {
  for (const child of workers.values()) child.kill('SIGKILL');
  await Promise.all([...workers.values()].map(exited));
  await rm(fileLockPath('primacy-demo'), { recursive: true, force: true });
}
