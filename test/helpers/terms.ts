/** Checks on the `elected` / `revoked` lines candidates print: terms of office, one at a time. */
import { expect } from 'vitest';
import type { ChildEvent } from '../../harness/child.js';

/** The elected and revoked lines among `events`, in time order. */
export function termEvents(events: readonly ChildEvent[]): ChildEvent[] {
  return events.filter((e) => e.ev === 'elected' || e.ev === 'revoked').sort((a, b) => a.t - b.t);
}

/** Fails if anyone is elected while another's term (elected, not yet revoked) is still open. */
export function expectOnePrimaryAtATime(events: readonly ChildEvent[]): void {
  let holder: number | null = null;
  for (const e of termEvents(events)) {
    if (e.ev === 'elected') {
      expect(holder, `pid ${e.pid} elected at ${e.t} while pid ${holder} was primary`).toBeNull();
      holder = e.pid;
    } else if (e.pid === holder) holder = null;
  }
}
