/**
 * The lock table, created on first use (`CREATE TABLE IF NOT EXISTS`). A role that may not create
 * it gets an error that quotes the statement to run once as a role that may, and the GRANT the
 * lock's role then needs.
 */
import { PrimacyBackendError } from '../../src/errors.js';
import type { Session } from './session.js';
import type { Statements } from './sql.js';
import type { TableName } from './table-name.js';

/** SQLSTATE insufficient_privilege. */
export const INSUFFICIENT_PRIVILEGE = '42501';
/**
 * What a CREATE TABLE IF NOT EXISTS that lost a race with another session's says: duplicate_table,
 * duplicate_object (its row type) or unique_violation on the catalog (both checked that the table was
 * missing, both created it).
 */
const LOST_CREATE_RACE = ['42P07', '42710', '23505'];

export async function ensureTable(session: Session, table: TableName, sql: Statements, address: string): Promise<void> {
  const exists = async () =>
    (await session.query<{ exists: boolean }>('connect', 'SELECT to_regclass($1) IS NOT NULL AS exists', [table.regclass])).rows[0]?.exists;
  if (await exists()) return;
  try {
    await session.query('connect', sql.createTable);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (LOST_CREATE_RACE.includes(code) && (await exists())) return;
    if (code !== INSUFFICIENT_PRIVILEGE) throw error;
    const role = session.info.role;
    throw new PrimacyBackendError(
      'postgres',
      'connect',
      `the lock table ${table.text} does not exist on ${address}, and role "${role}" may not create it (${(error as Error).message}). Run once, as a role that may:\n${sql.createTable};\nGRANT SELECT, INSERT, UPDATE ON ${table.sql} TO "${role}";`,
      { cause: error },
    );
  }
}
