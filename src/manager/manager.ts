/**
 * The worker manager: runs N workers through node:cluster (one shared port), acks their start,
 * watches their heartbeats, restarts them with backoff, and arbitrates which one is primary.
 * Exit watching and liveness are separate: the `exit` event is instant crash detection; heartbeats
 * from the worker's own event loop catch hangs (a SIGSTOPped or busy-looping worker sends none).
 */
import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrimacyError } from '../errors.js';
import { Arbiter } from './arbiter.js';
import { FileEpochStore } from './epoch.js';
import { type ManagerOptions, type ResolvedManagerOptions, resolveManagerOptions } from './options.js';
import { isPrimacyMessage, type ManagerMessage, type WorkerMessage } from './protocol.js';
import { RestartPolicy } from './restart-policy.js';

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
  readonly lastHeartbeat: number | null;
  readonly primary: boolean;
}

interface Slot {
  index: number;
  name: string;
  state: WorkerState;
  worker: Worker | null;
  workerId: string | null;
  starts: number;
  startedAt: number | null;
  restartedAt: number | null;
  lastHeartbeat: number | null;
  policy: RestartPolicy;
  ackTimer?: NodeJS.Timeout;
  restartTimer?: NodeJS.Timeout;
}

export class WorkerManager extends EventEmitter {
  readonly #options: ResolvedManagerOptions;
  readonly #slots: Slot[] = [];
  readonly #arbiter: Arbiter;
  /** Lock names workers have campaigned for (to wake newly acked workers, and for status). */
  readonly #seenLocks = new Set<string>();
  #watchdog: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | null = null;
  #startup: { resolve: () => void; reject: (error: Error) => void } | null = null;

