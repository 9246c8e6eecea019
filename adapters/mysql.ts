/**
 * A lock in MySQL or MariaDB (mysql2): a named lock (`GET_LOCK(name, 0)`, one attempt) held on a
 * dedicated session of our own, so the server frees it the moment the holder's session ends (a
 * crash is a hand-over, not a TTL). A table row per lock carries the fencing token, bumped under
 * the lock and never deleted, the holder and its lease times by the server's clock. Followers
 * wait blocked in the server, not polling (adapters/mysql/follower.ts); a paused holder, whose
 * session the server keeps, is ended with `KILL CONNECTION` after its lease (mysql/takeover.ts).
 *
 * Each process holds one connection per lock it campaigns for (holding or waiting), besides the
 * caller's pool: mind `max_connections` with many followers. Every candidate of a lock must use
 * the same table and prefix; a session holding the lock that the table does not name (another
 * table, someone else's GET_LOCK of the name) is taken for a stuck holder and ended after a grace.
 *
 * MariaDB and MySQL differ here (tested on MariaDB 10.11):
 * - Several named locks per session: MySQL 5.7+ and MariaDB 10.0.2+ (older servers released the
 *   first lock at the second GET_LOCK; followers hold the watch lock while queuing for the lock,
 *   so those are not supported). GET_LOCK is re-entrant within a session on both.
 * - Names: MySQL refuses names over 64 characters (ER_USER_LOCK_WRONG_NAME); MariaDB takes up to
 *   192 bytes. MariaDB's manual calls names case-insensitive, MariaDB 10.11 compares them exactly.
 *   So longer names, and names with upper case, become a readable head and a hash (mysql/names.ts).
 * - `IS_USED_LOCK(name)` names the holding session's `CONNECTION_ID()` on both. Who holds what is
 *   also in `performance_schema.metadata_locks` (MySQL 5.7+, OBJECT_TYPE 'USER LEVEL LOCK') and in
 *   `information_schema.METADATA_LOCK_INFO` (MariaDB, only with the metadata_lock_info plugin):
 *   not needed here, IS_USED_LOCK is enough and needs no privilege.
 * - KILL: `KILL CONNECTION id` on both (MariaDB also has `KILL [HARD|SOFT]` and `KILL QUERY ID`).
 *   Ending another user's session needs CONNECTION ADMIN on MariaDB 10.5.2+ (SUPER before),
 *   CONNECTION_ADMIN on MySQL 8 (SUPER on 5.7); a user may always end its own sessions.
 * - GET_LOCK's timeout: fractional seconds on both; negative means forever on MySQL 5.7.5+.
 * - `VALUES(col)` in ON DUPLICATE KEY UPDATE is deprecated on MySQL 8.0.20+ (a warning), current on MariaDB.
 * - The server closes sessions idle for `wait_timeout` s: ours set 8 h for themselves.
 */
import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord, RunOutcome } from '../src/adapter.js';
import { parseOutcome } from '../src/adapter-kit.js';
import { AFTER_KILL, gotLock } from './mysql/follower.js';
import { lockRecord } from './mysql/inspect.js';
import { holdsLease, type LeaseParts, type MysqlLeaseData, recordLease, restoreLease } from './mysql/lease.js';
import { parseLook } from './mysql/look.js';
import { lockNames } from './mysql/names.js';
import { type MysqlLockOptions, resolveMysqlOptions } from './mysql/options.js';
import { MysqlServer } from './mysql/server.js';
import type { Session, StatementBound } from './mysql/session.js';
import { LockSlot, type SlotParts } from './mysql/slot.js';
import { GET_LOCK, RELEASE_LOCK, type Statements, statements } from './mysql/sql.js';
import { FencingTable, NO_SUCH_TABLE } from './mysql/table.js';
import { Takeover } from './mysql/takeover.js';

export type { MysqlLockOptions } from './mysql/options.js';

/** How long an idle follower may go without asking while its wait in the server is healthy. */
const IDLE_RETRY = 60_000;

