/**
 * Processes known only by their pid: a manager's workers, a backend's servers, whatever a run must
 * signal or check without having spawned it as a `Child`.
 */
import { procStatFields } from '../src/_internal/proc-stat.js';

/** Sends `signal` to `pid`, ignoring a process that is already gone (a manager may have replaced it meanwhile). */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: it died meanwhile; nothing to do.
  }
}

/**
 * Whether `pid` is a running process: it exists and is not a zombie. A killed process whose parent
 * died first is reparented to PID 1, which in some sandboxes never reaps it: dead, but still listed.
 */
export function isRunning(pid: number): boolean {
  const fields = procStatFields(pid);
  return fields !== undefined && fields[0] !== 'Z';
}
