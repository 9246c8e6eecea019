/** Custom managed processes (`manager.manage()`, a config's non-server apps): their options and their slots. */
import { type Checks, checksFor } from '../_internal/checks.js';
import { PrimacyError } from '../errors.js';
import { type CustomProcess, createSlot, type Slot } from './incarnation.js';
import { PROCESS_KEYS } from './option-keys.js';
import type { RestartPolicy, RestartSettings } from './restart-policy.js';

/** What runs: a Node module (the `worker` API, heartbeats from its own loop), or any command. */
export type ProcessRun = string | { command: string | readonly string[] };

export interface ManageOptions {
  /** Arguments after the module (a `command` takes its own). */
  args?: string[];
  /** How many copies: named `name` for one, `name-<i>` for several. @default 1 */
  workers?: number;
  /** Added to the manager's environment, e.g. `{ TYPE: 'worker' }`. */
  env?: Record<string, string>;
  /** @default the manager's working directory */
  cwd?: string;
  /** Restarted by `reload()` like the server workers. @default false */
  transient?: boolean;
  /** Kept in the worker table once it has exited for good. @default true */
  tracked?: boolean;
  /** Restarted by the restart policy when it exits. @default true */
  restartable?: boolean;
  /** Its own restart policy. @default the manager's `restart` */
  restart?: RestartSettings['policy'];
  /** Its own SIGTERM-to-SIGKILL time in ms. @default the manager's `killTimeout` */
  killTimeout?: number;
  /** Restarted (without downtime) when its resident memory exceeds this many bytes. @default the manager's `maxMemory` */
  maxMemory?: number;
  /**
   * Checked over HTTP: every `interval` ms each acked copy's `url` (`{index}` becomes its index)
   * must answer 2xx within `timeout` ms, else the copy is replaced. @default interval and timeout: the manager's `health`
   */
  health?: { url: string; interval?: number; timeout?: number };
}

/** A command line as an argv: an array as given, a string through `/bin/sh -c` (pipes, `&&`, variables work). */
export function commandArgv(command: string | readonly string[]): readonly string[] {
  return typeof command === 'string' ? ['/bin/sh', '-c', command] : command;
}

/**
 * Checks one process's options, naming them under `path` (`processes[1].env`, `manage("mailer")`);
 * with no path (a config's app, whose keys its caller checked), by their own names.
 */
export function checkManageOptions(check: Checks, path: string, run: unknown, options: ManageOptions): void {
  if (path !== '') check.nested(path, options, PROCESS_KEYS);
  const named = (key: string) => (path === '' ? key : `${path}.${key}`);
  if (typeof run === 'string') {
    if (run === '') check.fail(named('module'), run, 'the path of a Node module');
  } else {
    const command = (run as { command?: unknown } | null)?.command;
    const argv = typeof command === 'string' ? command.trim() !== '' : isArgv(command);
    if (!argv) check.fail(named('command'), command, 'a command line (string) or a non-empty array of strings');
  }
  check.number(named('workers'), options.workers, 1, { min: 1, whole: true });
  if (options.args !== undefined && !isArgv(options.args, true)) check.fail(named('args'), options.args, 'an array of strings');
  checkEnv(check, named('env'), options.env);
  check.text(named('cwd'), options.cwd, undefined, 'a directory path');
  for (const key of ['transient', 'tracked', 'restartable'] as const) check.flag(named(key), options[key], undefined);
  check.oneOf(named('restart'), options.restart ?? undefined, ['always', 'on-failure', 'never'], undefined);
  check.duration(named('killTimeout'), options.killTimeout, 0, 1);
  check.number(named('maxMemory'), options.maxMemory, 0, { min: 1, whole: true, expected: 'a whole number of bytes >= 1' });
  if (options.health !== undefined) {
    check.nested(named('health'), options.health, ['url', 'interval', 'timeout']);
    if (typeof options.health.url !== 'string' || !URL.canParse(options.health.url.replaceAll('{index}', '0'))) {
      check.fail(named('health.url'), options.health.url, "an http:// or https:// URL (`{index}` becomes the copy's index)");
    }
    check.duration(named('health.interval'), options.health.interval, 0, 10);
    check.duration(named('health.timeout'), options.health.timeout, 0, 1);
  }
}

/** An environment to add: an object of string values, if given. */
export function checkEnv(check: Checks, option: string, env: unknown): void {
  if (env === undefined) return;
  const ok = typeof env === 'object' && env !== null && !Array.isArray(env) && Object.values(env).every((v) => typeof v === 'string');
  if (!ok) check.fail(option, env, 'an object of string values');
}

function isArgv(value: unknown, emptyOk = false): value is readonly string[] {
  return Array.isArray(value) && (emptyOk || value.length > 0) && value.every((part) => typeof part === 'string');
}

/** New slots for the copies of a custom process, refusing a name already in use. */
export function customSlots(
  name: string,
  run: ProcessRun,
  options: ManageOptions,
  existing: Slot[],
  policy: (override: RestartSettings['policy'] | undefined) => RestartPolicy,
): Slot[] {
  if (typeof name !== 'string' || name === '') checksFor('manager.manage()', 'manager').fail('name', name, 'a non-empty string');
  checkManageOptions(checksFor('manager.manage()', 'manager'), `manage(${JSON.stringify(name)})`, run, options);
  const count = options.workers ?? 1;
  if (existing.some((slot) => slot.name === name || slot.name.startsWith(`${name}-`))) {
    throw new PrimacyError('ERR_PRIMACY_MANAGER', `[primacy] [manager] a process named "${name}" is already managed`);
  }
  const custom: CustomProcess = {
    ...(typeof run === 'string' ? { module: run } : { command: commandArgv(run.command) }),
    args: options.args ?? [],
    env: options.env ?? {},
    cwd: options.cwd,
    transient: options.transient ?? false,
    tracked: options.tracked ?? true,
    restartable: options.restartable ?? true,
    killTimeout: options.killTimeout,
    maxMemory: options.maxMemory,
  };
  return Array.from({ length: count }, (_, i) => createSlot(i, policy(options.restart), count === 1 ? name : `${name}-${i}`, custom));
}
