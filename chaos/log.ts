/**
 * What a chaos run records, as plain data: the input of the report (report.ts), which is a pure
 * function of it, so the report can be tested on hand-made logs. All times are host-monotonic ms.
 */
import type { FaultKind } from './faults.js';
import type { WriteRecord } from './protocol.js';

/** A candidate's own report of its belief, or its death as seen from outside. */
export type TermEvent =
  | { ev: 'elected'; pid: number; t: number; token: number }
  | { ev: 'revoked'; pid: number; t: number; token: number; reason: string }
  /**
   * The process is gone: `t` is when it was SIGKILLed (stamped just before the signal), or when
   * its exit was seen. A process believes nothing after its death.
   */
  | { ev: 'died'; pid: number; t: number; how: string };

/** A span during which a process could not run its code: SIGSTOPped, or its event loop blocked. */
export interface Pause {
  pid: number;
  from: number;
  to: number;
  /** stop: SIGSTOP; busy: a blocked loop we injected; stall: one nobody injected (the OS ran others). */
  cause: 'stop' | 'busy' | 'stall';
  /**
   * Busy: when the process first handled I/O after the block. Until then it cannot have seen a
   * connection the server closed meanwhile (timers run before the poll phase), so a read of
   * `isPrimary === true` up to here belongs to the block.
   */
  io?: number;
}

export interface FaultRecord {
  kind: FaultKind;
  /** Injection time. */
  at: number;
  /** When it was over: the process resumed / the node is back (= `at` for kills and SIGTERMs). */
  end: number;
  /** The pid hit (candidate faults), or the node indexes (backend faults), for the report. */
  target: string;
  /** Which pid believed it was primary at injection (null: none). */
  primary: number | null;
  /**
   * Where its failover is measured from, if not `at`: `expire-then-kill` measures the crash of the
   * new primary (at its kill), not the takeover from the busy one before it.
   */
  recoverFrom?: number;
}

/** A worker its manager killed as hung. */
export interface Hang {
  pid: number;
  /** The manager's pid. */
  manager: number;
  t: number;
  /** How long the manager said it had been silent (ms of the manager's running time). */
  silentFor: number;
  /** Whether we had it stopped or spinning then (stop-*, busy-*): its silence was real. */
  held: boolean;
}

/** A worker still alive `waited` ms after its manager was SIGKILLed (it should exit with it). */
export interface Orphan {
  pid: number;
  manager: number;
  /** When the manager was killed. */
  t: number;
  waited: number;
}

export interface RunLog {
  /** The measured window: the fault phase, from the first primary on to the end of the run. */
  start: number;
  end: number;
  events: TermEvent[];
  pauses: Pause[];
  faults: FaultRecord[];
  /** The checker's decisions, in arrival (= decision) order. */
  writes: WriteRecord[];
  /** Candidates (or managers: `process`) that exited without being told to (pid, how). */
  crashes: Array<{ pid: number; t: number; how: string; process?: string }>;
  /** A gap in primaries longer than this (beyond the end of the fault explaining it) is a violation. */
  gapBound: number;
  /** Manager fleets: the workers killed as hung, the managers' heartbeat timeout, workers that outlived a killed manager. */
  hangs?: Hang[];
  heartbeatTimeout?: number;
  orphans?: Orphan[];
}
