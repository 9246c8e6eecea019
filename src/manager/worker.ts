/** The worker's side of the manager: who am I, "I am ready" (the ack), and asking the manager to act. */
import { PrimacyError } from '../errors.js';
import type { WorkerInfo, WorkerState } from './manager.js';
import { isManaged, isPrimacyMessage, type ManagerMessage, type WorkerMessage } from './protocol.js';
import type { PrimacyRequestError } from './request-error.js';
import { singleProcessControl } from './single-process-control.js';
import { type CommandHandler, type CommandOptions, registerCommand } from './worker-commands.js';
import { onRequest, request } from './worker-requests.js';
import { ownState, type WorkerMode, workerMode } from './worker-state.js';

let nextId = 1;

/** Sends a control command to the manager and resolves with its result. */
function control(command: string, args: string[] = []): Promise<unknown> {
  if (workerMode() === 'single-process') return singleProcessControl(command);
  if (!worker.managed || !process.connected) {
    return Promise.reject(new PrimacyError('ERR_PRIMACY_MANAGER', '[primacy] [manager] this process is not run by the primacy manager'));
  }
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (!isPrimacyMessage(message)) return;
      const m = message as ManagerMessage;
      if (m.primacy !== 'control-reply' || m.id !== id) return;
      process.off('message', onMessage);
      if (m.ok) resolve(m.result);
      else reject(new PrimacyError('ERR_PRIMACY_MANAGER', `[primacy] [manager] ${command} failed: ${m.error}`));
    };
    process.on('message', onMessage);
    process.send?.({ primacy: 'control', id, command, args } satisfies WorkerMessage);
  });
}

export const worker = {
  /** Whether this process runs under primacy's manager. */
  get managed(): boolean {
    return isManaged();
  },
  /** `worker-<index>`: stable across restarts of this slot. */
  get name(): string | undefined {
    return process.env.PRIMACY_WORKER_NAME;
  },
  /** The slot index, 0-based; a restarted worker keeps its slot's index. */
  get index(): number | undefined {
    const index = process.env.PRIMACY_WORKER_INDEX;
    return index === undefined ? undefined : Number(index);
  },
  /**
   * The manager's configured worker count when this process started: `workers`, or the last
   * `scale(n)` before it. Not updated later: after a scale, workers already running keep the count
   * of their start (a restarted or newly added one sees the new count; `worker.workers()` asks live).
   */
  get total(): number | undefined {
    const count = process.env.PRIMACY_WORKERS;
    return count === undefined ? undefined : Number(count);
  },
  /** A snapshot of every worker slot, from the manager. */
  workers: (): Promise<WorkerInfo[]> => control('status') as Promise<WorkerInfo[]>,
  /** Zero-downtime restart of these workers (by name), or of all of them. */
  restart: (names: string[] | { all: true }): Promise<unknown> => (Array.isArray(names) ? control('restart', names) : control('reload')),
  /** Grows or shrinks the pool to `count` workers. */
  scale: (count: number): Promise<unknown> => control('scale', [String(count)]),
  /** Starts a custom managed process on the fly (see `WorkerManager.manage`). */
  manage: (name: string, module: string, count = 1): Promise<unknown> => control('manage', [name, module, String(count)]),
  /** Asks the manager to shut everything down gracefully. */
  terminate: (): Promise<unknown> => control('shutdown'),
  /** How this process runs: `'managed'`, `'single-process'` (`primacy start --single-process`) or `'standalone'`. */
  get mode(): WorkerMode {
    return workerMode();
  },
  /**
   * What this process is to the manager: `STARTED` while it loads, `ACKED` once the manager has its
   * ack, `TERMINATED` once the manager asked it to stop (retired by a reload, restart or
   * scale-down, or shut down); `NONE` outside a manager. In single-process mode: STARTED, then
   * ACKED once the app is loaded, TERMINATED on SIGTERM/SIGINT.
   */
  get state(): WorkerState {
    return ownState();
  },
  /**
   * Registers a custom inspector command: `primacy inspect NAME args...` runs `handler(args)` on every
   * live process that registered NAME and prints each one's result (JSON-serializable), keyed by
   * worker name. A handler that throws or outlasts `timeout` fails the command (exit 1). NAME:
   * lowercase letters, digits and dashes, not a built-in; once per process. Kept without effect
   * outside a manager.
   */
  command: (name: string, handler: CommandHandler, options?: CommandOptions): void => registerCommand(name, handler, options),
  /**
   * Sends `payload` (JSON-serialisable) to the managed process named `target`, through the manager,
   * and resolves with what its `worker.onRequest()` handler returns. `target` is a slot name
   * (`worker-0`, `jobs`, `jobs-1`) or a group of custom processes (`jobs` for `jobs-0`, `jobs-1`...:
   * one live member, round robin). Rejects with a {@link PrimacyRequestError} naming the target and
   * its `reason`: unknown name, no live process (restarting: retry later), no handler, the target
   * exited before replying, no reply within `timeout` (default 30 s), or the handler's error.
   */
  request,
  /**
   * Registers this process's handler for other processes' `worker.request()`s: its return value (or
   * resolved value, JSON-serialisable) is the reply; a throw reaches the sender as its error. `from`
   * is the sender as the manager knows it. One handler per process; returns the function that
   * removes it (a process without one answers "no handler").
   */
  onRequest,
  /** Acknowledges a successful start; the manager's heartbeat watchdog starts from here. */
  ready(): void {
    if (this.managed && process.connected) process.send?.({ primacy: 'ready' } satisfies WorkerMessage);
  },
};
