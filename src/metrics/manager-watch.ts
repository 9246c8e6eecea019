import type { Checks } from '../_internal/checks.js';
import { PrimacyConfigError } from '../errors.js';
import type { WorkerInfo, WorkerManager } from '../manager/manager.js';
import { MANAGER_STATES, type MetricsSink } from './types.js';

/** The one WorkerManager a metrics instance observes: its restarts and hangs counted, its workers read live. */
export class ObservedManager {
  #manager: WorkerManager | null = null;
  #detach: (() => void) | null = null;
  #stopped = false;

  constructor(
    private readonly sink: MetricsSink,
    private readonly check: Checks,
  ) {}

  add(manager: WorkerManager): () => void {
    this.check.shape('manager', manager, ['on', 'off', 'workers'], 'a WorkerManager (from primacy/manager)');
    if (this.#manager === manager && this.#detach) return this.#detach;
    if (this.#manager && !this.#stopped) {
      const why = 'observeManager(): already observing another manager (one per metrics instance: its gauge is not labelled by manager)';
      throw new PrimacyConfigError('manager', manager, '', 'metrics', why);
    }
    const { sink } = this;
    const seen = (info: WorkerInfo) => sink.workerSeen(info.name);
    // `restarting`: the restart policy replaces a process that exited on its own (a crash, a kill
    // for a hang or a failed health check), as WorkerInfo.restarts counts; deliberate reloads are not restarts.
    const onRestarting = (info: WorkerInfo) => sink.restart(info.name);
    const onHung = (info: WorkerInfo) => sink.hang(info.name);
    const unsubscribe = () => {
      manager.off('acked', seen);
      manager.off('restarting', onRestarting);
      manager.off('hung', onHung);
      manager.off('stopped', onStopped);
    };
    // A stopped manager's workers still read (all TERMINATED) until another manager is observed:
    // a series that vanished would keep its last value in OpenTelemetry's SDK.
    const onStopped = () => {
      this.#stopped = true;
      unsubscribe();
    };
    const detach = () => {
      if (this.#manager !== manager) return;
      this.#manager = null;
      this.#detach = null;
      unsubscribe();
    };
    this.#manager = manager;
    this.#detach = detach;
    this.#stopped = false;
    for (const info of manager.workers()) seen(info);
    manager.on('acked', seen);
    manager.on('restarting', onRestarting);
    manager.on('hung', onHung);
    manager.on('stopped', onStopped);
    return detach;
  }

  /** How many workers are in each state now (every state listed, 0 included), or null without a manager. */
  workersByState(): Map<string, number> | null {
    if (!this.#manager) return null;
    const counts = new Map<string, number>(MANAGER_STATES.map((state) => [state, 0]));
    for (const { state } of this.#manager.workers()) counts.set(state, (counts.get(state) ?? 0) + 1);
    return counts;
  }

  close(): void {
    this.#detach?.();
  }
}
