/**
 * The fault handling of a client primacy creates (`hosts`). etcd3's default retries a failed call
 * three times through a circuit breaker that, after three failures, refuses every call to a host
 * for 5 s: after a one-node etcd restarts, calls kept failing for seconds although it answered
 * again, and a paused node (its socket open, nothing answering) took each retry's full deadline.
 * Here: a failed call is tried again at once on another host (no more tries than hosts), a host
 * that failed is skipped for `SKIP_MS` while others may answer, and a broken watch stream is
 * opened again after `WATCH_RETRY_MS` (etcd3 backs off up to 30 s; followers then poll meanwhile).
 *
 * These are plain objects of cockatiel's shape (the only methods etcd3 calls), so primacy does not
 * depend on cockatiel itself.
 */
import type { IOptions } from 'etcd3';
import { isRecoverableError } from 'etcd3';
import { monoNow } from './clock.js';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;
type Backoff = NonNullable<FaultHandling['watchBackoff']>;

/** How long a host that failed is skipped while another may answer, in ms. */
const SKIP_MS = 1000;
/** How soon a broken watch stream is opened again, in ms. */
const WATCH_RETRY_MS = 250;

export function ownedFaultHandling(hosts: number): FaultHandling {
  const context = () => ({ signal: new AbortController().signal });
  const global = {
    async execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn(context());
        } catch (error) {
          if (attempt >= hosts || !isRecoverable(error)) throw error;
        }
      }
    },
  };
  const host = () => {
    let skipUntil = 0;
    let lastError: unknown;
    return {
      async execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> {
        // Thrown without calling through: the pool tries the next host (one host is never skipped).
        if (hosts > 1 && monoNow() < skipUntil) throw lastError;
        try {
          return await fn(context());
        } catch (error) {
          if (isRecoverable(error)) {
            skipUntil = monoNow() + SKIP_MS;
            lastError = error;
          }
          throw error;
        }
      },
    };
  };
  const backoff: Backoff = { duration: WATCH_RETRY_MS, next: () => backoff } as unknown as Backoff;
  return { global: global as unknown as Policy, host: () => host() as unknown as Policy, watchBackoff: backoff };
}

function isRecoverable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && isRecoverableError(error as Error);
}
