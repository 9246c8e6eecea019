/**
 * A quorum lock's record for `inspect()` and `lock-status`: the holder of a majority of the nodes
 * (a minority value is a leftover that expires by itself); once free, the holder who released
 * the last lease granted, as any node recorded it, or none when that lease expired instead.
 */
import type { LockRecord } from '../../src/adapter.js';
import type { PrimacyBackendError } from '../../src/errors.js';
import type { InspectKeys } from '../redis/inspect.js';
import { parseValue } from '../redis/record.js';
import type { QuorumNode } from './node.js';

export async function inspectQuorum(
  nodes: readonly QuorumNode[],
  quorum: number,
  name: string,
  keys: InspectKeys,
  noQuorum: (answered: number) => PrimacyBackendError,
): Promise<LockRecord | null> {
  // Each node's value and TTL at once: a node that does not answer costs one timeout, not two.
  const seen = await Promise.all(
    nodes.map(async (node) => {
      const [value, pttl] = await Promise.all([node.get(keys.lock), node.pttl(keys.lock)]);
      return { node, value, pttl };
    }),
  );
  const answered = seen.filter((s) => s.value !== undefined);
  // The next reads ask only the nodes that answered this one (a paused node is not waited for again).
  const live = answered.map((s) => s.node);
  if (answered.length < quorum) throw noQuorum(answered.length);
  const tally = new Map<string, typeof seen>();
  for (const s of answered) {
    const id = s.value ? `${parseValue(s.value)?.token}|${parseValue(s.value)?.holderId}` : 'free';
    tally.set(id, [...(tally.get(id) ?? []), s]);
  }
  const [id, holders] = [...tally.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? ['free', []];
  const location = `${keys.lock} on ${nodes.length} nodes`;
  if (id === 'free' || holders.length < quorum) {
    const counters = await Promise.all(live.map((node) => node.get(keys.token)));
    const token = Math.max(0, ...counters.map((c) => Number(c ?? 0)));
    if (token === 0) return null;
    const releases = await Promise.all(live.map((node) => node.get(keys.last)));
    const record = releases.map((v) => (v ? parseValue(v) : null)).find((p) => p?.token === token)?.record ?? null;
    const released = { holder: record?.holder ?? null, acquiredAt: record?.acquiredAt ?? null };
    return { name, state: 'free', token, ...released, renewedAt: null, expiresAt: null, alive: null, location };
  }
  const parsed = parseValue(holders[0]?.value as string);
  const liveness = await Promise.all(
    holders.map((h) =>
      parseValue(h.value as string)?.clientId ? h.node.isAlive(parseValue(h.value as string)?.clientId as string) : null,
    ),
  );
  const ttlLeft = Math.min(...holders.map((h) => h.pttl ?? 0));
  return {
    name,
    state: 'held',
    token: parsed?.token ?? 0,
    holder: parsed?.record?.holder ?? null,
    acquiredAt: parsed?.record?.acquiredAt ?? null,
    renewedAt: parsed?.record && ttlLeft > 0 ? Date.now() + ttlLeft - parsed.record.ttl : null,
    expiresAt: ttlLeft > 0 ? Date.now() + ttlLeft : null,
    // Alive while its connections to a majority are open.
    alive: liveness.includes(null) ? null : liveness.filter(Boolean).length >= quorum,
    location,
  };
}
