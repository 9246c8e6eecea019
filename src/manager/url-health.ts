/** A health check over HTTP for a managed process: its URL must answer 2xx (`{index}`: the copy's index). */
import { type HealthCheck, startHealthChecks } from './health.js';
import type { WorkerInfo } from './incarnation.js';

export function urlHealthCheck(url: string, timeout: number): HealthCheck {
  return async (worker) => {
    const target = url.replaceAll('{index}', String(worker.index));
    let response: Response;
    try {
      response = await fetch(target, { signal: AbortSignal.timeout(timeout) });
    } catch (error) {
      // fetch says only "fetch failed"; the cause holds the errno (ECONNREFUSED...).
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`GET ${target}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    await response.body?.cancel();
    if (!response.ok) throw new Error(`GET ${target} answered ${response.status}`);
    return true;
  };
}

/** Checks a process group's `url` every `interval` (the manager's `health` for what it leaves unset); returns the stopper. */
export function startUrlHealthChecks(
  health: { url: string; interval?: number; timeout?: number },
  defaults: { interval: number; timeout: number },
  group: () => WorkerInfo[],
  onUnhealthy: (worker: WorkerInfo, reason: string) => void,
): () => void {
  const { url, interval = defaults.interval, timeout = defaults.timeout } = health;
  return startHealthChecks(urlHealthCheck(url, timeout), { interval, timeout }, group, onUnhealthy);
}
