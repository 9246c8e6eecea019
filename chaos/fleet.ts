/**
 * The candidate processes and the signals the faults send them. `DirectFleet`: N candidates run as
 * children of the orchestrator, each respawned shortly after it exits, so N stays. The fleets with
 * managers (`ManagedFleet`, `MixedFleet`) are in fleet-managed.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Child } from '../harness/child.js';
import { hostNow } from '../harness/clock.js';
import { signal } from '../harness/pids.js';
import type { ChaosManager } from './manager-process.js';
import { type CandidateLine, type CandidateSettings, SETTINGS_ENV, SLOT_ENV } from './protocol.js';
import type { Recorder } from './recorder.js';

const CANDIDATE = join(import.meta.dirname, 'candidate.ts');
/**
 * How the run starts its processes: stamped on the host's monotonic clock, as every chaos line is,
 * and keeping only the tail of stderr (a candidate runs for minutes; its last line says why it died).
 */
export const CHAOS_CHILD = { clock: hostNow, stderrTail: 4000 };
/** A killed candidate comes back after this long (a supervisor's restart delay). */
const RESPAWN_DELAY = 300;

export abstract class Fleet {
  constructor(
    protected readonly recorder: Recorder,
    protected readonly settings: CandidateSettings,
    /** More environment for every process of the fleet (the clock shim's). */
    protected readonly env: NodeJS.ProcessEnv = {},
  ) {}

  abstract start(count: number): Promise<void>;
  abstract close(): Promise<void>;

  /** The managers of the fleet (none for a fleet of plain candidates), for the manager faults. */
  managers(): ChaosManager[] {
    return [];
  }

  /** The running processes of its own besides the candidates (the managers), for signals and clock steps. */
  helperPids(): number[] {
    return this.managers().flatMap((m) => (m.running && m.pid !== undefined ? [m.pid] : []));
  }

  /** Every such process it ever started (restarted managers too), for the cleanup check. */
  startedHelperPids(): number[] {
    return this.managers().flatMap((m) => m.pids());
  }

  /** SIGKILL. The stamp, taken just before the signal, is when its beliefs end. */
  kill(pid: number): void {
    const t = hostNow();
    this.recorder.doom(pid);
    this.recorder.died(pid, t, 'SIGKILL', true);
    signal(pid, 'SIGCONT');
    signal(pid, 'SIGKILL');
  }

  /** SIGTERM: the election stops and hands over; the process exits by itself. */
  terminate(pid: number): void {
    this.recorder.doom(pid);
    signal(pid, 'SIGTERM');
  }

  stop(pid: number): void {
    this.recorder.hold(pid, true);
    signal(pid, 'SIGSTOP');
  }

  resume(pid: number): void {
    signal(pid, 'SIGCONT');
    this.recorder.hold(pid, false);
  }

  /** Blocks the candidate's event loop for `ms` (it reports the exact span itself). */
  busy(pid: number, ms: number): void {
    this.recorder.hold(pid, true);
    writeFileSync(join(this.settings.controlDir, `busy-${pid}`), String(ms));
    signal(pid, 'SIGUSR2');
  }

  /** A candidate's own JSON line (a plain child's, or a worker's through its manager's stdout). */
  onCandidateLine(line: Record<string, unknown>): void {
    if (typeof line.pid === 'number' && typeof line.t === 'number') this.recorder.line(line as unknown as CandidateLine);
  }
}

export class DirectFleet extends Fleet {
  readonly #processes = new Set<Child>();
  #closing = false;

  /** Slots `firstSlot` to `firstSlot + count - 1` (a mixed fleet numbers its plain candidates after the workers). */
  async start(count: number, firstSlot = 0): Promise<void> {
    for (let slot = firstSlot; slot < firstSlot + count; slot++) this.#spawn(slot);
  }

  #spawn(slot: number): void {
    const env = { ...this.env, [SETTINGS_ENV]: JSON.stringify(this.settings), [SLOT_ENV]: String(slot) };
    const child = new Child(CANDIDATE, [], env, CHAOS_CHILD);
    child.onEvent((line) => this.onCandidateLine(line));
    this.#processes.add(child);
    this.recorder.spawned(child.pid, slot);
    void child.exited.then(() => {
      const exit = child.exit!;
      this.#processes.delete(child);
      const how = exit.signal ?? `exit code ${exit.code}${child.stderr ? `: ${child.stderr.trim().split('\n').at(-1)}` : ''}`;
      this.recorder.died(child.pid, exit.t, how);
      if (!this.#closing) setTimeout(() => !this.#closing && this.#spawn(slot), RESPAWN_DELAY);
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    const children = [...this.#processes];
    for (const child of children) {
      signal(child.pid, 'SIGCONT');
      signal(child.pid, 'SIGKILL');
    }
    await Promise.all(children.map((child) => child.exited));
  }
}
