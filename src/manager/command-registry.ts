/**
 * The manager's registry of custom inspector commands (`worker.command`), per incarnation: a
 * process's commands are forgotten when it exits, and a restarted process registers its own
 * again. `primacy inspect NAME args...` runs NAME on every live process that registered it, one
 * per worker slot, and answers with each one's result keyed by worker name.
 */
import { PrimacyError } from '../errors.js';
import { COMMAND_TIMEOUT, commandNameProblem, MAX_COMMAND_TIMEOUT } from './command-names.js';
import type { Incarnation } from './incarnation.js';
import type { WorkerMessage } from './protocol.js';

type Registration = Extract<WorkerMessage, { primacy: 'command' }>;
type Reply = Extract<WorkerMessage, { primacy: 'command-reply' }>;

/** One process's answer to a custom command. */
export type CommandOutcome = { ok: true; result: unknown } | { ok: false; error: string };

/** A custom command as `primacy inspect commands` lists it. */
export interface CustomCommandInfo {
  readonly name: string;
  readonly summary: string;
  /** The workers (slot names) whose live process registered it. */
  readonly workers: string[];
}

/** Some process failed the command (threw, timed out, exited): `result` still holds every worker's outcome. */
export class CommandFailedError extends PrimacyError {
  override name = 'CommandFailedError';
  constructor(
    message: string,
    readonly result: Record<string, CommandOutcome>,
  ) {
    super('ERR_PRIMACY_COMMAND', message);
  }
}

export class CustomCommands {
  readonly #registered = new Map<Incarnation, Map<string, { summary: string; timeout: number }>>();
  readonly #pending = new Map<number, { from: Incarnation; settle: (outcome: CommandOutcome) => void }>();
  #nextId = 1;

  /** A registration or an answer from a process; a malformed one is ignored (never thrown: it comes from an app). */
  receive(incarnation: Incarnation, message: Registration | Reply): void {
    if (message.primacy === 'command-reply') {
      const pending = this.#pending.get(message.id);
      if (pending?.from !== incarnation) return;
      pending.settle(message.ok ? { ok: true, result: message.result ?? null } : { ok: false, error: String(message.error) });
      return;
    }
    if (commandNameProblem(message.name) !== null || !incarnation.alive) return;
    let commands = this.#registered.get(incarnation);
    if (!commands) {
      commands = new Map();
      this.#registered.set(incarnation, commands);
      incarnation.worker.on('exit', () => this.#forget(incarnation));
    }
    const timeout =
      Number.isInteger(message.timeout) && message.timeout >= 1 ? Math.min(message.timeout, MAX_COMMAND_TIMEOUT) : COMMAND_TIMEOUT;
    commands.set(message.name, { summary: typeof message.summary === 'string' ? message.summary : '', timeout });
  }

  /** Every custom command some live process registered, by name. */
  list(): CustomCommandInfo[] {
    const byName = new Map<string, { summary: string; workers: Set<string> }>();
    for (const [incarnation, commands] of this.#registered) {
      for (const [name, { summary }] of commands) {
        const entry = byName.get(name) ?? { summary, workers: new Set<string>() };
        entry.workers.add(incarnation.slot.name);
        byName.set(name, entry);
      }
    }
    return (
      [...byName]
        .sort(([a], [b]) => a.localeCompare(b))
        // Workers in slot order (worker-0, worker-1, ...), whichever registered first.
        .map(([name, { summary, workers }]) => ({
          name,
          summary,
          workers: [...workers].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
        }))
    );
  }

  has(name: string): boolean {
    return [...this.#registered.values()].some((commands) => commands.has(name));
  }

  /**
   * Runs `name` on each worker that registered it: per slot, its newest process that is not being
   * retired (during a zero-downtime restart the new process answers, not the outgoing one). Resolves
   * with each one's outcome keyed by worker name; rejects with a CommandFailedError (carrying the
   * same outcomes) if any failed.
   */
  async run(name: string, args: string[]): Promise<Record<string, CommandOutcome>> {
    const targets = new Map<string, Incarnation>();
    for (const [incarnation, commands] of this.#registered) {
      if (commands.has(name) && !incarnation.draining) targets.set(incarnation.slot.name, incarnation);
    }
    if (targets.size === 0) throw new PrimacyError('ERR_PRIMACY_COMMAND', `no live worker has "${name}" registered (it is being retired)`);
    const answers = await Promise.all([...targets].map(async ([worker, to]) => [worker, await this.#ask(to, name, args)] as const));
    const outcomes: Record<string, CommandOutcome> = Object.fromEntries(answers);
    const errors = Object.entries(outcomes).flatMap(([worker, outcome]) => (outcome.ok ? [] : [`${worker}: ${outcome.error}`]));
    if (errors.length > 0) throw new CommandFailedError(`${name} failed on ${errors.join('; ')}`, outcomes);
    return outcomes;
  }

  #ask(incarnation: Incarnation, name: string, args: string[]): Promise<CommandOutcome> {
    const id = this.#nextId++;
    const timeout = this.#registered.get(incarnation)?.get(name)?.timeout ?? COMMAND_TIMEOUT;
    return new Promise((resolve) => {
      // A hung handler (or event loop) must not hold the inspector's answer forever.
      const timer = setTimeout(() => settle({ ok: false, error: `no answer within ${timeout} ms` }), timeout);
      const settle = (outcome: CommandOutcome) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(outcome);
      };
      this.#pending.set(id, { from: incarnation, settle });
      incarnation.worker.send({ primacy: 'command-run', id, name, args });
    });
  }

  /** The process exited: its commands go, and whatever it was asked is answered for it. */
  #forget(incarnation: Incarnation): void {
    this.#registered.delete(incarnation);
    for (const pending of [...this.#pending.values()]) {
      if (pending.from === incarnation) pending.settle({ ok: false, error: `exited (pid ${incarnation.pid}) before answering` });
    }
  }
}
