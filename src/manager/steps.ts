/**
 * What the manager lends to the modules that act on its processes (rolling.ts, exit-handling.ts,
 * sick-process.ts): each takes only the steps it needs, and none reaches into the manager.
 */
import type { Incarnation, Slot, WorkerInfo } from './incarnation.js';

export interface ManagerSteps {
  info(slot: Slot): WorkerInfo;
  emit(event: string, ...args: unknown[]): void;
  /** A new server worker slot at this index (its policy, its name). */
  newSlot(index: number): Slot;
  /** Starts a slot's next process. */
  spawn(slot: Slot): Incarnation;
  /** Starts it after a restart delay, unless the manager began stopping (or the slot retiring) meanwhile. */
  respawn(slot: Slot): void;
  /** Drains, steps down and stops a process being replaced or scaled away. */
  retire(incarnation: Incarnation): Promise<void>;
  /** The slot's SIGTERM-to-SIGKILL time. */
  killTimeout(slot: Slot): number;
  /** Zero-downtime restart of a slot, by name. */
  restart(name: string): Promise<void>;
  /** Drops an untracked custom process from the table. */
  forget(slot: Slot): void;
  /** Reported, never thrown. */
  warn(message: string): void;
  stopping(): boolean;
}
