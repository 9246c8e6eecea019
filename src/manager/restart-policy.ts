/**
 * Whether and when to restart a worker that exited. Works the same at any uptime (unlike PM2's
 * min_uptime): the first restart at once, then exponential backoff with a cap, reset after a stable
 * run, and a crash-loop limit
 * as a burst per window (systemd's StartLimitBurst/IntervalSec) after which the slot is FAILED.
 */
export interface RestartSettings {
  /** `always` restarts even clean exits; `on-failure` only crashes; `never` nothing. */
  readonly policy: 'always' | 'on-failure' | 'never';
  readonly backoffInitial: number;
  readonly backoffMax: number;
  /** A run at least this long resets the backoff. */
  readonly stableAfter: number;
  /** More than `burst` exits within `window` ms is a crash loop. */
  readonly burst: number;
  readonly window: number;
}

import type { Slot } from './incarnation.js';

export type RestartDecision = { action: 'restart'; delay: number } | { action: 'complete' } | { action: 'fail'; reason: string };

export class RestartPolicy {
  #exits: number[] = [];
  #consecutive = 0;

  constructor(private readonly settings: RestartSettings) {}

  decide(exit: { clean: boolean; uptime: number; now: number }): RestartDecision {
    const { policy, backoffInitial, backoffMax, stableAfter, burst, window } = this.settings;
    if (exit.clean && policy !== 'always') return { action: 'complete' };
    if (policy === 'never') return { action: 'fail', reason: 'exited and the restart policy is never' };
    if (exit.uptime >= stableAfter) this.#consecutive = 0;
    this.#exits = [...this.#exits.filter((t) => exit.now - t < window), exit.now];
    if (this.#exits.length > burst) {
      return { action: 'fail', reason: `crash loop: ${this.#exits.length} exits within ${window} ms` };
    }
    // The first crash is retried at once (it may be a one-off); repeats back off exponentially.
    const delay = this.#consecutive === 0 ? 0 : Math.min(backoffMax, backoffInitial * 2 ** (this.#consecutive - 1));
    this.#consecutive++;
    return { action: 'restart', delay };
  }
}

/** What becomes of a slot whose process exited on its own (not replaced, retired or stopped). */
export type AfterExit =
  | { state: 'COMPLETED' | 'TERMINATED' /** an untracked custom process leaves the table */; forget: boolean }
  | { state: 'FAILED'; reason: string }
  | { state: 'RESTARTING'; delay: number };

export function afterExit(slot: Slot, clean: boolean): AfterExit {
  if (slot.custom && !slot.custom.restartable) return { state: clean ? 'COMPLETED' : 'TERMINATED', forget: !slot.custom.tracked };
  const uptime = slot.startedAt === null ? 0 : Date.now() - slot.startedAt;
  const decision = slot.policy.decide({ clean, uptime, now: performance.now() });
  if (decision.action === 'complete') return { state: 'COMPLETED', forget: false };
  if (decision.action === 'fail') return { state: 'FAILED', reason: decision.reason };
  return { state: 'RESTARTING', delay: decision.delay };
}
