import type { HolderIdentity, Lease } from './adapter.js';

/** Why leadership ended. */
export type RevokeReason = 'expired' | 'lost' | 'stopped';

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
}
