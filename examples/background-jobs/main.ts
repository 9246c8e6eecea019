/**
 * Starts the background-job example under primacy's manager: HTTP workers (server.ts) and one job
 * process (jobs.ts) that the manager supervises beside them.
 *
 *   JOBS_DIR=/tmp/jobs PORT=3000 node --import tsx examples/background-jobs/main.ts
 *
 * Environment: PORT (default 3000), WORKERS (HTTP workers, default 2), JOBS_DIR (the job store,
 * default ./jobs-data), STEP_MS, MAX_ATTEMPTS (see jobs.ts). SIGTERM or Ctrl-C stops everything.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type WorkerInfo, WorkerManager } from 'primacy/manager';

// server.ts and jobs.ts here, server.js and jobs.js once compiled.
const sibling = (name: string) => fileURLToPath(new URL(`./${name}${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
const log = (line: string) => process.stderr.write(`[background-jobs] ${line}\n`);

const manager = new WorkerManager({
  script: sibling('server'),
  workers: Number(process.env.WORKERS ?? 2),
  name: 'background-jobs',
  processes: [{ name: 'jobs', module: sibling('jobs') }],
});
manager.on('acked', (info: WorkerInfo) => log(`${info.name} (pid ${info.pid}) is up`));
manager.on('exit', (info: WorkerInfo, how: { code: number | null; signal: string | null }) =>
  log(`${info.name} (pid ${info.pid}) exited (${how.signal ?? `code ${how.code}`})`),
);
manager.on('restarting', (info: WorkerInfo, delay: number) => log(`${info.name} restarting in ${delay} ms`));
manager.on('failed', (info: WorkerInfo, reason: string) => log(`${info.name} FAILED: ${reason}`));

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void manager.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

try {
  await manager.start();
  log(`ready on port ${process.env.PORT ?? 3000}`);
} catch (error) {
  log((error as Error).message);
  process.exit(1);
}
