/**
 * One fault being injected: what every injector (inject-*.ts) needs from the run (the fleet, the
 * backend, the recorder), and the small steps they share: finding the primary, scaling the planned
 * share of a TTL to a duration, announcing the fault and recording it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { hostNow } from '../harness/clock.js';
import type { Backend } from './backend.js';
import { type PlannedFault, ttlBasis } from './faults.js';
import type { Fleet } from './fleet.js';
import type { FaultRecord } from './log.js';
import type { Member, Recorder } from './recorder.js';

export interface Injector {
  fleet: Fleet;
  backend: Backend;
  recorder: Recorder;
  /** A candidate's own TTL (mixed TTLs: they differ by slot). */
  ttlOf: (member: Member) => number;
  /** The largest TTL in the fleet. */
  largestTtl: number;
  /** The lock's name, for the keys and files the backend faults touch. */
  lockName: string;
  /** Where clock offsets go (clock.ts), if the shim is loaded. */
  clockDir: string | undefined;
  signal: AbortSignal;
  progress: (message: string) => void;
}

export class Hit {
  constructor(
    readonly fault: PlannedFault,
    readonly deps: Injector,
    private readonly phaseStart: number,
  ) {}

  get kind() {
    return this.fault.kind;
  }

  /** The primary, waiting for one if a failover is still under way (null if none comes in time). */
  async primary(): Promise<Member | null> {
    const { recorder, largestTtl } = this.deps;
    const until = hostNow() + 2 * largestTtl + 2000;
    for (;;) {
      const member = recorder.primary();
      if (member && recorder.targets().includes(member)) return member;
      if (hostNow() > until) return null;
      await this.sleep(20);
    }
  }

  /** The fault's duration in ms: its share of the primary's own TTL (or of the largest, see ttlBasis). */
  duration(primary: Member | null | undefined = this.deps.recorder.primary()): number {
    const basis = ttlBasis(this.kind) === 'primary' && primary ? this.deps.ttlOf(primary) : this.deps.largestTtl;
    return Math.round(this.fault.share * basis);
  }

  sleep(ms: number): Promise<void> {
    return ms > 0 ? sleep(ms, undefined, { signal: this.deps.signal }) : Promise.resolve();
  }

  say(target: string, duration = 0): void {
    const at = ((hostNow() - this.phaseStart) / 1000).toFixed(1);
    this.deps.progress(`+${at} s  ${this.kind} ${target}${duration ? ` for ${duration} ms` : ''}`);
  }

  skip(why: string): void {
    this.deps.progress(`skipped ${this.kind}: ${why}`);
  }

  record(fields: Pick<FaultRecord, 'at' | 'end' | 'target' | 'recoverFrom'>, primaryPid: number | null): void {
    this.deps.recorder.faults.push({ kind: this.kind, primary: primaryPid, ...fields });
  }
}
