/**
 * What a process can see of itself (`worker.mode`, `worker.state`). Kept on `globalThis` under
 * registered symbols, not in module variables: the bootstrap (which hears the manager) and the
 * app (which reads it) may load two copies of primacy (the ESM and CJS builds, or the CLI's bundle
 * and the app's import in single-process mode), which share nothing else.
 *
 * Under the manager a process is STARTED while it loads (it runs, so it has started), ACKED once
 * the manager has its ack (the manager says so), and TERMINATED from the moment the manager asks
 * it to stop: the drain before a retire (a reload, a restart, a scale-down), or just before the
 * SIGTERM of a shutdown (that message may arrive after the signal: a SIGTERM handler can still
 * read ACKED). Outside a manager it is NONE; in single-process mode the CLI sets it.
 */
import type { WorkerState } from './incarnation.js';
import { isManaged, isPrimacyMessage, type ManagerMessage } from './protocol.js';

/** How this process runs: under the manager, in `primacy start --single-process`, or on its own. */
export type WorkerMode = 'managed' | 'single-process' | 'standalone';

const STATE = Symbol.for('primacy.worker.state');
const SINGLE_PROCESS = Symbol.for('primacy.worker.single-process');

interface SelfView {
  [STATE]?: WorkerState;
  /** Set by the CLI in single-process mode: when the app finished loading (null while it loads). */
  [SINGLE_PROCESS]?: { loadedAt: number | null };
}
const self = globalThis as SelfView;

/** The states the manager may announce; anything else in a message is ignored. */
const ANNOUNCED: readonly WorkerState[] = ['ACKED', 'TERMINATED'];

export function workerMode(): WorkerMode {
  if (isManaged()) return 'managed';
  return self[SINGLE_PROCESS] ? 'single-process' : 'standalone';
}

export function ownState(): WorkerState {
  return workerMode() === 'standalone' ? 'NONE' : (self[STATE] ?? 'STARTED');
}

/** Installed by the bootstrap, before the first heartbeat (a custom process's ack) can be answered. */
export function followManagerState(): void {
  self[STATE] = 'STARTED';
  process.on('message', (message: unknown) => {
    if (!isPrimacyMessage(message)) return;
    const m = message as ManagerMessage;
    if (m.primacy === 'drain') self[STATE] = 'TERMINATED';
    else if (m.primacy === 'state' && ANNOUNCED.includes(m.state)) self[STATE] = m.state;
  });
}

/** Single-process mode: the CLI says how far the app got (STARTED while it loads, ACKED once loaded, TERMINATED on a stop signal). */
export function setSingleProcessState(state: WorkerState): void {
  self[SINGLE_PROCESS] ??= { loadedAt: null };
  if (state === 'ACKED') self[SINGLE_PROCESS].loadedAt = Date.now();
  self[STATE] = state;
}

/** When the app finished loading in single-process mode, or null. */
export function singleProcessLoadedAt(): number | null {
  return self[SINGLE_PROCESS]?.loadedAt ?? null;
}
