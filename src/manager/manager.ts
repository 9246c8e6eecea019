/**
 * The worker manager: runs N workers through node:cluster (one shared port), acks their start,
 * watches their heartbeats, restarts them with backoff, restarts them without downtime, and
 * arbitrates which one is primary. Exit watching and liveness are separate: the `exit` event is
 * instant crash detection; heartbeats from the worker's own event loop catch hangs.
 */
import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import { runningTimeout } from '../_internal/running-time.js';
import { PrimacyError } from '../errors.js';
import { workerExecArgv } from './bootstrap-url.js';
import { stopLeftoverGroup } from './command-group.js';
import { CustomCommands } from './command-registry.js';
import { customSlots, type ManageOptions, type ProcessRun } from './custom.js';
import { followExit } from './exit-handling.js';
import { startHealthChecks } from './health.js';
import { createSlot, firstFailure, Incarnation, type Slot, slotInfo, type WorkerInfo, type WorkerState, workerEnv } from './incarnation.js';
import { controlCommands } from './inspector.js';
import { routerFor } from './message-router.js';
import { ManagerNameClaim } from './name-claim.js';
import { type ManagerOptions, type ResolvedManagerOptions, resolveManagerOptions, usableStateDir } from './options.js';
import { childStdio, relayOutput } from './output.js';
import type { ManagerMessage } from './protocol.js';
import { answerControlRequest } from './requests.js';
import { RestartPolicy } from './restart-policy.js';
import { replaceEach, replaceWithoutDowntime, resize } from './rolling.js';
import { checkScript } from './script-check.js';
import { killHung, killUnhealthy, replaceIfOverMemory } from './sick-process.js';
import { startProcess } from './spawn.js';
import type { ManagerSteps } from './steps.js';
import { retire, terminate } from './stop-process.js';
import { startUrlHealthChecks } from './url-health.js';
import { HeartbeatWatchdog } from './watchdog.js';
import { WorkerLocks } from './worker-locks.js';
import { onWorkerMessage, type WorkerMessageSteps } from './worker-messages.js';

export type { WorkerInfo, WorkerState };

export class WorkerManager extends EventEmitter {
  readonly #options: ResolvedManagerOptions;
  /** Server workers (cluster, one shared port), by stable index. */
  readonly #slots: Slot[] = [];
  /** Custom managed processes (`manage()`). */
  readonly #processes: Slot[] = [];
  readonly #locks: WorkerLocks;
  /** Every process that has not exited yet, by incarnation id (an old one during a restart included). */
  readonly #running = new Map<string, Incarnation>();
  readonly #watchdog: HeartbeatWatchdog;
  readonly #router = routerFor(this, { slots: () => this.#all(), live: () => this.#running.values(), send: (i, m) => i.worker.send(m) });
  #nameClaim: ManagerNameClaim | null = null;
  /** Stops each health-check loop (the manager's `healthCheck`, each process's `health.url`). */
  readonly #healthLoops: Array<() => void> = [];
  #stopping: Promise<void> | null = null;
  #starting = true;
  /** The configured worker count (`workers`, then the last `scale(n)`): each new process's PRIMACY_WORKERS. */
  #total = 0;
  /** The custom inspector commands the processes registered (`worker.command`). */
  readonly commands = new CustomCommands();

