/**
 * One process of a worker slot. A slot has one current incarnation, and during a zero-downtime
 * restart briefly two: the old one keeps serving until the new one has acked.
 */
import type { ProcessHandle } from './process-handle.js';
import type { RestartPolicy } from './restart-policy.js';

/**
 * A worker's state (after Sanic's, without JOINED: a Node process that exited is TERMINATED, there is
 * no separate join). The manager's view (`WorkerInfo.state`) and the process's own (`worker.state`):
 * - `NONE`: not managed. Only `worker.state` says it, in a process no manager runs.
 * - `IDLE`: a slot with no process yet.
 * - `STARTING`: forked, not yet running.
 * - `STARTED`: running, not yet acked (the process sees itself STARTED while it loads).
 * - `ACKED`: acked (listening, `worker.ready()`, or a custom process's first heartbeat); the
 *   manager tells the process so.
 * - `TERMINATED`: exited, to the manager; to the process itself, asked to stop (drained before a
 *   retire, or told just before the SIGTERM of a shutdown), on its way out.
 * - `RESTARTING`: exited; the restart policy starts it again after a backoff.
 * - `FAILED`: gave up on (crash loop, or the policy does not restart it).
 * - `COMPLETED`: exited 0 and not restarted (a custom process that finished its work).
 */
export type WorkerState = 'NONE' | 'IDLE' | 'STARTING' | 'STARTED' | 'ACKED' | 'TERMINATED' | 'RESTARTING' | 'FAILED' | 'COMPLETED';

/** A snapshot of one worker slot. */
export interface WorkerInfo {
  readonly name: string;
  readonly index: number;
  readonly state: WorkerState;
  readonly pid: number | null;
  /** How many processes this slot has started (incarnations). */
  readonly starts: number;
  /** How many times the restart policy replaced a process that exited (crashed, hung, unhealthy). */
  readonly restarts: number;
  /** How many times `restart()` or `reload()` replaced a process on purpose (not counted in `restarts`). */
  readonly reloads: number;
  /** When the current process acked; null while none runs (RESTARTING, FAILED, COMPLETED) or it has not acked yet. */
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
  restarts: number;
  reloads: number;
  /** When the slot's latest process acked (kept after it exits: the restart policy judges its uptime). */
  startedAt: number | null;
  restartedAt: number | null;
  readonly policy: RestartPolicy;
  restartTimer?: NodeJS.Timeout;
  /** Being removed by a scale-down: its exit is final. */
  retiring: boolean;
  /** A zero-downtime restart is under way: `restart()` decides what happens, not the policy. */
  rolling: boolean;
  /** When a memory limit replaced this slot's process lately (monotonic ms): bounded like a crash loop. */
  memoryReplacements: number[];
  /** Above its limit, but not replaced again yet (said once). */
  memoryHeld: boolean;
  /** Set for a custom managed process (forked, no shared port); absent for server workers. */
  custom?: CustomProcess;
}

/** How a custom managed process (`manager.manage()`, a config's non-server app) runs. */
export interface CustomProcess {
  /** A Node module, forked with the worker bootstrap (heartbeats, the `worker` API). */
  readonly module?: string;
  /** Any command instead, as an argv, run through the command runner (command-runner.ts). */
  readonly command?: readonly string[];
  readonly args: string[];
  /** Added to the manager's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** @default the manager's working directory */
  readonly cwd: string | undefined;
  /** Restarted by `reload()` like the server workers. @default false */
  readonly transient: boolean;
  /** Kept in the worker table once it has exited for good. @default true */
  readonly tracked: boolean;
  /** Restarted by the restart policy when it exits. @default true */
  readonly restartable: boolean;
  /** Its own SIGTERM-to-SIGKILL time; the manager's `killTimeout` when unset. */
  readonly killTimeout: number | undefined;
  /** Its own memory limit in bytes; the manager's `maxMemory` when unset. */
  readonly maxMemory: number | undefined;
}

export function createSlot(index: number, policy: RestartPolicy, name = `worker-${index}`, custom?: CustomProcess): Slot {
  return {
    index,
    name,
    custom,
    state: 'IDLE',
    current: null,
    starts: 0,
    restarts: 0,
    reloads: 0,
    startedAt: null,
    restartedAt: null,
    policy,
    retiring: false,
    rolling: false,
    memoryReplacements: [],
    memoryHeld: false,
  };
}

