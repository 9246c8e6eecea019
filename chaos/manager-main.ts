/**
 * Runs the chaos candidates as workers of a WorkerManager (the manager and mixed fleets): inside
 * them `elect()` is arbitrated by the manager, whose arbiter holds the default file lock on their
 * behalf. Reports its workers' acks, hangs and exits as JSON lines; the workers' own lines reach
 * the same stdout, which they inherit. SIGTERM stops the manager and its workers, then exits.
 *
 * The heartbeat timeout is 2 × the largest TTL (heartbeatTimeoutOf), so a stop longer than the TTL
 * but shorter than that (stop-primary-long) is left to the election, and a longer one
 * (stop-primary-hung) is caught by the manager, which kills and replaces the worker.
 */
import { isAbsolute, join } from 'node:path';
import { type WorkerInfo, WorkerManager } from 'primacy/manager';
import { hostNow } from '../harness/clock.js';
import {
  type CandidateSettings,
  heartbeatTimeoutOf,
  type LineBody,
  MANAGER_NAME_ENV,
  type ManagerLine,
  SETTINGS_ENV,
  WORKERS_ENV,
} from './protocol.js';

const settings = JSON.parse(process.env[SETTINGS_ENV] ?? '{}') as CandidateSettings;
const report = (line: LineBody<ManagerLine>) => process.stdout.write(`${JSON.stringify({ pid: process.pid, t: hostNow(), ...line })}\n`);

// The orchestrator points XDG_RUNTIME_DIR at the run's own dir for every process of the fleet, so
// the default lock (and the managers' name claims, under `<root>/managers`) starts afresh and is
// shared by both managers and the plain candidates. Never fall back to the user's real one.
const runtime = process.env.XDG_RUNTIME_DIR;
if (!runtime || !isAbsolute(runtime) || !runtime.startsWith(settings.controlDir)) {
  process.stderr.write(`manager-main: expected XDG_RUNTIME_DIR inside the run's dir ${settings.controlDir}, got ${runtime}\n`);
  process.exit(2);
}

const manager = new WorkerManager({
  script: join(import.meta.dirname, 'candidate.ts'),
  workers: Number(process.env[WORKERS_ENV] ?? 5),
  // Two managers on one host need two names (each claims its own); the state dir is the default one.
  name: process.env[MANAGER_NAME_ENV] || undefined,
  ackOn: 'ready',
  heartbeatInterval: Math.round(settings.ttl / 8),
  // Past the longest lease (mixed TTLs): a stop the election handles is not a hang.
  heartbeatTimeout: heartbeatTimeoutOf(settings),
  killTimeout: 1000,
  drainTime: 0,
  // Restarts as fast as possible and never FAILED: the faults kill often on purpose, and the
  // crash-loop policy is not what this run measures.
  backoff: { backoffInitial: 50, backoffMax: 300, stableAfter: 5000 },
  crashLoop: { burst: 1000, window: 1000 },
});
manager.on('acked', (info: WorkerInfo) => report({ ev: 'acked', workerPid: info.pid as number, index: info.index }));
manager.on('hung', (info: WorkerInfo, silentFor: number) =>
  report({ ev: 'hung', workerPid: info.pid as number, silentFor: Math.round(silentFor) }),
);
manager.on('exit', (info: WorkerInfo & { pid: number }, how: { code: number | null; signal: string | null }) =>
  report({ ev: 'exit', workerPid: info.pid, code: how.code, signal: how.signal }),
);
// Lease and claim trouble is reported by the manager, never thrown: keep it off stdout's JSON.
manager.on('warning', (message: string) => process.stderr.write(`${message}\n`));

process.on('SIGTERM', () => void manager.stop().then(() => process.exit(0)));
try {
  await manager.start();
  report({ ev: 'started' });
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
