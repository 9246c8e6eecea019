/** Why a request between managed processes (`worker.request()`) failed, as one error class. */
import { PrimacyError } from '../errors.js';

/**
 * What went wrong, for code that reacts to it: `unavailable`, `exited` and `timeout` may pass on a
 * retry; `unknown-target`, `no-handler` and `handler-error` will not by themselves.
 */
export type RequestFailure =
  /** No process has that name (the message lists the known ones). */
  | 'unknown-target'
  /** The target exists but no process of it can take a request now (restarting, starting, failed, stopping). */
  | 'unavailable'
  /** The target never registered a handler with `worker.onRequest()`. */
  | 'no-handler'
  /** The target exited with the request in flight. */
  | 'exited'
  /** No reply within the request's timeout. */
  | 'timeout'
  /** The target's handler threw (or rejected, or returned what cannot be sent). */
  | 'handler-error'
  /** This process is not run by the manager, or the manager went away. */
  | 'not-managed';

/** A request to another managed process failed; `target` is the name it was sent to. */
export class PrimacyRequestError extends PrimacyError {
  override name = 'PrimacyRequestError';
  readonly target: string;
  readonly reason: RequestFailure;
  constructor(target: string, reason: RequestFailure, message: string) {
    super('ERR_PRIMACY_REQUEST', `[primacy] [request] ${message}`);
    this.target = target;
    this.reason = reason;
  }
}

/** The default `timeout` of `worker.request()`, in ms; the manager's too, for a request that names none. */
export const DEFAULT_REQUEST_TIMEOUT = 30_000;

export const REQUEST_FAILURES: readonly RequestFailure[] = [
  'unknown-target',
  'unavailable',
  'no-handler',
  'exited',
  'timeout',
  'handler-error',
  'not-managed',
];
