import type pg from 'pg';
import { checksFor, optionKeys } from '../../src/adapter-kit.js';
import { namespaceKey } from './keys.js';
import { parseTableName, type TableName } from './table-name.js';

/** A `pg.Pool`: the lock reads its connection settings (`options`). */
export type PoolLike = pg.Pool;

/** A `pg.Client`: the lock reads its connection settings (`connectionParameters`, `password`). */
export type ClientLike = pg.Client;

/** What pg keeps of a client's settings (not in @types/pg). */
interface ClientSettings {
  readonly connectionParameters?: pg.ConnectionConfig & Record<string, unknown>;
  readonly password?: unknown;
}

export interface PostgresLockOptions {
  /**
   * A `pg.Pool`: its connection settings are used to open the lock's own connection, a new
   * `pg.Client` outside the pool. Never a pooled connection: a pool hands it to other code between
   * uses and may close or reset it, and any of that would drop the session lock. Never closed by primacy.
   */
  pool?: PoolLike;
  /**
   * A `pg.Client`: only its connection settings are used. primacy opens its own connection from
   * them, because a lock needs a session of its own (a client you also run queries or transactions
   * on would interleave with them), and a `pg.Client` cannot reconnect once its connection ends.
   * Your client is never queried, connected nor closed by primacy.
   */
  client?: ClientLike;
  /** Or a URL (`postgres://user@host:5432/db`): primacy opens its connection and closes it in `close()`. */
  connectionString?: string;
  /**
   * The advisory lock space: a 32-bit integer, or a string hashed to one. The lock's advisory key
   * is `(namespace, hash(name))`, so other applications on the database can keep to their own space.
   * @default 'primacy'
   */
  namespace?: number | string;
  /**
   * The table that keeps each lock's fencing token, holder and `runOnce` outcome (one row per lock
   * name and namespace, never deleted), optionally schema-qualified (`app.locks`). Lower-case
   * letters, digits and `_`. Created on first use if missing.
   *
   * Every candidate of a lock must use the very same table. The default is schema-qualified for
   * that reason: an unqualified name is resolved through each role's `search_path`, so a role with
   * a schema of its own name (`"$user"` comes first) would read and write `<role>.<table>`, another
   * table, with its own tokens, and its followers would never see (nor end) a paused holder of
   * another role. Qualify a name you choose when your candidates connect as different roles.
   * @default 'public.primacy_locks'
   */
  table?: string;
  /**
   * How often the one follower of a lock that watches the holder (the lock's "watcher") checks that
   * the holder's session still holds the lock and its lease has not expired, in ms. A crashed
   * holder is replaced within about this long; the other followers wait for a notification.
   * @default 200
   */
  livenessInterval?: number;
  /** How long opening the lock's connection may take, in ms. @default 5000 */
  connectTimeout?: number;
  /**
   * How long one statement may take, in ms. Past it the connection is closed (a server that does not
   * answer cannot be trusted to still hold the lock for us) and the call fails.
   * @default 10000
   */
  queryTimeout?: number;
}

export interface ResolvedPostgresOptions {
  /** The settings of the lock's own connections (from the pool, the client or the URL). */
  readonly connection: pg.ClientConfig;
  /** primacy created nothing the user passed: true for a URL. Only affects wording. */
  readonly fromUrl: boolean;
  readonly namespace: number;
  readonly table: TableName;
  readonly livenessInterval: number;
  readonly connectTimeout: number;
  readonly queryTimeout: number;
}

const KEYS = optionKeys<PostgresLockOptions>({
  pool: true,
  client: true,
  connectionString: true,
  namespace: true,
  table: true,
  livenessInterval: true,
  connectTimeout: true,
  queryTimeout: true,
});

/** Schema-qualified, so every role means the same table whatever its search_path. */
export const DEFAULT_TABLE = 'public.primacy_locks';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Checks `postgresLock()`'s options at construction; every error names the option, value and expectation. */
export function resolvePostgresOptions(options: PostgresLockOptions): ResolvedPostgresOptions {
  const check = checksFor('postgresLock()', 'postgres');
  check.options(options, KEYS, '{ pool }, { client } or { connectionString }');
  const { pool, client, connectionString } = options;
  const given = [pool, client, connectionString].filter((value) => value !== undefined).length;
  if (given !== 1) {
    const [option, value] =
      pool !== undefined ? ['pool', pool] : client !== undefined ? ['client', client] : ['connectionString', connectionString];
    check.fail(option, value, 'exactly one of `pool` (a pg.Pool), `client` (a pg.Client) and `connectionString`');
  }
  let connection: pg.ClientConfig;
  if (pool !== undefined) {
    const settings = (pool as { options?: unknown } | null)?.options;
    if (typeof settings !== 'object' || settings === null || typeof (pool as { connect?: unknown }).connect !== 'function') {
      check.fail('pool', pool, 'a pg.Pool (with its `options`)');
    }
    // The password is not enumerable in a pool's options (pg hides it from logs): copied by name.
    connection = { ...(settings as pg.PoolConfig), password: (settings as pg.PoolConfig).password };
  } else if (client !== undefined) {
    const params = (client as { connectionParameters?: unknown } | null)?.connectionParameters;
    if (typeof params !== 'object' || params === null || typeof (client as { query?: unknown }).query !== 'function') {
      check.fail('client', client, 'a pg.Client (with its `connectionParameters`)');
    }
    connection = fromClient(client as ClientLike);
  } else {
    if (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(connectionString)) {
      check.fail('connectionString', connectionString, 'a postgres:// or postgresql:// URL');
    }
    connection = { connectionString };
  }
  const { namespace = 'primacy', table = DEFAULT_TABLE } = options;
  let ns: number;
  if (typeof namespace === 'string' && namespace !== '') ns = namespaceKey(namespace);
  else if (typeof namespace === 'number' && Number.isInteger(namespace) && namespace >= INT32_MIN && namespace <= INT32_MAX) ns = namespace;
  else ns = check.fail('namespace', namespace, `a whole number from ${INT32_MIN} to ${INT32_MAX}, or a non-empty string`);
  const tableName = parseTableName(table);
  if (tableName === null) {
    check.fail(
      'table',
      table,
      'a table name of lower-case letters, digits and _ (at most 63 each), optionally schema-qualified: "primacy_locks", "app.locks"',
    );
  }
  return {
    connection,
    fromUrl: connectionString !== undefined,
    namespace: ns,
    table: tableName as TableName,
    livenessInterval: check.number('livenessInterval', options.livenessInterval, 200, {
      min: 10,
      max: 60_000,
      expected: 'a number of ms from 10 to 60000',
    }),
    connectTimeout: check.number('connectTimeout', options.connectTimeout, 5000, {
      min: 100,
      max: 600_000,
      expected: 'a number of ms from 100 to 600000',
    }),
    queryTimeout: check.number('queryTimeout', options.queryTimeout, 10_000, {
      min: 100,
      max: 600_000,
      expected: 'a number of ms from 100 to 600000',
    }),
  };
}

/** A pg.Client's connection settings (its password is hidden from enumeration: copied by name). */
function fromClient(client: ClientLike): pg.ClientConfig {
  const { connectionParameters: p = {}, password: hidden } = client as unknown as ClientSettings;
  const password = (hidden ?? p.password) as pg.ClientConfig['password'];
  return {
    user: p.user,
    password,
    host: p.host,
    port: p.port,
    database: p.database,
    ssl: p.ssl as pg.ClientConfig['ssl'],
    ...(typeof p.application_name === 'string' && { application_name: p.application_name }),
    ...(typeof p.options === 'string' && { options: p.options }),
  };
}
