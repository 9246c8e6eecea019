/**
 * What follows a slot's current process exiting on its own (a crash, a clean exit, a kill for a
 * hang or a failed health check): by the restart policy, a restart after its backoff, FAILED, or
 * COMPLETED (and forgotten if untracked). A process that was replaced, aborted or retired, or an
 * exit during start-up or shutdown, is the caller's to judge and never gets here.
 */
import type { Incarnation } from './incarnation.js';
import { afterExit } from './restart-policy.js';
import type { ManagerSteps } from './steps.js';

export function followExit(
  incarnation: Incarnation,
  clean: boolean,
  steps: Pick<ManagerSteps, 'info' | 'emit' | 'respawn' | 'forget'>,
): void {
  const { slot } = incarnation;
  if (slot.current !== incarnation || slot.retiring || slot.rolling) return;
  slot.current = null;
  const next = afterExit(slot, clean);
  slot.state = next.state;
  if (next.state === 'FAILED') steps.emit('failed', steps.info(slot), next.reason);
  else if (next.state === 'RESTARTING') {
    slot.restartedAt = Date.now();
    steps.emit('restarting', steps.info(slot), next.delay);
    slot.restartTimer = setTimeout(() => steps.respawn(slot), next.delay);
  } else if (next.forget) steps.forget(slot);
}
