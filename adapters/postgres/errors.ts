import { serverError, unreachableError } from '../../src/adapter-kit.js';
import { PrimacyBackendError } from '../../src/errors.js';
import type { TableName } from './table-name.js';

/**
 * `error` as a backend error of `operation` naming the server at `address`: a failed connection as
 * `cannot reach <address>: <errno>`, the server's answer with its SQLSTATE (`42501`, `42P01`...).
 * pg marks the server's answers with a `severity`; anything without one is the connection's.
 */
export function backendError(operation: string, address: string, error: unknown): PrimacyBackendError {
  if (error instanceof PrimacyBackendError) return error;
  const { code, severity } = (error ?? {}) as { code?: string; severity?: string };
  if (severity === undefined) return unreachableError('postgres', operation, address, error);
  return serverError('postgres', operation, address, new Error(`${(error as Error).message} (SQLSTATE ${code})`, { cause: error }));
}

/** A call after `close()`. */
export function closedError(operation: string): PrimacyBackendError {
  return new PrimacyBackendError('postgres', operation, 'the lock is closed (close() was called)');
}

/**
 * A statement the role may not run on the lock table (SQLSTATE 42501): names the GRANT to run. (A
 * follower's `pg_terminate_backend` refused has its own wording, takeover.ts.)
 */
export function privilegeError(operation: string, table: TableName, role: string, error: unknown): PrimacyBackendError {
  return new PrimacyBackendError(
    'postgres',
    operation,
    `role "${role}" may not use the lock table ${table.text} (${(error as Error).message}). Run, as its owner: GRANT SELECT, INSERT, UPDATE ON ${table.sql} TO "${role}";`,
    { cause: error },
  );
}
