import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type Checks, checksFor } from '../_internal/checks.js';
import { ensurePrivateDir, privateRoot } from '../_internal/private-dir.js';
import type { LockAdapter } from '../adapter.js';
import { defaultLockName } from '../is-primary-worker.js';
import { checkLockAdapter } from '../options.js';
import { checkEnv, checkManageOptions, type ManageOptions } from './custom.js';
import type { HealthCheck } from './health.js';
import { MANAGER_OPTION_KEYS, rejectUnknownNested } from './option-keys.js';
import type { OutputFormat } from './output.js';

export interface ManagerOptions {
  /**
   * The server workers' module (the app; one shared port through node:cluster). Omit it to run
   * only `processes` (a config without a server app): there are then no server workers.
   */
  script?: string;
  /** Server worker slots. @default os.availableParallelism(), 0 without `script` */
  workers?: number;
  /** Arguments for the workers. @default [] */
  args?: string[];
  /** The server workers' names: `<workerName>-<index>` (a config's server app: the app's name). @default 'worker' */
  workerName?: string;
  /** Added to the server workers' environment (`{ TYPE: 'web' }`). @default {} */
  env?: Record<string, string>;
  /** The server workers' working directory. @default the manager's */
  cwd?: string;
  /**
   * A process whose resident memory (reported with its heartbeats) exceeds this many bytes is
   * replaced without downtime: its successor starts and acks first (PM2's `max_memory_restart`).
   * Custom processes may set their own. @default no limit
   */
  maxMemory?: number;
  /**
   * The server workers' own `restart`, `killTimeout` and `maxMemory` (a config file's server app),
   * where they differ from the manager-wide values custom processes fall back to. @default the manager-wide values
   */
  server?: { restart?: 'always' | 'on-failure' | 'never'; killTimeout?: number; maxMemory?: number };
  /**
   * Names this manager on its host: its claim and its inspector socket (`<stateDir>/<name>.sock`).
   * A second manager with the same name and state directory refuses to start, so two apps get two
   * names by default, and two managers of one app (blue/green) need one each.
   * @default the `name` in the package.json nearest to `script` (`@scope/app` → `_scope_app`), else 'primacy'
   */
  name?: string;
  /**
   * Where the manager's claim on its name and its socket live: a directory only this user may write.
   * @default `<private root>/managers`: `$XDG_RUNTIME_DIR/primacy/managers`, else `<tmpdir>/primacy-<uid>/managers`
   */
  stateDir?: string;
  /**
   * The lock the manager holds on behalf of its workers (for every lock name they campaign for
   * with the default lock). Use the lock every other process of the app uses, so they all elect
   * one primary together. @default fileLock(), the same default a plain process uses
   */
  lock?: LockAdapter;
  /** `listening`: a worker acks when its server listens; `ready`: when it calls `worker.ready()`. @default 'listening' */
  ackOn?: 'listening' | 'ready';
  /** Start-up ack timeout, separate from the heartbeat timeout. @default 30000 */
  ackTimeout?: number;
  /** How often workers send heartbeats. @default 1000 */
  heartbeatInterval?: number;
  /** A worker silent this long after its ack is hung: killed and replaced. @default 5000 */
  heartbeatTimeout?: number;
  /** SIGTERM, then SIGKILL after this long. @default 15000 */
  killTimeout?: number;
  /**
   * Before a restarted or scaled-down worker is retired, how long it answers every request with
   * `Connection: close`, so keep-alive clients move to a live worker before its servers close.
   * @default 1000
   */
  drainTime?: number;
  /** @default 'always' */
  restart?: 'always' | 'on-failure' | 'never';
  /** The first restart is immediate; then backoffInitial doubling up to backoffMax. @default { backoffInitial: 100, backoffMax: 10000, stableAfter: 30000 } */
  backoff?: { backoffInitial?: number; backoffMax?: number; stableAfter?: number };
  /** More than `burst` exits within `window` ms marks the slot FAILED. @default { burst: 5, window: 10000 } */
  crashLoop?: { burst?: number; window?: number };
  /** Custom processes to run beside the workers from the start (see `WorkerManager.manage`). */
  processes?: Array<ProcessOptions>;
  /** Custom async health check per acked worker; false, a throw or a timeout replaces the worker. */
  healthCheck?: HealthCheck;
  /** @default { interval: 5000, timeout: 2000 } */
  health?: { interval?: number; timeout?: number };
  /**
   * What becomes of the stdout and stderr of every process the manager starts. `inherit`: they
   * write to the manager's own streams directly. `prefix`: each line is written again on the
   * manager's stream of the same name as `<name>[<pid>] | <line>` (`worker-0[4242] | listening`),
   * the pid being that of the process that wrote it. `json`: each line becomes one JSON object
   * `{ time, name, pid, stream, msg }` (the line, even a JSON one, kept as the string `msg`).
   * @default 'inherit'
   */
  output?: 'inherit' | 'prefix' | 'json';
}

