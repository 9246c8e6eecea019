/**
 * What the chaos processes tell each other. Every time in it is read from the host's monotonic
 * clock, `hostNow` (harness/clock.ts says why): the safety checks compare stamps of different
 * processes to the millisecond.
 */

import type { Adapter } from './faults.js';

/** A line's own fields: what a process fills in before `pid` and `t` are added (distributes over unions). */
export type LineBody<T> = T extends unknown ? Omit<T, 'pid' | 't'> : never;

/** A JSON line a candidate prints on stdout. */
export type CandidateLine =
  | { ev: 'ready'; pid: number; t: number }
  | { ev: 'elected'; pid: number; t: number; token: number }
  | { ev: 'revoked'; pid: number; t: number; token: number; reason: string }
  /**
   * Its event loop was blocked on purpose from `from` to `to` (the busy-primary fault), and first
   * handled I/O again at `io` (a socket closed meanwhile is seen only then).
   */
  | { ev: 'busy'; pid: number; t: number; from: number; to: number; io: number; stall?: boolean }
  | { ev: 'error'; pid: number; t: number; message: string }
  /**
   * It is exiting (its `exit` listener, with its code): it believes nothing from here on. A worker
   * whose manager was SIGKILLed says so on its way out, before anyone else can see its pid gone.
   */
  | { ev: 'exit'; pid: number; t: number; code: number }
  /** Its wall clock moved against its monotonic clock by over a second: a clock step reached it. */
  | { ev: 'clock'; pid: number; t: number; step: number };

/** A JSON line the manager runner (chaos/manager-main.ts) prints about its workers. */
export type ManagerLine =
  | { ev: 'started'; pid: number; t: number }
  | { ev: 'acked'; pid: number; t: number; workerPid: number; index: number }
  /** It killed a worker as hung: silent for `silentFor` ms of the manager's running time. */
  | { ev: 'hung'; pid: number; t: number; workerPid: number; silentFor: number }
  | { ev: 'exit'; pid: number; t: number; workerPid: number; code: number | null; signal: string | null };

/** A fenced write as a candidate sends it to the checker. */
export interface WriteRequest {
  token: number;
  pid: number;
  seq: number;
  /** When the writer read `isPrimary === true` (stamped just before the read). */
  checkedAt: number;
}

/** The checker's decision on one write, with its arrival time. */
export interface WriteRecord extends WriteRequest {
  t: number;
  accepted: boolean;
}

/** The environment a candidate reads its settings from (the manager passes env to its workers). */
export interface CandidateSettings {
  adapter: Adapter;
  /**
   * Lock directory, Redis URL, comma-separated Redis or etcd URLs, a postgres:// or mysql:// URL;
   * empty for the manager and mixed fleets (default lock).
   */
  where: string;
  name: string;
  /** The base TTL; a candidate's own is `candidateTtl(settings, slot)`. */
  ttl: number;
  /** A candidate's TTL is `ttl` × `ttlFactors[slot % length]` (mixed TTLs, as a fleet of versions has). */
  ttlFactors: number[];
  /** The `identity` option of every candidate (one label shared, as pods of one name do), or none. */
  identity: string | undefined;
  retryInterval: number;
  checkerUrl: string;
  /** Where the orchestrator leaves `busy-<pid>` files (ms to spin) before it sends SIGUSR2. */
  controlDir: string;
}

export const SETTINGS_ENV = 'PRIMACY_CHAOS';

/** The env variable that tells a directly spawned candidate its slot (the manager sets its own). */
export const SLOT_ENV = 'PRIMACY_CHAOS_SLOT';

/** The env variables that tell chaos/manager-main.ts its `name` and how many workers to run. */
export const MANAGER_NAME_ENV = 'PRIMACY_CHAOS_MANAGER';
export const WORKERS_ENV = 'CHAOS_WORKERS';

/** The TTL of the candidate in `slot`. */
export const candidateTtl = (s: Pick<CandidateSettings, 'ttl' | 'ttlFactors'>, slot: number): number =>
  Math.round(s.ttl * (s.ttlFactors[slot % s.ttlFactors.length] ?? 1));

/** The largest TTL in the fleet: what bounds on the whole run (gaps, waits) must use. */
export const largestTtl = (s: Pick<CandidateSettings, 'ttl' | 'ttlFactors'>): number => Math.round(s.ttl * Math.max(1, ...s.ttlFactors));

/**
 * The chaos managers' heartbeat timeout: 2 × the largest TTL, so a stop the election handles
 * (stop-primary-long) is not a hang, and a longer one (stop-primary-hung, stop-manager) is past it.
 */
export const heartbeatTimeoutOf = (s: Pick<CandidateSettings, 'ttl' | 'ttlFactors'>): number => 2 * largestTtl(s);
