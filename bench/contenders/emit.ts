/**
 * How a contender tells the orchestrator what happened: one JSON line per event on stdout, stamped
 * with the shared clock at the moment it happened. Writes to a pipe are synchronous on Linux, so a
 * line written just before the process exits still arrives.
 */
import { wallNow } from '../../harness/clock.js';

export type ContenderEventName = 'ready' | 'acquired' | 'lost' | 'released' | 'error';

export interface ContenderEvent {
  ev: ContenderEventName;
  /** Shared-clock ms (`wallNow`, harness/clock.ts). */
  t: number;
  pid: number;
  detail?: string;
}

export function emit(ev: ContenderEventName, detail?: string): void {
  const event: ContenderEvent = { ev, t: wallNow(), pid: process.pid };
  if (detail !== undefined) event.detail = detail;
  process.stdout.write(`${JSON.stringify(event)}\n`);
}
