/**
 * What a quorum candidate remembers of the holders it saw (`SeenHolders`, shared with `redisLock`),
 * fed from what each node shows: state loss on a majority is never taken for a release.
 */
import type { AdapterCallContext } from '../../src/adapter.js';
import { type ParsedValue, parseValue } from '../redis/record.js';
import type { SeenHolders } from '../redis/seen.js';
import type { QuorumNode } from './node.js';

/**
 * Remembers the holder of `name` that the nodes' `values` show on a majority: it holds the lock
 * and may be renewing, so any wait for its lost state starts over. A value on a minority only is
 * no holder to remember (its tokens still raise the floor): either the leftover of a holder seen
 * before on the nodes a loss spared, which it cannot renew without a majority, so recording it
 * again would restart, at every attempt, the wait that began when a majority lost it; or the
 * short-lived vote of another candidate, never a lease, which would make this candidate take the
 * flushed nodes for lost under it and keep even the live holder of a moment ago from coming back.
 */
export function noteHolders(
  seen: SeenHolders,
  name: string,
  values: ReadonlyArray<string | null>,
  selfId: string,
  quorum: number,
  ttl: number,
): void {
  const tally = new Map<string, { holder: ParsedValue; on: number }>();
  for (const value of values) {
    const holder = value ? parseValue(value) : null;
    if (!holder || holder.holderId === selfId) continue;
    seen.raise(name, holder.token);
    const key = `${holder.token}|${holder.holderId}`;
    const entry = tally.get(key) ?? { holder, on: 0 };
    entry.on += 1;
    tally.set(key, entry);
  }
  for (const { holder, on } of tally.values()) if (on >= quorum) seen.saw(name, holder, ttl);
}

/**
 * Nodes lost the state of the holder we last saw without its release (FLUSHALL, an empty restart,
 * eviction), and with them a majority would be free: it may still be inside its lease, renewed before the loss, and reads
 * `isPrimary` until its next renew fails. Over once one of its TTLs has passed since we first found
 * it lost (by our monotonic clock); until then nobody here takes over. Its connection closing on
 * some node is no shortcut: a quorum holder steps down only when it loses a majority of them.
 */
export function lostHolderIsOver(
  seen: SeenHolders,
  name: string,
  where: { key: string; lost: number; nodes: readonly QuorumNode[] },
  context?: AdapterCallContext,
): boolean {
  return seen.waitedOut(name, (remaining, holder) => {
    where.nodes[0]?.followers.wakeAfter(name, remaining); // every node wakes the same watchers
    context?.warn?.(
      `[primacy] [redlock] ${where.key} vanished without a release on ${where.lost} of the ${where.nodes.length} nodes (no majority holds it now) while pid ${holder.pid ?? '?'} on ${holder.hostname ?? '?'} held it with token ${holder.token} (FLUSHALL, eviction or an empty restart?): waiting out its TTL, ${Math.ceil(remaining)} ms, before anyone here takes over`,
    );
  });
}
