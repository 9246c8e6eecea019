/**
 * Processes known only by their pid: a manager's workers, a backend's servers, whatever a run must
 * signal or check without having spawned it as a `Child`.
 */
import { readdirSync } from 'node:fs';
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

/**
 * SIGSTOP that has landed. kill() returns before a multi-threaded server is stopped: the kernel
 * wakes one thread (the main one) to start the group stop, and on a busy machine that thread may
 * wait for a CPU while the thread serving a connection goes on answering it (MariaDB answered a
 * statement sent after its "pause" so). Resolves once every thread of `pid` is stopped.
 */
export async function stopProcess(pid: number, within = 10_000): Promise<void> {
  signal(pid, 'SIGSTOP');
  await untilStopped(pid, within);
}

/** Resolves once every thread of `pid` is stopped, or it is gone; the kernel has no event for it, so /proc is polled. */
export async function untilStopped(pid: number, within = 10_000): Promise<void> {
  const deadline = performance.now() + within;
  while (!allThreadsStopped(pid)) {
    if (performance.now() > deadline) throw new Error(`pid ${pid} not stopped within ${within} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function allThreadsStopped(pid: number): boolean {
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return true; // gone: nothing of it runs
  }
  // A thread that ended meanwhile has no stat: it runs no more either.
  return threads.every((thread) => STOPPED.has(procStatFields(`${pid}/task/${thread}`)?.[0] ?? 'X'));
}

/** States of a thread that runs no code: stopped (by a signal, or traced), a zombie, dead. */
const STOPPED = new Set(['T', 't', 'Z', 'X']);
