import { bounded } from '../_internal/bounded.js';
import { checksFor } from '../_internal/checks.js';
import type { HolderIdentity } from '../adapter.js';
import type { Election } from '../elector.js';
import { checkElection } from './election-check.js';

/** What a `/healthz` or readiness route reports about one election. */
export interface ElectionHealth {
  /** The lock name. */
  readonly name: string;
  /** `stopped` once `stop()` was called. */
  readonly role: 'primary' | 'follower' | 'stopped';
  /**
   * `true` when this process is fit to serve: primary, or a follower that can reach the backend.
   * A follower that cannot reach it would not be able to take over, so a readiness probe says no.
   */
  readonly ok: boolean;
  /** The fencing token while primary, else the current holder's (as the backend reports it), else null. */
  readonly token: number | null;
  /** Who holds the lock now (this process while primary), or null when it is free. */
  readonly holder: Pick<HolderIdentity, 'id' | 'label' | 'pid' | 'hostname'> | null;
  /** Milliseconds since the current holder acquired the lock, by wall clock. */
  readonly leaseAgeMs: number | null;
  /** Milliseconds since the current holder last renewed, by wall clock. */
  readonly sinceRenewMs: number | null;
  /** Why the backend could not be read (followers only), else undefined. */
  readonly error?: string;
}

export interface HealthOptions {
  /**
   * How long a follower waits for the backend's answer before it reports the backend unreachable.
   * @default 1000
   */
  timeout?: number;
}

/**
 * The election's health for a `/healthz` or readiness route. The primary answers from its own lease
 * (no backend call); a follower reads the holder from the backend, bounded by `timeout`. Never rejects.
 */
export async function electionHealth(election: Election, options: HealthOptions = {}): Promise<ElectionHealth> {
  checkElection(election, 'health');
  const check = checksFor('electionHealth()', 'health');
  check.options(options, ['timeout'] satisfies Array<keyof HealthOptions>);
  const timeout = check.duration('timeout', options.timeout, 1000, 1);
  const base = { name: election.name };
  const now = Date.now();
  const lease = election.lease;
  if (lease) {
    const since = { leaseAgeMs: now - lease.acquiredAt, sinceRenewMs: now - lease.renewedAt };
    return { ...base, role: 'primary', ok: true, token: lease.token, holder: publicHolder(lease.holder), ...since };
  }
  const role = election.stopped ? 'stopped' : 'follower';
  try {
    const record = await bounded(election.leader(), { ms: timeout, adapter: 'health', operation: 'inspect' });
    const held = record?.state === 'held' && record.holder !== null;
    const holder = held ? publicHolder(record.holder) : null;
    return {
      ...base,
      role,
      ok: role === 'follower',
      token: record?.token ?? null,
      holder,
      leaseAgeMs: held && record.acquiredAt !== null ? now - record.acquiredAt : null,
      sinceRenewMs: held && record.renewedAt !== null ? now - record.renewedAt : null,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...base, role, ok: false, token: null, holder: null, leaseAgeMs: null, sinceRenewMs: null, error: message };
  }
}

/** What a health answer shows of a holder: who it is to people and to `lock-status`, nothing more. */
function publicHolder({ id, label, pid, hostname }: HolderIdentity): ElectionHealth['holder'] {
  return label === undefined ? { id, pid, hostname } : { id, label, pid, hostname };
}
