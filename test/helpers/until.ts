/**
 * The tests' one way to wait for a condition by polling. Each bound proves a mechanism (it is
 * generous for a busy machine); timing goals live in bench/.
 */

/** Resolves after `ms`. */
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `T` without the falsy values `until` waits past. */
type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** How often the helpers below look again, in ms. */
const EVERY = 20;

/**
 * Resolves with `read()`'s first truthy value, looking every 20 ms; rejects after `within` ms,
 * naming `what` (a function: read when it fails, to show the state at that moment).
 */
export async function until<T>(read: () => T | Promise<T>, within = 5000, what: string | (() => string) = 'condition'): Promise<Truthy<T>> {
  const deadline = performance.now() + within;
  for (;;) {
    const value = await read();
    if (value) return value as Truthy<T>;
    if (performance.now() > deadline) throw new Error(`${typeof what === 'function' ? what() : what}: not met within ${within} ms`);
    await pause(EVERY);
  }
}

/** How many ms `until(read, within, what)` took. */
export async function timeUntil(read: () => unknown, within: number, what: string): Promise<number> {
  const started = performance.now();
  await until(read, within, what);
  return performance.now() - started;
}

/**
 * `read()`'s value once `done(value)` holds, or its last value after `within` ms: never rejects,
 * so the caller's assertion on the value says what was wrong.
 */
export async function eventually<T>(read: () => T | Promise<T>, done: (value: T) => boolean, within: number): Promise<T> {
  const deadline = performance.now() + within;
  let value = await read();
  while (!done(value) && performance.now() < deadline) {
    await pause(EVERY);
    value = await read();
  }
  return value;
}
