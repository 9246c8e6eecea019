/**
 * The worker's side of custom inspector commands (`worker.command`): the handlers live here, in the
 * process that registered them; the manager only learns their names over IPC, sends a
 * `command-run` when `primacy inspect NAME args...` asks, and waits for the answer.
 */
import { checksFor } from '../_internal/checks.js';
import { PrimacyConfigError } from '../errors.js';
import { COMMAND_TIMEOUT, commandNameProblem, MAX_COMMAND_TIMEOUT } from './command-names.js';
import { isManaged, isPrimacyMessage, type ManagerMessage, type WorkerMessage } from './protocol.js';

/** Runs a custom command with the words after its name on the command line; its result is printed by `primacy inspect`. */
export type CommandHandler = (args: string[]) => unknown | Promise<unknown>;

export interface CommandOptions {
  /** One line for `primacy inspect commands`. @default '' */
  summary?: string;
  /** How long the manager waits for the handler's answer, in ms (at most 25 000). @default 10000 */
  timeout?: number;
}

const handlers = new Map<string, CommandHandler>();
let listening = false;

/** See `worker.command`. */
export function registerCommand(name: string, handler: CommandHandler, options: CommandOptions = {}): void {
  const check = checksFor('worker.command()', 'worker.command');
  const problem = commandNameProblem(name);
  if (problem !== null) throw new PrimacyConfigError('name', name, '', 'worker.command', `${problem}, got ${JSON.stringify(name)}`);
  if (handlers.has(name)) check.fail('name', name, 'a name not registered yet in this process');
  if (typeof handler !== 'function') check.fail('handler', handler, 'a function (args: string[]) => result');
  check.options(options, ['summary', 'timeout']);
  const summary = options.summary ?? '';
  if (typeof summary !== 'string' || summary.includes('\n')) check.fail('summary', summary, 'one line of text');
  const timeout = check.number('timeout', options.timeout, COMMAND_TIMEOUT, {
    min: 1,
    max: MAX_COMMAND_TIMEOUT,
    whole: true,
    expected: `a whole number of ms from 1 to ${MAX_COMMAND_TIMEOUT} (below primacy inspect's 30 s wait)`,
  });
  handlers.set(name, handler);
  // Outside a manager there is no inspector to run it: kept, so the app's code is the same everywhere.
  if (!isManaged() || !process.connected) return;
  if (!listening) {
    listening = true;
    process.on('message', onRun);
  }
  process.send?.({ primacy: 'command', name, summary, timeout } satisfies WorkerMessage);
}

function onRun(message: unknown): void {
  if (!isPrimacyMessage(message) || message.primacy !== 'command-run') return;
  const { id, name, args } = message as Extract<ManagerMessage, { primacy: 'command-run' }>;
  const reply = (fields: { ok: boolean; result?: unknown; error?: string }) => {
    if (!process.connected) return;
    try {
      process.send?.({ primacy: 'command-reply', id, ...fields } satisfies WorkerMessage);
    } catch (error) {
      // A result IPC cannot carry (a BigInt, a cycle): said instead of never answering.
      process.send?.({ primacy: 'command-reply', id, ok: false, error: `its result cannot be sent: ${(error as Error).message}` });
    }
  };
  const handler = handlers.get(name);
  if (!handler) {
    reply({ ok: false, error: `no command "${name}" here` });
    return;
  }
  // A handler that throws synchronously is the same failure as one that rejects.
  Promise.resolve()
    .then(() => handler(Array.isArray(args) ? args.map(String) : []))
    .then(
      (result) => reply({ ok: true, result: result ?? null }),
      (error: unknown) => reply({ ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
}
