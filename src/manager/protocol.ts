/** The IPC messages between the manager and its workers (all tagged with `primacy`). */
import type { HolderIdentity, LockRecord } from '../adapter.js';
import type { WorkerState } from './incarnation.js';
import type { RequestFailure } from './request-error.js';

export type LockOp = 'acquire' | 'renew' | 'release' | 'inspect';

export type WorkerMessage =
  | { primacy: 'ready' }
  /** `group`: a command runner's command's process group (command-group.ts). */
  | { primacy: 'heartbeat'; rss?: number; group?: number }
  | { primacy: 'control'; id: number; command: string; args: string[] }
  /** Registers a custom inspector command (`worker.command`); `timeout`: how long the manager waits for its answer, in ms. */
  | { primacy: 'command'; name: string; summary: string; timeout: number }
  /** The answer to a `command-run`. */
  | { primacy: 'command-reply'; id: number; ok: boolean; result?: unknown; error?: string }
  /** To another managed process, by name, through the manager (`worker.request()`); `id` is the sender's. */
  | { primacy: 'request'; id: number; target: string; payload: unknown; timeout: number }
  /** A handler's answer to a `request-deliver`; `id` is the manager's. */
  | { primacy: 'request-answer'; id: number; ok: boolean; result?: unknown; error?: string; noHandler?: boolean }
  | {
      primacy: 'lock';
      /**
       * Unique in the worker process, across every lock in it (`<lock instance uuid>:<n>`): a
       * worker may run several elections, each with its own lock, and a reply must reach the
       * request it answers and no other.
       */
      id: string;
      op: LockOp;
      name: string;
      holder?: HolderIdentity;
      ttl?: number;
      token?: number;
      /** renew, release: the `grantId` of the grant they are about. */
      grantId?: string;
    };

export interface GrantReply {
  /**
   * Which acquire this grant answers (that request's id). A worker's later renew or release names
   * it, so a release of a lease the worker gave up waiting for never frees a grant it was given
   * again since with the same token.
   */
  grantId: string;
  token: number;
  acquiredAt: number;
  renewedAt: number;
}

export type ManagerMessage =
  /** `error`: the backend failed (the worker reports it and retries, as with any backend error). */
  | { primacy: 'lock-reply'; id: string; grant?: GrantReply | null; record?: LockRecord | null; error?: string }
  | { primacy: 'lock-free'; name: string }
  /** The backend no longer vouches for the lease with this token (its connection closed): stop acting as primary now. */
  | { primacy: 'lock-lost'; name: string; token: number }
  /** Answer every response with `Connection: close`: the worker is about to be retired. */
  | { primacy: 'drain' }
  | { primacy: 'control-reply'; id: number; ok: boolean; result?: unknown; error?: string }
  /** Runs a custom command this process registered (see worker-commands.ts). */
  | { primacy: 'command-run'; id: number; name: string; args: string[] }
  /** What the manager now holds this process to be (`worker.state`; see worker-state.ts). */
  | { primacy: 'state'; state: WorkerState }
  /** A request for this process's handler; `from` is the sender as the manager knows it. */
  | { primacy: 'request-deliver'; id: number; from: { name: string; pid: number }; payload: unknown }
  /** The outcome of this process's `request` with this `id`: its result, or why it failed (`error` is the whole message). */
  | { primacy: 'request-reply'; id: number; ok: boolean; result?: unknown; error?: string; reason?: RequestFailure };

export function isPrimacyMessage(message: unknown): message is { primacy: string } {
  return typeof message === 'object' && message !== null && typeof (message as { primacy?: unknown }).primacy === 'string';
}

/** Whether this process runs under primacy's manager: started by it (PRIMACY_MANAGED=1) with an IPC channel to it. */
export function isManaged(): boolean {
  return process.env.PRIMACY_MANAGED === '1' && typeof process.send === 'function';
}
