/**
 * The orchestrator's view of the candidates while the run goes on: it records their reports and
 * the faults done to them (the run's log), and answers "who is primary now?" and "who can be hit?"
 * for the fault injector. Candidates are known by pid; a slot keeps its number across respawns.
 */
import type { FaultRecord, Hang, Orphan, Pause, RunLog, TermEvent } from './log.js';
import type { CandidateLine } from './protocol.js';

export interface Member {
  pid: number;
  slot: number;
  ready: boolean;
  alive: boolean;
  /** Set while SIGSTOPped or told to spin: not a target for another fault. */
  held: boolean;
  /** Whether we told it to go (SIGKILL, SIGTERM) or the manager said it hung: its exit is expected. */
  doomed: boolean;
}

export class Recorder {
  readonly events: TermEvent[] = [];
  readonly pauses: Pause[] = [];
  readonly faults: FaultRecord[] = [];
  readonly crashes: RunLog['crashes'] = [];
  readonly errors = new Map<string, number>();
  readonly hangs: Hang[] = [];
  readonly orphans: Orphan[] = [];
  /** Wall-clock steps the candidates saw (each one, and each step back). */
  clockStepsSeen = 0;
  readonly #members = new Map<number, Member>();
  /** pid → token of the term it reports now. */
  readonly #believers = new Map<number, { token: number; t: number }>();
  /** pid → when it said it was exiting (its own stamp: earlier than anyone can see it gone). */
  readonly #exits = new Map<number, number>();
  #closed = false;

  /** Every candidate pid seen, for the cleanup check. */
  pids(): number[] {
    return [...this.#members.keys()];
  }

  spawned(pid: number, slot: number): void {
    this.#members.set(pid, { pid, slot, ready: false, alive: true, held: false, doomed: false });
  }

  /** A line from a candidate (stamped by the candidate itself). */
  line(line: CandidateLine): void {
    if (this.#closed) return;
    const member = this.#members.get(line.pid);
    if (line.ev === 'ready' && member) member.ready = true;
    else if (line.ev === 'elected') {
      this.events.push({ ev: 'elected', pid: line.pid, t: line.t, token: line.token });
      this.#believers.set(line.pid, { token: line.token, t: line.t });
    } else if (line.ev === 'revoked') {
      this.events.push({ ev: 'revoked', pid: line.pid, t: line.t, token: line.token, reason: line.reason });
      this.#believers.delete(line.pid);
    } else if (line.ev === 'busy') {
      this.pauses.push({ pid: line.pid, from: line.from, to: line.to, cause: line.stall ? 'stall' : 'busy', io: line.io });
      if (member) member.held = false;
    } else if (line.ev === 'exit') {
      this.#exits.set(line.pid, line.t);
      this.#moveDeathUp(line.pid, line.t);
    } else if (line.ev === 'clock') {
      this.clockStepsSeen++;
    } else if (line.ev === 'error') {
      const key = line.message.slice(0, 120);
      this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
    }
  }

  /** A process is gone. `expected`: we (or the manager, for a hang) caused it. */
  died(pid: number, t: number, how: string, expected = false): void {
    const member = this.#members.get(pid);
    if (!member?.alive) return;
    member.alive = false;
    this.#believers.delete(pid);
    if (this.#closed) return;
    const at = Math.min(t, this.#exits.get(pid) ?? t);
    this.events.push({ ev: 'died', pid, t: at, how });
    if (!expected && !member.doomed) this.crashes.push({ pid, t: at, how });
  }

  /** Its own exit stamp came after its death was recorded (from someone who saw it later): use the stamp. */
  #moveDeathUp(pid: number, t: number): void {
    if (this.#closed) return;
    const death = this.events.find((e) => e.ev === 'died' && e.pid === pid);
    if (death && t < death.t) death.t = t;
  }

  /** Its manager killed it as hung (so its exit is expected), whether or not we had it stopped. */
  hung(pid: number, t: number, manager: number, silentFor: number): void {
    const member = this.#members.get(pid);
    if (member) member.doomed = true;
    if (!this.#closed) this.hangs.push({ pid, manager, t, silentFor, held: member?.held ?? false });
  }

  /** A process of the fleet other than a candidate (a manager) exited without being told to. */
  helperCrashed(pid: number, t: number, process: string, how: string): void {
    if (!this.#closed) this.crashes.push({ pid, t, how, process });
  }

  orphaned(orphan: Orphan): void {
    if (!this.#closed) this.orphans.push(orphan);
  }

  /** We are about to end this process (stamp taken by the caller just before the signal). */
  doom(pid: number): void {
    const member = this.#members.get(pid);
    if (member) member.doomed = true;
  }

  hold(pid: number, held: boolean): void {
    const member = this.#members.get(pid);
    if (member) member.held = held;
  }

  paused(pause: Pause): void {
    if (!this.#closed) this.pauses.push(pause);
  }

  /** The live process reporting belief with the highest token, if any. */
  primary(): Member | undefined {
    let best: { member: Member; token: number } | undefined;
    for (const [pid, { token }] of this.#believers) {
      const member = this.#members.get(pid);
      if (member?.alive && (!best || token > best.token)) best = { member, token };
    }
    return best?.member;
  }

  /** The token of the term `pid` reports now, if it reports one. */
  tokenOf(pid: number): number | undefined {
    return this.#believers.get(pid)?.token;
  }

  /** Live, started, not currently stopped or spinning: candidates a new fault may hit, by slot. */
  targets(): Member[] {
    return [...this.#members.values()].filter((m) => m.alive && m.ready && !m.held && !m.doomed).sort((a, b) => a.slot - b.slot);
  }

  live(): Member[] {
    return [...this.#members.values()].filter((m) => m.alive);
  }

  /** Stop recording: what happens while everything is torn down is not part of the run. */
  close(): void {
    this.#closed = true;
  }
}
