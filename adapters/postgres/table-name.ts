/**
 * The lock table's name, checked once: SQL identifiers cannot be passed as parameters, so the name
 * is spliced into statements, and only a plain lower-case identifier (optionally schema-qualified)
 * is accepted. It is still quoted where used.
 */
export interface TableName {
  /** As the user wrote it: `primacy_locks`, `app.locks`. */
  readonly text: string;
  /** Quoted for SQL: `"primacy_locks"`, `"app"."locks"`. */
  readonly sql: string;
  /** For `to_regclass()`: the same as `text` (lower-case, so unquoted means the same). */
  readonly regclass: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function parseTableName(value: unknown): TableName | null {
  if (typeof value !== 'string') return null;
  const parts = value.split('.');
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) return null;
  return { text: value, sql: parts.map((part) => `"${part}"`).join('.'), regclass: value };
}
