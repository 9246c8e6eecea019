/**
 * Carries out the fault schedule: at each planned time, hands the fault to the injector of its kind
 * (inject-*.ts), which resolves the target (the primary, a follower, some server nodes) from the
 * run's state, injects it and records when it began and ended. Faults never overlap: each one is
 * over (resumed, restarted, stepped back) before the next begins.
 */

import { hostNow } from '../harness/clock.js';
import { type FaultKind, type PlannedFault, SESSION_KINDS } from './faults.js';
import { Hit, type Injector } from './hit.js';
import { nodeOutage, restartWhilePrimaryStopped, stateLoss } from './inject-backend.js';
import { candidateFault, expireThenKill } from './inject-candidate.js';
import { clockStep } from './inject-clock.js';
import { clientKillBusyPrimary, resetInFlight } from './inject-connection.js';
import { managerFault } from './inject-manager.js';
import { endHolderSession } from './inject-session.js';

export type { Injector } from './hit.js';

function injectorOf(kind: FaultKind): (hit: Hit) => Promise<void> {
  if (kind.endsWith('-restart-primary-stopped')) return restartWhilePrimaryStopped;
  if (kind === 'redis-flushall' || kind === 'redis-evict' || kind === 'majority-flushall' || kind === 'dir-removed') return stateLoss;
  if (SESSION_KINDS.has(kind)) return endHolderSession;
  if (/^(redis|postgres|mysql|etcd|minority|majority)-/.test(kind)) return nodeOutage;
  if (kind === 'reset-in-flight') return resetInFlight;
  if (kind === 'client-kill-busy-primary') return clientKillBusyPrimary;
  if (kind.startsWith('clock-step-')) return clockStep;
  if (kind === 'expire-then-kill') return expireThenKill;
  if (kind === 'stop-manager' || kind === 'kill-manager') return managerFault;
  return candidateFault;
}

export async function runSchedule(plan: readonly PlannedFault[], phaseStart: number, deps: Injector): Promise<void> {
  for (const fault of plan) {
    const wait = phaseStart + fault.at - hostNow();
    if (wait > 0) await new Hit(fault, deps, phaseStart).sleep(wait);
    await injectorOf(fault.kind)(new Hit(fault, deps, phaseStart));
  }
}
