/**
 * A lock in PostgreSQL (pg): a session advisory lock on a connection of the lock's own.
 *
 * - acquire is one statement: `pg_try_advisory_lock(namespace, hash(name))` and, if got, the lock's
 *   row in the lock table gets the next fencing token and the holder (the row is never deleted, and
 *   a token is at least the server's clock in µs, so tokens never go back, even past a lost row);
 * - a holder that crashes is replaced at once: the server frees the lock with its session, and the
 *   lock's watcher (one follower) sees it within `livenessInterval` and wakes the others (NOTIFY);
 * - a holder that is paused keeps its session and so the lock: once its lease has certainly ended,
 *   judged on the follower's monotonic clock (never the server's wall clock), a follower ends its
 *   session (`pg_terminate_backend`) and takes over. One adapter holds all its locks on one
 *   session, so a session is ended only when every lease it holds is over;
 * - the holder steps down the moment its connection errors or ends (`isIntact`, `connectionBound`);
 * - release unlocks, marks the row released and NOTIFYs, so followers take over at once.
 *
 * Needs a real session on a primary: PgBouncer in transaction or statement mode, and a read-only
 * standby, are detected and refused.
 */
import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord, RunOutcome } from '../src/adapter.js';
import { parseOutcome } from '../src/adapter-kit.js';
import type { PrimacyBackendError } from '../src/errors.js';
import { attempt, storedHolder } from './postgres/acquire.js';
import { Collisions } from './postgres/collisions.js';
import { LockConnection } from './postgres/connection.js';
import { privilegeError } from './postgres/errors.js';
import { Followers } from './postgres/followers.js';
import { addressOf, type InspectRow, locationOf, recordOf, UNDEFINED_TABLE } from './postgres/inspect.js';
import { channelOf, type LockKeys, lockKeys, payloadOf } from './postgres/keys.js';
import { type PostgresLockOptions, type ResolvedPostgresOptions, resolvePostgresOptions } from './postgres/options.js';
import type { Session } from './postgres/session.js';
import { type Statements, statements } from './postgres/sql.js';
import { INSUFFICIENT_PRIVILEGE } from './postgres/table.js';
import type { TableName } from './postgres/table-name.js';
import { Takeovers } from './postgres/takeover.js';
import { followersHost, say } from './postgres/watching.js';

export { type InspectOptions, inspectPostgresLock } from './postgres/inspect.js';
export type { ClientLike, PoolLike, PostgresLockOptions } from './postgres/options.js';

/** The Postgres lock: a `LockAdapter`, and `close()` for the connection it opened. */
export interface PostgresLock extends LockAdapter {
  readonly kind: 'postgres';
  readonly connectionBound: true;
  /** False once the lease's session is gone (its lock went with it). */
  isIntact(lease: Lease): boolean;
  close(): Promise<void>;
}

interface PostgresLeaseData {
  /** The session (Session.id) whose advisory lock this lease is. */
  readonly session: number;
}

/** A lock in PostgreSQL. See `PostgresLockOptions`. */
export function postgresLock(options: PostgresLockOptions): PostgresLock {
  return new PostgresAdvisoryLock(resolvePostgresOptions(options));
}

class PostgresAdvisoryLock implements PostgresLock {
  readonly kind = 'postgres';
  readonly connectionBound = true;
  readonly #namespace: number;
  readonly #table: TableName;
  readonly #sql: Statements;
  readonly #channel: string;
  readonly #connection: LockConnection;
  readonly #followers: Followers;
  /** The highest token seen per name: a new holder's token never goes below it (a deleted row). */
  readonly #floor = new Map<string, bigint>();
  /** What this adapter saw of each lock's holder (on its monotonic clock), and the ending of paused ones. */
  readonly #takeovers: Takeovers;
  readonly #collisions = new Collisions();

