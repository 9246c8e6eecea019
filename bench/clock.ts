/**
 * The one clock every bench process reads. `performance.timeOrigin` is each process's wall-clock
 * start (microsecond precision) and `performance.now()` its monotonic time since then, so their sum
 * is comparable across processes on one host (to well under a millisecond) without the 1 ms
 * granularity of `Date.now()`.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