  readonly #steps: ManagerSteps = {
    info: (slot) => this.#info(slot),
    emit: (event, ...args) => this.emit(event, ...args),
    spawn: (slot) => this.#spawn(slot),
    newSlot: (index) => this.#newSlot(index),
    respawn: (slot) => {
      if (this.#stopping || slot.retiring) return;
      slot.restarts++;
      this.#spawn(slot);
    },
    retire: (incarnation) => this.#retire(incarnation),
    killTimeout: (slot) => (slot.custom ? (slot.custom.killTimeout ?? this.#options.killTimeout) : this.#options.server.killTimeout),
    restart: (name) => this.restart(name),
    forget: (slot) => this.#processes.splice(this.#processes.indexOf(slot), 1),
    warn: (message) => this.#warn(message),
    stopping: () => this.#stopping !== null,
  };

  readonly #messageSteps: WorkerMessageSteps = {
    acked: (incarnation) => this.#acked(incarnation),
    memory: (incarnation) => replaceIfOverMemory(incarnation, this.#options, this.#steps),
    lock: (incarnation, message) => this.#locks.request(incarnation, message),
    command: (incarnation, message) => this.commands.receive(incarnation, message),
    request: (incarnation, message) => this.#router.receive(incarnation, message),
    control: (incarnation, message) =>
      answerControlRequest(
        controlCommands(this, () => void this.stop()),
        { id: incarnation.id, send: (m) => incarnation.worker.send(m) },
        message,
      ),
  };

  constructor(options: ManagerOptions) {
    super();
    this.#options = resolveManagerOptions(options);
    if (!cluster.isPrimary)
      throw new PrimacyError('ERR_PRIMACY_MANAGER', '[primacy] [manager] must run in the primary process, not in a worker');
    // By default the same lock a plain process uses, so managed and unmanaged processes elect together.
    this.#locks = new WorkerLocks(this.#options.lock, {
      find: (id) => this.#running.get(id),
      send: (incarnation, message) => incarnation.worker.send(message),
      broadcast: (message) => this.#broadcast(message),
      stopping: () => this.#stopping !== null,
      warn: (message) => this.#warn(message),
    });
    const { heartbeatInterval, heartbeatTimeout } = this.#options;
    this.#watchdog = new HeartbeatWatchdog(
      { tick: Math.max(50, heartbeatInterval / 2), timeout: heartbeatTimeout },
      () => this.#all().flatMap((slot) => (slot.current ? [slot.current] : [])),
      (incarnation, silentFor) => killHung(incarnation, silentFor, this.#steps),
    );
  }

