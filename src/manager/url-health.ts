/** A health check over HTTP for a managed process: its URL must answer 2xx (`{index}`: the copy's index). */
import type { HealthCheck } from './health.js';

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
