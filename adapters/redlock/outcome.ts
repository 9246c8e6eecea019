/**
 * `runOnce` outcomes on a quorum: written where the lease holds (a majority), read as the one with
 * the highest token on any node that answered.
 */
import type { Lease, RunOutcome } from '../../src/adapter.js';
import { parseOutcome } from '../../src/adapter-kit.js';
import type { PrimacyBackendError } from '../../src/errors.js';
import type { LockKeys } from '../redis/keys.js';
import { WRITE_OUTCOME } from '../redis/scripts.js';
import type { QuorumLeaseData } from './extend.js';
import type { QuorumNode } from './node.js';

/** Whether `outcome` was stored on a majority, each node compare-and-set on the lease's value there. */
export async function writeQuorumOutcome(
  nodes: readonly QuorumNode[],
  quorum: number,
  keys: LockKeys,
  lease: Lease,
  outcome: RunOutcome,
): Promise<boolean> {
  const { values } = lease.data as QuorumLeaseData;
  const json = JSON.stringify(outcome);
  const written = await Promise.all(
    nodes.map(async (node, i) => !!values[i] && (await node.script(WRITE_OUTCOME, [keys.lock, keys.outcome, values[i], json])) === 1),
  );
  return written.filter(Boolean).length >= quorum;
}

/**
 * The outcome with the highest token on any node that answered: one written to a majority is on
 * at least one node of every majority. (A write that reached only a minority may be read too:
 * the run it records did end that way.)
 */
export async function readQuorumOutcome(
  nodes: readonly QuorumNode[],
  quorum: number,
  keys: LockKeys,
  noQuorum: (answered: number) => PrimacyBackendError,
): Promise<RunOutcome | null> {
  const texts = await Promise.all(nodes.map((node) => node.get(keys.outcome)));
  const answered = texts.filter((text) => text !== undefined).length;
  if (answered < quorum) throw noQuorum(answered);
  const outcomes = texts.map(parseOutcome).filter((outcome) => outcome !== null);
  return outcomes.sort((a, b) => b.token - a.token)[0] ?? null;
}
