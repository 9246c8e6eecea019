/**
 * One acquire attempt on an etcd lock. It looks first (one read of the lock and token keys: all an
 * idle follower costs), and only when the lock is free, or its holder's lease has certainly ended
 * (memory.ts), grants a lease and writes in one transaction:
 *
 * - the lock key, attached to the new lease, if it is still absent (`create_revision == 0`) or
 *   still the very value judged ended (`mod_revision == M`: a renew in between changes it);
 * - the token key, so the fencing token is the transaction's revision plus the base the token
 *   key holds (`0` unless etcd once lost its data), compared unchanged.
 *
 * etcd's revision is its own fencing number (etcd's lock API hands out the key's revision too), so
 * tokens are the revision of the grant, strictly increasing with every write. If etcd lost its
 * data, revisions start again from 1: a token at or below the floor this process remembers is
 * then raised above it by a new base, written while we hold the lock, which every later token
 * includes (our own counter could not survive that loss either).
 */
import type { AdapterCallContext, HolderIdentity } from '../../src/adapter.js';
import { monoNow } from './clock.js';
import { type Compare, type EtcdConnection, isLeaseGone, put, range, rangeAnswer } from './connection.js';
import type { LockKeys } from './keys.js';
import type { LockMemory } from './memory.js';
import { baseOf, type EtcdRecord, type StoredKey, tokenOf } from './record.js';

export interface AttemptParts {
  readonly connection: EtcdConnection;
  readonly memory: LockMemory;
  readonly keys: LockKeys;
  /** This process's clock identity (clock.ts). */
  readonly clock: string | null;
  /** Leases this adapter granted and gave back unanswered: a lock key on one of them is ours to revoke. */
  readonly orphans: Set<string>;
  /** Wakes this lock's followers at a monotonic time (when a lease seen ends). */
  readonly wakeAt: (at: number) => void;
  /** etcd lost its data: leases we hold on this lock are gone, and the watch must start again. */
  readonly onStateLoss: (revision: number) => void;
}

export interface Granted {
  readonly leaseId: string;
  /** The TTL etcd granted, in seconds (at least its minimum). */
  readonly grantedTtl: number;
  /** The revision of the write that made the lease ours. */
  readonly revision: number;
  readonly token: number;
  readonly record: EtcdRecord;
}

interface Attempt {
  readonly name: string;
  readonly holder: HolderIdentity;
  readonly ttl: number;
  readonly context: AdapterCallContext | undefined;
}

export async function attemptAcquire(parts: AttemptParts, attempt: Attempt): Promise<Granted | null> {
  const { connection, memory, keys } = parts;
  const { name, holder, ttl } = attempt;
  // The lease starts here, by both clocks: the record's wall times and `expiresAt` agree.
  const started = monoNow();
  const startedWall = Date.now();
  const look = await connection.txn('acquire', { success: [range(keys.lock), range(keys.token)] });
  const lock = rangeAnswer(look, 0);
  const tokenKey = rangeAnswer(look, 1);
  const lockIs = await mayTake(parts, attempt, lock, tokenKey, Number(look.header.revision));
  if (lockIs === null) return null;

  const tokenIs: Compare = tokenKey
    ? { key: keys.token, target: 'Value', result: 'Equal', value: tokenKey.value }
    : { key: keys.token, target: 'Version', result: 'Equal', version: 0 };
  const base = tokenKey ? baseOf(tokenKey) : 0;
  // Whole seconds, rounded up: etcd's lease never ends before the elector's deadline (and etcd
  // raises it to its own minimum).
  const lease = await connection.grant('acquire', Math.max(1, Math.ceil(ttl / 1000)));
  const record: EtcdRecord = { holder, acquiredAt: startedWall, renewedAt: startedWall, ttl, clock: parts.clock, expiresAt: started + ttl };
  const giveBack = () => {
    parts.orphans.add(lease.id);
    connection.revoke('acquire', lease.id).then(
      () => parts.orphans.delete(lease.id),
      () => undefined, // still an orphan: the next look revokes it if it holds the lock
    );
  };
  let written: Awaited<ReturnType<EtcdConnection['txn']>>;
  try {
    written = await connection.txn('acquire', {
      compare: [lockIs, tokenIs],
      success: [put(keys.lock, JSON.stringify(record), lease.id), put(keys.token, String(base))],
      failure: [range(keys.lock), range(keys.token)],
    });
  } catch (error) {
    // It may have been written before the answer was lost: the lease is given back either way.
    giveBack();
    if (isLeaseGone(error)) return null; // our new lease already expired (a pause between the calls)
    throw error;
  }
  let token: number;
  let at = Number(written.header.revision);
  if (written.succeeded) token = at + base;
  else {
    const current = rangeAnswer(written, 0);
    const currentToken = rangeAnswer(written, 1);
    // etcd3 sent the transaction again after an answer was lost, and the first one did commit.
    if (current?.lease === lease.id && currentToken) {
      token = tokenOf(currentToken);
      at = Number(current.mod_revision);
    } else {
      giveBack();
      if (current) memory.sight(name, current, monoNow());
      if (currentToken) memory.raise(name, tokenOf(currentToken));
      return null;
    }
  }
  const floor = memory.floor(name);
  if (token <= floor) {
    const raised = await raiseBase(parts, lease.id, floor - at);
    if (raised === null) {
      giveBack();
      return null;
    }
    attempt.context?.warn?.(
      `[primacy] [etcd] etcd's revision (${at}) is below token ${floor}, already handed out for ${keys.lockName} (etcd lost its data?): tokens continue from ${raised.token}`,
    );
    ({ token, revision: at } = raised);
  }
  memory.hold(name, token);
  return { leaseId: lease.id, grantedTtl: lease.ttl, revision: at, token, record };
}