  constructor(options: ResolvedPostgresOptions) {
    const { connection, connectTimeout, queryTimeout, table, namespace, livenessInterval } = options;
    this.#namespace = namespace;
    this.#table = table;
    this.#sql = statements(table);
    this.#takeovers = new Takeovers(table);
    this.#channel = channelOf(table.text);
    const settings = { connection, connectTimeout, queryTimeout, channel: this.#channel, address: addressOf(connection) };
    this.#connection = new LockConnection({
      settings,
      table,
      sql: this.#sql,
      onLost: () => this.#followers.sessionLost(),
      onNotification: (payload) => this.#followers.onNotification(payload),
    });
    const host = followersHost({
      current: () => this.#connection.current(),
      sql: this.#sql,
      channel: this.#channel,
      takeovers: this.#takeovers,
      seen: (name, token) => this.#see(name, token),
      idle: () => this.#connection.idle(),
    });
    this.#followers = new Followers(host, livenessInterval);
  }

  async acquire(name: string, holder: HolderIdentity, ttl: number, context?: AdapterCallContext): Promise<Lease | null> {
    const keys = this.#keys(name);
    const session = await this.#connection.live('acquire');
    // Advisory locks are re-entrant within a session: a second election of this adapter must not
    // be granted what the session holds (or is asking for) already.
    if (session.held.has(name)) return null;
    session.held.set(name, { holderId: holder.id, token: -1 });
    try {
      for (let pass = 0; pass < 2; pass++) {
        const floor = this.#floor.get(name) ?? 0n;
        const row = await attempt(session, this.#sql, keys, { watched: this.#followers.isWatched(name), holder, ttl, floor });
        const at = this.#takeovers.sightings.nowMs();
        if (row.got) return this.#granted(session, keys, holder, ttl, Number(row.granted), context);
        this.#see(name, row.token);
        this.#collisions.lost(keys, row.held_as, context);
        this.#followers.follow(name, { seated: session.seats.has(name), followers: row.followers }, context);
        // A paused holder whose lease has ended: end its session, then try once more.
        if (pass > 0 || !(await this.#takeovers.endIfOver(session, keys, row, at, context))) break;
      }
      session.held.delete(name);
      return null;
    } catch (error) {
      if (session.held.get(name)?.token === -1) session.held.delete(name);
      throw this.#error('acquire', error, session);
    }
  }

  async renew(lease: Lease, ttl: number): Promise<Lease | null> {
    const session = this.#sessionOf(lease);
    if (!session) return null;
    const { name, token, holder } = lease;
    const keys = this.#keys(name);
    const { seat, marker } = keys;
    const { backendStart, db } = session.info;
    const values = [keys.namespace, keys.key, name, String(token), storedHolder(holder, ttl), backendStart, ttl, db, lease.acquiredAt];
    try {
      const { rows } = await session.query<{ seat_vacant: boolean }>('renew', this.#sql.renew, [
        ...values,
        seat.classid,
        seat.objid,
        marker.classid,
        marker.objid,
      ]);
      if (rows.length === 0 || this.#sessionOf(lease) !== session) return null;
      if (rows[0]?.seat_vacant) say(session, this.#channel, keys, 'seat');
      return { ...lease, renewedAt: Date.now(), ttl };
    } catch (error) {
      // The lease's session is gone: so is its lock (the server freed it). Over, not an error.
      if (session.lost) return null;
      throw this.#error('renew', error);
    }
  }

  isIntact(lease: Lease): boolean {
    return this.#sessionOf(lease) !== null;
  }

  async release(lease: Lease): Promise<void> {
    const session = this.#sessionOf(lease);
    // Its session is gone: the server freed the lock with it. Nothing of ours to release.
    if (!session) return;
    const keys = this.#keys(lease.name);
    const { namespace, key } = keys;
    try {
      const values = [namespace, key, lease.name, String(lease.token), this.#channel, payloadOf(keys, 'released'), true];
      await session.query('release', this.#sql.release, values);
    } catch (error) {
      // Whatever failed, the advisory lock must not outlive the lease: unlock it alone, or end the session.
      const unlock = 'SELECT pg_advisory_unlock($1::int, $2::int)';
      if (!session.lost) await session.query('release', unlock, [namespace, key]).catch(() => session.destroy());
      if (session.lost) return;
      throw this.#error('release', error);
    } finally {
      session.held.delete(lease.name);
    }
  }

  async inspect(name: string): Promise<LockRecord | null> {
    const keys = this.#keys(name);
    const session = await this.#connection.live('inspect');
    try {
      const { rows } = await session.query<InspectRow>('inspect', this.#sql.inspect, [keys.namespace, keys.key, name]);
      return recordOf(name, rows[0], locationOf(this.#connection.address, this.#table.text, keys.namespace));
    } catch (error) {
      throw this.#error('inspect', error);
    }
  }

  async writeOutcome(lease: Lease, outcome: RunOutcome): Promise<boolean> {
    const session = this.#sessionOf(lease);
    if (!session) return false;
    const keys = this.#keys(lease.name);
    const values = [keys.namespace, keys.key, lease.name, String(lease.token), JSON.stringify(outcome), session.info.db];
    try {
      const { rowCount } = await session.query('writeOutcome', this.#sql.writeOutcome, values);
      return (rowCount ?? 0) > 0;
    } catch (error) {
      if (session.lost) return false;
      throw this.#error('writeOutcome', error);
    }
  }

  async readOutcome(name: string): Promise<RunOutcome | null> {
    const session = await this.#connection.live('readOutcome');
    try {
      const { rows } = await session.query<{ outcome: string | null }>('readOutcome', this.#sql.readOutcome, [this.#namespace, name]);
      return parseOutcome(rows[0]?.outcome);
    } catch (error) {
      throw this.#error('readOutcome', error);
    }
  }

  watch(name: string, onChange: () => void): () => void {
    return this.#followers.add(this.#keys(name), onChange);
  }

  idleRetry(name: string): number | undefined {
    return this.#followers.idleRetry(name);
  }

  async close(): Promise<void> {
    this.#followers.close();
    await this.#connection.close();
  }

  #keys(name: string): LockKeys {
    return lockKeys(this.#namespace, name);
  }

  /** The lease's session, if it is still the live one and still holds the lease's lock. */
  #sessionOf(lease: Lease): Session | null {
    const session = this.#connection.current();
    if (!session || (lease.data as PostgresLeaseData | undefined)?.session !== session.id) return null;
    const held = session.held.get(lease.name);
    return held?.holderId === lease.holder.id && held.token === lease.token ? session : null;
  }

  #granted(session: Session, keys: LockKeys, holder: HolderIdentity, ttl: number, token: number, context?: AdapterCallContext): Lease {
    this.#see(keys.name, String(token));
    this.#takeovers.sightings.forget(keys.name);
    this.#followers.stopFollowing(keys.name);
    this.#collisions.granted(session, keys, context);
    const now = Date.now();
    const data: PostgresLeaseData = { session: session.id };
    return { name: keys.name, token, holder, acquiredAt: now, renewedAt: now, ttl, data };
  }

  #see(name: string, token: string | null): void {
    if (token === null) return;
    const seen = BigInt(token);
    if (seen > (this.#floor.get(name) ?? 0n)) this.#floor.set(name, seen);
  }

  #error(operation: string, error: unknown, session = this.#connection.current()): PrimacyBackendError {
    const code = (error as { code?: string } | null)?.code;
    // The lock table is gone (dropped, renamed): the next session creates it again.
    if (code === UNDEFINED_TABLE) this.#connection.current()?.destroy();
    if (code === INSUFFICIENT_PRIVILEGE && session) return privilegeError(operation, this.#table, session.info.role, error);
    return this.#connection.error(operation, error);
  }
}
