/**
 * Custom async health checks: every `interval` ms, each acked worker is checked; a check that
 * fails, throws or takes longer than `timeout` makes the worker unhealthy, and it is replaced.
 * Complements heartbeats (is the event loop alive?) with "is the app actually working?".
 */
import { runningTimeout } from '../_internal/running-time.js';
import type { WorkerInfo } from './manager.js';

export type HealthCheck = (worker: WorkerInfo) => boolean | Promise<boolean>;

export function startHealthChecks(
  check: HealthCheck,
  { interval, timeout }: { interval: number; timeout: number },
  workers: () => WorkerInfo[],
  onUnhealthy: (worker: WorkerInfo, reason: string) => void,
): () => void {
  const inFlight = new Set<string>();
  const timer = setInterval(() => {
    for (const worker of workers()) {
      if (worker.state !== 'ACKED' || inFlight.has(worker.name)) continue;
      inFlight.add(worker.name);
      void judge(check, worker, timeout)
        .then((reason) => {
          if (reason !== null) onUnhealthy(worker, reason);
        })
        .finally(() => inFlight.delete(worker.name));
    }
  }, interval);
  timer.unref();
  return () => clearInterval(timer);
}

/** null when healthy, else why not. */
async function judge(check: HealthCheck, worker: WorkerInfo, timeout: number): Promise<string | null> {
  // Running time, not elapsed time: a check in flight while the manager itself was stopped is not late.
  let cancel = () => {};
  const late = new Promise<string>((resolve) => {
    cancel = runningTimeout(timeout, () => resolve(`health check took longer than ${timeout} ms`));
  });
  try {
    const verdict = await Promise.race([Promise.resolve(check(worker)).then((ok) => (ok ? null : 'health check failed')), late]);
    return verdict;
  } catch (error) {
    return `health check threw: ${(error as Error)?.message ?? String(error)}`;
  } finally {
    cancel();
  }
}
