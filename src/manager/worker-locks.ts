/**
 * The manager's lock service for its workers, as the manager sees it: the arbiter over the backend
 * lock, the lock names workers have asked for, and the IPC around them (requests answered, waiting
 * workers woken, a holder told when its lease is void). The manager feeds it its workers' news.
 */
import type { LockAdapter } from '../adapter.js';
import { defaultManagerLock } from '../default-lock.js';
import { Arbiter } from './arbiter.js';
import type { Incarnation } from './incarnation.js';
import type { ManagerMessage, WorkerMessage } from './protocol.js';
import { answerLockRequest } from './requests.js';

export interface WorkerLocksPeers {
  /** A process of the manager that has not exited, by incarnation id. */
  find(incarnationId: string): Incarnation | undefined;
  send(incarnation: Incarnation, message: ManagerMessage): void;
  broadcast(message: ManagerMessage): void;
  /** The manager is stopping: no new grants. */
  stopping(): boolean;
  warn(message: string): void;
}

export class WorkerLocks {
  /** The backend: the lock given, or the same default file lock a plain process uses (closed at close()). */
  readonly #lock: LockAdapter;
  readonly #ownsLock: boolean;
  readonly #arbiter: Arbiter;
  /** Lock names workers have campaigned for (to wake newly acked workers, and for status). */
  readonly #names = new Set<string>();

  constructor(
    lock: LockAdapter | undefined,
    private readonly peers: WorkerLocksPeers,
  ) {
    this.#ownsLock = lock === undefined;
    this.#lock = lock ?? defaultManagerLock();
    this.#arbiter = new Arbiter(this.#lock, {
      onFree: (name) => peers.broadcast({ primacy: 'lock-free', name }),
      onLost: ({ name, workerId, lease }) => {
        const holder = peers.find(workerId);
        if (holder) peers.send(holder, { primacy: 'lock-lost', name, token: lease.token });
      },
      eligible: (workerId) => {
        const incarnation = peers.find(workerId);
        return incarnation?.state === 'ACKED' && !incarnation.draining && !incarnation.outgoing && !peers.stopping();
      },
      context: { warn: (message) => peers.warn(message) },
    });
  }

  request(incarnation: Incarnation, m: Extract<WorkerMessage, { primacy: 'lock' }>): void {
    if (m.op === 'acquire') this.#names.add(m.name);
    answerLockRequest(this.#arbiter, { id: incarnation.id, send: (reply) => this.peers.send(incarnation, reply) }, m);
  }

  /** A worker may have campaigned before its ack and been refused: wake it for every free lock. */
  acked(incarnation: Incarnation): void {
    for (const name of this.#names) if (!this.#arbiter.holderOf(name)) this.peers.send(incarnation, { primacy: 'lock-free', name });
  }

  /** The holder is gone for certain: what it held is given back now, and the others are woken. */
  exited(incarnation: Incarnation): void {
    this.#arbiter
      .workerGone(incarnation.id)
      .catch((error: Error) => this.peers.warn(`[primacy] [manager] releasing ${incarnation.id}'s lease: ${error.message}`));
  }

  /** Resolves once the process holds no lock (it stepped down), or after `timeout` ms. */
  relinquished(incarnationId: string, timeout: number): Promise<void> {
    return this.#arbiter.relinquished(incarnationId, timeout);
  }

  holdsAny(incarnationId: string): boolean {
    return [...this.#names].some((name) => this.#arbiter.holderOf(name)?.workerId === incarnationId);
  }

  /** Gives back whatever is still held (a worker that was killed) and closes the backend if ours. */
  async close(): Promise<void> {
    await this.#arbiter.close().catch((error: Error) => this.peers.warn(`[primacy] [manager] releasing leases at stop: ${error.message}`));
    if (this.#ownsLock) await this.#lock.close?.().catch(() => undefined);
  }
}
