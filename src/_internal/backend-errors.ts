/**
 * How a failed backend call becomes the PrimacyBackendError the elector reports: every adapter words
 * its failures here, so they all name the place that failed (a lock directory, a server's address)
 * and keep the original error as the `cause`. An error that is a backend error already was worded
 * where it arose, closer to the failure: it is passed on as it is.
 */
import { PrimacyBackendError } from '../errors.js';

/** `error` as a backend error of `operation`, saying `message` (by default its own message). */
export function asBackendError(adapter: string, operation: string, error: unknown, message = messageOf(error)): PrimacyBackendError {
  if (error instanceof PrimacyBackendError) return error;
  return new PrimacyBackendError(adapter, operation, message, { cause: error });
}

/** A file-system call failed at `location`: `<location>: <errno code> <message>`, as the file adapter has always worded it. */
export function fileSystemError(adapter: string, operation: string, location: string, error: unknown): PrimacyBackendError {
  const { code, message } = error as NodeJS.ErrnoException;
  return asBackendError(adapter, operation, error, `${location}: ${code ?? ''} ${message}`.trim());
}

/** The server at `address` cannot be reached: `cannot reach <address>: <cause>` (the errno says why: ECONNREFUSED, ENOTFOUND). */
export function unreachableError(adapter: string, operation: string, address: string, cause: unknown): PrimacyBackendError {
  return new PrimacyBackendError(adapter, operation, `cannot reach ${address}: ${causeText(cause)}`, { cause });
}

/** The server at `address` answered `operation` with an error: `<message> (<address>)`. */
export function serverError(adapter: string, operation: string, address: string, error: unknown): PrimacyBackendError {
  return asBackendError(adapter, operation, error, `${messageOf(error)} (${address})`);
}

/** The backend did not answer `operation` within `ms`: paused (SIGSTOP, a full disk on the server) or unreachable without a word. */
export function noAnswerError(adapter: string, operation: string, ms: number): PrimacyBackendError {
  return new PrimacyBackendError(adapter, operation, `no answer within ${Math.round(ms)} ms`);
}

/** Why one node of a quorum failed, and the error that said so. */
export interface NodeFailure {
  readonly reason: string;
  readonly error: unknown;
}

/** Too few of a quorum's nodes answered: how many, the quorum, and each failed node's reason; the cause is their errors. */
export function noQuorumError(
  adapter: string,
  operation: string,
  counts: { readonly answered: number; readonly nodes: number; readonly quorum: number },
  failures: readonly NodeFailure[],
): PrimacyBackendError {
  const reasons = failures.length > 0 ? `: ${failures.map((f) => f.reason).join('; ')}` : '';
  const message = `only ${counts.answered} of ${counts.nodes} nodes answered; a quorum is ${counts.quorum}${reasons}`;
  const cause = new AggregateError(
    failures.map((f) => f.error),
    'the nodes that failed',
  );
  return new PrimacyBackendError(adapter, operation, message, failures.length > 0 ? { cause } : undefined);
}

/**
 * What `error` says, without a backend error's `[primacy] [<adapter>] <operation> failed: ` prefix:
 * for an error that quotes several (one reason per quorum node).
 */
export function reasonOf(error: unknown): string {
  const message = messageOf(error);
  return error instanceof PrimacyBackendError ? message.replace(/^\[primacy\] \[[^\]]+\] \S+ failed: /, '') : message;
}

/** `error`'s message, with its errno code where the message does not name it already. */
export function causeText(error: unknown): string {
  const message = messageOf(error);
  const code = (error as NodeJS.ErrnoException)?.code;
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

function messageOf(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}
