/** `ms` spread uniformly by ±`jitter` (a fraction), so followers do not retry in lockstep. */
export function withJitter(ms: number, jitter: number, random: () => number = Math.random): number {
  return Math.max(0, ms * (1 + jitter * (2 * random() - 1)));
}

/** Settles with the promise's outcome, or with `'timeout'` after `ms`. Never rejects. */
export async function settleWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown } | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A follower's next retry: `retryInterval`, or after failures exponential backoff capped at `ttl`.
 * `idleRetry` (the adapter's, after a round lost to a live holder) stretches a quiet wait: the
 * adapter wakes the follower when the lock may have become free, so it need not ask often.
 */
export function retryDelay(
  failures: number,
  { retryInterval, ttl, jitter }: { retryInterval: number; ttl: number; jitter: number },
  idleRetry = 0,
): number {
  const base = failures === 0 ? retryInterval : Math.min(ttl, retryInterval * 2 ** Math.min(failures - 1, 10));
  return withJitter(Math.max(base, Math.min(idleRetry, MAX_IDLE_RETRY)), jitter);
}

/** An adapter's `idleRetry` beyond this is cut to it (10 min): a lost wake-up costs a follower at most this long. */
const MAX_IDLE_RETRY = 600_000;
