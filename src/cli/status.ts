import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { decide } from '../../adapters/env.js';
import { forceReleaseLockDir } from '../../adapters/file/force-release.js';
import { PrimacyConfigError, PrimacyUsageError } from '../errors.js';
import { defaultLockName } from '../is-primary-worker.js';
import { VERSION } from '../version.js';
import { EXIT, helpText, parseStatusArgs, type StatusArgs } from './args.js';
import { assess, changeKey, exitCodeOf, type LockStatus, renderTable, toJson, verdictLine } from './render.js';
import { type LockTarget, LockTargetError, resolveTarget } from './target.js';

/** The streams and environment the CLI talks to (the process's own, outside tests). */
export interface CliIo {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** Runs `lock-status` (or `primacy status`, with `prog` set accordingly); resolves the exit code. */
export async function runStatus(argv: readonly string[], prog = 'lock-status', io: CliIo = processIo()): Promise<number> {
  let args: StatusArgs | undefined;
  let lock: LockTarget | undefined;
  try {
    args = parseStatusArgs(argv);
    if (args.help) return print(io, helpText(prog, defaultLockName(io.cwd)), EXIT.held);
    if (args.version) return print(io, `${VERSION}\n`, EXIT.held);
    if (args.env) return envStatus(args.env, args.json, io, prog);
    lock = await resolveTarget(args.target, io.cwd);
    try {
      if (args.release) return await release(lock, args, io);
      if (args.watch !== null) return await watch(lock, args.json, args.watch, io);
      const status = await look(lock);
      return print(io, args.json ? `${toJson(status)}\n` : renderTable(status), exitCodeOf(status));
    } finally {
      await lock?.close?.();
    }
  } catch (error) {
    const usage = error instanceof PrimacyUsageError;
    // A script that asked for JSON gets JSON, errors included (even when the arguments did not parse).
    if (args?.json ?? jsonAsked(argv)) return print(io, `${errorJson(error, lock)}\n`, usage ? EXIT.usage : EXIT.error);
    if (usage) {
      io.stderr.write(`${prog}: ${error.message}\nsee ${prog} --help\n`);
      return EXIT.usage;
    }
    io.stderr.write(`${prog}: ${(error as Error)?.message ?? String(error)}\n`);
    return EXIT.error;
  }
}

function jsonAsked(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** `{error, code, name?, location?}`: what failed, its errno or primacy code, and which lock and where. */
function errorJson(error: unknown, lock: LockTarget | undefined): string {
  const { message = String(error), code, cause } = (error ?? {}) as { message?: string; code?: unknown; cause?: { code?: unknown } };
  // The errno (EACCES, ECONNREFUSED...) when the error wraps one: what a script can act on.
  const errno = typeof cause?.code === 'string' ? cause.code : code;
  const where =
    error instanceof LockTargetError
      ? { name: error.lock, location: error.location }
      : lock && { name: lock.name, location: lock.location };
  return JSON.stringify({ error: message, code: typeof errno === 'string' ? errno : 'ERR_PRIMACY_CLI', ...where });
}

async function look(lock: LockTarget): Promise<LockStatus> {
  const { record, unreachable } = await lock.inspect();
  return assess(lock.name, lock.location, record, Date.now(), unreachable);
}

function print(io: CliIo, text: string, code: number): number {
  io.stdout.write(text);
  return code;
}

function envStatus(options: NonNullable<StatusArgs['env']>, json: boolean, io: CliIo, prog: string): number {
  let decision: ReturnType<typeof decide>;
  try {
    decision = decide(options, io.env);
  } catch (error) {
    if (!(error instanceof PrimacyConfigError)) throw error;
    io.stderr.write(`${prog}: ${error.message}\n`);
    return EXIT.usage;
  }
  const role = decision.primary ? 'primary' : 'secondary';
  const text = json
    ? `${JSON.stringify({ location: decision.location, role, primary: decision.primary })}\n`
    : `${role}: ${decision.location} — this process would be ${role} (static: no failover)\n`;
  return print(io, text, decision.primary ? EXIT.held : EXIT.free);
}

/** Re-renders until SIGINT/SIGTERM; resolves the exit code of the last status shown. */
async function watch(lock: LockTarget, json: boolean, interval: number, io: CliIo): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // On a terminal, redraw in place every time (ages move); elsewhere, print only changes.
  const redraw = !json && io.stdout.isTTY === true;
  let code: number = EXIT.error;
  let last: string | undefined;
  try {
    while (!stop.signal.aborted) {
      let key: string;
      try {
        const status = await look(lock);
        code = exitCodeOf(status);
        key = changeKey(status);
        if (redraw) {
          io.stdout.write(`\x1b[H\x1b[2J every ${interval}ms, Ctrl-C to stop\n\n${renderTable(status)}`);
        } else if (key !== last) {
          io.stdout.write(json ? `${toJson(status)}\n` : `--- ${new Date(status.now).toISOString()}\n${renderTable(status)}\n`);
        }
      } catch (error) {
        code = EXIT.error;
        key = `error ${(error as Error)?.message}`;
        if (key !== last || redraw) {
          if (json) io.stdout.write(`${errorJson(error, lock)}\n`);
          else io.stderr.write(`${(error as Error)?.message}\n`);
        }
      }
      last = key;
      await sleep(interval, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return code;
}

async function release(lock: LockTarget, args: StatusArgs, io: CliIo): Promise<number> {
  if (!args.yes && io.stdin.isTTY !== true) {
    throw new PrimacyUsageError('refusing to force-release without confirmation: stdin is not a terminal; pass --yes to release anyway');
  }
  const status = await look(lock);
  const { record } = status;
  if (record === null || status.state !== 'held') {
    const text = args.json
      ? `${JSON.stringify({ name: lock.name, location: lock.location, released: null })}\n`
      : `nothing to release: ${verdictLine(status)}\n`;
    return print(io, text, EXIT.free);
  }
  const holder = record.holder;
  const liveness = record.alive === true ? 'alive' : record.alive === false ? 'dead' : 'liveness unknown';
  const who = holder ? `pid ${holder.pid} on ${holder.hostname} (${liveness})` : 'an unreadable record';
  if (holder && record.alive !== false) {
    const until = record.expiresAt === null ? '' : ` (within ${Math.max(0, Math.ceil((record.expiresAt - status.now) / 1000))}s)`;
    io.stderr.write(
      `warning: pid ${holder.pid} may still be running as primary: it steps down at its next renew${until}; ` +
        `until then the next holder's token ${record.token + 1} is what fences it off\n`,
    );
  }
  if (!args.yes && !(await confirm(io, `Release lock ${lock.name} (${lock.location}) held by ${who}? [y/N] `))) {
    return print(
      io,
      args.json ? `${JSON.stringify({ name: lock.name, location: lock.location, released: null })}\n` : 'not released\n',
      EXIT.free,
    );
  }
  // Only the lease the operator saw: if it changed hands meanwhile, release nothing.
  const released = await forceReleaseLockDir(lock.location, { token: record.token });
  if (args.json)
    return print(io, `${JSON.stringify({ name: lock.name, location: lock.location, released })}\n`, released ? EXIT.held : EXIT.free);
  if (!released)
    return print(io, `nothing released: the lock changed since it was read; now ${verdictLine(await look(lock))}\n`, EXIT.free);
  return print(io, `released lock ${lock.name}, token ${released.token}, held by ${who}\n`, EXIT.held);
}

/** Asks a yes/no question on the terminal; anything but y/yes (or Ctrl-C, Ctrl-D) is no. */
function confirm(io: CliIo, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream });
  return new Promise<boolean>((done) => {
    let answered = false;
    const finish = (yes: boolean) => {
      if (answered) return;
      answered = true;
      rl.close();
      done(yes);
    };
    rl.on('close', () => finish(false));
    rl.on('SIGINT', () => {
      io.stderr.write('\n');
      finish(false);
    });
    rl.question(question, (answer) => finish(/^y(es)?$/i.test(answer.trim())));
  });
}
