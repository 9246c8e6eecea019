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
import { baseOf, type EtcdRecord, parseRecord, tokenOf } from './record.js';

export interface AttemptParts {
  readonly connection: EtcdConnection;
  readonly memory: LockMemory;
  readonly keys: LockKeys;
  /** This process's clock identity (clock.ts). */
  readonly clock: string | null;
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

export async function attemptAcquire(
  parts: AttemptParts,
  { name, holder, ttl, context }: { name: string; holder: HolderIdentity; ttl: number; context: AdapterCallContext | undefined },
): Promise<Granted | null> {
  const { connection, memory, keys } = parts;
  const started = monoNow();
  const look = await connection.txn('acquire', { success: [range(keys.lock), range(keys.token)] });
  const seenAt = monoNow();
  const revision = Number(look.header.revision);
  let lock = rangeAnswer(look, 0);
  const tokenKey = rangeAnswer(look, 1);
  if (tokenKey) memory.raise(name, tokenOf(tokenKey));
  if (lock && parseRecord(lock.value)?.holder.id === holder.id) {
    // Our own lease whose answer never reached us (a timed-out acquire that did commit): this
    // election holds nothing, so give it back and go on as if it were free.
    await connection.revoke('acquire', lock.lease);
    lock = null;
  } else if (lock) {
    const sighting = memory.sight(name, lock, seenAt);
    if (seenAt < sighting.takeoverAt) {
      memory.note(name, revision, tokenKey);
      parts.wakeAt(sighting.takeoverAt);
      return null;
    }
  } else if (memory.isStateLoss(name, tokenKey, revision)) {
    parts.onStateLoss(revision);
    const remaining = memory.waitAfterLoss(name, seenAt, (ms, record) => {
      parts.wakeAt(seenAt + ms);
      context?.warn?.(
        `[primacy] [etcd] ${keys.lockName} vanished with etcd's data (an empty restart or a restore?) while pid ${record?.holder.pid ?? '?'} on ${record?.holder.hostname ?? '?'} held it: waiting out its TTL, ${Math.ceil(ms)} ms, before anyone here takes over`,
      );
    });
    if (remaining > 0) return null;
    memory.newEra(revision);
  }
  if (!lock) memory.over(name);
  memory.note(name, revision, tokenKey);

  const lockIs: Compare = lock
    ? { key: keys.lock, target: 'Mod', result: 'Equal', mod_revision: lock.mod_revision }
    : { key: keys.lock, target: 'Create', result: 'Equal', create_revision: 0 };
  const tokenIs: Compare = tokenKey
    ? { key: keys.token, target: 'Value', result: 'Equal', value: tokenKey.value }
    : { key: keys.token, target: 'Version', result: 'Equal', version: 0 };
  const base = tokenKey ? baseOf(tokenKey) : 0;
  // Whole seconds, rounded up: etcd's lease never ends before the elector's deadline (and etcd
  // raises it to its own minimum).
  const lease = await connection.grant('acquire', Math.max(1, Math.ceil(ttl / 1000)));
  const now = Date.now();
  const record: EtcdRecord = { holder, acquiredAt: now, renewedAt: now, ttl, clock: parts.clock, expiresAt: started + ttl };
  const giveBack = () => void connection.revoke('acquire', lease.id).catch(() => undefined);
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
    context?.warn?.(
      `[primacy] [etcd] etcd's revision (${at}) is below token ${floor}, already handed out for ${keys.lockName} (etcd lost its data?): tokens continue from ${raised.token}`,
    );
    ({ token, revision: at } = raised);
  }
  memory.hold(name, token);
  return { leaseId: lease.id, grantedTtl: lease.ttl, revision: at, token, record };
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