/** A custom process: a Node `module` or any `command` (a string runs through /bin/sh -c), and how it runs. */
export type ProcessOptions = { name: string; module?: string; command?: string | string[] } & ManageOptions;

export interface ResolvedManagerOptions {
  script: string | undefined;
  workers: number;
  args: string[];
  workerName: string;
  env: Record<string, string>;
  cwd: string | undefined;
  maxMemory: number | undefined;
  server: { restart: 'always' | 'on-failure' | 'never'; killTimeout: number; maxMemory: number | undefined };
  name: string;
  stateDir: string | undefined;
  lock: LockAdapter | undefined;
  ackOn: 'listening' | 'ready';
  ackTimeout: number;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  killTimeout: number;
  drainTime: number;
  restart: 'always' | 'on-failure' | 'never';
  backoff: { backoffInitial: number; backoffMax: number; stableAfter: number };
  crashLoop: { burst: number; window: number };
  healthCheck: HealthCheck | undefined;
  health: { interval: number; timeout: number };
  processes: NonNullable<ManagerOptions['processes']>;
  output: OutputFormat;
}

export function resolveManagerOptions(options: ManagerOptions): ResolvedManagerOptions {
  const check = checksFor('new WorkerManager()', 'manager');
  check.options(options, MANAGER_OPTION_KEYS);
  rejectUnknownNested(check, options);
  const script = check.text('script', options.script, undefined, 'the path of the worker module');
  const workers = check.number('workers', options.workers, script === undefined ? 0 : availableParallelism(), {
    min: script === undefined ? 0 : 1,
    whole: true,
  });
  if (script === undefined && workers > 0) check.fail('workers', workers, '0 without a `script` (server workers run the script)');
  if (script === undefined && !options.processes?.length)
    check.fail('script', script, 'the path of the worker module (or `processes` to run)');
  const workerName = check.text('workerName', options.workerName, 'worker');
  if (!MANAGER_NAME.test(workerName)) check.fail('workerName', workerName, 'letters, digits, `_`, `.` or `-`, at most 64');
  const duration = check.duration;
  const heartbeatInterval = duration('heartbeatInterval', options.heartbeatInterval, 1000, 10);
  const heartbeatTimeout = duration('heartbeatTimeout', options.heartbeatTimeout, 5000, 10);
  if (heartbeatTimeout <= heartbeatInterval * 2) {
    check.fail('heartbeatTimeout', heartbeatTimeout, `more than twice heartbeatInterval (${heartbeatInterval} ms)`);
  }
  const restart = check.oneOf('restart', options.restart ?? undefined, ['always', 'on-failure', 'never'], 'always');
  const killTimeout = duration('killTimeout', options.killTimeout, 15_000, 1);
  const ackOn = check.oneOf('ackOn', options.ackOn ?? undefined, ['listening', 'ready'], 'listening');
  const output = check.oneOf('output', options.output ?? undefined, ['inherit', 'prefix', 'json'], 'inherit');
  check.callback('healthCheck', options.healthCheck, 'a function (worker) => boolean | Promise<boolean>');
  checkProcesses(check, options.processes);
  checkEnv(check, 'env', options.env);
  check.text('cwd', options.cwd, undefined, 'a directory path');
  const maxMemory = check.number('maxMemory', options.maxMemory, undefined, {
    min: 1,
    whole: true,
    expected: 'a whole number of bytes >= 1',
  });
  if (options.lock !== undefined) checkLockAdapter(check, options.lock);
  if (options.lock?.connectionBound) {
    // Followers would take over the moment the manager's connection closes, while the worker acting
    // as primary learns of it only through the manager: a stopped or busy manager would leave it
    // primary beside the new holder.
    check.fail(
      'lock',
      options.lock.kind,
      'a lock whose leases a worker can act on through the manager: pass `connectionBinding: false` to redisLock()/redlockLock() (the manager still hands over at once when a worker dies)',
    );
  }
  if (options.name !== undefined && !MANAGER_NAME.test(options.name)) {
    check.fail('name', options.name, 'letters, digits, `_`, `.` or `-`, at most 64 (it names a file and a socket)');
  }
  check.text('stateDir', options.stateDir, undefined, 'a directory path');
  if (options.args !== undefined && (!Array.isArray(options.args) || options.args.some((a) => typeof a !== 'string'))) {
    check.fail('args', options.args, 'an array of strings');
  }
  return {
    script: script === undefined ? undefined : resolve(script),
    workers,
    args: options.args ?? [],
    workerName,
    env: options.env ?? {},
    cwd: options.cwd,
    maxMemory,
    server: {
      restart: check.oneOf('server.restart', options.server?.restart ?? undefined, ['always', 'on-failure', 'never'], restart),
      killTimeout: duration('server.killTimeout', options.server?.killTimeout, killTimeout, 1),
      maxMemory: check.number('server.maxMemory', options.server?.maxMemory, maxMemory, {
        min: 1,
        whole: true,
        expected: 'a whole number of bytes >= 1',
      }),
    },
    name: options.name ?? defaultManagerName(options.script ?? process.cwd()),
    stateDir: options.stateDir,
    lock: options.lock,
    ackOn,
    ackTimeout: duration('ackTimeout', options.ackTimeout, 30_000, 1),
    heartbeatInterval,
    heartbeatTimeout,
    killTimeout,
    drainTime: duration('drainTime', options.drainTime, 1000, 0),
    restart,
    backoff: {
      backoffInitial: duration('backoff.backoffInitial', options.backoff?.backoffInitial, 100, 1),
      backoffMax: duration('backoff.backoffMax', options.backoff?.backoffMax, 10_000, 1),
      stableAfter: duration('backoff.stableAfter', options.backoff?.stableAfter, 30_000, 1),
    },
    crashLoop: {
      burst: check.number('crashLoop.burst', options.crashLoop?.burst, 5, { min: 1 }),
      window: duration('crashLoop.window', options.crashLoop?.window, 10_000, 1),
    },
    healthCheck: options.healthCheck,
    processes: options.processes ?? [],
    health: {
      interval: duration('health.interval', options.health?.interval, 5000, 10),
      timeout: duration('health.timeout', options.health?.timeout, 2000, 1),
    },
    output,
  };
}

