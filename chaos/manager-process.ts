/**
 * One WorkerManager of a chaos fleet (chaos/manager-main.ts), as the orchestrator sees it: its
 * workers (by their acks and exits), the faults done to the manager itself (SIGSTOP, SIGKILL) and
 * its restart, as a supervisor (systemd, a container runtime) would restart it.
 *
 * Its workers must exit with it when it dies, even by SIGKILL (their IPC channel closes). After a
 * kill we wait for every worker process it had (found in /proc, so one that had not acked yet
 * counts too); one still alive after the largest TTL is recorded as an orphan, then killed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Child } from '../harness/child.js';
import { hostNow } from '../harness/clock.js';
import { isRunning, signal } from '../harness/pids.js';
import { procStatFields } from '../src/_internal/proc-stat.js';
import { CHAOS_CHILD } from './fleet.js';
import { type CandidateSettings, largestTtl, MANAGER_NAME_ENV, type ManagerLine, SETTINGS_ENV, WORKERS_ENV } from './protocol.js';
import type { Recorder } from './recorder.js';

const MANAGER_MAIN = join(import.meta.dirname, 'manager-main.ts');
/** A killed manager comes back after this long (a supervisor's restart delay, as for a candidate). */
export const MANAGER_RESPAWN_DELAY = 300;
/** How long a start (the manager and every worker acked) may take on a loaded machine. */
const START_TIMEOUT = 60_000;

export class ChaosManager {
  #process: Child | undefined;
  /** Acked workers not seen exiting yet. */
  readonly #workers = new Set<number>();
  /** Every manager pid this slot has had, for the cleanup check. */
  readonly #pids: number[] = [];
  #up = false;
  /** We are killing or stopping it on purpose: its exit is no crash. */
  #doomed = false;
  #closing = false;
  #held = false;

  constructor(
    private readonly recorder: Recorder,
    readonly name: string,
    private readonly settings: CandidateSettings,
    private readonly workerCount: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly onLine: (line: Record<string, unknown>) => void,
  ) {}

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Started (every worker acked once), not killed since, not SIGSTOPped. */
  get targetable(): boolean {
    return this.#up && !this.#held && !this.#closing;
  }

  get running(): boolean {
    return this.#process?.running ?? false;
  }

