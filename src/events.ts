import type { EventEmitter } from 'node:events';
import { type Bound, bounded } from './_internal/bounded.js';
import type { HolderIdentity, Lease } from './adapter.js';

/** Why leadership ended. */
export type RevokeReason = 'expired' | 'lost' | 'stopped';

/**
 * How the backend answered one request of the election, and how long it took (`duration`, ms by
 * the monotonic clock, from the call to the answer or the timeout). An acquire is `won` when the
 * backend granted the lease, `lost` when another holds it; a renew is `renewed` or `lost`; either
 * is `error` when it failed or did not answer in time.
 */
export type AttemptInfo =
  | { operation: 'acquire'; result: 'won' | 'lost' | 'error'; duration: number }
  | { operation: 'renew'; result: 'renewed' | 'lost' | 'error'; duration: number };

export interface ElectionEvents {
  /** This process became primary. */
  elected: [lease: Lease];
  /** This process stopped being primary. Always follows an `elected`. */
  revoked: [info: { reason: RevokeReason; lease: Lease }];
  /** The observed holder changed (null: nobody holds the lock). Emitted only while listened to. */
  leader: [holder: HolderIdentity | null];
  /**
   * A backend or work error. The election goes on. Every error is also logged as a warning that
   * says what follows (retrying, or not run again until the next term); `logger: false` silences it.
   */
  error: [error: unknown];
  /** An acquire or renew was answered (for metrics: `primacy/metrics`). Emitted only while listened to. */
  attempt: [info: AttemptInfo];
}

type Probed = EventEmitter<ElectionEvents>;

/**
 * `bounded(answer, bound)` that also announces the outcome as an `attempt` event, when anyone
 * listens (nothing is timed otherwise). A listener that throws becomes a process warning: it must
 * never turn a lease the backend granted into an error, which would leave that lease unused.
 */
export function probed(
  election: Probed,
  answer: Promise<Lease | null>,
  bound: Bound<Lease | null> & { operation: 'acquire' | 'renew' },
): Promise<Lease | null> {
  const settled = bounded(answer, bound);
  if (election.listenerCount('attempt') === 0) return settled;
  const start = performance.now();
  const tell = (granted: boolean | null) => {
    const duration = performance.now() - start;
    const result = granted === null ? 'error' : !granted ? 'lost' : bound.operation === 'acquire' ? 'won' : 'renewed';
    try {
      election.emit('attempt', { operation: bound.operation, result, duration } as AttemptInfo);
    } catch (error) {
      process.emitWarning(`[primacy] an 'attempt' listener threw: ${String(error)}`, 'PrimacyWarning');
    }
  };
  return settled.then(
    (lease) => {
      tell(lease !== null);
      return lease;
    },
    (error: unknown) => {
      tell(null);
      throw error;
    },
  );
}