/** `processes`: an array of `{ name, module | command, ... }`, each checked as `manage()` checks it. */
function checkProcesses(check: Checks, processes: unknown): void {
  if (processes === undefined) return;
  if (!Array.isArray(processes)) check.fail('processes', processes, 'an array of { name, module | command, ... }');
  for (const [i, entry] of (processes as ProcessOptions[]).entries()) {
    if (typeof entry !== 'object' || entry === null) check.fail(`processes[${i}]`, entry, 'an object { name, module | command, ... }');
    if (typeof entry.name !== 'string' || entry.name === '') check.fail(`processes[${i}].name`, entry.name, 'a non-empty string');
    if ((entry.module === undefined) === (entry.command === undefined)) {
      check.fail(`processes[${i}]`, entry, 'an object with either `module` (a Node module) or `command` (any command), not both');
    }
    const { name: _, module, command, ...options } = entry;
    checkManageOptions(check, `processes[${i}]`, module ?? { command }, options);
  }
}

/** The manager's state directory, created 0700 if missing and checked as private (see private-dir.ts). */
export function usableStateDir(options: Pick<ResolvedManagerOptions, 'stateDir'>): string {
  const dir = options.stateDir === undefined ? defaultStateDir() : resolve(options.stateDir);
  if (options.stateDir === undefined) ensurePrivateDir(privateRoot());
  ensurePrivateDir(dir);
  return dir;
}

export function defaultStateDir(): string {
  return join(privateRoot(), 'managers');
}

const MANAGER_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/;

/**
 * The app's own name, from the package.json nearest to `from` (the script, or for `primacy inspect`
 * the working directory), made safe for a file name.
 */
export function defaultManagerName(from: string): string {
  const start = statOrNull(from)?.isDirectory() ? from : dirname(resolve(from));
  const name = defaultLockName(start)
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .slice(0, 64);
  return MANAGER_NAME.test(name) ? name : 'primacy';
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** The inspector's unix socket for the manager `name`. */
export function inspectorSocket(stateDir: string, name: string): string {
  return join(stateDir, `${name}.sock`);
}
