/**
 * Runs the chaos candidates as workers of a WorkerManager (for `--adapter manager`): inside them
 * `elect()` is arbitrated by the manager over IPC. Reports its workers' acks, hangs and exits as
 * JSON lines; the workers' own lines reach the same stdout, which they inherit. SIGTERM stops the
 * manager and its workers, then exits.
 *
 * The heartbeat timeout is 2 × the largest TTL, so a stop longer than the TTL but shorter than that
 * (stop-primary-long) is left to the election, and a longer one (stop-primary-hung) is caught by
 * the manager, which kills and replaces the worker.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type WorkerInfo, WorkerManager } from 'primacy/manager';
import { type CandidateSettings, hostNow, type LineBody, largestTtl, type ManagerLine, SETTINGS_ENV } from './protocol.js';

const settings = JSON.parse(process.env[SETTINGS_ENV] ?? '{}') as CandidateSettings;
const report = (line: LineBody<ManagerLine>) => process.stdout.write(`${JSON.stringify({ pid: process.pid, t: hostNow(), ...line })}\n`);

// Lock state starts afresh for every run (the orchestrator removes controlDir afterwards): the
// manager's default file lock lives in this run's own private root.
const stateDir = mkdtempSync(join(settings.controlDir || tmpdir(), 'manager-'));
process.env.XDG_RUNTIME_DIR = stateDir;
const manager = new WorkerManager({
  script: join(import.meta.dirname, 'candidate.ts'),
  workers: Number(process.env.CHAOS_WORKERS ?? 5),
  stateDir,
  ackOn: 'ready',
  heartbeatInterval: Math.round(settings.ttl / 8),
  // Past the longest lease (mixed TTLs): a stop the election handles is not a hang.
  heartbeatTimeout: largestTtl(settings) * 2,
  killTimeout: 1000,
  drainTime: 0,
  // Restarts as fast as possible and never FAILED: the faults kill often on purpose, and the
  // crash-loop policy is not what this run measures.
  backoff: { backoffInitial: 50, backoffMax: 300, stableAfter: 5000 },
  crashLoop: { burst: 1000, window: 1000 },
});
manager.on('acked', (info: WorkerInfo) => report({ ev: 'acked', workerPid: info.pid as number, index: info.index }));
manager.on('hung', (info: WorkerInfo) => report({ ev: 'hung', workerPid: info.pid as number }));
manager.on('exit', (info: WorkerInfo & { pid: number }, how: { code: number | null; signal: string | null }) =>
  report({ ev: 'exit', workerPid: info.pid, code: how.code, signal: how.signal }),
);

process.on('SIGTERM', () => void manager.stop().then(() => process.exit(0)));
try {
  await manager.start();
  report({ ev: 'started' });
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
