import { PrimacyBackendError } from '../../src/errors.js';

/** A file-system failure of `operation` on the lock directory `dir`, as the elector reports it. */
export function fileBackendError(operation: string, dir: string, error: unknown): PrimacyBackendError {
  if (error instanceof PrimacyBackendError) return error;
  const { code, message } = error as NodeJS.ErrnoException;
  return new PrimacyBackendError('file', operation, `${dir}: ${code ?? ''} ${message}`.trim(), { cause: error });
}
