/** Questions the multi-process tests ask of a group of candidate processes (test/fixtures/candidate.ts). */
import type { Child, ChildEvent } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';

/** The first `elected` event in the group after `after` (wall ms), and who sent it. */
export function electedIn(group: Child[], after: number, timeout = 15_000): Promise<{ child: Child; event: ChildEvent }> {
  return Promise.any(
    group.map((child) => child.waitFor((e) => e.ev === 'elected' && e.t > after, timeout).then((event) => ({ child, event }))),
  );
}

/** Asks every candidate for its role now and counts those that say they are primary. */
export async function countPrimaries(group: Child[]): Promise<number> {
  const marks = group.map((child) => child.events.length);
  for (const child of group) child.send('status');
  const replies = await Promise.all(group.map((child, i) => child.waitFor((e) => e.ev === 'status', 5000, marks[i])));
  return replies.filter((reply) => reply.isPrimary === true).length;
}

/** Resolves once every candidate has finished its first campaign round. */
export function allReady(group: Child[]): Promise<unknown> {
  return Promise.all(group.map((child) => child.waitFor((e) => e.ev === 'ready', 15_000)));
}

/**
 * Waits for a settled field (one primary, everyone ready), sends `signal` to the primary, and
 * returns the old term, the next term elsewhere, and how long the takeover took (wall ms).
 */
export async function signalPrimary(group: Child[], signal: NodeJS.Signals) {
  const first = await electedIn(group, 0);
  await allReady(group);
  const signalledAt = wallNow();
  first.child.kill(signal);
  const next = await electedIn(
    group.filter((child) => child !== first.child),
    signalledAt,
  );
  return { first, next, signalledAt, takeover: next.event.t - signalledAt };
}