  constructor(options: ManagerOptions) {
    super();
    this.#options = resolveManagerOptions(options);
    if (!cluster.isPrimary)
      throw new PrimacyError('ERR_PRIMACY_MANAGER', '[primacy] [manager] must run in the primary process, not in a worker');
    const epochs = new FileEpochStore(
      join(this.#options.stateDir ?? join(tmpdir(), 'primacy-manager'), `${this.#options.name}.epochs.json`),
    );
    this.#arbiter = new Arbiter(epochs, undefined, (name) => this.#broadcast({ primacy: 'lock-free', name }));
  }

  /** Starts every worker; resolves once all have acked, rejects (after stopping) if one cannot start. */
  start(): Promise<void> {
    const { script, args, workers } = this.#options;
    cluster.setupPrimary({ exec: script, args, execArgv: [...process.execArgv, '--import', bootstrapUrl()] });
    const started = new Promise<void>((resolve, reject) => {
      this.#startup = { resolve, reject };
    });
    for (let index = 0; index < workers; index++) this.#spawn(this.#newSlot(index));
    this.#watchdog = setInterval(() => this.#checkHeartbeats(), Math.max(50, this.#options.heartbeatInterval / 2));
    this.#watchdog.unref();
    return started.catch(async (error: Error) => {
      await this.stop();
      throw error;
    });
  }

  workers(): WorkerInfo[] {
    return this.#slots.map((slot) => ({
      name: slot.name,
      index: slot.index,
      state: slot.state,
      pid: slot.worker?.process.pid ?? null,
      starts: slot.starts,
      startedAt: slot.startedAt,
      restartedAt: slot.restartedAt,
      // Kept on the monotonic clock; shown as wall time.
      lastHeartbeat: slot.lastHeartbeat === null ? null : Math.round(Date.now() - (performance.now() - slot.lastHeartbeat)),
      primary: slot.workerId !== null && [...this.#seenLocks].some((name) => this.#arbiter.holderOf(name)?.workerId === slot.workerId),
    }));
  }

  /** Stops every worker: SIGTERM, then SIGKILL after `killTimeout`; resolves once all have exited. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #stopAll(): Promise<void> {
    clearInterval(this.#watchdog);
    for (const slot of this.#slots) {
      clearTimeout(slot.restartTimer);
      clearTimeout(slot.ackTimer);
    }
    await Promise.all(this.#slots.map((slot) => (slot.worker ? this.#terminate(slot.worker, 'SIGTERM') : undefined)));
  }

  #newSlot(index: number): Slot {
    const { restart, backoff, crashLoop } = this.#options;
    const slot: Slot = {
      index,
      name: `worker-${index}`,
      state: 'IDLE',
      worker: null,
      workerId: null,
      starts: 0,
      startedAt: null,
      restartedAt: null,
      lastHeartbeat: null,
      policy: new RestartPolicy({ policy: restart, ...backoff, ...crashLoop }),
    };
    this.#slots[index] = slot;
    return slot;
  }

  #spawn(slot: Slot): void {
    const { workers, heartbeatInterval, ackTimeout, ackOn } = this.#options;
    const worker = cluster.fork({
      PRIMACY_MANAGED: '1',
      PRIMACY_WORKER_NAME: slot.name,
      PRIMACY_WORKER_INDEX: String(slot.index),
      PRIMACY_WORKERS: String(workers),
      PRIMACY_HEARTBEAT_INTERVAL: String(heartbeatInterval),
    });
    slot.worker = worker;
    slot.workerId = `${slot.name}#${slot.starts}`;
    slot.starts++;
    slot.state = 'STARTING';
    slot.lastHeartbeat = null;
    const workerId = slot.workerId;
    worker.on('online', () => {
      if (slot.worker === worker) slot.state = 'STARTED';
    });
    if (ackOn === 'listening') worker.on('listening', () => this.#acked(slot, worker));
    worker.on('message', (message: unknown) => this.#onMessage(slot, worker, workerId, message));
    worker.on('exit', (code, signal) => this.#onExit(slot, worker, workerId, code, signal));
    slot.ackTimer = setTimeout(() => this.#ackTimedOut(slot, worker), ackTimeout);
    slot.ackTimer.unref();
  }

  #acked(slot: Slot, worker: Worker): void {
    if (slot.worker !== worker || slot.state === 'ACKED') return;
    clearTimeout(slot.ackTimer);
    slot.state = 'ACKED';
    slot.startedAt = Date.now();
    slot.lastHeartbeat = performance.now(); // the watchdog starts from the ack
    this.emit('acked', this.#info(slot));
    // It may have campaigned before its ack and been refused: wake it for every free lock now.
    for (const name of this.#seenLocks) {
      if (!this.#arbiter.holderOf(name) && worker.isConnected()) worker.send({ primacy: 'lock-free', name } satisfies ManagerMessage);
    }
    if (this.#startup && this.#slots.every((s) => s.state === 'ACKED')) {
      this.#startup.resolve();
      this.#startup = null;
    }
  }

  #ackTimedOut(slot: Slot, worker: Worker): void {
    if (slot.worker !== worker || slot.state === 'ACKED') return;
    const reason = `${slot.name} (pid ${worker.process.pid}) did not ack within ${this.#options.ackTimeout} ms`;
    if (this.#startup) this.#failStartup(reason);
    else void this.#terminate(worker, 'SIGKILL');
  }

  #failStartup(reason: string): void {
    this.#startup?.reject(new PrimacyError('ERR_PRIMACY_START', `[primacy] [manager] start failed: ${reason}`));
    this.#startup = null;
  }

  #onMessage(slot: Slot, worker: Worker, workerId: string, message: unknown): void {
    if (!isPrimacyMessage(message)) return;
    const m = message as WorkerMessage;
    if (m.primacy === 'heartbeat') slot.lastHeartbeat = performance.now();
    else if (m.primacy === 'ready') this.#acked(slot, worker);
    else if (m.primacy === 'lock') {
      const eligible = slot.worker === worker && slot.state === 'ACKED' && this.#stopping === null;
      const reply = (fields: Omit<Extract<ManagerMessage, { primacy: 'lock-reply' }>, 'primacy' | 'id'>) =>
        worker.isConnected() && worker.send({ primacy: 'lock-reply', id: m.id, ...fields } satisfies ManagerMessage);
      const ttl = m.ttl ?? 0;
      if (m.op === 'acquire' && m.holder) reply({ grant: this.#arbiter.acquire(m.name, workerId, m.holder, ttl, eligible) });
      else if (m.op === 'renew') reply({ grant: this.#arbiter.renew(m.name, workerId, m.token ?? -1, ttl) });
      else if (m.op === 'release') {
        this.#arbiter.release(m.name, workerId, m.token ?? -1);
        reply({ grant: null });
      } else if (m.op === 'inspect') reply({ record: this.#arbiter.inspect(m.name, (id) => this.#slots.some((s) => s.workerId === id)) });
      if (m.op === 'acquire') this.#seenLocks.add(m.name);
    }
  }

  #onExit(slot: Slot, worker: Worker, workerId: string, code: number | null, signal: string | null): void {
    clearTimeout(slot.ackTimer);
    // The holder is gone for certain: whatever it held is free now, and the others are woken.
    this.#arbiter.workerGone(workerId);
    if (slot.worker !== worker) return;
    slot.worker = null;
    const info = { code, signal };
    const uptime = slot.startedAt === null ? 0 : Date.now() - slot.startedAt;
    const wasAcked = slot.state === 'ACKED';
    slot.state = 'TERMINATED';
    this.emit('exit', this.#info(slot), info);
    if (this.#stopping) return;
    if (this.#startup && !wasAcked) {
      this.#failStartup(`${slot.name} (pid ${worker.process.pid}) exited before acking (code ${code}, signal ${signal})`);
      return;
    }
    const decision = slot.policy.decide({ clean: code === 0 && signal === null, uptime, now: performance.now() });
    if (decision.action === 'complete') slot.state = 'COMPLETED';
    else if (decision.action === 'fail') {
      slot.state = 'FAILED';
      this.emit('failed', this.#info(slot), decision.reason);
    } else {
      slot.state = 'RESTARTING';
      slot.restartedAt = Date.now();
      this.emit('restarting', this.#info(slot), decision.delay);
      slot.restartTimer = setTimeout(() => {
        if (!this.#stopping) this.#spawn(slot);
      }, decision.delay);
    }
  }

  /** Kills workers whose event loop has been silent past the heartbeat timeout (hung or stopped). */
  #checkHeartbeats(): void {
    const now = performance.now();
    for (const slot of this.#slots) {
      if (slot.state !== 'ACKED' || slot.worker === null || slot.lastHeartbeat === null) continue;
      if (now - slot.lastHeartbeat <= this.#options.heartbeatTimeout) continue;
      this.emit('hung', this.#info(slot), now - slot.lastHeartbeat);
      slot.lastHeartbeat = null; // report once
      // A hung loop cannot run a SIGTERM handler: kill it outright (SIGCONT first, so a stopped one dies now).
      slot.worker.process.kill('SIGCONT');
      void this.#terminate(slot.worker, 'SIGKILL');
    }
  }

  /** Sends `signal`; if the worker is still alive after `killTimeout`, SIGKILL. Resolves on exit. */
  #terminate(worker: Worker, signal: NodeJS.Signals): Promise<void> {
    if (worker.process.exitCode !== null || worker.process.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const escalate = setTimeout(() => worker.process.kill('SIGKILL'), this.#options.killTimeout);
      worker.process.once('exit', () => {
        clearTimeout(escalate);
        resolve();
      });
      worker.process.kill(signal);
    });
  }

  #broadcast(message: ManagerMessage): void {
    for (const slot of this.#slots) if (slot.worker?.isConnected()) slot.worker.send(message);
  }

  #info(slot: Slot): WorkerInfo {
    return this.workers()[slot.index] as WorkerInfo;
  }
}

/**
 * The bootstrap preloaded into workers: the TypeScript source in development, or the built
 * `dist/manager-bootstrap.js` (every built chunk sits in dist/, beside it).
 */
function bootstrapUrl(): string {
  const ts = new URL('./bootstrap.ts', import.meta.url);
  return existsSync(fileURLToPath(ts)) ? ts.href : new URL('./manager-bootstrap.js', import.meta.url).href;
}
