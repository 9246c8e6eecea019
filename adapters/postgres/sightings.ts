/**
 * When a follower may end a holder's session: only once that holder's lease has certainly ended,
 * judged WITHOUT the server's wall clock. A step of that clock (NTP, a VM resumed) would otherwise
 * make a live, renewing holder look expired, and ending its session hands its lock over while it
 * still acts as primary. So:
 *
 * - a holder on this process's own monotonic clock (same boot and time namespace, ../etcd/clock.ts)
 *   wrote into its row when its lease ends on that clock (`holder._lease.expiresAt`): past that
 *   moment it is over, whoever looks first (a candidate needs no history to take over a paused
 *   holder of its own host);
 * - any other holder: one of its TTLs (plus the drift factor and a margin) after we first saw its
 *   row as it is now (token, backend, `renewed_at`: every renew changes `renewed_at`). Its last
 *   acquire or renew started before it wrote that row, so before we saw it, and its deadline is at
 *   most one TTL after that start, whatever either wall clock says: only the clocks' rates must
 *   agree, within the drift factor. The TTL is the one the holder wrote (`_lease.ttl`), else the
 *   row's `expires_at - renewed_at` (a difference: a step changes neither).
 *
 * The takeover statement (sql-takeover.ts) then ends the session only if the row is still exactly
 * the one judged (and every other lease of that session is over too).
 */
import { clockIdentity, monoNow } from '../etcd/clock.js';

/** Share of the TTL added for clock rates that differ, and a margin in ms. */
export const DRIFT_FACTOR = 0.01;
export const DRIFT_MARGIN = 10;
/** The TTL assumed for a row that states none we can use (an edited row): longer than any usual lease. */
const UNKNOWN_TTL = 60_000;

/** What a holder writes with every grant and renew, under `_lease` in its row's `holder`. */
export interface LeaseNote {
  /** Its monotonic clock (clockIdentity()), null where it cannot be named. */
  readonly clock: string | null;
  /** When its lease ends on that clock: the request's start plus the TTL (ms). */
  readonly expiresAt: number;
  readonly ttl: number;
}

/** The note for a grant or renew of `ttl` whose request starts now. */
export function leaseNote(ttl: number): LeaseNote {
  return { clock: clockIdentity(), expiresAt: monoNow() + ttl, ttl };
}

/** What of a lock row the judgment reads. */
export interface SightedRow {
  readonly token: string | null;
  readonly state: string | null;
  readonly holder: unknown;
  readonly backend_pid: number | null;
  /** `renewed_at` in µs since the epoch, as text (compared for equality by the takeover). */
  readonly renewed_us: string | null;
  /** `expires_at - renewed_at` in ms. */
  readonly ttl_ms: number | null;
}

export interface Verdict {
  /** The lease has certainly ended: its session may be ended. */
  readonly over: boolean;
  /** How long (ms, on our monotonic clock) the row has been exactly as it is now. */
  readonly unchangedFor: number;
}

interface Sighting {
  readonly id: string;
  readonly seenAt: number;
}

export class HolderSightings {
  readonly #seen = new Map<string, Sighting>();

  constructor(
    private readonly clock: string | null = clockIdentity(),
    private readonly now: () => number = monoNow,
  ) {}

  /** `row` of lock `name` was read, its answer in hand at `at` (monotonic ms): is its lease over? */
  see(name: string, row: SightedRow, at: number): Verdict {
    if ((row.state !== 'held' && row.state !== 'ending') || row.backend_pid === null || row.renewed_us === null) {
      this.#seen.delete(name);
      return { over: false, unchangedFor: 0 };
    }
    const id = `${row.token}|${row.backend_pid}|${row.renewed_us}`;
    const known = this.#seen.get(name);
    const seenAt = known?.id === id ? known.seenAt : at;
    if (known?.id !== id) this.#seen.set(name, { id, seenAt });
    const now = Math.max(at, this.now());
    const note = noteOf(row.holder);
    const unchangedFor = now - seenAt;
    const expiresAt = note?.expiresAt;
    if (this.clock !== null && note?.clock === this.clock && typeof expiresAt === 'number' && Number.isFinite(expiresAt)) {
      return { over: now > expiresAt, unchangedFor };
    }
    const ttl = positive(note?.ttl) ?? positive(row.ttl_ms) ?? UNKNOWN_TTL;
    return { over: unchangedFor > ttl * (1 + DRIFT_FACTOR) + DRIFT_MARGIN, unchangedFor };
  }

  /** We hold `name` now: what we saw of others is over. */
  forget(name: string): void {
    this.#seen.delete(name);
  }

  /** Our clock's name, for the takeover statement (other leases of a holder on it are judged by their notes). */
  get clockId(): string | null {
    return this.clock;
  }

  nowMs(): number {
    return this.now();
  }
}

function noteOf(holder: unknown): Partial<LeaseNote> | null {
  const note = (holder as { _lease?: unknown } | null)?._lease;
  return typeof note === 'object' && note !== null ? (note as Partial<LeaseNote>) : null;
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}
