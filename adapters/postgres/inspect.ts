/**
 * A Postgres lock's record for `inspect()` and `lock-status`: the row's holder and token, and
 * whether the holder's session still holds the advisory lock (`alive`). A row that says `held`
 * whose lock is gone is a crashed holder: shown `held` with `alive: false` (anyone may take it).
 *
 * `inspectPostgresLock(url, name)` is the one-shot form for the CLI: one connection, one
 * statement, closed again; it creates nothing (a missing table reads as "never taken").
 */
import pg from 'pg';
import type { HolderIdentity, LockRecord } from '../../src/adapter.js';
import { serverError, unreachableError } from '../../src/adapter-kit.js';
import { lockKeys } from './keys.js';
import { type PostgresLockOptions, resolvePostgresOptions } from './options.js';
import { type LockRow, statements } from './sql.js';

export interface InspectRow extends LockRow {
  readonly lock_pid: number | null;
}

/** SQLSTATE undefined_table. */
export const UNDEFINED_TABLE = '42P01';

export function recordOf(name: string, row: InspectRow | undefined, location: string): LockRecord | null {
  if (!row || row.token === null) return null;
  // `ending`: a follower is ending the holder's session; held until it has.
  const held = row.state === 'held' || row.state === 'ending';
  return {
    name,
    state: held ? 'held' : 'free',
    token: Number(row.token),
    holder: identityOf(row.holder),
    acquiredAt: row.acquired_at,
    renewedAt: held ? row.renewed_at : null,
    expiresAt: held ? row.expires_at : null,
    alive: held ? row.lock_pid !== null && row.lock_pid === row.backend_pid : null,
    location,
  };
}

/** The holder as people know it: the row's `holder` without the lease note the followers read (sightings.ts). */
function identityOf(holder: unknown): HolderIdentity | null {
  if (typeof holder !== 'object' || holder === null) return null;
  const { _lease, ...identity } = holder as HolderIdentity & { _lease?: unknown };
  return identity;
}

/** Where a lock is, for people: the server, database, table and namespace (never the password). */
export function locationOf(address: string, table: string, namespace: number): string {
  return `postgres://${address} table ${table} namespace ${namespace}`;
}

/** `host:port/database` of a connection config, as pg resolves it (URL, environment, defaults). */
export function addressOf(config: pg.ClientConfig): string {
  const client = new pg.Client(config);
  return `${client.host}:${client.port}/${client.database}`;
}

/** Options of `inspectPostgresLock`: the lock's namespace and table, as the lock was made with. */
export type InspectOptions = Pick<PostgresLockOptions, 'namespace' | 'table' | 'connectTimeout' | 'queryTimeout'>;

/**
 * The record of lock `name` at `connectionString` (a `postgres://` URL), or null if it was never
 * taken there. Opens one connection and closes it again; for `lock-status --postgres URL`.
 */
export async function inspectPostgresLock(
  connectionString: string,
  name: string,
  options: InspectOptions = {},
): Promise<LockRecord | null> {
  const resolved = resolvePostgresOptions({ connectionString, ...options });
  const address = addressOf(resolved.connection);
  const client = new pg.Client({
    ...resolved.connection,
    connectionTimeoutMillis: resolved.connectTimeout,
    application_name: 'primacy-inspect',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw unreachableError('postgres', 'inspect', address, error);
  }
  try {
    const keys = lockKeys(resolved.namespace, name);
    const { rows } = await client.query<InspectRow>({
      text: statements(resolved.table).inspect,
      values: [keys.namespace, keys.key, name],
      query_timeout: resolved.queryTimeout,
    } as pg.QueryConfig);
    return recordOf(name, rows[0], locationOf(address, resolved.table.text, resolved.namespace));
  } catch (error) {
    if ((error as { code?: string }).code === UNDEFINED_TABLE) return null;
    throw serverError('postgres', 'inspect', address, error);
  } finally {
    await client.end().catch(() => undefined);
  }
}
