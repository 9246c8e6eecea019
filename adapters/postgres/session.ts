/**
 * The lock's dedicated connection: one PostgreSQL session per adapter, holding every advisory lock
 * the adapter takes and listening for every lock's notifications. Session locks live exactly as
 * long as the session, so everything about it is explicit:
 *
 * - it is a `pg.Client` of our own, never a pooled one (a pool's release or reset drops the locks);
 * - the server must not end it while it idles: `idle_session_timeout` and
 *   `idle_in_transaction_session_timeout` are 0 on it, and server-side keepalives and
 *   `tcp_user_timeout` end it (freeing the locks) once its client's host is gone;
 * - no role setting may cancel its statements or change what they mean: `statement_timeout`,
 *   `lock_timeout` (and `transaction_timeout`) are 0 (a takeover waits for a row lock and for the
 *   ended backend to exit; `queryTimeout` bounds every statement on our side), and the isolation is
 *   READ COMMITTED, which the takeover's and the renew's row locks rely on (sql-takeover.ts);
 * - it must be on a primary: a hot standby (`pg_is_in_recovery()`) is refused when it opens;
 * - once it errors or ends it is `lost` for good, and the adapter opens another for the next call:
 *   a lease made on a lost session is over (the server freed its lock), so it is never renewed;
 * - a statement without an answer within `queryTimeout` ends it: a server that does not answer
 *   cannot be relied on to still hold the lock for us;
 * - the socket is unref'd while no statement is in flight, so an idle lock never keeps the
 *   process alive (a running election does, as it should).
 */
import pg from 'pg';
import { bounded } from '../../src/adapter-kit.js';
import { PrimacyBackendError } from '../../src/errors.js';
import { PROBE_SPACE } from './keys.js';
import { checkSessionIsPinned, type SessionInfo } from './pooling.js';

export interface SessionEvents {
  /** The session ended or failed: its locks are gone. */
  readonly onLost: (session: Session, error: unknown) => void;
  readonly onNotification: (payload: string | undefined) => void;
}

export interface SessionSettings {
  readonly connection: pg.ClientConfig;
  readonly connectTimeout: number;
  readonly queryTimeout: number;
  /** The LISTEN channel of the lock table. */
  readonly channel: string;
  /** Where this is, for errors: `host:port/database`. */
  readonly address: string;
}

/** How long the server waits before probing a silent client host (and how often, and how many times). */
const SERVER_KEEPALIVE = { idle: 10, interval: 5, count: 3 };

let sessions = 0;

export class Session {
  /** Tells sessions apart: a lease names the session it was made on. */
  readonly id = ++sessions;
  readonly client: pg.Client;
  info!: SessionInfo;
  /**
   * Locks this session holds (or is asking for: token -1), by name, with the holder and token they
   * were granted to. A lease is ours only while this says so: the lock lives and dies with the session.
   */
  readonly held = new Map<string, { readonly holderId: string; readonly token: number }>();
  /** Names whose watcher seat / follower mark this session holds. */
  readonly seats = new Set<string>();
  readonly markers = new Set<string>();
  /** `end()` was called: no new statement goes out. */
  #closing = false;
  /** The connection ended or failed (reported once through `onLost`). */
  #gone = false;
  /** Open succeeded: only then is a loss news (a failed open is the caller's error, not a hint to retry at once). */
  #opened = false;
  #inFlight = 0;
  readonly #settings: SessionSettings;
  readonly #events: SessionEvents;

