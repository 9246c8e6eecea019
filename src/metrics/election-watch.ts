import type { Checks } from '../_internal/checks.js';
import type { HolderIdentity } from '../adapter.js';
import type { Election } from '../elector.js';
import { PrimacyConfigError } from '../errors.js';
import type { AttemptInfo } from '../events.js';
import type { MetricsSink } from './types.js';

interface Watch {
  readonly election: Election;
  /** Whether the last transition counted was to primary (a watch let go then counts the step down). */
  primary: boolean;
  /** The last holder seen (id), for failovers; undefined until one is seen. */
  lastHolder: string | undefined;
  /** Stopped and let go of its events; its gauges read 0 until another election of its name comes. */
  ended: boolean;
  readonly unsubscribe: () => void;
  /** Forgets it altogether (its gauges' series go). */
  readonly detach: () => void;
}

/**
 * The elections a metrics instance observes, by lock name: their events become counter updates in
 * the sink, and the gauges read them live. Only events are subscribed to: nothing is polled.
 */
export class ObservedElections {
  readonly #watches = new Map<string, Watch>();

  constructor(
    private readonly sink: MetricsSink,
    private readonly check: Checks,
  ) {}

  add(election: Election): () => void {
    this.check.shape('election', election, ['on', 'off', 'whilePrimary'], 'an Election (from elect())');
    this.#sweep();
    const { name, holder } = election;
    const existing = this.#watches.get(name);
    if (existing?.election === election) return existing.detach;
    if (existing && !existing.ended) {
      const why = `observe(): already observing a running election named "${name}" (one per lock name: the gauges are labelled by name)`;
      throw new PrimacyConfigError('election', election, '', 'metrics', why);
    }
    const { sink } = this;
    const primary = election.isPrimary;
    const onElected = () => {
      watch.primary = true;
      sink.transition(name, 'primary');
    };
    const onRevoked = () => {
      watch.primary = false;
      sink.transition(name, 'follower');
    };
    const onAttempt = (info: AttemptInfo) => {
      if (info.operation === 'acquire') sink.attempt(name, info.result);
      else sink.renew(name, info.result, info.duration / 1000);
    };
    // A failover: the lock passed from one holder to another (a crash, an expiry, or a handover).
    // "Nobody holds it" in between is no holder of its own.
    const onLeader = (next: HolderIdentity | null) => {
      if (next === null) return;
      if (watch.lastHolder !== undefined && next.id !== watch.lastHolder) sink.failover(name);
      watch.lastHolder = next.id;
    };
    const unsubscribe = () => {
      election.off('elected', onElected);
      election.off('revoked', onRevoked);
      election.off('attempt', onAttempt);
      election.off('leader', onLeader);
    };
    const detach = () => {
      if (this.#watches.get(name) !== watch) return;
      this.#watches.delete(name);
      unsubscribe();
    };
    const watch: Watch = { election, primary, lastHolder: primary ? holder.id : undefined, ended: false, unsubscribe, detach };
    this.#watches.set(name, watch);
    sink.electionSeen(name);
    // Observed already primary (a framework's election, observed once it is ready): that term
    // counts, so transitions to primary minus those to follower always equal the role gauge.
    if (primary) sink.transition(name, 'primary');
    election.on('elected', onElected);
    election.on('revoked', onRevoked);
    election.on('attempt', onAttempt);
    // Listening to `leader` makes a follower read the holder after each round it lost: that read
    // is what tells it a failover happened.
    election.on('leader', onLeader);
    return detach;
  }

  /**
   * The elections observed, for the gauges: a stopped one reads 0 (not primary, no token) until
   * another election of its name is observed. Its series stays rather than going: a metrics
   * backend that keeps a vanished series' last value (OpenTelemetry's SDK does) would show it
   * primary forever.
   */
  live(): Election[] {
    this.#sweep();
    return [...this.#watches.values()].map((watch) => watch.election);
  }

  close(): void {
    for (const watch of [...this.#watches.values()]) watch.detach();
  }

  /**
   * Lets go of the events of stopped elections that are no longer primary (a stopping primary keeps its lease
   * while its work drains: its final `revoked` is still to come). One whose lease ran out before
   * its `revoked` went out still counts its step down, so transitions to each side stay balanced.
   */
  #sweep(): void {
    for (const watch of this.#watches.values()) {
      const { election } = watch;
      if (watch.ended || !election.stopped || election.isPrimary) continue;
      watch.ended = true;
      watch.unsubscribe();
      if (watch.primary) this.sink.transition(election.name, 'follower');
    }
  }
}
