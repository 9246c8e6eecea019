/**
 * A field of contenders for one lock, each an election with its own ioredis client (to Redis, as
 * good as separate processes), watched from outside: every few ms the field reads each one's
 * `isPrimary`, so its terms (from the first read as primary to the first read as not) are what the
 * contenders believed, on one clock. Two contenders' terms that intersect are two primaries at once;
 * a term whose token is not above every earlier term's is a token regression.
 */

import { findOverlaps, type Overlap, type Term } from '../../harness/overlaps.js';
import type { LockAdapter } from '../../src/adapter.js';
import { type Election, elect } from '../../src/elector.js';

/** How often the field reads every contender's `isPrimary`, in ms. */
const SAMPLE_EVERY = 5;

export interface TokenTerm extends Term {
  readonly label: string;
  readonly token: number;
}

interface Contender {
  readonly label: string;
  readonly election: Election;
  readonly lock: LockAdapter;
  readonly close: () => unknown;
  open: TokenTerm | null;
}

export class Field {
  readonly #contenders: Contender[] = [];
  readonly #terms: TokenTerm[] = [];
  readonly #sampler = setInterval(() => this.#sample(), SAMPLE_EVERY);
  readonly warnings: string[] = [];

  constructor(
    readonly name: string,
    readonly ttl: number,
  ) {}

  /** Starts an election on `lock` (made by the caller on its own client, closed with `close`). */
  add(label: string, lock: LockAdapter, close: () => unknown = () => undefined): Election {
    const logger = { warn: (message: string) => this.warnings.push(`${label}: ${message}`), error: () => undefined };
    const election = elect({ name: this.name, lock, ttl: this.ttl, retryInterval: 100, handleSignals: false, logger });
    this.#contenders.push({ label, election, lock, close, open: null });
    return election;
  }

  /** Every term so far (open ones end now), in the order they began. */
  terms(): TokenTerm[] {
    const now = performance.now();
    const open = this.#contenders.flatMap((c) => (c.open ? [{ ...c.open, end: now, endedBy: 'still primary' }] : []));
    return [...this.#terms, ...open].sort((a, b) => a.start - b.start);
  }

  /** Terms of two contenders that intersect. */
  overlaps(): Overlap<TokenTerm>[] {
    return findOverlaps(this.terms());
  }

  /** Terms whose token is not above the token of every term that began before them. */
  regressions(): Array<{ earlier: TokenTerm; later: TokenTerm }> {
    const found: Array<{ earlier: TokenTerm; later: TokenTerm }> = [];
    const terms = this.terms();
    terms.forEach((later, i) => {
      for (const earlier of terms.slice(0, i)) if (later.token <= earlier.token) found.push({ earlier, later });
    });
    return found;
  }

  /** The contenders that read as primary now. */
  primaries(): string[] {
    return this.#contenders.filter((c) => c.election.isPrimary).map((c) => c.label);
  }

  /** Resolves with the label of a contender primary in a term that began after `after` (performance.now() ms). */
  async electedAfter(after: number, within: number): Promise<TokenTerm> {
    const deadline = performance.now() + within;
    for (;;) {
      const term = this.terms().find((t) => t.start > after);
      if (term) return term;
      if (performance.now() > deadline) throw new Error(`${this.name}: nobody elected within ${within} ms (${this.describe()})`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The terms, for a failing assertion's message. */
  describe(): string {
    const origin = this.#terms[0]?.start ?? 0;
    const terms = this.terms().map((t) => `${t.label} #${t.token} ${Math.round(t.start - origin)}..${Math.round(t.end - origin)} ms`);
    return `terms: ${terms.join('; ') || 'none'}; warnings: ${this.warnings.slice(-5).join(' | ') || 'none'}`;
  }

  async stop(): Promise<void> {
    clearInterval(this.#sampler);
    this.#sample();
    await Promise.all(this.#contenders.map((c) => c.election.stop()));
    await Promise.all(
      this.#contenders.map(async (c) => {
        await c.lock.close?.();
        await c.close();
      }),
    );
  }

  #sample(): void {
    const now = performance.now();
    for (const contender of this.#contenders) {
      const primary = contender.election.isPrimary;
      // Re-elected between two reads: the earlier term ended, another began.
      if (primary && contender.open && contender.election.token !== contender.open.token) {
        this.#terms.push({ ...contender.open, end: now, endedBy: 're-elected' });
        contender.open = null;
      }
      if (primary && !contender.open) {
        const token = contender.election.token ?? 0;
        contender.open = { pid: this.#contenders.indexOf(contender), label: contender.label, token, start: now, end: now, endedBy: '' };
      } else if (!primary && contender.open) {
        this.#terms.push({ ...contender.open, end: now, endedBy: 'not primary' });
        contender.open = null;
      }
    }
  }
}
