/**
 * A process the manager judges unwell, and what it does about it: a hung loop (no heartbeats) or a
 * failed health check is killed outright, and its slot's restart policy takes over; a process
 * above its memory limit (PM2's `max_memory_restart`, without its downtime) is replaced by a
 * zero-downtime restart, its successor acking first.
 */
import type { Incarnation, WorkerInfo } from './incarnation.js';
import type { ResolvedManagerOptions } from './options.js';
import type { ManagerSteps } from './steps.js';
import { terminate } from './stop-process.js';

type Steps = Pick<ManagerSteps, 'emit' | 'info' | 'killTimeout' | 'restart' | 'warn' | 'stopping'>;

/** A worker whose event loop has been silent past the heartbeat timeout (hung or stopped). */
export function killHung(incarnation: Incarnation, silentFor: number, steps: Steps): void {
  steps.emit('hung', steps.info(incarnation.slot), silentFor);
  // A hung loop cannot run a SIGTERM handler: kill it outright (SIGCONT first, so a stopped one dies now).
  incarnation.worker.process.kill('SIGCONT');
  void terminate(incarnation, 'SIGKILL', steps.killTimeout(incarnation.slot));
}

/** A failed health check of `info`: its process is killed, if it is still the one checked and not on its way out. */
export function killUnhealthy(incarnation: Incarnation | null | undefined, info: WorkerInfo, reason: string, steps: Steps): void {
  if (!incarnation || incarnation.pid !== info.pid || incarnation.draining) return;
  steps.emit('unhealthy', info, reason);
  void terminate(incarnation, 'SIGKILL', steps.killTimeout(incarnation.slot));
}

/**
 * After a heartbeat's memory figure: replaced without downtime when above the limit that applies
 * to it (its own app's, the server's, else the manager's). A limit no process of the app stays
 * under would replace it every heartbeat forever: like a crash loop, at most `crashLoop.burst`
 * replacements per `crashLoop.window`, then it is left running (said once) until the window allows more.
 */
export function replaceIfOverMemory(
  incarnation: Incarnation,
  options: Pick<ResolvedManagerOptions, 'maxMemory' | 'server' | 'crashLoop'>,
  steps: Steps,
): void {
  const { slot } = incarnation;
  const limit = slot.custom ? (slot.custom.maxMemory ?? options.maxMemory) : options.server.maxMemory;
  if (limit === undefined || incarnation.rss === null || incarnation.rss <= limit || steps.stopping()) return;
  // Only a slot's current, acked process that is not already being replaced.
  if (slot.current !== incarnation || incarnation.state !== 'ACKED' || incarnation.draining || slot.rolling || slot.retiring) return;
  const now = performance.now();
  const { burst, window } = options.crashLoop;
  slot.memoryReplacements = slot.memoryReplacements.filter((at) => now - at < window);
  if (slot.memoryReplacements.length >= burst) {
    if (!slot.memoryHeld) {
      const megabytes = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
      steps.warn(
        `[primacy] [manager] ${slot.name} is above its ${megabytes(limit)} memory limit again after ${burst} replacements within ${window} ms: left running until that window allows another (is the limit below what the app needs?)`,
      );
    }
    slot.memoryHeld = true;
    return;
  }
  slot.memoryHeld = false;
  slot.memoryReplacements.push(now);
  steps.emit('memory', steps.info(slot), incarnation.rss, limit);
  steps.restart(slot.name).catch((error: Error) => steps.warn(error.message));
}
