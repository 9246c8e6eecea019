import type { ConnectionOptions, Pool } from 'mysql2/promise';
import { checksFor, optionKeys } from '../../src/adapter-kit.js';
import { checkTableName } from './names.js';

export interface MysqlLockOptions {
  /**
   * A mysql2 pool (`createPool()` of `mysql2/promise` or `mysql2`). Never closed by primacy, and
   * never used to hold a lock: a pooled connection can be reset or lent to someone else, and the
   * lock would go with it. Each lock opens its own connections with the pool's settings; the pool
   * itself answers `inspect()` and `readOutcome()`.
   */
  pool?: Pool | object;
  /** Or a URI (`mysql://user:password@host:3306/database`): primacy opens the connections and closes them in `close()`. */
  uri?: string;
  /** Or mysql2 connection options (`{ host, port, user, password, database }`), as for `uri`. */
  connection?: ConnectionOptions;
  /**
   * The table of fencing tokens and holders (`name` or `schema.name`), created on first use if
   * missing. Every candidate of a lock must use the same table and prefix.
   * @default 'primacy_locks'
   */
  table?: string;
  /** Prefix of the server-wide lock names (names over 64 characters are hashed). @default 'primacy:' */
  prefix?: string;
  /**
   * How long past its lease's expiry (by the server's clock) a holder whose session is still open
   * (a paused process) is ended with `KILL CONNECTION`, in ms: room for clocks that tick at
   * slightly different rates.
   * @default 100
   */
  takeoverMargin?: number;
  /**
   * How long a follower the server handed the lock to waits, when its last holder's session ended
   * without a release, before it is elected, in ms: time for a running holder (whose session an
   * administrator killed, or the network cut) to see the close and step down first. A holder whose
   * event loop is blocked for longer may still read `isPrimary` after the takeover, as under any
   * pause; its token is already superseded.
   * @default 50
   */
  takeoverGrace?: number;
  /**
   * How long one blocked wait of a waiting follower lasts, in ms. Each waiting follower sends two
   * statements per `followerWait` (200 followers: under 7 per second); the one that watches the
   * holder for everyone, a few per TTL. A follower that was watching and is paused (its session
   * open) delays the takeover of a lock whose holder dies meanwhile by up to this long, plus the
   * TTL (at least 2 s): the time the others give a session that holds the lock unrecorded.
   * @default 60000
   */
  followerWait?: number;
  /**
   * How long a connect or a statement may take before it fails and its session is closed (so the
   * server frees what it held), in ms; a holder's statements get at most its TTL.
   * @default 10000
   */
  timeout?: number;
}

/** `mysqlLock()`'s options, checked, with their defaults. Exactly one of `pool`, `uri`, `connection` is set. */
export interface ResolvedMysqlOptions {
  readonly pool: MysqlLockOptions['pool'];
  readonly uri: string | undefined;
  readonly connection: MysqlLockOptions['connection'];
  /** The fencing table, as given (`name` or `schema.name`). */
  readonly table: string;
  readonly prefix: string;
  readonly takeoverMargin: number;
  readonly takeoverGrace: number;
  readonly followerWait: number;
  readonly timeout: number;
}

// The pool and the connection options are not checked for keys: they are the caller's objects, read by mysql2.
const KEYS = optionKeys<MysqlLockOptions>({
  pool: true,
  uri: true,
  connection: true,
  table: true,
  prefix: true,
  takeoverMargin: true,
  takeoverGrace: true,
  followerWait: true,
  timeout: true,
});

/** Checks `mysqlLock()`'s options at construction; every error names the option, value and expectation. */
export function resolveMysqlOptions(options: MysqlLockOptions): ResolvedMysqlOptions {
  const check = checksFor('mysqlLock()', 'mysql');
  check.options(options, KEYS, '{ pool }, { uri } or { connection }');
  const { pool, uri, connection } = options;
  const given = [pool, uri, connection].filter((value) => value !== undefined).length;
  if (given !== 1) {
    check.fail('pool', pool, 'a mysql2 pool, or `uri` or `connection` instead (exactly one of the three)');
  }
  if (pool !== undefined && coreConfigOf(pool) === undefined) {
    check.fail('pool', pool, "a mysql2 pool (createPool() of 'mysql2' or 'mysql2/promise')");
  }
  if (uri !== undefined && !isMysqlUri(uri)) check.fail('uri', uri, 'a mysql:// URI (mysql://user:password@host:3306/database)');
  if (connection !== undefined && (typeof connection !== 'object' || connection === null || Array.isArray(connection))) {
    check.fail('connection', connection, 'mysql2 connection options (an object: { host, port, user, password, database })');
  }
  const table = check.text('table', options.table, 'primacy_locks', 'a table name (letters, digits, _ and $; optionally schema.table)');
  if (!checkTableName(table)) {
    check.fail(
      'table',
      table,
      'a table name of letters, digits, _ and $ (up to 64 each, not starting with a digit), optionally schema.table',
    );
  }
  const { prefix = 'primacy:' } = options;
  if (typeof prefix !== 'string' || prefix.length > 32) check.fail('prefix', prefix, 'a string of at most 32 characters');
  return {
    pool,
    uri,
    connection,
    table,
    prefix: prefix as string,
    takeoverMargin: check.number('takeoverMargin', options.takeoverMargin, 100, {
      min: 0,
      max: 60_000,
      expected: 'a number of ms from 0 to 60000',
    }),
    takeoverGrace: check.number('takeoverGrace', options.takeoverGrace, 50, {
      min: 0,
      max: 60_000,
      expected: 'a number of ms from 0 to 60000',
    }),
    followerWait: check.number('followerWait', options.followerWait, 60_000, {
      min: 1000,
      max: 3_600_000,
      expected: 'a number of ms from 1000 to 3600000',
    }),
    timeout: check.duration('timeout', options.timeout, 10_000, 100),
  };
}

/** A mysql2 core pool's connection settings: `pool.pool.config.connectionConfig` (promise pool) or `pool.config.connectionConfig`. */
export function coreConfigOf(pool: unknown): object | undefined {
  const core = (pool as { pool?: unknown })?.pool ?? pool;
  const config = (core as { config?: { connectionConfig?: unknown } } | null)?.config?.connectionConfig;
  return typeof config === 'object' && config !== null ? config : undefined;
}

function isMysqlUri(uri: unknown): uri is string {
  if (typeof uri !== 'string' || !/^(mysql|mariadb):\/\//.test(uri)) return false;
  try {
    new URL(uri);
    return true;
  } catch {
    return false;
  }
}
