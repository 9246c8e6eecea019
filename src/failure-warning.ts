/**
 * What follows a failure, as the warning says it, where it is not a retry: work that threw is not
 * called again until the next term (whilePrimary calls it once per term), and a release is tried
 * once (the lease then ends by its TTL, or at once where it is bound to a closed connection).
 */
const AFTER_FAILURE: Readonly<Record<string, string>> = {
  'whilePrimary work': 'not run again until the next term',
  release: 'not retried (the lease ends by its TTL)',
};

/** The warning an election logs for a failed operation: what failed, what follows, and why. */
export function failureWarning(operation: string, name: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `[primacy] ${operation} for "${name}" failed, ${AFTER_FAILURE[operation] ?? 'retrying'}: ${message}`;
}
