/**
 * One process of a worker slot. A slot has one current incarnation, and during a zero-downtime
 * restart briefly two: the old one keeps serving until the new one has acked.
 */
import type { Worker } from 'node:cluster';
import type { RestartPolicy } from './restart-policy.js';

export type WorkerState =
  | 'NONE'
  | 'IDLE'
  | 'STARTING'
  | 'STARTED'
  | 'ACKED'
  | 'JOINED'
  | 'TERMINATED'
  | 'RESTARTING'
  | 'FAILED'
  | 'COMPLETED';

/** A snapshot of one worker slot. */
export interface WorkerInfo {
  readonly name: string;
  readonly index: number;
  readonly state: WorkerState;
  readonly pid: number | null;
  /** How many processes this slot has started (incarnations). */
  readonly starts: number;
  readonly startedAt: number | null;
  readonly restartedAt: number | null;
  /** Wall-clock ms of the last heartbeat. */
  readonly lastHeartbeat: number | null;
  /** Resident memory in bytes, as of the last heartbeat. */
  readonly memory: number | null;
  readonly primary: boolean;
}

export interface Slot {
  readonly index: number;
  readonly name: string;
  /** The slot's state when no process represents it (RESTARTING, FAILED, COMPLETED...). */
  state: WorkerState;
  current: Incarnation | null;
  starts: number;
  startedAt: number | null;
  restartedAt: number | null;
  readonly policy: RestartPolicy;
  restartTimer?: NodeJS.Timeout;
  /** Being removed by a scale-down: its exit is final. */
  retiring: boolean;
  /** A zero-downtime restart is under way: `restart()` decides what happens, not the policy. */
  rolling: boolean;
}

export function createSlot(index: number, policy: RestartPolicy): Slot {
  return {
    index,
    name: `worker-${index}`,
    state: 'IDLE',
    current: null,
    starts: 0,
    startedAt: null,
    restartedAt: null,
    policy,
    retiring: false,
    rolling: false,
  };
}

export class Incarnation {
  state: WorkerState = 'STARTING';
  /** Monotonic ms of the last heartbeat; null before the ack (the watchdog starts at the ack). */
  lastHeartbeat: number | null = null;
  /** Resident memory in bytes, as of the last heartbeat. */
  rss: number | null = null;
  /** Asked to stop (replaced, scaled down, shutting down): never eligible to be primary again. */
  draining = false;
  ackTimer?: NodeJS.Timeout;
  readonly acked: Promise<boolean>;
  #settleAck!: (acked: boolean) => void;

  constructor(
    readonly slot: Slot,
    readonly worker: Worker,
    /** Unique across restarts of the slot: `worker-<index>#<start>`. */
    readonly id: string,
  ) {
    this.acked = new Promise((resolve) => {
      this.#settleAck = resolve;
    });
  }

  get pid(): number | null {
    return this.worker.process.pid ?? null;
  }

  get alive(): boolean {
    return this.worker.process.exitCode === null && this.worker.process.signalCode === null;
  }

  markAcked(): boolean {
    if (this.state === 'ACKED' || this.state === 'TERMINATED') return false;
    clearTimeout(this.ackTimer);
    this.state = 'ACKED';
    this.lastHeartbeat = performance.now();
    this.#settleAck(true);
    return true;
  }

  markExited(): void {
    clearTimeout(this.ackTimer);
    this.state = 'TERMINATED';
    this.#settleAck(false);
  }

  markAckTimedOut(): void {
    this.#settleAck(false);
  }
}
