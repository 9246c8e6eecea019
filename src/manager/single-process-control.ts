/**
 * The worker API's manager requests in single-process mode (`primacy start --single-process`),
 * where no manager runs: answered here, in the one process, as sensibly as they can be.
 */
import { anyElectionPrimary } from '../_internal/live-elections.js';
import { PrimacyError } from '../errors.js';
import type { WorkerInfo } from './incarnation.js';
import { ownState, singleProcessLoadedAt } from './worker-state.js';

/** What the user called, for the refusal: `restart({ all: true })` asks for `reload`. */
const CALLED: Record<string, string> = { restart: 'restart', reload: 'restart', scale: 'scale', manage: 'manage' };

export async function singleProcessControl(command: string): Promise<unknown> {
  if (command === 'status') return [selfInfo()];
  if (command === 'shutdown') {
    // As the manager would: SIGTERM, so the app's own graceful shutdown (and its elections') runs.
    setImmediate(() => process.kill(process.pid, 'SIGTERM'));
    return 'shutting down';
  }
  const called = CALLED[command] ?? command;
  throw new PrimacyError(
    'ERR_PRIMACY_MANAGER',
    `[primacy] [manager] worker.${called}() is not available in single-process mode: no manager runs (start without --single-process)`,
  );
}

/** This process as the one worker: worker-0 of 1, primary while any of its elections is. */
function selfInfo(): WorkerInfo {
  const loadedAt = singleProcessLoadedAt();
  return {
    name: 'worker-0',
    index: 0,
    state: ownState(),
    pid: process.pid,
    starts: 1,
    restarts: 0,
    reloads: 0,
    startedAt: loadedAt,
    restartedAt: null,
    lastHeartbeat: null,
    memory: process.memoryUsage.rss(),
    primary: anyElectionPrimary(),
  };
}
