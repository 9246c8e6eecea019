/**
 * The server a MySQL lock lives on: how to open a new dedicated session on it (from the caller's
 * pool settings, a URI or connection options), how to ask it a question that needs no session of
 * its own (`inspect`, `readOutcome`: the caller's pool, or one small session of ours), and how its
 * failures are worded (the address, the errno).
 */
import mysql from 'mysql2';
import { asBackendError, bounded, unreachableError } from '../../src/adapter-kit.js';
import type { PrimacyBackendError } from '../../src/errors.js';
import { coreConfigOf, type ResolvedMysqlOptions } from './options.js';
import { type RowsOrOk, Session } from './session.js';

/** mysql2's "found rows" client flag: an UPDATE reports the rows it matched, changed or not. */
const FOUND_ROWS = 0x2;
/** TCP keepalive probes start after this long idle, so a vanished server or network is noticed. */
const KEEPALIVE_DELAY = 10_000;

/** Errors that say the server could not be reached or the connection broke, not that it refused a statement. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
]);

interface CorePool {
  query(options: object, callback: (error: Error | null, result: unknown) => void): unknown;
}

type Settings = Pick<ResolvedMysqlOptions, 'pool' | 'uri' | 'connection' | 'timeout'>;

export class MysqlServer {
  /** `mysql://user@host:port/database`, for messages (never the password). */
  readonly address: string;
  readonly timeout: number;
  readonly #template: object;
  readonly #pool: CorePool | undefined;
  #control: Promise<Session> | undefined;
  #closed = false;

  constructor({ pool, uri, connection, timeout }: Settings) {
    this.timeout = timeout;
    const ConnectionConfig = (mysql as unknown as { ConnectionConfig: ConnectionConfigClass }).ConnectionConfig;
    if (pool !== undefined) {
      this.#template = coreConfigOf(pool) as object;
      this.#pool = ((pool as { pool?: CorePool }).pool ?? pool) as CorePool;
    } else {
      const options = uri !== undefined ? ConnectionConfig.parseUrl(uri) : { ...connection };
      this.#template = new ConnectionConfig({ connectTimeout: timeout, ...options });
    }
    this.address = addressOf(this.#template as ConfigFields);
  }

  /** A new dedicated session (never one of the pool's): the caller owns it and destroys it. */
  async openSession(operation: string): Promise<Session> {
    if (this.#closed) throw this.error(operation, new Error('the lock is closed'));
    try {
      return await Session.open(this.#sessionConfig(), { ms: this.timeout, operation });
    } catch (error) {
      throw this.error(operation, error);
    }
  }

  /** One statement that needs no session of its own: on the caller's pool, else on our small control session. */
  async query(sql: string, values: readonly unknown[], operation: string): Promise<RowsOrOk> {
    try {
      if (this.#pool) return await this.#poolQuery(sql, values, operation);
      const session = await this.#controlSession(operation);
      return await session.run(sql, values, { ms: this.timeout, operation });
    } catch (error) {
      throw this.error(operation, error);
    }
  }

  /** `error` as a backend error of `operation` naming this server: unreachable (with its errno) or refused (with its code). */
  error(operation: string, error: unknown): PrimacyBackendError {
    const code = (error as { code?: string })?.code;
    if (code !== undefined && UNREACHABLE.has(code)) return unreachableError('mysql', operation, this.address, error);
    const { message, errno } = error as { message?: string; errno?: number };
    const said = code && !String(message).includes(code) ? ` [${code}${errno ? ` ${errno}` : ''}]` : '';
    return asBackendError('mysql', operation, error, `${message ?? String(error)}${said} (${this.address})`);
  }

  /** Closes our control session (never the caller's pool). Sessions made by `openSession` are their owners' to close. */
  async close(): Promise<void> {
    this.#closed = true;
    const control = this.#control;
    this.#control = undefined;
    (await control?.catch(() => undefined))?.destroy();
  }

  /** A copy of the settings for one new connection: ours to change (keepalive, found rows), never the pool's. */
  #sessionConfig(): object {
    const template = this.#template as ConfigFields;
    const config = Object.create(Object.getPrototypeOf(template), Object.getOwnPropertyDescriptors(template)) as ConfigFields;
    config.pool = undefined;
    config.queryFormat = undefined; // our statements are formatted by mysql2's own escaping, never a custom format
    config.enableKeepAlive = true;
    config.keepAliveInitialDelay ??= KEEPALIVE_DELAY;
    config.clientFlags = (config.clientFlags ?? 0) | FOUND_ROWS;
    return config;
  }

  #controlSession(operation: string): Promise<Session> {
    if (this.#control === undefined) {
      const opening = this.openSession(operation);
      this.#control = opening;
      const forget = () => {
        if (this.#control === opening) this.#control = undefined;
      };
      opening.then((session) => session.onLost(forget), forget);
    }
    return this.#control;
  }

  #poolQuery(sql: string, values: readonly unknown[], operation: string): Promise<RowsOrOk> {
    const pool = this.#pool as CorePool;
    const answer = new Promise<RowsOrOk>((resolve, reject) => {
      const options = { sql, values, rowsAsArray: false, nestTables: false, typeCast: true };
      pool.query(options, (error, result) => {
        if (error) return reject(error);
        const rows = Array.isArray(result) ? (result as Array<Record<string, unknown>>) : [];
        const ok = result as { affectedRows?: number; insertId?: number };
        resolve({ rows, affectedRows: Number(ok?.affectedRows ?? 0), insertId: Number(ok?.insertId ?? 0) });
      });
    });
    return bounded(answer, { ms: this.timeout, adapter: 'mysql', operation });
  }
}

interface ConnectionConfigClass {
  new (options: object): object;
  parseUrl(uri: string): object;
}

interface ConfigFields {
  host?: string;
  port?: number;
  user?: string;
  database?: string;
  socketPath?: string;
  pool?: unknown;
  queryFormat?: unknown;
  enableKeepAlive?: boolean;
  keepAliveInitialDelay?: number;
  clientFlags?: number;
}

function addressOf({ host, port, user, database, socketPath }: ConfigFields): string {
  const who = user ? `${encodeURIComponent(user)}@` : '';
  const where = socketPath ? `localhost(${socketPath})` : `${host?.includes(':') ? `[${host}]` : (host ?? 'localhost')}:${port ?? 3306}`;
  return `mysql://${who}${where}${database ? `/${database}` : ''}`;
}
