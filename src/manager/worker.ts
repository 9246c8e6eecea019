/** The worker's side of the manager: who am I, and "I am ready" (the ack). */
import type { WorkerMessage } from './protocol.js';

export const worker = {
  /** Whether this process runs under primacy's manager. */
  get managed(): boolean {
    return process.env.PRIMACY_MANAGED === '1' && typeof process.send === 'function';
  },
  /** `worker-<index>`: stable across restarts of this slot. */
  get name(): string | undefined {
    return process.env.PRIMACY_WORKER_NAME;
  },
  /** The slot index, 0-based; a restarted worker keeps its slot's index. */
  get index(): number | undefined {
    const index = process.env.PRIMACY_WORKER_INDEX;
    return index === undefined ? undefined : Number(index);
  },
  /** How many worker slots the manager runs. */
  get workers(): number | undefined {
    const count = process.env.PRIMACY_WORKERS;
    return count === undefined ? undefined : Number(count);
  },
  /** Acknowledges a successful start; the manager's heartbeat watchdog starts from here. */
  ready(): void {
    if (this.managed && process.connected) process.send?.({ primacy: 'ready' } satisfies WorkerMessage);
  },
};
