/** Ways to end a worker process; each escalates to SIGKILL after `killTimeout` and resolves on exit. */
import type { Incarnation } from './incarnation.js';
import { killTree } from './process-tree.js';

function onExitOrKill(incarnation: Incarnation, killTimeout: number, begin: () => void): Promise<void> {
  if (!incarnation.alive) return Promise.resolve();
  const child = incarnation.worker.process;
  return new Promise((resolve) => {
    const escalate = setTimeout(() => killTree(child.pid as number), killTimeout);
    child.once('exit', () => {
      clearTimeout(escalate);
      resolve();
    });
    begin();
  });
}

/** Sends `signal` (SIGTERM: the app's own graceful shutdown; SIGKILL: at once, with its descendants). */
export function terminate(incarnation: Incarnation, signal: NodeJS.Signals, killTimeout: number): Promise<void> {
  return onExitOrKill(incarnation, killTimeout, () => {
    if (signal === 'SIGKILL') killTree(incarnation.worker.process.pid as number);
    else incarnation.worker.process.kill(signal);
  });
}

/**
 * Takes a process out of service without dropping a request: cluster's disconnect closes its
 * servers (no new connections reach it), lets in-flight requests finish, then closes the IPC
 * channel, on which the worker exits (see bootstrap.ts).
 */
export function retire(incarnation: Incarnation, killTimeout: number): Promise<void> {
  incarnation.draining = true;
  return onExitOrKill(incarnation, killTimeout, () => incarnation.worker.disconnect());
}