/** A lock in MySQL or MariaDB (mysql2). See `MysqlLockOptions`. */
export function mysqlLock(options: MysqlLockOptions): LockAdapter {
  return new MysqlLock(options);
}

class MysqlLock implements LockAdapter {
  readonly kind = 'mysql';
  readonly connectionBound = true;
  readonly #server: MysqlServer;
  readonly #sql: Statements;
  readonly #table: FencingTable;
  readonly #takeover: Takeover;
  readonly #prefix: string;
  readonly #slotParts: SlotParts;
  readonly #leases: LeaseParts;
  readonly #slots = new Map<string, LockSlot>();

  constructor(options: MysqlLockOptions) {
    const { table, prefix, takeoverMargin, takeoverGrace, followerWait, ...settings } = resolveMysqlOptions(options);
    this.#server = new MysqlServer(settings);
    this.#sql = statements(table);
    this.#table = new FencingTable(table, this.#sql);
    this.#takeover = new Takeover(takeoverMargin);
    this.#prefix = prefix;
    this.#slotParts = { server: this.#server, sql: this.#sql, takeover: this.#takeover, followerWait, takeoverGrace };
    this.#leases = { server: this.#server, sql: this.#sql, table: this.#table, takeover: this.#takeover, prefix };
  }

  acquire(name: string, holder: HolderIdentity, ttl: number): Promise<Lease | null> {
    const slot = this.#slot(name);
    return slot.inTurn(async () => {
      const refusal = slot.refusal;
      slot.refusal = null;
      if (refusal) throw refusal;
      // Held here already: by another election of this adapter, or by this one, which lost track.
      if (slot.lease && slot.lease.holderId !== holder.id) return null;
      const bound = { ms: Math.min(ttl, this.#server.timeout), operation: 'acquire' };
      const granted = slot.lease ? slot.current : slot.claimGrant();
      if (granted) return recordLease(this.#leases, slot, granted, { holder, ttl, bound });
      if (slot.following) return null; // our wait is queued in the server behind a live holder
      let session: Session | undefined;
      try {
        session = await slot.session('acquire');
        await this.#table.ensure(session, bound);
        if (await this.#getLock(session, slot, 0, bound)) return recordLease(this.#leases, slot, session, { holder, ttl, bound });
        const look = parseLook((await session.run(this.#sql.look, [slot.names.lock, slot.names.lock], bound)).rows[0]);
        const due = this.#takeover.due(slot.names.lock, look);
        if (due !== null && due <= 0) await this.#takeover.kill(session, slot.names.lock, look, bound);
        // Free by now (released since our attempt), or its paused holder just ended: one more try.
        const wait = due === null ? 0 : due <= 0 ? AFTER_KILL : -1;
        if (wait >= 0 && (await this.#getLock(session, slot, wait, bound)))
          return recordLease(this.#leases, slot, session, { holder, ttl, bound });
        slot.startFollowing(session);
        return null;
      } catch (error) {
        throw this.#server.error('acquire', error);
      }
    });
  }

  async renew(lease: Lease, ttl: number, context?: AdapterCallContext): Promise<Lease | null> {
    const slot = this.#slots.get(lease.name);
    const session = slot?.current;
    if (!slot || !session || !this.isIntact(lease)) return null;
    const { lock } = lease.data as MysqlLeaseData;
    const bound = { ms: Math.min(ttl, this.#server.timeout), operation: 'renew' };
    try {
      const answer = await session.run(this.#sql.renew, [ttl, ttl, lock, lease.token, lock], bound).catch(noTable);
      if (answer === undefined) this.#table.forget(); // dropped under us: created again by the restore
      let renewed = answer?.affectedRows === 1;
      if (!renewed) renewed = await restoreLease(this.#leases, slot, session, { lease, ttl, bound, context });
      // Lost while the renew was in flight: the server freed the lock with the session.
      return renewed && this.isIntact(lease) ? { ...lease, renewedAt: Date.now(), ttl } : null;
    } catch (error) {
      if (!session.alive) return null;
      throw this.#server.error('renew', error);
    }
  }

  async release(lease: Lease): Promise<void> {
    const slot = this.#slots.get(lease.name);
    if (!slot || !holdsLease(slot, lease)) return;
    await slot.inTurn(async () => {
      if (!holdsLease(slot, lease)) return;
      slot.lease = null;
      const session = slot.current;
      const { lock } = lease.data as MysqlLeaseData;
      if (session) {
        const bound = { ms: Math.min(lease.ttl, this.#server.timeout), operation: 'release' };
        try {
          await session.run(this.#sql.markReleased, [lock, lease.token, lock], bound).catch(noTable);
          await session.run(RELEASE_LOCK, [lock], bound);
        } catch {
          // A session gone has released the lock with it; else close it, so the server frees the lock.
          if (session.alive) session.destroy();
        }
      }
      slot.notify(); // another election of this adapter may be waiting for it
    });
  }

  async inspect(name: string): Promise<LockRecord | null> {
    const { lock } = lockNames(this.#prefix, name);
    const answer = await this.#server.query(this.#sql.look, [lock, lock], 'inspect').catch(noTable);
    if (!answer) return null;
    return lockRecord(name, parseLook(answer.rows[0]), `${this.#server.address} ${this.#table.name} lock "${lock}"`);
  }

  watch(name: string, onChange: () => void): () => void {
    const slot = this.#slot(name);
    slot.watchers.add(onChange);
    return () => {
      slot.watchers.delete(onChange);
      slot.unwatched();
    };
  }

  /** Long while our wait is queued in the server (it hands us the lock, we wake the election); else the elector's pace. */
  idleRetry(name: string): number | undefined {
    const slot = this.#slots.get(name);
    return slot?.following && slot.current ? IDLE_RETRY : undefined;
  }

  isIntact(lease: Lease): boolean {
    const slot = this.#slots.get(lease.name);
    const data = lease.data as MysqlLeaseData | undefined;
    return slot !== undefined && data !== undefined && holdsLease(slot, lease) && slot.current?.serial === data.serial;
  }

  async writeOutcome(lease: Lease, outcome: RunOutcome): Promise<boolean> {
    const session = this.#slots.get(lease.name)?.current;
    if (!session || !this.isIntact(lease)) return false;
    const { lock } = lease.data as MysqlLeaseData;
    const values = [JSON.stringify(outcome), lock, lease.token, lock];
    try {
      const written = await session.run(this.#sql.writeOutcome, values, { ms: this.#server.timeout, operation: 'writeOutcome' });
      return written.affectedRows === 1;
    } catch (error) {
      if (!session.alive) return false;
      throw this.#server.error('writeOutcome', error);
    }
  }

  async readOutcome(name: string): Promise<RunOutcome | null> {
    const { lock } = lockNames(this.#prefix, name);
    const answer = await this.#server.query(this.#sql.readOutcome, [lock], 'readOutcome').catch(noTable);
    return parseOutcome((answer?.rows[0]?.outcome as string | null | undefined) ?? null);
  }

  async close(): Promise<void> {
    const slots = [...this.#slots.values()];
    this.#slots.clear();
    await Promise.all(slots.map((slot) => slot.close()));
    await this.#server.close();
  }

  #slot(name: string): LockSlot {
    let slot = this.#slots.get(name);
    if (!slot) {
      slot = new LockSlot(name, lockNames(this.#prefix, name), this.#slotParts);
      this.#slots.set(name, slot);
    }
    return slot;
  }

  async #getLock(session: Session, slot: LockSlot, ms: number, bound: StatementBound): Promise<boolean> {
    const { rows } = await session.run(GET_LOCK, [slot.names.lock, (ms / 1000).toFixed(3)], { ...bound, ms: bound.ms + ms });
    return gotLock(rows[0]?.got, slot.names.lock);
  }
}

/** A missing table answers as "nothing recorded" (undefined); any other error is thrown on. */
function noTable(error: unknown): undefined {
  const { errno, cause } = error as { errno?: number; cause?: { errno?: number } };
  if (errno === NO_SUCH_TABLE || cause?.errno === NO_SUCH_TABLE) return undefined;
  throw error;
}