/**
 * What the look says: null while someone else's lease may still run; else the compare the write
 * must pass (the key still absent, or still the very value judged ended).
 */
async function mayTake(
  parts: AttemptParts,
  attempt: Attempt,
  found: StoredKey | null,
  tokenKey: StoredKey | null,
  revision: number,
): Promise<Compare | null> {
  const { connection, memory, keys } = parts;
  const { name, context } = attempt;
  const seenAt = monoNow();
  if (tokenKey) memory.raise(name, tokenOf(tokenKey));
  let lock = found;
  if (lock && parts.orphans.has(lock.lease)) {
    // A lease of ours whose acquire answer was lost (it did commit): nobody acts on it, give it back.
    await connection.revoke('acquire', lock.lease);
    parts.orphans.delete(lock.lease);
    lock = null;
  }
  if (lock) {
    const sighting = memory.sight(name, lock, seenAt, attempt.ttl);
    memory.note(name, revision, tokenKey);
    if (seenAt < sighting.takeoverAt) {
      parts.wakeAt(sighting.takeoverAt);
      return null;
    }
    return { key: keys.lock, target: 'Mod', result: 'Equal', mod_revision: lock.mod_revision };
  }
  // Absent. A release revokes the holder's lease, and etcd revokes an expired one: a key gone while
  // the last holder's lease lives was deleted under it, or lost with etcd's data. Either way that
  // holder may still be inside its lease.
  const dataLost = memory.isStateLoss(name, tokenKey, revision);
  const seen = memory.last(name);
  if (dataLost) parts.onStateLoss(revision);
  if (dataLost || (seen && (await connection.leaseAlive('acquire', seen.lease)))) {
    const remaining = memory.waitAfterLoss(name, seenAt, (ms, record) => {
      parts.wakeAt(seenAt + ms);
      context?.warn?.(
        `[primacy] [etcd] ${keys.lockName} vanished without a release while pid ${record?.holder.pid ?? '?'} on ${record?.holder.hostname ?? '?'} held it (${dataLost ? 'etcd lost its data: an empty restart, a restore?' : 'deleted by hand?'}): waiting out its TTL, ${Math.ceil(ms)} ms, before anyone here takes over`,
      );
    });
    if (remaining > 0) return null;
    if (dataLost) memory.newEra(revision);
  }
  memory.over(name);
  memory.note(name, revision, tokenKey);
  return { key: keys.lock, target: 'Create', result: 'Equal', create_revision: 0 };
}

/**
 * Raises the token key's base while we hold the lock (compared on our lease), so that our token,
 * the new write's revision plus the base, is above the floor, and so is every later one.
 */
async function raiseBase(
  { connection, keys }: AttemptParts,
  leaseId: string,
  base: number,
): Promise<{ token: number; revision: number } | null> {
  const written = await connection.txn('acquire', {
    compare: [{ key: keys.lock, target: 'Lease', result: 'Equal', lease: leaseId }],
    success: [put(keys.token, String(base))],
  });
  if (!written.succeeded) return null;
  const revision = Number(written.header.revision);
  return { token: revision + base, revision };
}
