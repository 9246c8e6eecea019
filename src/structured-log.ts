import type { AdapterCallContext, HolderIdentity } from './adapter.js';
import { consoleWarnings, type Logger, silentLogger } from './logger.js';

/** Facts that vary from one line to the next (token, reason, err...), or fixed ones bound to a child logger. */
export type LogFields = Record<string, unknown>;

/**
 * How primacy logs. Every call site gives one message text and, apart, the facts in it: a logger
 * in pino's shape receives them as its merge object (`logger.info({ token }, message)`), so they
 * can be queried rather than parsed out of the text; any other logger receives the text alone,
 * exactly as it did before fields existed.
 */
export interface PrimacyLog {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** What adapters warn through (`AdapterCallContext.warn`), with their details as fields. */
  readonly context: AdapterCallContext;
}

type MergeObjectMethod = (fields: LogFields, message: string) => void;

/** The part of pino's API primacy relies on (bunyan-style `(fields, message)` calls, `child()`). */
interface PinoShaped {
  child(bindings: LogFields): PinoShaped;
  bindings(): LogFields;
  info?: MergeObjectMethod;
  warn: MergeObjectMethod;
  error: MergeObjectMethod;
}

/**
 * pino: `child()` and `bindings()`. `child()` alone is not enough: winston has one too, but reads
 * `info(fields, message)` as a message that is an object; a logger without `bindings()` therefore
 * gets text, as always.
 */
export function isPinoShaped(logger: unknown): boolean {
  const candidate = logger as Partial<PinoShaped> | null;
  return typeof candidate?.child === 'function' && typeof candidate.bindings === 'function';
}

/**
 * primacy's log for one election (or runOnce task): through a child of a pino-shaped `logger`
 * bound with `bindings`, else as plain text to `logger`. `undefined` logs warnings and errors to
 * the console; `false` is silent.
 */
export function primacyLog(logger: Logger | false | undefined, bindings: LogFields): PrimacyLog {
  const base = logger === false ? silentLogger : (logger ?? consoleWarnings);
  if (isPinoShaped(base)) {
    const child = (base as unknown as PinoShaped).child(bindings);
    return {
      info: (message, fields = {}) => child.info?.(fields, message),
      warn: (message, fields = {}) => child.warn(fields, message),
      error: (message, fields = {}) => child.error(fields, message),
      context: { warn: (message, details = {}) => child.warn(details, message) },
    };
  }
  return {
    info: (message) => base.info?.(message),
    warn: (message) => base.warn(message),
    error: (message) => base.error(message),
    // Adapters' details went as a second argument before fields existed; they still do.
    context: { warn: (message, details) => (details ? base.warn(message, details) : base.warn(message)) },
  };
}

/**
 * `logger` without `info`: its warnings and errors only. A pino-shaped logger stays pino-shaped
 * (its children too), so what still gets through keeps its fields.
 */
export function withoutInfo(logger: Logger): Logger {
  const quiet: Logger = { warn: logger.warn.bind(logger), error: logger.error.bind(logger) };
  if (!isPinoShaped(logger)) return quiet;
  const pino = logger as unknown as PinoShaped;
  const child = (bindings: LogFields) => withoutInfo(pino.child(bindings) as unknown as Logger);
  return Object.assign(quiet, { child, bindings: () => pino.bindings() });
}

/**
 * What a pino-shaped logger's child is bound with for one election, under one `primacy` key so
 * nothing collides with the application's own fields (pino's `name`, say). Each line adds its
 * own facts at the top level: `token`; `reason` (of a lost leadership); `err` (pino's standard
 * serializer turns it into type, message and stack), `operation` and, for a retried backend
 * call, `attempt` (how many times in a row it has failed, this one included).
 */
export function electionBindings(name: string, holder: HolderIdentity, lock: string): LogFields {
  return { primacy: { election: name, id: holder.id, identity: holder.label, lock } };
}