export class Incarnation {
  state: WorkerState = 'STARTING';
  /** Monotonic ms of the last heartbeat; null before the ack (the watchdog starts at the ack). */
  lastHeartbeat: number | null = null;
  /** The manager's running time since the last heartbeat (see watchdog.ts): what hang detection judges. */
  silence = 0;
  /** Resident memory in bytes, as of the last heartbeat. */
  rss: number | null = null;
  /** A command runner's command's process group (see command-group.ts); null for other processes. */
  commandGroup: number | null = null;
  /** Asked to stop (replaced, scaled down, shutting down): never eligible to be primary again. */
  draining = false;
  /** To be replaced by the reload under way: not granted a lock meanwhile, so the lease moves once, to a new process. */
  outgoing = false;
  /** Cancels the start-up ack timeout (counted in the manager's running time). */
  cancelAckTimeout: () => void = () => {};
  readonly acked: Promise<boolean>;
  #settleAck!: (acked: boolean) => void;

  constructor(
    readonly slot: Slot,
    readonly worker: ProcessHandle,
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
    this.cancelAckTimeout();
    this.state = 'ACKED';
    // So `worker.state` reads ACKED in the process too (see worker-state.ts).
    this.worker.send({ primacy: 'state', state: 'ACKED' });
    this.heard();
    this.#settleAck(true);
    return true;
  }

  /** A heartbeat (or the ack) arrived. */
  heard(): void {
    this.lastHeartbeat = performance.now();
    this.silence = 0;
  }

  markExited(): void {
    this.cancelAckTimeout();
    this.state = 'TERMINATED';
    this.#settleAck(false);
  }

  markAckTimedOut(): void {
    this.#settleAck(false);
  }
}

/** The public snapshot of a slot; `isPrimary` tells whether an incarnation holds a lock now. */
export function slotInfo(slot: Slot, isPrimary: (incarnationId: string) => boolean): WorkerInfo {
  const incarnation = slot.current;
  const beat = incarnation?.lastHeartbeat ?? null;
  return {
    name: slot.name,
    index: slot.index,
    state: incarnation?.state ?? slot.state,
    pid: incarnation?.pid ?? null,
    starts: slot.starts,
    restarts: slot.restarts,
    reloads: slot.reloads,
    // A process that is not running has no uptime, whenever the last one started.
    startedAt: incarnation?.state === 'ACKED' ? slot.startedAt : null,
    restartedAt: slot.restartedAt,
    // Kept on the monotonic clock; shown as wall time.
    lastHeartbeat: beat === null ? null : Math.round(Date.now() - (performance.now() - beat)),
    memory: incarnation?.rss ?? null,
    primary: incarnation !== null && isPrimary(incarnation.id),
  };
}

/** Why the first of these processes failed to ack, or null if all acked. */
export async function firstFailure(incarnations: Incarnation[], ackTimeout: number): Promise<string | null> {
  const results = await Promise.all(incarnations.map(async (incarnation) => ({ incarnation, acked: await incarnation.acked })));
  const failed = results.find((r) => !r.acked)?.incarnation;
  if (!failed) return null;
  const { slot, pid, worker } = failed;
  const { exitCode, signalCode } = worker.process;
  return exitCode !== null || signalCode !== null
    ? `${slot.name} (pid ${pid}) exited before acking (code ${exitCode}, signal ${signalCode})`
    : `${slot.name} (pid ${pid}) did not ack within ${ackTimeout} ms`;
}

/** The environment of a slot's process: how it knows it is managed, which slot it is, and its heartbeat interval. */
export function workerEnv(slot: Slot, workers: number, heartbeatInterval: number): Record<string, string> {
  return {
    ...slot.custom?.env,
    PRIMACY_MANAGED: '1',
    PRIMACY_WORKER_NAME: slot.name,
    PRIMACY_WORKER_INDEX: String(slot.index),
    PRIMACY_WORKERS: String(workers),
    PRIMACY_HEARTBEAT_INTERVAL: String(heartbeatInterval),
  };
}
