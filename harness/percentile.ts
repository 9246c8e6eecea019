/**
 * The q-quantile (q from 0 to 1) of `samples`, by linear interpolation between closest ranks
 * (numpy's default, "type 7"). Runs have few samples (20 bench rounds, a handful of chaos faults
 * per kind): this way p95 of 20 lies between the 19th and 20th value and p99 of 11 just below the
 * maximum, instead of being the maximum again. NaN without samples: there is no figure to report.
 */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * q;
  const below = sorted[Math.floor(rank)] as number;
  const above = sorted[Math.ceil(rank)] as number;
  return below + (above - below) * (rank - Math.floor(rank));
}
