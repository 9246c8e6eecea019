/**
 * A lock in PostgreSQL (pg): a session advisory lock on a connection of the lock's own.
 *
 * - acquire is one `pg_try_advisory_lock(namespace, hash(name))`; under the lock, the lock's row in
 *   the lock table gets the next fencing token (the row is never deleted, so tokens survive every
 *   restart) and the holder, with an expiry on the server's clock;
 * - a holder that crashes is replaced at once: the server frees the lock with its session, and the
 *   lock's watcher (one follower) sees it within `livenessInterval` and wakes the others (NOTIFY);
 * - a holder that is paused keeps its session and so the lock: once its lease has expired on the
 *   server's clock, a follower ends its session (`pg_terminate_backend`) and takes over;
 * - the holder steps down the moment its connection errors or ends (`isIntact`, `connectionBound`);
 * - release unlocks, marks the row released and NOTIFYs, so followers take over at once.
 *
 * Needs a real session: PgBouncer in transaction or statement mode is detected and refused.
 */
import type { AdapterCallContext, HolderIdentity, Lease, LockAdapter, LockRecord, RunOutcome } from '../src/adapter.js';
import { parseOutcome, serverError, unreachableError } from '../src/adapter-kit.js';
import { PrimacyBackendError } from '../src/errors.js';
import { Followers } from './postgres/followers.js';
import { addressOf, type InspectRow, locationOf, recordOf, UNDEFINED_TABLE } from './postgres/inspect.js';
import { channelOf, type LockKeys, lockKeys, payloadOf } from './postgres/keys.js';
import { type PostgresLockOptions, type ResolvedPostgresOptions, resolvePostgresOptions } from './postgres/options.js';
import { Session } from './postgres/session.js';
import { type LockRow, type Statements, statements } from './postgres/sql.js';
import { ensureTable } from './postgres/table.js';
import { isExpiredHolder, terminateExpiredHolder } from './postgres/takeover.js';

export { type InspectOptions, inspectPostgresLock } from './postgres/inspect.js';
export type { ClientLike, PoolLike, PostgresLockOptions } from './postgres/options.js';

/** The Postgres lock: a `LockAdapter`, and `close()` for the connection it opened. */
export interface PostgresLock extends LockAdapter {
  readonly kind: 'postgres';
  readonly connectionBound: true;
  close(): Promise<void>;
}

interface PostgresLeaseData {
  /** The session (Session.id) whose advisory lock this lease is. */
  readonly session: number;
}

interface AttemptRow extends LockRow {
  readonly got: boolean | null;
  readonly seated: boolean | null;
  readonly marked: boolean | null;
  readonly followers: number;
  readonly holder_pid: number | null;
}

/** A lock in PostgreSQL. See `PostgresLockOptions`. */
export function postgresLock(options: PostgresLockOptions): PostgresLock {
  return new PostgresAdvisoryLock(resolvePostgresOptions(options));
}

class PostgresAdvisoryLock implements PostgresLock {
  readonly kind = 'postgres';
  readonly connectionBound = true;
  readonly #options: ResolvedPostgresOptions;
  readonly #sql: Statements;
  readonly #channel: string;
  readonly #address: string;
  readonly #followers: Followers;
  /** The highest token seen per name: a new holder's token never goes below it (a deleted row). */
  readonly #floor = new Map<string, bigint>();
  #session: Session | null = null;
  #opening: Promise<Session> | null = null;
  #closed = false;