  pids(): number[] {
    return [...this.#pids];
  }

  owns(workerPid: number): boolean {
    return this.#workers.has(workerPid);
  }

  /** Spawns the manager and resolves once it has started every worker (rejects if it exits first). */
  start(): Promise<void> {
    const env = {
      ...this.env,
      [SETTINGS_ENV]: JSON.stringify(this.settings),
      [WORKERS_ENV]: String(this.workerCount),
      [MANAGER_NAME_ENV]: this.name,
    };
    let started: () => void = () => {};
    const manager = new Child(MANAGER_MAIN, [], env, CHAOS_CHILD);
    manager.onEvent((line) => {
      if (line.pid === manager.pid && (line as unknown as ManagerLine).ev === 'started') started();
      else this.#onLine(manager.pid, line);
    });
    this.#process = manager;
    this.#pids.push(manager.pid);
    this.#doomed = false;
    let wasUp = false;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`manager "${this.name}" did not start within ${START_TIMEOUT} ms`)), START_TIMEOUT);
      started = () => {
        clearTimeout(timer);
        wasUp = true;
        this.#up = true;
        resolve();
      };
      void manager.exited.then(() => {
        const exit = manager.exit!;
        clearTimeout(timer);
        this.#up = false;
        const how = `${exit.signal ?? `exit code ${exit.code}`}${manager.stderr ? `: ${manager.stderr.trim().split('\n').at(-1)}` : ''}`;
        reject(new Error(`manager "${this.name}" exited (${how})`));
        // Killed on purpose, or a failed start (which the caller of start() hears of).
        if (this.#doomed || this.#closing || !wasUp) return;
        // Nobody told it to go: a finding. Its workers go with it; bring it back as after a kill.
        this.recorder.helperCrashed(manager.pid, exit.t, `manager "${this.name}" pid`, how);
        for (const pid of this.#workers) this.recorder.doom(pid);
        void this.#afterDeath(manager.pid, exit.t, [...this.#workers])
          .then(() => this.#restart())
          .catch(() => undefined); // recorded as a crash by #restart
      });
    });
  }

  #onLine(managerPid: number, line: Record<string, unknown>): void {
    if (line.pid !== managerPid || typeof line.workerPid !== 'number') {
      this.onLine(line); // a worker's own line (they share the manager's stdout)
      return;
    }
    const m = line as unknown as ManagerLine;
    if (m.ev === 'acked') {
      this.#workers.add(m.workerPid);
      this.recorder.spawned(m.workerPid, m.index);
      this.recorder.line({ ev: 'ready', pid: m.workerPid, t: m.t });
    } else if (m.ev === 'hung') this.recorder.hung(m.workerPid, m.t, managerPid, m.silentFor);
    else if (m.ev === 'exit') {
      this.#workers.delete(m.workerPid);
      this.recorder.died(m.workerPid, m.t, m.signal ?? `exit code ${m.code}`);
    }
  }

  stop(): void {
    const pid = this.pid;
    if (pid === undefined) return;
    this.#held = true;
    signal(pid, 'SIGSTOP');
  }

  resume(): void {
    const pid = this.pid;
    if (pid === undefined) return;
    signal(pid, 'SIGCONT');
    this.#held = false;
  }

  /**
   * SIGKILL, then: every worker process it had must exit with it (waited for up to the largest
   * TTL), and it is restarted after MANAGER_RESPAWN_DELAY. Resolves once it has started again.
   */
  async kill(): Promise<void> {
    const manager = this.#process;
    if (!manager) return;
    const workers = [...new Set([...this.#workers, ...workersOf(manager.pid)])];
    for (const pid of workers) this.recorder.doom(pid);
    this.#doomed = true;
    this.#up = false;
    const t = hostNow();
    signal(manager.pid, 'SIGCONT');
    signal(manager.pid, 'SIGKILL');
    await manager.exited;
    await this.#afterDeath(manager.pid, t, workers);
    await this.#restart();
  }

  /** Waits for the dead manager's workers to be gone; records each death, and any orphan. */
  async #afterDeath(managerPid: number, t: number, workers: readonly number[]): Promise<void> {
    const orphanBound = largestTtl(this.settings);
    let left = [...workers];
    while (left.length > 0 && hostNow() - t < orphanBound && !this.#closing) {
      const gone = left.filter((pid) => !isRunning(pid));
      // Its own `exit` line (stamped before it went) moves this earlier, if it said so.
      for (const pid of gone) this.recorder.died(pid, hostNow(), 'exited with its manager', true);
      left = left.filter((pid) => !gone.includes(pid));
      if (left.length > 0) await sleep(10);
    }
    for (const pid of left) {
      if (!this.#closing) this.recorder.orphaned({ pid, manager: managerPid, t, waited: Math.round(hostNow() - t) });
      const at = hostNow();
      signal(pid, 'SIGKILL');
      this.recorder.died(pid, at, 'SIGKILL (outlived its manager)', true);
    }
    this.#workers.clear();
  }

  /** Starts it again after the respawn delay. A start that fails is a finding; it is tried 3 times. */
  async #restart(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await sleep(attempt === 1 ? MANAGER_RESPAWN_DELAY : 1000);
      if (this.#closing) return;
      try {
        await this.start();
        return;
      } catch (error) {
        const pid = this.pid ?? 0;
        this.recorder.helperCrashed(pid, hostNow(), `manager "${this.name}" pid`, `restart failed: ${(error as Error).message}`);
        if (attempt === 3 || this.#closing) throw error;
      }
    }
  }

  /** SIGTERM (the manager stops its workers, then exits), SIGKILL after 5 s; then any worker left. */
  async close(): Promise<void> {
    this.#closing = true;
    const manager = this.#process;
    if (!manager?.running) return;
    const workers = [...new Set([...this.#workers, ...workersOf(manager.pid)])];
    // A stopped worker cannot run its exit-with-the-manager handler, nor a stopped manager anything: wake them first.
    for (const pid of [manager.pid, ...workers]) signal(pid, 'SIGCONT');
    signal(manager.pid, 'SIGTERM');
    const timer = setTimeout(() => signal(manager.pid, 'SIGKILL'), 5000);
    await manager.exited;
    clearTimeout(timer);
    for (const pid of workers) signal(pid, 'SIGKILL'); // none should be left; make sure
  }
}

/** The manager's worker processes (candidates it forked), acked or not, from /proc. */
function workersOf(managerPid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(procStatFields(entry)?.[1]) !== managerPid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('candidate.ts')) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
