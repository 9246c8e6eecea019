/**
 * A process the manager judges unwell, and what it does about it: a hung loop (no heartbeats) or a
 * failed health check is killed outright, and its slot's restart policy takes over; a process
 * above its memory limit (PM2's `max_memory_restart`, without its downtime) is replaced by a
 * zero-downtime restart, its successor acking first.
 */
import type { Incarnation, WorkerInfo } from './incarnation.js';
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

/** After a heartbeat's memory figure: replaced without downtime when above the limit that applies to it. */
export function replaceIfOverMemory(incarnation: Incarnation, managerLimit: number | undefined, steps: Steps): void {
  const { slot } = incarnation;
  const limit = slot.custom?.maxMemory ?? managerLimit;
  if (limit === undefined || incarnation.rss === null || incarnation.rss <= limit || steps.stopping()) return;
  // Only a slot's current, acked process that is not already being replaced.
  if (slot.current !== incarnation || incarnation.state !== 'ACKED' || incarnation.draining || slot.rolling || slot.retiring) return;
  steps.emit('memory', steps.info(slot), incarnation.rss, limit);
  steps.restart(slot.name).catch((error: Error) => steps.warn(error.message));
}