  constructor(options: ResolvedPostgresOptions) {
    this.#options = options;
    this.#sql = statements(options.table);
    this.#channel = channelOf(options.table.text);
    this.#address = addressOf(options.connection);
    this.#followers = new Followers(
      {
        look: (keys, notify) => this.#look(keys, notify),
        terminate: async (keys, row, context) => {
          const session = this.#current();
          if (!session) return false;
          return terminateExpiredHolder(session, this.#sql, keys, row, context).catch((error) => {
            context?.warn?.((error as Error).message);
            return false;
          });
        },
        leave: (keys) => this.#leave(keys),
        idle: () => this.#idle(),
        listening: () => this.#current() !== null,
      },
      options.livenessInterval,
    );
  }

  async acquire(name: string, holder: HolderIdentity, ttl: number, context?: AdapterCallContext): Promise<Lease | null> {
    const keys = this.#keys(name);
    const session = await this.#live('acquire');
    // Advisory locks are re-entrant within a session: a second election of this adapter must not
    // be granted what the session holds (or is asking for) already.
    if (session.held.has(name)) return null;
    session.held.set(name, { holderId: holder.id, token: -1 });
    try {
      for (let pass = 0; pass < 2; pass++) {
        const row = await this.#attempt(session, keys);
        if (row.got) return await this.#grant(session, keys, holder, ttl);
        this.#see(name, row.token);
        this.#followers.follow(name, { seated: session.seats.has(name), followers: row.followers }, context);
        // A paused holder past its TTL: end its session, then try once more.
        if (pass > 0 || !isExpiredHolder(row)) break;
        if (!(await terminateExpiredHolder(session, this.#sql, keys, row, context))) break;
      }
      session.held.delete(name);
      return null;
    } catch (error) {
      if (session.held.get(name)?.token === -1) session.held.delete(name);
      throw this.#error('acquire', error);
    }
  }

  async renew(lease: Lease, ttl: number): Promise<Lease | null> {
    const session = this.#sessionOf(lease);
    if (!session) return null;
    const { name, token, holder } = lease;
    const keys = this.#keys(name);
    const { seat, marker } = keys;
    const values = [keys.namespace, keys.key, name, String(token), JSON.stringify(holder), session.info.backendStart, ttl, session.info.db];
    try {
      const { rows } = await session.query<{ seat_vacant: boolean }>('renew', this.#sql.renew, [
        ...values,
        lease.acquiredAt,
        seat.classid,
        seat.objid,
        marker.classid,
        marker.objid,
      ]);
      if (rows.length === 0 || this.#sessionOf(lease) !== session) return null;
      if (rows[0]?.seat_vacant) this.#say(session, keys, 'seat');
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
    try {
      await session.query('release', this.#sql.release, [
        keys.namespace,
        keys.key,
        lease.name,
        String(lease.token),
        this.#channel,
        payloadOf(keys, 'released'),
        true,
      ]);
    } catch (error) {
      // Whatever failed, the advisory lock must not outlive the lease: unlock it alone, or end the session.
      const unlock = 'SELECT pg_advisory_unlock($1::int, $2::int)';
      if (!session.lost) await session.query('release', unlock, [keys.namespace, keys.key]).catch(() => session.destroy());
      if (session.lost) return;
      throw this.#error('release', error);
    } finally {
      session.held.delete(lease.name);
    }
  }

  async inspect(name: string): Promise<LockRecord | null> {
    const keys = this.#keys(name);
    const session = await this.#live('inspect');
    try {
      const { rows } = await session.query<InspectRow>('inspect', this.#sql.inspect, [keys.namespace, keys.key, name]);
      return recordOf(name, rows[0], locationOf(this.#address, this.#options.table.text, keys.namespace));
    } catch (error) {
      throw this.#error('inspect', error);
    }
  }

  async writeOutcome(lease: Lease, outcome: RunOutcome): Promise<boolean> {
    const session = this.#sessionOf(lease);
    if (!session) return false;
    const keys = this.#keys(lease.name);
    try {
      const { rowCount } = await session.query('writeOutcome', this.#sql.writeOutcome, [
        keys.namespace,
        keys.key,
        lease.name,
        String(lease.token),
        JSON.stringify(outcome),
        session.info.db,
      ]);
      return (rowCount ?? 0) > 0;
    } catch (error) {
      if (session.lost) return false;
      throw this.#error('writeOutcome', error);
    }
  }

  async readOutcome(name: string): Promise<RunOutcome | null> {
    const session = await this.#live('readOutcome');
    try {
      const { rows } = await session.query<{ outcome: string | null }>('readOutcome', this.#sql.readOutcome, [
        this.#options.namespace,
        name,
      ]);
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
    this.#closed = true;
    this.#followers.close();
    const session = this.#session ?? (await this.#opening?.catch(() => null)) ?? null;
    this.#session = null;
    await session?.end();
  }

  #keys(name: string): LockKeys {
    return lockKeys(this.#options.namespace, name);
  }

  /** The lease's session, if it is still the live one and still holds the lease's lock. */
  #sessionOf(lease: Lease): Session | null {
    const session = this.#current();
    const data = lease.data as PostgresLeaseData | undefined;
    if (!session || data?.session !== session.id) return null;
    const held = session.held.get(lease.name);
    return held?.holderId === lease.holder.id && held.token === lease.token ? session : null;
  }

  #current(): Session | null {
    return this.#session && !this.#session.lost ? this.#session : null;
  }

  /** The live session, opened if there is none (after a loss, or on first use). */
  async #live(operation: string): Promise<Session> {
    if (this.#closed) throw new PrimacyBackendError('postgres', operation, 'the lock is closed (close() was called)');
    const current = this.#current();
    if (current) return current;
    this.#opening ??= this.#open().finally(() => {
      this.#opening = null;
    });
    try {
      return await this.#opening;
    } catch (error) {
      throw this.#error(operation, error);
    }
  }

  async #open(): Promise<Session> {
    const { connection, connectTimeout, queryTimeout, table } = this.#options;
    const settings = { connection, connectTimeout, queryTimeout, channel: this.#channel, address: this.#address };
    const session = await Session.open(settings, {
      onLost: (lost) => {
        // A session replaced already (closed while idle) is no news to anyone.
        if (this.#session !== lost) return;
        this.#session = null;
        this.#followers.sessionLost();
      },
      onNotification: (payload) => this.#followers.onNotification(payload),
    });
    try {
      await ensureTable(session, table, this.#sql, this.#address);
    } catch (error) {
      session.destroy();
      throw error;
    }
    if (this.#closed) {
      await session.end();
      throw new PrimacyBackendError('postgres', 'connect', 'the lock is closed (close() was called)');
    }
    this.#session = session;
    return session;
  }

  async #attempt(session: Session, keys: LockKeys): Promise<AttemptRow> {
    const watched = this.#followers.isWatched(keys.name);
    const { seat, marker } = keys;
    const { rows } = await session.query<AttemptRow>('acquire', this.#sql.attempt, [
      keys.namespace,
      keys.key,
      keys.name,
      session.info.db,
      session.info.pid,
      watched && !session.seats.has(keys.name),
      seat.value,
      watched && !session.markers.has(keys.name),
      marker.value,
      marker.classid,
      marker.objid,
    ]);
    const row = rows[0] as AttemptRow;
    if (row.seated) session.seats.add(keys.name);
    if (row.marked) session.markers.add(keys.name);
    return row;
  }

  async #grant(session: Session, keys: LockKeys, holder: HolderIdentity, ttl: number): Promise<Lease> {
    const { name } = keys;
    const seated = session.seats.has(name);
    const floor = String(this.#floor.get(name) ?? 0n);
    try {
      const { rows } = await session.query<{ token: string }>('acquire', this.#sql.grant, [
        keys.namespace,
        keys.key,
        name,
        floor,
        JSON.stringify(holder),
        session.info.backendStart,
        ttl,
        seated,
        keys.seat.value,
      ]);
      const token = Number(rows[0]?.token);
      if (seated) session.seats.delete(name);
      session.held.set(name, { holderId: holder.id, token });
      this.#see(name, rows[0]?.token ?? null);
      this.#followers.stopFollowing(name);
      const now = Date.now();
      const data: PostgresLeaseData = { session: session.id };
      return { name, token, holder, acquiredAt: now, renewedAt: now, ttl, data };
    } catch (error) {
      // No token, no lease: give the advisory lock back (a lost session has freed it already).
      session.held.delete(name);
      await session
        .query('acquire', 'SELECT pg_advisory_unlock($1::int, $2::int)', [keys.namespace, keys.key])
        .catch(() => session.destroy());
      throw error;
    }
  }

  /** The watcher's look at the lock (see followers.ts). */
  async #look(keys: LockKeys, notify: boolean) {
    const session = this.#current();
    if (!session) throw new Error('no session');
    const values = [keys.namespace, keys.key, keys.name, session.info.db, this.#channel, payloadOf(keys, 'free'), notify];
    const { rows } = await session.query<LockRow & { holder_pid: number | null }>('watch', this.#sql.watch, values);
    const row = rows[0] as LockRow & { holder_pid: number | null };
    this.#see(keys.name, row.token);
    return row;
  }

  /** The last watcher of a lock here left: give up its seat and mark, and let another follower watch. */
  #leave(keys: LockKeys): void {
    const session = this.#current();
    if (!session) return;
    const seated = session.seats.delete(keys.name);
    const marked = session.markers.delete(keys.name);
    if (!seated && !marked) return;
    void session
      .query(
        'watch',
        `SELECT CASE WHEN $1::boolean THEN pg_advisory_unlock($2::bigint) END, CASE WHEN $3::boolean THEN pg_advisory_unlock_shared($4::bigint) END,
                CASE WHEN $1::boolean THEN pg_notify($5::text, $6::text)::text END`,
        [seated, keys.seat.value, marked, keys.marker.value, this.#channel, payloadOf(keys, 'seat')],
      )
      .catch(() => undefined);
  }

  /** No election watches any lock here: close the session unless it holds a lock (the next call reopens one). */
  #idle(): void {
    const session = this.#current();
    if (session && session.held.size === 0 && session.seats.size === 0) {
      this.#session = null;
      void session.end();
    }
  }

  #say(session: Session, keys: LockKeys, event: 'seat'): void {
    void session.query('renew', 'SELECT pg_notify($1::text, $2::text)', [this.#channel, payloadOf(keys, event)]).catch(() => undefined);
  }

  #see(name: string, token: string | null): void {
    if (token === null) return;
    const seen = BigInt(token);
    if (seen > (this.#floor.get(name) ?? 0n)) this.#floor.set(name, seen);
  }

  /** `error` as a backend error naming the server: a connection's failure as `unreachable`, the server's answer with its SQLSTATE. */
  #error(operation: string, error: unknown): PrimacyBackendError {
    if (error instanceof PrimacyBackendError) return error;
    const { code, severity } = (error ?? {}) as { code?: string; severity?: string };
    // The lock table is gone (dropped, renamed): the next session creates it again.
    if (code === UNDEFINED_TABLE) this.#current()?.destroy();
    if (severity === undefined) return unreachableError('postgres', operation, this.#address, error);
    const withCode = new Error(`${(error as Error).message} (SQLSTATE ${code})`, { cause: error });
    return serverError('postgres', operation, this.#address, withCode);
  }
}
