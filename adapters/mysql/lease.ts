/**
 * A lease of the MySQL lock: recorded in its fencing row under the lock (with the next token), and
 * bound to the session that holds the lock, so it ends the moment that session does.
 */
import type { AdapterCallContext, HolderIdentity, Lease } from '../../src/adapter.js';
import { parseLook } from './look.js';
import type { MysqlServer } from './server.js';
import type { Session, StatementBound } from './session.js';
import type { LockSlot } from './slot.js';
import type { Statements } from './sql.js';
import { type FencingTable, NO_SUCH_TABLE } from './table.js';
import type { Takeover } from './takeover.js';

export interface MysqlLeaseData {
  readonly lock: string;
  /** The session the lease is bound to (`Session.serial`). */
  readonly serial: number;
  readonly connectionId: number;
}

/** What recording a lease needs of its adapter. */
export interface LeaseParts {
  readonly server: MysqlServer;
  readonly sql: Statements;
  readonly table: FencingTable;
  readonly takeover: Takeover;
  readonly prefix: string;
}

/** Whether `lease` is the one the slot holds now (same holder, token and session). */
export function holdsLease(slot: LockSlot, lease: Lease): boolean {
  const held = slot.lease;
  const data = lease.data as MysqlLeaseData | undefined;
  return held !== null && held.token === lease.token && held.holderId === lease.holder.id && held.serial === data?.serial;
}

/**
 * Records `holder` under the lock its session holds, with the next token. A failure closes the
 * session, so the server frees a lock that has no lease.
 */
export async function recordLease(
  parts: LeaseParts,
  slot: LockSlot,
  session: Session,
  request: { readonly holder: HolderIdentity; readonly ttl: number; readonly bound: StatementBound },
): Promise<Lease> {
  const { lock } = slot.names;
  const { holder, ttl, bound } = request;
  try {
    const values = [lock, `${parts.prefix}${slot.name}`, JSON.stringify(holder), ttl, ttl, lock];
    const recorded = await session.run(parts.sql.record, values, bound);
    if (recorded.affectedRows === 0) throw new Error(`the session no longer holds lock "${lock}"`);
    const token = recorded.insertId;
    slot.lease = { holderId: holder.id, token, serial: session.serial };
    parts.takeover.forget(lock);
    const now = Date.now();
    const data: MysqlLeaseData = { lock, serial: session.serial, connectionId: session.id };
    return { name: slot.name, token, holder, acquiredAt: now, renewedAt: now, ttl, data };
  } catch (error) {
    slot.lease = null;
    session.destroy();
    if ((error as { errno?: number }).errno === NO_SUCH_TABLE) parts.table.forget(); // dropped since: create it again
    throw parts.server.error(bound.operation, error);
  }
}

/**
 * The lease's row is gone (deleted, or its table dropped) while its session still holds the lock:
 * records it again, same token (nobody else could have taken one without the lock). False when
 * the lock is not ours or the row is someone else's.
 */
export async function restoreLease(
  parts: LeaseParts,
  slot: LockSlot,
  session: Session,
  request: { readonly lease: Lease; readonly ttl: number; readonly bound: StatementBound; readonly context?: AdapterCallContext },
): Promise<boolean> {
  const { lock } = slot.names;
  const { lease, ttl, bound, context } = request;
  await parts.table.ensure(session, bound);
  const look = parseLook((await session.run(parts.sql.look, [lock, lock], bound)).rows[0]);
  if (look.usedBy !== session.id || look.row !== null) return false;
  const acquiredAt = look.now - (Date.now() - lease.acquiredAt); // on the server's clock, as recorded
  const values = [lock, `${parts.prefix}${slot.name}`, lease.token, JSON.stringify(lease.holder), acquiredAt, ttl, ttl, lock];
  const restored = (await session.run(parts.sql.restore, values, bound)).affectedRows === 1;
  if (restored) {
    context?.warn?.(
      `[primacy] [mysql] the row of lock "${lock}" was deleted under its live holder (token ${lease.token}); recorded it again`,
    );
  }
  return restored;
}
