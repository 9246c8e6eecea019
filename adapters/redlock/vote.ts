/**
 * One node's answer to a quorum acquire: granted to the caller, held by someone else (taken over
 * when that holder's connection to the node has been closed for the takeover grace, else
 * followed), or lost under the holder the caller saw (`ACQUIRE_WITH_TOKEN`'s {2}: a loss, not a
 * release, so not counted as a free node).
 */
import type { AdapterCallContext } from '../../src/adapter.js';
import type { LockKeys } from '../redis/keys.js';
import { parseValue } from '../redis/record.js';
import type { QuorumNode } from './node.js';
import { ACQUIRE_WITH_TOKEN, TAKE_OVER_WITH_TOKEN } from './scripts.js';

export interface Ballot {
  readonly name: string;
  readonly keys: LockKeys;
  readonly ttl: number;
  readonly holderId: string;
  readonly token: number;
  /** The token of the holder the caller last saw (0: none). */
  readonly seen: number;
  readonly context: AdapterCallContext | undefined;
}

export interface Vote {
  /** The caller's value on the node, if granted on the connection it asked from; else null. */
  readonly value: string | null;
  /** Someone else's value found there. */
  readonly held: string | null;
  /** The node lost the seen holder's state without its release. */
  readonly lost: boolean;
  /** The acquire script failed there (or did not answer in time): see the node's `failure`. */
  readonly failed?: boolean;
}

const NONE: Vote = { value: null, held: null, lost: false };

/** `clientId`: the caller's connection to the node (null: unbound); `tail`: `<client id>|<record>`. */
export async function vote(node: QuorumNode, ballot: Ballot, clientId: string | null, tail: string, mayEvict: boolean): Promise<Vote> {
  const { name, keys, ttl, holderId, token, seen, context } = ballot;
  const args = [keys.lock, keys.token, keys.released, ttl, holderId, token, tail, seen, mayEvict ? 1 : 0];
  const result = (await node.script(ACQUIRE_WITH_TOKEN, args)) as [number, string] | undefined;
  if (!result) return { ...NONE, failed: true };
  if (result[0] === 1) return { ...NONE, value: node.onSameConnection(clientId, result[1]) };
  if (result[0] === 2) return { ...NONE, lost: true };
  const held = result[1];
  const shown = parseValue(held);
  const holderConnection = shown?.clientId ?? null;
  if (await node.holderGone(name, holderConnection, context)) {
    const taken = (await node.script(TAKE_OVER_WITH_TOKEN, [keys.lock, keys.token, held, ttl, holderId, token, tail])) as string | null;
    return { value: node.onSameConnection(clientId, taken ?? null), held, lost: false };
  }
  node.followers.followHolder(name, holderConnection, shown?.holderId ?? null);
  return { ...NONE, held };
}
