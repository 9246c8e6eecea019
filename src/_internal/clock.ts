/**
 * A monotonic clock in milliseconds. Leadership deadlines are computed on it, never on the wall
 * clock, so a wall-clock jump cannot extend a lease. Injectable so tests can "pause" a process.
 */
export interface Clock {
  now(): number;
}

export const monotonicClock: Clock = { now: () => performance.now() };
