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
 * and may be renewing, so any wait for its lost state starts over. With none on a majority, the
 * newest value shown on a minority (the nodes a loss spared) is a holder to wait for too: a
 * candidate that never saw it on a majority (it took over while this one was paused, or won a
 * split vote) may still be inside its lease. Keyed on its token and holder id, so the same value
 * again does not restart the wait; a newer one does. The wait is the longest TTL the values show.
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
  const shown = [...tally.values()];
  const majority = shown.find(({ on }) => on >= quorum);
  const newest = shown.sort((a, b) => b.holder.token - a.holder.token)[0]?.holder;
  if (majority) seen.saw(name, majority.holder, ttl);
  else if (newest) seen.sawOnMinority(name, newest, Math.max(...shown.map(({ holder }) => holder.record?.ttl ?? ttl)));
}

/**
 * The remembered holder released its lease (a node's record of the last release names it, token
 * and holder id), or its value was a vote given back (never a lease): nothing to wait for, even
 * where a majority lost its key. (A quorum holder releases only after it stopped reading `isPrimary`.)
 */
export function noteReleases(seen: SeenHolders, name: string, lasts: ReadonlyArray<string | null>): void {
  for (const last of lasts) {
    const value = last ? parseValue(last) : null;
    if (value) seen.released(name, value);
  }
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
