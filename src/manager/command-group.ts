/**
 * A config app's command runs in its own process group, led by the command (command-runner.ts).
 * The runner stops that group when it exits or loses the manager, but a runner that is SIGKILLed
 * (by hand, by the OOM killer) cannot: its command would run on, reparented to init, beside the
 * replacement the restart policy starts. So the runner reports the group in its heartbeats, and
 * the manager stops a group its runner left behind: SIGTERM, then SIGKILL after the kill timeout.
 */
import { procStatFields } from '../_internal/proc-stat.js';
import type { Incarnation } from './incarnation.js';

/** The group a command runner reported, once it is checked to be its own child's (a bad report is ignored). */
export function noteCommandGroup(incarnation: Incarnation, group: unknown): void {
  if (incarnation.commandGroup !== null || incarnation.slot.custom?.command === undefined) return;
  if (typeof group !== 'number' || !Number.isSafeInteger(group) || group <= 1) return;
  // Linux: the group's leader must be the runner's child and lead that group; elsewhere, trusted
  // (only primacy's own runner sends it for a command slot).
  const fields = procStatFields(group);
  if (fields !== undefined && (Number(fields[1]) !== incarnation.pid || Number(fields[2]) !== group)) return;
  incarnation.commandGroup = group;
}

/** After a command runner exited: stops what is left of its command's group, if anything is. */
export function stopLeftoverGroup(incarnation: Incarnation, killTimeout: number): void {
  const group = incarnation.commandGroup;
  if (group === null || !signal(group, 'SIGTERM')) return;
  setTimeout(() => signal(group, 'SIGKILL'), killTimeout).unref();
}

/** Whether the group still had a process to signal. */
function signal(group: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(-group, name);
    return true;
  } catch {
    return false;
  }
}
