/**
 * A quorum lease held on a bare majority (a node was down when it was acquired, or lost the key
 * since) would be lost to one more failing node. After each successful renew, the holder claims
 * the nodes it is missing on, with its own token; a node held by someone else is left alone.
 */
import type { Lease } from '../../src/adapter.js';
import type { LockKeys } from '../redis/keys.js';
import { valueTail } from '../redis/record.js';
import type { QuorumNode } from './node.js';
import { ACQUIRE_WITH_TOKEN } from './scripts.js';

export interface QuorumLeaseData {
  /** Per node: the value we hold there, or null where we do not. */
  readonly values: ReadonlyArray<string | null>;
  readonly clientIds: ReadonlyArray<string | null>;
}

export async function claimMissingNodes(
  nodes: readonly QuorumNode[],
  keys: LockKeys,
  lease: Lease,
  ttl: number,
  held: readonly boolean[],
): Promise<QuorumLeaseData> {
  const data = lease.data as QuorumLeaseData;
  if (held.every(Boolean)) return data;
  const record = { holder: lease.holder, acquiredAt: lease.acquiredAt, ttl };
  const claimed = await Promise.all(
    nodes.map(async (node, i) => {
      if (held[i]) return { value: data.values[i] ?? null, clientId: data.clientIds[i] ?? null };
      const clientId = (await node.clientId()) ?? null;
      // The holder claims for itself: no seen holder (0) whose lost state it would have to wait out.
      const args = [keys.lock, keys.token, keys.released, ttl, lease.holder.id, lease.token, valueTail(clientId, record), 0, 0];
      const result = (await node.script(ACQUIRE_WITH_TOKEN, args)) as [number, string] | undefined;
      const value = result?.[0] === 1 ? node.onSameConnection(clientId, result[1]) : null;
      return value === null ? { value: null, clientId: null } : { value, clientId };
    }),
  );
  return { values: claimed.map((c) => c.value), clientIds: claimed.map((c) => c.clientId) };
}
