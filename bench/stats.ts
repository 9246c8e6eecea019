/** Summary statistics for a handful of samples (20 rounds), so the method is stated, not guessed. */

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

/**
 * The q-quantile by linear interpolation between closest ranks (numpy's default, "type 7"). With
 * 20 samples p95 lies between the 19th and 20th value, so it is not just the maximum again.
 */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * q;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (rank - low);
}

export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    p50: percentile(samples, 0.5),
    p95: percentile(samples, 0.95),
    max: samples.length ? Math.max(...samples) : Number.NaN,
  };
}

/** ms with a precision that suits the magnitude: 3.42, 48.1, 9862. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}
