import type { Election } from '../elector.js';
import type { AttemptInfo } from '../events.js';
import type { WorkerManager } from '../manager/manager.js';

/** What `prometheusMetrics()` and `openTelemetryMetrics()` return. */
export interface PrimacyMetrics {
  /**
   * Records `election`'s metrics from now on: its role (read live at each collection, so a process
   * paused past its lease reports 0 at once), fencing token, transitions, acquire attempts, renew
   * latency and failovers. An election observed while primary counts that term as a transition
   * to primary (an app may observe it once its framework has run the first round). Once the
   * election has stopped, its gauges read 0 until another election
   * of its name is observed (one per lock name at a time). Returns a function that stops observing
   * it (its gauges' series go; counters stay).
   */
  observe(election: Election): () => void;
  /**
   * Records a `WorkerManager`'s restarts and hangs until it stops, and its workers by state (read
   * at each collection; after a stop, as it left them, until another manager is observed). One
   * manager at a time. Returns a function that stops observing it.
   */
  observeManager(manager: WorkerManager): () => void;
  /** Stops observing everything and unregisters the metrics (their names can be registered again). */
  close(): void;
}

/** Where the events of what is observed go: one implementation per metrics library. */
export interface MetricsSink {
  /** Creates an election's counter series at 0, so rates exist before the first event. */
  electionSeen(name: string): void;
  transition(name: string, to: 'primary' | 'follower'): void;
  attempt(name: string, result: Extract<AttemptInfo, { operation: 'acquire' }>['result']): void;
  renew(name: string, result: Extract<AttemptInfo, { operation: 'renew' }>['result'], seconds: number): void;
  failover(name: string): void;
  /** Creates a worker's counter series at 0. */
  workerSeen(worker: string): void;
  restart(worker: string): void;
  hang(worker: string): void;
}

/** Renew latency buckets, in seconds: a renew takes a millisecond on a file, more over a network. */
export const RENEW_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Every state a manager reports a worker in (NONE is a process's view of itself, never the manager's). */
export const MANAGER_STATES = ['IDLE', 'STARTING', 'STARTED', 'ACKED', 'TERMINATED', 'RESTARTING', 'FAILED', 'COMPLETED'] as const;
