/**
 * `primacy start --single-process app.js [-- args]`: the app runs in the CLI's own process, with no
 * manager, for development and debugging (one process to attach a debugger to, breakpoints hit,
 * stack traces whole). The `worker` API answers as worker-0 of 1 (see single-process-control.ts);
 * elections use the default lock, as in a plain process. The process then lives as long as the app
 * keeps it alive, and ends on SIGTERM/SIGINT as the app (and its elections) handle them.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PrimacyUsageError } from '../errors.js';
import { prefixed } from '../logger.js';
import { setSingleProcessState } from '../manager/worker-state.js';

/** Options of `primacy start` that still mean something without a manager. */
const APPLIES = new Set(['single-process', 'help']);

/** The given flags that make no sense without a manager (`--workers 1` is harmless). */
function pointlessFlags(values: Record<string, unknown>): string[] {
  return Object.entries(values)
    .filter(([key, value]) => value !== undefined && !APPLIES.has(key) && !(key === 'workers' && value === '1'))
    .map(([key]) => `--${key}`);
}

export async function runSingleProcess(script: string, args: string[], values: Record<string, unknown>): Promise<number> {
  const pointless = pointlessFlags(values);
  if (pointless.length > 0) {
    throw new PrimacyUsageError(
      `--single-process runs the app in this one process with no manager, so ${pointless.join(', ')} cannot apply (drop ${pointless.length === 1 ? 'it' : 'them'})`,
    );
  }
  const path = resolve(script);
  // As a managed worker sees itself (environment read by worker.name/index/total), and the argv it would get.
  Object.assign(process.env, { PRIMACY_WORKER_NAME: 'worker-0', PRIMACY_WORKER_INDEX: '0', PRIMACY_WORKERS: '1' });
  process.argv = [process.argv[0] as string, path, ...args];
  setSingleProcessState('STARTED');
  tellStopping();
  const log = (text: string) => process.stderr.write(`${prefixed('single-process', text)}\n`);
  try {
    await import(pathToFileURL(path).href);
  } catch (error) {
    log(`${script} failed to load: ${(error as Error).stack ?? error}`);
    return 1;
  }
  setSingleProcessState('ACKED');
  log(`${script} runs in this process (pid ${process.pid}): no manager, no inspector`);
  return 0;
}

/**
 * The first SIGTERM/SIGINT makes `worker.state` TERMINATED before the app's own handlers run
 * (installed first, so it runs first), then steps aside: if nothing else handles the signal, it is
 * raised again so the process ends exactly as it would without primacy.
 */
function tellStopping(): void {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const onSignal = (signal: NodeJS.Signals) => {
    setSingleProcessState('TERMINATED');
    for (const s of signals) process.removeListener(s, onSignal);
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  for (const s of signals) process.on(s, onSignal);
}
