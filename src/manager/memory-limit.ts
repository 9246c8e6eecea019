/**
 * PM2's `max_memory_restart`, without its downtime: a process whose resident memory, as its last
 * heartbeat reported it, is above its limit is replaced by a zero-downtime restart (its successor
 * acks first). Judged only for a slot's current, acked process that is not already being replaced.
 */
import type { Incarnation } from './incarnation.js';

/** The limit in bytes that applies to this process, if any: its own app's, else the manager's. */
export function memoryLimit(incarnation: Incarnation, managerLimit: number | undefined): number | undefined {
  return incarnation.slot.custom?.maxMemory ?? managerLimit;
}

/** Whether `incarnation` should be replaced for its memory now. */
export function overMemoryLimit(incarnation: Incarnation, limit: number | undefined): boolean {
  const { slot } = incarnation;
  if (limit === undefined || incarnation.rss === null || incarnation.rss <= limit) return false;
  return slot.current === incarnation && incarnation.state === 'ACKED' && !incarnation.draining && !slot.rolling && !slot.retiring;
}
