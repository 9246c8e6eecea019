/**
 * The logger shape primacy accepts: pino, bunyan, winston and `console` all fit. pino (a logger
 * with `child()` and `bindings()`) gets structured lines: primacy logs through a child bound with
 * `{ primacy: { election, id, identity, lock } }` and puts each line's facts (`token`, `reason`,
 * `err`, `operation`, `attempt`) in the merge object; any other logger gets the message text alone.
 */
export interface Logger {
  debug?(message: string, ...rest: unknown[]): void;
  info?(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}

/** Default: only what needs a human's attention reaches the console. */
export const consoleWarnings: Logger = {
  warn: (message, ...rest) => console.warn(message, ...rest),
  error: (message, ...rest) => console.error(message, ...rest),
};

export const silentLogger: Logger = { warn() {}, error() {} };

/**
 * `message` under primacy's prefix, `[primacy] [scope] `, exactly once: an error's message that
 * already carries a `[primacy]` prefix is passed through as it is, not prefixed a second time.
 */
export function prefixed(scope: string, message: string): string {
  return message.startsWith('[primacy]') ? message : `[primacy] [${scope}] ${message}`;
}
