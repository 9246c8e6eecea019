/**
 * The candidate processes and the signals the faults send them. `DirectFleet`: N candidates run as
 * children of the orchestrator, each respawned shortly after it exits, so N stays. `ManagedFleet`:
 * one WorkerManager (manager-main.ts) runs N candidates as workers and restarts them itself; their
 * lines reach us through the manager's stdout, which the workers inherit.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScriptProcess, signal } from './process.js';
import { type CandidateLine, type CandidateSettings, hostNow, type ManagerLine, SETTINGS_ENV, SLOT_ENV } from './protocol.js';
import type { Recorder } from './recorder.js';

const CANDIDATE = join(import.meta.dirname, 'candidate.ts');
const MANAGER_MAIN = join(import.meta.dirname, 'manager-main.ts');
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
  /** Processes of its own besides the candidates (the manager), for the cleanup check. */
  abstract helperPids(): number[];

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

  protected onCandidateLine(line: Record<string, unknown>): void {
    if (typeof line.pid === 'number' && typeof line.t === 'number') this.recorder.line(line as unknown as CandidateLine);
  }
}

export class DirectFleet extends Fleet {
  readonly #processes = new Set<ScriptProcess>();
  #closing = false;

  helperPids(): number[] {
    return [];
  }

  async start(count: number): Promise<void> {
    for (let slot = 0; slot < count; slot++) this.#spawn(slot);
  }

  #spawn(slot: number): void {
    const env = { ...this.env, [SETTINGS_ENV]: JSON.stringify(this.settings), [SLOT_ENV]: String(slot) };
    const child = new ScriptProcess(CANDIDATE, env, (line) => this.onCandidateLine(line));
    this.#processes.add(child);
    this.recorder.spawned(child.pid, slot);
    void child.exited.then((exit) => {
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

export class ManagedFleet extends Fleet {
  #manager: ScriptProcess | undefined;
  #started: (() => void) | undefined;

  helperPids(): number[] {
    return this.#manager ? [this.#manager.pid] : [];
  }

  async start(count: number): Promise<void> {
    const env = { ...this.env, [SETTINGS_ENV]: JSON.stringify(this.settings), CHAOS_WORKERS: String(count) };
    const manager = new ScriptProcess(MANAGER_MAIN, env, (line) => this.#onLine(line));
    this.#manager = manager;
    await new Promise<void>((resolve, reject) => {
      this.#started = resolve;
      void manager.exited.then(({ code, signal }) => reject(new Error(`the manager exited (${signal ?? code}): ${manager.stderr.trim()}`)));
    });
  }

  #onLine(line: Record<string, unknown>): void {
    const m = line as unknown as ManagerLine;
    if (m.ev === 'started') this.#started?.();
    else if (m.ev === 'acked') {
      this.recorder.spawned(m.workerPid, m.index);
      this.recorder.line({ ev: 'ready', pid: m.workerPid, t: m.t });
    } else if (m.ev === 'hung') this.recorder.doom(m.workerPid);
    else if (m.ev === 'exit') this.recorder.died(m.workerPid, m.t, m.signal ?? `exit code ${m.code}`);
    else this.onCandidateLine(line);
  }

  async close(): Promise<void> {
    const manager = this.#manager;
    if (!manager) return;
    const workers = this.recorder.live().map((m) => m.pid);
    // A stopped worker cannot run its exit-with-the-manager handler: wake every one first.
    for (const pid of workers) signal(pid, 'SIGCONT');
    signal(manager.pid, 'SIGTERM'); // the manager stops its workers, then exits
    const timer = setTimeout(() => signal(manager.pid, 'SIGKILL'), 5000);
    await manager.exited;
    clearTimeout(timer);
    for (const pid of workers) signal(pid, 'SIGKILL'); // none should be left; make sure
  }
}
