/**
 * One dedicated server session: a mysql2 connection of our own (never a pooled one, which a pool
 * may reset or lend to someone else, and a named lock would go with it). A lock held on it lives
 * exactly as long as the session, so the session tells at once when it ends: any error on the
 * connection, its end, or a statement that got no answer in time (then we close it ourselves, so
 * the server frees what it held as soon as it sees the close). After that it is `lost` for good:
 * nothing made on it may be trusted, and a new session is opened for what comes next.
 *
 * The socket keeps the process alive only while a statement is in flight: a lock that nobody
 * uses never holds a process open.
 */
import mysql from 'mysql2';
import { PrimacyBackendError } from '../../src/errors.js';

/** The mysql2 core connection surface used here. */
interface CoreConnection {
  query(options: object, callback: (error: Error | null, result: unknown) => void): unknown;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
  destroy(): void;
  readonly stream?: { ref?(): void; unref?(): void };
}

/** A statement's rows (for SELECT) or its OK packet (for INSERT, UPDATE). */
export interface RowsOrOk {
  readonly rows: Array<Record<string, unknown>>;
  /** Rows matched (mysql2 asks for found rows): 1 for an INSERT, 2 for an upsert that updated. */
  readonly affectedRows: number;
  /** `LAST_INSERT_ID(expr)`'s value after an INSERT. */
  readonly insertId: number;
}

/** How long a statement may take, and what a timeout is reported as. */
export interface StatementBound {
  readonly ms: number;
  readonly operation: string;
}

/** `wait_timeout` of our sessions, in s: eight hours, MySQL's own default, whatever the server's is. */
export const SESSION_TIMEOUT_S = 28_800;

let serials = 0;

export class Session {
  /** Unique per session in this process: tells a lease's session from a newer one with a reused id. */
  readonly serial = ++serials;
  #id = 0;
  #lost: Error | null = null;
  #inFlight = 0;
  readonly #listeners = new Set<(reason: Error) => void>();

  private constructor(private readonly connection: CoreConnection) {
    connection.on('error', (error) => this.#lose(error ?? connectionClosed()));
    connection.on('end', () => this.#lose(connectionClosed()));
  }

  /**
   * Connects with `config` (a mysql2 ConnectionConfig of our own), makes the session outlive the
   * server's `wait_timeout` (a holder is idle between renewals) and learns its connection id.
   */
  static async open(config: object, bound: StatementBound): Promise<Session> {
    const Connection = mysql.Connection as unknown as new (options: { config: object }) => CoreConnection;
    const session = new Session(new Connection({ config }));
    try {
      await session.run(`SET SESSION wait_timeout = ${SESSION_TIMEOUT_S}, interactive_timeout = ${SESSION_TIMEOUT_S}`, [], bound);
      const { rows } = await session.run('SELECT CONNECTION_ID() AS id', [], bound);
      session.#id = Number(rows[0]?.id);
      return session;
    } catch (error) {
      session.destroy();
      throw error;
    }
  }

  /** The server's `CONNECTION_ID()` of this session (what `IS_USED_LOCK` names). */
  get id(): number {
    return this.#id;
  }

  /** False once the connection failed, ended or was closed: the server has freed (or will free) its locks. */
  get alive(): boolean {
    return this.#lost === null;
  }

  /** Why the session ended, or null while it lives. */
  get lostBecause(): Error | null {
    return this.#lost;
  }

  /** Calls `listener` once, when the session ends (at once if it has). Returns an unsubscribe function. */
  onLost(listener: (reason: Error) => void): () => void {
    if (this.#lost) {
      listener(this.#lost);
      return () => undefined;
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Runs one statement (values are escaped by mysql2, never spliced by us). A statement without an
   * answer within `bound.ms` closes the session: its answer could come later and grant a lock
   * nobody expects any more.
   */
  run(sql: string, values: readonly unknown[], bound: StatementBound): Promise<RowsOrOk> {
    if (this.#lost) return Promise.reject(this.#lost);
    this.#hold(1);
    return new Promise<RowsOrOk>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new PrimacyBackendError('mysql', bound.operation, `no answer within ${Math.round(bound.ms)} ms`);
        this.#lose(error);
        this.connection.destroy();
        settle(() => reject(error));
      }, bound.ms);
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#hold(-1);
        outcome();
      };
      // Our own answer shapes, whatever the pool this session's settings were copied from asks for.
      const options = { sql, values, rowsAsArray: false, nestTables: false, typeCast: true };
      this.connection.query(options, (error, result) => {
        if (error) {
          if ((error as { fatal?: boolean }).fatal) this.#lose(error);
          return settle(() => reject(error));
        }
        settle(() => resolve(shape(result)));
      });
    });
  }

  /** Closes the connection now (the server frees the session's locks when it sees the close). */
  destroy(): void {
    this.#lose(connectionClosed('closed by primacy'));
    this.connection.destroy();
  }

  #lose(reason: Error): void {
    if (this.#lost) return;
    this.#lost = reason;
    for (const listener of [...this.#listeners]) listener(reason);
    this.#listeners.clear();
  }

  /** The socket keeps the process alive only while statements are in flight. */
  #hold(delta: number): void {
    this.#inFlight += delta;
    const stream = this.connection.stream;
    if (this.#inFlight > 0) stream?.ref?.();
    else stream?.unref?.();
  }
}

function connectionClosed(message = 'the connection to the server closed'): Error {
  return Object.assign(new Error(message), { code: 'PROTOCOL_CONNECTION_LOST' });
}

function shape(result: unknown): RowsOrOk {
  if (Array.isArray(result)) return { rows: result as Array<Record<string, unknown>>, affectedRows: 0, insertId: 0 };
  const ok = result as { affectedRows?: number; insertId?: number };
  return { rows: [], affectedRows: Number(ok.affectedRows ?? 0), insertId: Number(ok.insertId ?? 0) };
}
