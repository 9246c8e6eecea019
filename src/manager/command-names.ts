/**
 * What a custom inspector command may be called: checked by `worker.command()` (a clear error in
 * the app), by the manager (a bad registration message is ignored) and by `primacy inspect`
 * (before it connects). Lowercase, so a name reads the same on every command line; never a
 * built-in, so an app cannot shadow `status` or `shutdown`.
 */
import { CONTROL_COMMANDS } from './inspector.js';

export const COMMAND_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const COMMAND_NAME_RULE = 'a lowercase letter, then up to 39 lowercase letters, digits or dashes';

/** Names a custom command may not take: the built-ins, and `help`. */
export function reservedCommandNames(): string[] {
  return [...Object.keys(CONTROL_COMMANDS), 'help'];
}

/** Why `name` cannot be a custom command's name, or null if it can. */
export function commandNameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || !COMMAND_NAME.test(name)) return `a custom command's name must be ${COMMAND_NAME_RULE}`;
  if (reservedCommandNames().includes(name)) return `"${name}" is a built-in command (${reservedCommandNames().join(', ')})`;
  return null;
}

/** How long the manager waits for a custom command's answer by default, in ms. */
export const COMMAND_TIMEOUT = 10_000;
/** The longest wait a command may ask for: below `primacy inspect`'s own 30 s wait for the manager. */
export const MAX_COMMAND_TIMEOUT = 25_000;
