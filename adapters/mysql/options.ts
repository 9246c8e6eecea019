import { checksFor, optionKeys } from '../../src/adapter-kit.js';
import type { MysqlLockOptions } from '../mysql.js';
import { checkTableName } from './names.js';

/** `mysqlLock()`'s options, checked, with their defaults. Exactly one of `pool`, `uri`, `connection` is set. */
export interface ResolvedMysqlOptions {
  readonly pool: MysqlLockOptions['pool'];
  readonly uri: string | undefined;
  readonly connection: MysqlLockOptions['connection'];
  /** The fencing table, as given (`name` or `schema.name`). */
  readonly table: string;
  readonly prefix: string;
  readonly takeoverMargin: number;
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
