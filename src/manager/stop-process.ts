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
    else {
      // What `worker.state` reads from now on; IPC is not ordered with the signal (see worker-state.ts).
      incarnation.worker.send({ primacy: 'state', state: 'TERMINATED' });
      incarnation.worker.process.kill(signal);
    }
  });
}

/**
 * Takes a process out of service without dropping a request or cutting singleton work short. First
 * it drains for `drainTime` (every response closes its keep-alive connection, so clients reconnect
 * to a live worker) while its elections step down (their work signalled and awaited, then the
 * lease released: `steppedDown` resolves once it holds nothing, or after `killTimeout`); then
 * cluster's disconnect closes its servers, lets in-flight requests finish and closes the IPC
 * channel, on which the worker exits (see bootstrap.ts).
 */
export async function retire(
  incarnation: Incarnation,
  { killTimeout, drainTime, steppedDown }: { killTimeout: number; drainTime: number; steppedDown: () => Promise<void> },
): Promise<void> {
  incarnation.draining = true;
  if (!incarnation.alive) return;
  if (incarnation.worker.isConnected()) incarnation.worker.send({ primacy: 'drain' });
  await Promise.all([new Promise((resolve) => setTimeout(resolve, drainTime)), steppedDown()]);
  return onExitOrKill(incarnation, killTimeout, () => incarnation.worker.disconnect());
}