  private constructor(settings: SessionSettings, events: SessionEvents) {
    this.#settings = settings;
    this.#events = events;
    this.client = new pg.Client({
      application_name: 'primacy',
      ...settings.connection,
      keepAlive: true,
      keepAliveInitialDelayMillis: SERVER_KEEPALIVE.idle * 1000,
      connectionTimeoutMillis: settings.connectTimeout,
    });
    // Every failure is seen through the calls that fail; an 'error' event only ends the session.
    this.client.on('error', (error) => this.#end(error));
    this.client.on('end', () => this.#end(new Error('the connection ended')));
    this.client.on('notification', (message) => this.#events.onNotification(message.payload));
  }

  /** Opens a session: connects, readies it for holding locks, checks no pooler shares it, LISTENs. */
  static async open(settings: SessionSettings, events: SessionEvents): Promise<Session> {
    const session = new Session(settings, events);
    try {
      await bounded(session.client.connect(), {
        ms: settings.connectTimeout,
        adapter: 'postgres',
        operation: 'connect',
        timeoutError: () => new Error(`no connection within ${settings.connectTimeout} ms (connectTimeout)`),
      });
      session.info = await session.#describe();
      await session.query('connect', session.#settingsSql());
      await checkSessionIsPinned(session, settings);
      await session.query('connect', `LISTEN "${settings.channel}"`);
      session.#opened = true;
      return session;
    } catch (error) {
      session.destroy();
      throw error;
    }
  }

  get lost(): boolean {
    return this.#closing || this.#gone;
  }

  /** The local port of our socket (null over a Unix socket): to tell whether a proxy is between. */
  get localPort(): number | null {
    return (this.client as unknown as { connection?: { stream?: { localPort?: number } } }).connection?.stream?.localPort ?? null;
  }

  /**
   * Runs one statement, bounded by `queryTimeout`. A row's `backend` column, when a statement
   * returns one, must be this session's backend: anything else means a pooler ran the statement
   * on another server connection, and the session is ended (see pooling.ts).
   */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    operation: string,
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    if (this.lost) throw new PrimacyBackendError('postgres', operation, `the connection to ${this.#settings.address} was lost`);
    this.#busy();
    try {
      const result = await bounded(this.client.query<R>(text, values), {
        ms: this.#settings.queryTimeout,
        adapter: 'postgres',
        operation,
        timeoutError: () => {
          this.destroy();
          const ms = this.#settings.queryTimeout;
          return new PrimacyBackendError(
            'postgres',
            operation,
            `no answer from ${this.#settings.address} within ${ms} ms (queryTimeout); the connection is closed`,
          );
        },
      });
      const backend = (result.rows?.[0] as { backend?: unknown } | undefined)?.backend;
      if (backend !== undefined && backend !== null && this.info && backend !== this.info.pid) {
        this.destroy();
        throw new PrimacyBackendError(
          'postgres',
          operation,
          `${this.#settings.address} ran a statement of this session on another backend (pid ${backend}, not ${this.info.pid}): a pooler in transaction or statement mode is in between; connect to PostgreSQL directly or through session pooling`,
        );
      }
      return result;
    } finally {
      this.#idle();
    }
  }

  /** Closes the session (its locks are freed by the server). */
  async end(): Promise<void> {
    if (this.lost) return this.destroy();
    this.#closing = true;
    this.#busy(); // an end in flight must not be cut short by an exiting process
    await bounded(this.client.end(), { ms: 1000, adapter: 'postgres', operation: 'close' }).catch(() => this.destroy());
  }

  /** Drops the connection at once (no goodbye to the server). */
  destroy(): void {
    (this.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    this.#end(new Error('the connection was closed'));
  }

  #end(error: unknown): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#socket()?.unref?.();
    if (this.#opened) this.#events.onLost(this, error);
    this.held.clear();
    this.seats.clear();
    this.markers.clear();
  }

  /** The backend, server and probe of this session, in one round trip. */
  async #describe(): Promise<SessionInfo> {
    const probe = Math.floor(Math.random() * 2 ** 31);
    const { rows } = await this.query<{
      pid: number;
      version: number;
      db: string;
      role: string;
      backend_start: string | null;
      client_port: number | null;
      probe: boolean;
      standby: boolean;
    }>(
      'connect',
      `SELECT pg_backend_pid() AS pid, current_setting('server_version_num')::int AS version,
              (SELECT oid::text FROM pg_database WHERE datname = current_database()) AS db, current_user::text AS role,
              (SELECT backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()) AS backend_start,
              (SELECT client_port FROM pg_stat_activity WHERE pid = pg_backend_pid()) AS client_port,
              pg_is_in_recovery() AS standby, pg_try_advisory_lock($1::int, $2::int) AS probe`,
      [PROBE_SPACE, probe],
    );
    const row = rows[0];
    if (!row) throw new Error('the server described no session');
    if (row.standby) {
      throw new PrimacyBackendError(
        'postgres',
        'connect',
        `${this.#settings.address} is a read-only standby (pg_is_in_recovery() is true): connect to the primary`,
      );
    }
    return {
      pid: row.pid,
      version: row.version,
      db: row.db,
      role: row.role,
      backendStart: row.backend_start,
      clientPort: row.client_port,
      probe,
    };
  }

  /** Settings that keep the session (and so the locks) alive while idle, and end it when its client's host is gone. */
  #settingsSql(): string {
    const { version } = this.info;
    const lines = [
      'SET idle_in_transaction_session_timeout = 0',
      'SET statement_timeout = 0',
      'SET lock_timeout = 0',
      "SET default_transaction_isolation = 'read committed'",
      `SET tcp_keepalives_idle = ${SERVER_KEEPALIVE.idle}`,
      `SET tcp_keepalives_interval = ${SERVER_KEEPALIVE.interval}`,
      `SET tcp_keepalives_count = ${SERVER_KEEPALIVE.count}`,
    ];
    if (version >= 140000) lines.push('SET idle_session_timeout = 0');
    if (version >= 170000) lines.push('SET transaction_timeout = 0');
    if (version >= 120000) lines.push(`SET tcp_user_timeout = ${Math.round(this.#settings.queryTimeout)}`);
    return lines.join('; ');
  }

  #socket(): { ref(): void; unref(): void } | undefined {
    return (this.client as unknown as { connection?: { stream?: { ref?(): void; unref?(): void } } }).connection?.stream as
      | { ref(): void; unref(): void }
      | undefined;
  }

  #busy(): void {
    if (this.#inFlight++ === 0) this.#socket()?.ref?.();
  }

  #idle(): void {
    this.#inFlight -= 1;
    if (this.#inFlight === 0) this.#socket()?.unref?.();
  }
}
