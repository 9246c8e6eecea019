/**
 * The clocks that children stamp their JSON lines with and their parent compares against. A stamp
 * from one process is only worth comparing with another's if both read the same clock, so every
 * process of a test, a bench or a chaos run imports its clock from here. There are two, for two
 * needs; a run picks one and uses it in every process.
 */

/**
 * Wall-clock ms since the epoch, sub-ms precise: `performance.timeOrigin` is the process's wall
 * clock at its start (µs precision) and `performance.now()` its monotonic time since, so the sum
 * compares across processes on one host to well under a millisecond, without `Date.now()`'s 1 ms
 * steps. Tests and the bench use it: their runs are short, the examples and fixtures they start
 * print the same sum (as a user's app would), and the bench compares stamps with a worker's start
 * (`performance.timeOrigin`).
 */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/**
 * Ms on the host's CLOCK_MONOTONIC (`process.hrtime`), shared by every process on the host and never
 * stepped or slewed apart between them. `wallNow` fixes each process's offset at its start, so two
 * processes started minutes apart may disagree by the NTP slew in between; a chaos run lasts
 * minutes, restarts processes, steps their wall clocks on purpose, and compares their stamps to the
 * millisecond and to the elector's deadlines (which are monotonic too), so it uses this one.
 */
export const hostNow = (): number => Number(process.hrtime.bigint()) / 1e6;
