/**
 * The adapter's one session, kept: opened on first use (and its table made sure of), replaced by a
 * new one on the next call after it is lost, closed while no election uses the lock (so an unused
 * lock holds no connection), and closed for good by `close()`.
 */
import type { PrimacyBackendError } from '../../src/errors.js';
import { backendError, closedError } from './errors.js';
import { Session, type SessionSettings } from './session.js';
import type { Statements } from './sql.js';
import { ensureTable } from './table.js';
import type { TableName } from './table-name.js';

export interface ConnectionOptions {
  readonly settings: SessionSettings;
  readonly table: TableName;
  readonly sql: Statements;
  /** The live session was lost (the server freed its locks). */
  readonly onLost: () => void;
  readonly onNotification: (payload: string | undefined) => void;
}

export class LockConnection {
  #session: Session | null = null;
  #opening: Promise<Session> | null = null;
  #closed = false;
  readonly #options: ConnectionOptions;

  constructor(options: ConnectionOptions) {
    this.#options = options;
  }

  /** `host:port/database`, for errors and records. */
  get address(): string {
    return this.#options.settings.address;
  }

  /** The live session, without opening one (null while there is none). */
  current(): Session | null {
    return this.#session && !this.#session.lost ? this.#session : null;
  }

  /** The live session, opened if there is none; failures as backend errors of `operation`. */
  async live(operation: string): Promise<Session> {
    if (this.#closed) throw closedError(operation);
    const current = this.current();
    if (current) return current;
    this.#opening ??= this.#open().finally(() => {
      this.#opening = null;
    });
    try {
      return await this.#opening;
    } catch (error) {
      throw this.error(operation, error);
    }
  }

  error(operation: string, error: unknown): PrimacyBackendError {
    return backendError(operation, this.address, error);
  }

  /** No election uses the lock: close the session unless it holds a lock (the next call opens another). */
  idle(): void {
    const session = this.current();
    if (session && session.held.size === 0 && session.seats.size === 0) {
      this.#session = null;
      void session.end();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const session = this.#session ?? (await this.#opening?.catch(() => null)) ?? null;
    this.#session = null;
    await session?.end();
  }

  async #open(): Promise<Session> {
    const { settings, table, sql } = this.#options;
    const session = await Session.open(settings, {
      onLost: (lost) => {
        // A session replaced already (closed while idle) is no news to anyone.
        if (this.#session !== lost) return;
        this.#session = null;
        this.#options.onLost();
      },
      onNotification: this.#options.onNotification,
    });
    try {
      await ensureTable(session, table, sql, settings.address);
    } catch (error) {
      session.destroy();
      throw error;
    }
    if (this.#closed) {
      await session.end();
      throw closedError('connect');
    }
    this.#session = session;
    return session;
  }
}
