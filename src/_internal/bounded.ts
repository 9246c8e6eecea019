import { noAnswerError } from './backend-errors.js';

/**
 * Resolves with `operation`'s value, or rejects after `ms` with a backend error. A paused or
 * unreachable backend (Redis frozen, an NFS mount hanging) must not stall the election loop or
 * `stop()`. If the abandoned operation still resolves later, `onLate` receives its value (so a
 * lease granted too late can be given back).
 */
export function bounded<T>(operation: Promise<T>, ms: number, adapter: string, name: string, onLate?: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(noAnswerError(adapter, name, ms));
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