  /** Starts every worker; resolves once all have acked, rejects (after stopping) if one cannot start. */
  async start(): Promise<void> {
    const { script, args, cwd, workers, healthCheck, health, processes, ackTimeout, name, output } = this.#options;
    if (script !== undefined) checkScript(script);
    // Refuses to start beside a live manager of the same name (state and socket are named after it).
    this.#nameClaim = await ManagerNameClaim.take(usableStateDir(this.#options), name, (message) => this.#warn(message));
    if (script !== undefined) cluster.setupPrimary({ exec: script, args, cwd, execArgv: workerExecArgv(), stdio: childStdio(output) });
    this.#watchdog.start();
    if (healthCheck) this.#healthLoops.push(startHealthChecks(healthCheck, health, () => this.workers(), this.#unhealthy));
    this.#total = workers;
    const incarnations = Array.from({ length: workers }, (_, index) => this.#spawn(this.#newSlot(index)));
    const custom = () =>
      Promise.all(processes.map(({ name, module, command, ...rest }) => this.manage(name, module ?? { command: command ?? [] }, rest)));
    const failure =
      (await firstFailure(incarnations, ackTimeout)) ??
      (await custom().then(
        () => null,
        // Said once, under this error's own prefix.
        (e: Error) => e.message.replace(/^\[primacy\] \[manager\] /, ''),
      ));
    this.#starting = false;
    if (failure) {
      await this.stop();
      throw new PrimacyError('ERR_PRIMACY_START', `[primacy] [manager] start failed: ${failure}`);
    }
  }

  /** Where this manager's claim and inspector socket live (created, private, if missing). */
  get stateDir(): string {
    return usableStateDir(this.#options);
  }

  /** Every server worker, then every custom managed process. */
  workers(): WorkerInfo[] {
    return this.#all().map((slot) => this.#info(slot));
  }

  /**
   * Runs a custom process (a queue consumer, a scheduler...) beside the server workers, supervised
   * the same way: heartbeats, restarts with backoff, status. Its first heartbeat is its ack. Named `name`,
   * or `name-<i>` for several. `run` is a Node module's path, or `{ command }`: any program (its
   * heartbeats then come from the command runner, so a hang inside it is not detected).
   */
  async manage(name: string, run: ProcessRun, options: ManageOptions = {}): Promise<void> {
    if (this.#stopping) throw new PrimacyError('ERR_PRIMACY_MANAGER', `[primacy] [manager] stopping: ${name} not started`);
    const slots = customSlots(name, run, options, this.#all(), (policy) => this.#restartPolicy(policy));
    this.#processes.push(...slots);
    const group = () => slots.map((slot) => this.#info(slot));
    if (options.health) this.#healthLoops.push(startUrlHealthChecks(options.health, this.#options.health, group, this.#unhealthy));
    const acked = await Promise.all(slots.map((slot) => this.#spawn(slot).acked));
    if (acked.includes(false)) throw new PrimacyError('ERR_PRIMACY_MANAGER', `[primacy] [manager] ${name} did not start`);
  }

  /**
   * Zero-downtime restart of one slot: start its new process, wait for the ack, then stop the old
   * one gracefully (a primary releases on SIGTERM, handing over at once). If the new process never
   * acks, it is killed and the old one keeps serving.
   */
  async restart(name: string): Promise<void> {
    const slot = this.#all().find((s) => s.name === name);
    if (!slot) throw new PrimacyError('ERR_PRIMACY_MANAGER', `[primacy] [manager] no worker named "${name}"`);
    // A reload or a memory restart racing a stop: a process started now would outlive the stop.
    if (this.#stopping) throw new PrimacyError('ERR_PRIMACY_MANAGER', `[primacy] [manager] stopping: ${name} not restarted`);
    await replaceWithoutDowntime(slot, this.#steps);
    this.emit('restarted', this.#info(slot));
  }

  /** Rolling restart of every slot, one at a time; stops at the first slot that fails to restart. */
  async reload(): Promise<void> {
    const rolling = this.#all().filter((slot) => !slot.retiring && (!slot.custom || slot.custom.transient));
    await replaceEach(rolling, (name) => this.restart(name));
  }

  /** Grows or shrinks to `count` slots; a scale-down removes the highest slots first. */
  async scale(count: number): Promise<void> {
    if (this.#stopping) throw new PrimacyError('ERR_PRIMACY_MANAGER', '[primacy] [manager] stopping: not scaled');
    if (this.#options.script === undefined)
      throw new PrimacyError('ERR_PRIMACY_MANAGER', '[primacy] [manager] this manager runs no server app (no `script`): nothing to scale');
    if (!Number.isInteger(count) || count < 1)
      throw new PrimacyError('ERR_PRIMACY_MANAGER', `[primacy] [manager] Expected a worker count >= 1, got ${count}`);
    this.#total = count;
    await resize(this.#slots, count, this.#steps);
  }

  /** Stops every worker: SIGTERM, then SIGKILL after `killTimeout`; resolves once all have exited. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.emit('stopping'); // a file watch, say, must not start a reload now
      this.#watchdog.stop();
      for (const stopLoop of this.#healthLoops) stopLoop();
      this.#router.stop();
      for (const slot of this.#all()) clearTimeout(slot.restartTimer);
      // Every process, not only each slot's current one: a restart under way has two (the old one
      // retiring, or kept serving because its successor had not acked yet).
      await Promise.all([...this.#running.values()].map((i) => terminate(i, 'SIGTERM', this.#steps.killTimeout(i.slot))));
      await this.#locks.close();
      await this.#nameClaim?.release();
      this.emit('stopped');
    })();
    return this.#stopping;
  }

  #newSlot(index: number): Slot {
    const slot = createSlot(index, this.#restartPolicy(this.#options.server.restart), `${this.#options.workerName}-${index}`);
    this.#slots[index] = slot;
    return slot;
  }

  #spawn(slot: Slot): Incarnation {
    const { heartbeatInterval, ackTimeout, ackOn, env: serverEnv, output } = this.#options;
    const env = { ...(slot.custom ? {} : serverEnv), ...workerEnv(slot, this.#total, heartbeatInterval) };
    const worker = startProcess(slot, env, this.#steps.killTimeout(slot), childStdio(output));
    const incarnation = new Incarnation(slot, worker, `${slot.name}#${slot.starts}`);
    if (output !== 'inherit' && incarnation.pid !== null) relayOutput(worker.process, { name: slot.name, pid: incarnation.pid }, output);
    slot.starts++;
    slot.current = incarnation;
    this.#running.set(incarnation.id, incarnation);
    worker.on('online', () => {
      if (incarnation.state === 'STARTING') incarnation.state = 'STARTED';
    });
    if (ackOn === 'listening') worker.on('listening', () => this.#acked(incarnation));
    worker.on('message', (message: unknown) => onWorkerMessage(incarnation, message, this.#messageSteps));
    worker.on('exit', (code: number | null, signal: string | null) => this.#onExit(incarnation, code, signal));
    // Running time: a manager stopped while its workers boot has not waited for them meanwhile.
    incarnation.cancelAckTimeout = runningTimeout(ackTimeout, () => this.#ackTimedOut(incarnation));
    return incarnation;
  }

  #acked(incarnation: Incarnation): void {
    if (!incarnation.markAcked()) return;
    incarnation.slot.startedAt = Date.now();
    this.emit('acked', this.#info(incarnation.slot));
    this.#locks.acked(incarnation);
  }

  #retire(incarnation: Incarnation): Promise<void> {
    const { drainTime } = this.#options;
    const killTimeout = this.#steps.killTimeout(incarnation.slot);
    const steppedDown = () => this.#locks.relinquished(incarnation.id, killTimeout);
    return retire(incarnation, { killTimeout, drainTime, steppedDown });
  }

  #ackTimedOut(incarnation: Incarnation): void {
    if (incarnation.state === 'ACKED') return;
    incarnation.markAckTimedOut();
    // At start-up the manager gives up as a whole; later, a silent newcomer is killed (and retried).
    if (!this.#starting && incarnation.slot.current === incarnation)
      void terminate(incarnation, 'SIGKILL', this.#steps.killTimeout(incarnation.slot));
  }

  #onExit(incarnation: Incarnation, code: number | null, signal: string | null): void {
    incarnation.markExited();
    this.#running.delete(incarnation.id);
    this.#locks.exited(incarnation);
    this.#router.exited(incarnation);
    const { slot } = incarnation;
    stopLeftoverGroup(incarnation, this.#steps.killTimeout(slot));
    this.emit('exit', { ...this.#info(slot), pid: incarnation.pid }, { code, signal });
    // A shutdown or a failed start: nothing to restart.
    if (!this.#stopping && !this.#starting) followExit(incarnation, code === 0 && signal === null, this.#steps);
  }

  /** Reported, never thrown: a backend hiccup must not take the manager (and its workers) down. */
  #warn(message: string): void {
    if (this.listenerCount('warning') > 0) this.emit('warning', message);
    else process.emitWarning(message, 'PrimacyWarning');
  }

  readonly #unhealthy = (info: WorkerInfo, reason: string): void =>
    killUnhealthy(this.#all().find((slot) => slot.name === info.name)?.current, info, reason, this.#steps);

  #restartPolicy(policy = this.#options.restart): RestartPolicy {
    return new RestartPolicy({ policy, ...this.#options.backoff, ...this.#options.crashLoop });
  }

  #broadcast(message: ManagerMessage): void {
    for (const slot of this.#all()) slot.current?.worker.send(message);
  }

  #all(): Slot[] {
    return [...this.#slots, ...this.#processes];
  }

  #info(slot: Slot): WorkerInfo {
    return slotInfo(slot, (id) => this.#locks.holdsAny(id));
  }
}
