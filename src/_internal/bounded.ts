import { noAnswerError } from './backend-errors.js';

/** How long `bounded()` waits, and what its error names. */
export interface Bound<T> {
  /** The most it waits, in ms. */
  ms: number;
  /** Who was asked (`'redis'`, `lock.kind`) and what (`'acquire'`): the error names both. */
  adapter: string;
  operation: string;
  /** Receives the value of an operation that answers after the bound (a lease granted too late, to give back). */
  onLate?: (value: T) => void;
  /** The error to reject with at the bound. @default a PrimacyBackendError "no answer within N ms" */
  timeoutError?: () => Error;
}

/**
 * Resolves with `operation`'s value, or rejects once `bound.ms` have passed. A paused or
 * unreachable backend (Redis frozen, an NFS mount hanging) must not stall the election loop,
 * `stop()` or a CLI look. The timer never outlives the race.
 */
export function bounded<T>(operation: Promise<T>, bound: Bound<T>): Promise<T> {
  const { ms, adapter, onLate } = bound;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(bound.timeoutError?.() ?? noAnswerError(adapter, bound.operation, ms));
    }, ms);
    operation.then(
      (value) => {
        if (settled) return onLate?.(value);
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
