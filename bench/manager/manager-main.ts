/**
 * A WorkerManager in its own process, reporting its events as JSON lines (shared clock), like
 * test/fixtures/manager-main.ts. argv: script, workers, stableAfter (ms), stateDir, port (APP_PORT of
 * the workers), crash-loop burst (default 5: the manager's default).
 * the workers). Every other option is
 * the manager's default. stdin `reload` answers `done` with the reload's duration. SIGTERM stops
 * the manager and exits 0; the workers exit with it (bootstrap: IPC gone → exit).
 */
import { createInterface } from 'node:readline';
import { wallNow } from '../../harness/clock.js';
import { type WorkerInfo, WorkerManager } from '../../src/manager/index.js';

const [script = '', workers = '4', stableAfter = '30000', stateDir = '', port = '0', burst = '5'] = process.argv.slice(2);
process.env.APP_PORT = port;
const report = (ev: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ ev, pid: process.pid, t: wallNow(), ...fields })}\n`);

// The manager's default file lock lives in the run's own private root.
if (stateDir) process.env.XDG_RUNTIME_DIR = stateDir;
const manager = new WorkerManager({
  script,
  workers: Number(workers),
  stateDir,
  backoff: { stableAfter: Number(stableAfter) },
  crashLoop: { burst: Number(burst) },
});
const brief = (info: WorkerInfo) => ({
  name: info.name,
  workerPid: info.pid,
  state: info.state,
  starts: info.starts,
  primary: info.primary,
});
manager.on('acked', (info: WorkerInfo) => report('acked', brief(info)));
manager.on('exit', (info: WorkerInfo, how: unknown) => report('exit', { ...brief(info), how }));
manager.on('restarting', (info: WorkerInfo, delay: number) => report('restarting', { ...brief(info), delay }));
manager.on('failed', (info: WorkerInfo, reason: string) => report('failed', { ...brief(info), reason }));
manager.on('hung', (info: WorkerInfo, silentFor: number) => report('hung', { ...brief(info), silentFor }));
manager.on('unhealthy', (info: WorkerInfo, reason: string) => report('unhealthy', { ...brief(info), reason }));

process.on('SIGTERM', () => void manager.stop().then(() => process.exit(0)));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'reload') return;
  const begun = wallNow();
  manager.reload().then(
    () => report('done', { command: 'reload', ms: wallNow() - begun, workers: manager.workers().map(brief) }),
    (error: Error) => report('done', { command: 'reload', ms: wallNow() - begun, error: error.message }),
  );
});

report('starting');
try {
  await manager.start();
  report('started', { workers: manager.workers().map(brief) });
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
