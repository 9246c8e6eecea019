/** Summary statistics for a handful of samples (20 rounds), so the method is stated, not guessed. */
import { percentile } from '../harness/percentile.js';

// Still exported from here, as before the harness had it: the report modules import their figures from this module.
export { percentile };

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  max: number;
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
