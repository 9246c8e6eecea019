/**
 * Preloaded (`--import`) into every worker the manager starts, before the app's own code:
 * heartbeats from the worker's own event loop (a hung or stopped loop sends none, which is how the
 * manager tells a hang from a slow start), an exit when the manager is gone, so no orphans, and
 * draining on the manager's word before it retires the worker (see drain.ts).
 */
import { RETIRING_EVENT } from '../_internal/signals.js';
import { installDrain, startDraining } from './drain.js';
import { isManaged, isPrimacyMessage, type WorkerMessage } from './protocol.js';
import { answerRequests } from './worker-requests.js';
import { followManagerState } from './worker-state.js';

if (isManaged()) {
  const interval = Number(process.env.PRIMACY_HEARTBEAT_INTERVAL) || 1000;
  const heartbeat = () => {
    if (process.connected) process.send?.({ primacy: 'heartbeat', rss: process.memoryUsage.rss() } satisfies WorkerMessage);
  };
  setInterval(heartbeat, interval).unref();
  // The IPC channel closes when the manager dies (even by SIGKILL): do not outlive it. It may
  // already have closed while this process was still loading, before anyone listened. Closed after
  // the manager's word that it retires us (a reload, a scale-down), it is a clean exit.
  let retiring = false;
  process.on('disconnect', () => process.exit(retiring ? 0 : 1));
  if (!process.connected) process.exit(1);
  followManagerState();
  // The first heartbeat at once: it tells the manager this process is up and supervised.
  heartbeat();
  installDrain();
  // Every request delivered here is answered, by the app's handler or with "no handler".
  answerRequests();
  process.on('message', (message: unknown) => {
    if (!isPrimacyMessage(message) || message.primacy !== 'drain') return;
    retiring = true;
    startDraining();
    // Being retired: the elections step down now, their whilePrimary work signalled and awaited,
    // and release while the channel to the manager is still open (it waits for that).
    process.emit(RETIRING_EVENT as never);
  });
}
