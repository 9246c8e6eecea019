/**
 * A config file's apps, checked and turned into manager options. One app may be the server (its
 * workers share one port through node:cluster); the others run beside it as managed processes, a
 * Node `script` or any `command`, each with its own instances, environment, working directory,
 * restart policy, kill timeout, memory limit and health check (a PaaS's web + queue + mail).
 * Every error names the file, the app and the key. Relative paths are the config file's directory's.
 */
import { availableParallelism } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { type Checks, checksFor } from '../_internal/checks.js';
import { parseBytes, parseDuration } from '../_internal/units.js';
import { optionKeys } from '../_internal/unknown-keys.js';
import type { LockAdapter } from '../adapter.js';
import { checkEnv, checkManageOptions, type ManageOptions } from './custom.js';
import type { ManagerOptions, ProcessOptions } from './options.js';

/** One app of a config file. */
export interface AppConfig {
  /** Its name: the server app's workers are `<name>-<i>`; a process is `<name>` (or `<name>-<i>` for several). */
  name: string;
  /** A Node module: it gets the `worker` API and heartbeats from its own event loop. */
  script?: string;
  /** Or any command: a string (run by /bin/sh -c) or an argv. */
  command?: string | string[];
  /** The server app: its workers share one port (node:cluster). At most one app. @default false */
  server?: boolean;
  /** How many processes; `'max'`: one per CPU. @default 1 */
  instances?: number | 'max';
  env?: Record<string, string>;
  cwd?: string;
  args?: string[];
  restart?: 'always' | 'on-failure' | 'never';
  /** ms, or `'15s'`. */
  killTimeout?: number | string;
  /** bytes, or `'512M'`. */
  maxMemory?: number | string;
  /** `url` (processes only; `{index}` is the instance's index): GET must answer 2xx within `timeout`. */
  health?: { url?: string; interval?: number | string; timeout?: number | string };
  transient?: boolean;
  tracked?: boolean;
  restartable?: boolean;
}

/** A config file: the apps, and manager-wide settings (each app may override its own). */
export interface PrimacyConfig
  extends Pick<
    ManagerOptions,
    'ackOn' | 'ackTimeout' | 'heartbeatInterval' | 'heartbeatTimeout' | 'drainTime' | 'restart' | 'backoff' | 'crashLoop' | 'healthCheck'
  > {
  apps: AppConfig[];
  name?: string;
  stateDir?: string;
  /** A `--lock` spec (`file`, `file:DIR`, `redis://...`) or, in a JS config, a lock adapter. */
  lock?: string | LockAdapter;
  /** Open the control socket for `primacy inspect`. @default false */
  inspector?: boolean;
  killTimeout?: number | string;
  maxMemory?: number | string;
  health?: { interval?: number | string; timeout?: number | string };
}

/** What `primacy start` needs from a config file. */
export interface StartPlan {
  manager: ManagerOptions;
  /** Where the apps come from (the script, or the config file): `--watch` watches its directory. */
  origin: string;
  lock: string | LockAdapter | undefined;
  inspector: boolean;
}

const CONFIG_KEYS = optionKeys<PrimacyConfig>({
  apps: true,
  name: true,
  stateDir: true,
  lock: true,
  inspector: true,
  ackOn: true,
  ackTimeout: true,
  heartbeatInterval: true,
  heartbeatTimeout: true,
  killTimeout: true,
  drainTime: true,
  restart: true,
  backoff: true,
  crashLoop: true,
  health: true,
  healthCheck: true,
  maxMemory: true,
});
const APP_KEYS = optionKeys<AppConfig>({
  name: true,
  script: true,
  command: true,
  server: true,
  instances: true,
  env: true,
  cwd: true,
  args: true,
  restart: true,
  killTimeout: true,
  maxMemory: true,
  health: true,
  transient: true,
  tracked: true,
  restartable: true,
});
const APP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** Checks `config` (read from `file`) and turns it into the manager's options. */
export function planFromConfig(config: unknown, file: string): StartPlan {
  const base = dirname(resolve(file));
  const check = checksFor(basename(file), `config ${basename(file)}`);
  const top = check.options(config as PrimacyConfig, CONFIG_KEYS, 'an object { apps: [...], ... }');
  if (!Array.isArray(top.apps) || top.apps.length === 0) check.fail('apps', top.apps, 'a non-empty array of apps');
  const names = new Set<string>();
  const apps = top.apps.map((app, i) => {
    const appCheck = checksFor(basename(file), `config ${basename(file)}: apps[${i}]`);
    appCheck.options(app, APP_KEYS, 'an app object { name, script | command, ... }');
    if (typeof app.name !== 'string' || !APP_NAME.test(app.name)) {
      appCheck.fail('name', app.name, 'letters, digits, `_`, `.` or `-`, at most 64 (it names the processes)');
    }
    if (names.has(app.name)) appCheck.fail('name', app.name, 'a name no other app has');
    names.add(app.name);
    return { app, check: checksFor(basename(file), `config ${basename(file)}: app "${app.name}"`) };
  });
  const servers = apps.filter(({ app }) => app.server === true);
  if (servers.length > 1)
    check.fail(
      'apps',
      servers.map(({ app }) => app.name),
      'at most one app with `server: true`',
    );
  const killTimeout = duration(check, 'killTimeout', top.killTimeout);
  const maxMemory = bytes(check, 'maxMemory', top.maxMemory);
  const manager: ManagerOptions = {
    ...pick(top, [
      'ackOn',
      'ackTimeout',
      'heartbeatInterval',
      'heartbeatTimeout',
      'drainTime',
      'restart',
      'backoff',
      'crashLoop',
      'healthCheck',
    ]),
    ...(top.name === undefined ? {} : { name: top.name }),
    ...(top.stateDir === undefined ? {} : { stateDir: resolve(base, top.stateDir) }),
    ...(killTimeout === undefined ? {} : { killTimeout }),
    ...(maxMemory === undefined ? {} : { maxMemory }),
    health: healthTimes(check, 'health', top.health),
    processes: [],
  };
  for (const { app, check: appCheck } of apps) {
    if (app.server === true) Object.assign(manager, serverOptions(app, appCheck, base, top));
    else manager.processes?.push(processOptions(app, appCheck, base, top));
  }
  if (top.inspector !== undefined && typeof top.inspector !== 'boolean') check.fail('inspector', top.inspector, 'a boolean');
  return { manager, origin: resolve(file), lock: top.lock, inspector: top.inspector === true };
}

function serverOptions(app: AppConfig, check: Checks, base: string, top: PrimacyConfig): Partial<ManagerOptions> {
  if (typeof app.script !== 'string' || app.script === '' || app.command !== undefined) {
    check.fail('script', app.script, 'the path of a Node module (a server app runs under node:cluster; `command` is for other apps)');
  }
  if (app.health?.url !== undefined) {
    check.fail(
      'health.url',
      app.health.url,
      "absent: a server app's workers share one port, so a URL cannot tell them apart (heartbeats catch a hung worker; a JS config can give `healthCheck`)",
    );
  }
  for (const key of ['transient', 'tracked', 'restartable'] as const) {
    if (app[key] !== undefined) check.fail(key, app[key], 'absent: server workers are always restarted and reloaded');
  }
  checkEnv(check, 'env', app.env);
  if (app.args !== undefined && (!Array.isArray(app.args) || app.args.some((arg) => typeof arg !== 'string'))) {
    check.fail('args', app.args, 'an array of strings');
  }
  const killTimeout = duration(check, 'killTimeout', app.killTimeout);
  const maxMemory = bytes(check, 'maxMemory', app.maxMemory);
  const health = app.health === undefined ? undefined : healthTimes(check, 'health', { ...top.health, ...app.health });
  return {
    script: resolve(base, app.script as string),
    workerName: app.name,
    workers: instances(check, app.instances, availableParallelism()),
    ...(app.args === undefined ? {} : { args: app.args }),
    ...(app.env === undefined ? {} : { env: app.env }),
    cwd: resolve(base, app.cwd ?? '.'),
    // The server's own values: the file's manager-wide ones stay the other apps' default.
    server: {
      ...(app.restart === undefined ? {} : { restart: app.restart }),
      ...(killTimeout === undefined ? {} : { killTimeout }),
      ...(maxMemory === undefined ? {} : { maxMemory }),
    },
    ...(health === undefined ? {} : { health }),
  };
}

function processOptions(app: AppConfig, check: Checks, base: string, top: PrimacyConfig): ProcessOptions {
  if ((app.script === undefined) === (app.command === undefined)) {
    check.fail('script', app.script, 'a Node module path, or else `command` (any command): one of the two');
  }
  // Only the app's own values: where unset, it falls back at run time to the manager-wide ones
  // (the file's top level, or a flag that overrides it).
  const killTimeout = duration(check, 'killTimeout', app.killTimeout);
  const maxMemory = bytes(check, 'maxMemory', app.maxMemory);
  const options: ManageOptions = {
    workers: instances(check, app.instances, 1),
    ...pick(app, ['args', 'env', 'transient', 'tracked', 'restartable']),
    cwd: resolve(base, app.cwd ?? '.'),
    ...(app.restart === undefined ? {} : { restart: app.restart }),
    ...(killTimeout === undefined ? {} : { killTimeout }),
    ...(maxMemory === undefined ? {} : { maxMemory }),
  };
  if (app.health !== undefined) {
    check.nested('health', app.health, ['url', 'interval', 'timeout']);
    if (typeof app.health.url !== 'string' || !/^https?:\/\//.test(app.health.url)) {
      check.fail('health.url', app.health.url, 'an http:// or https:// URL (`{index}` becomes the instance index)');
    }
    options.health = { url: app.health.url, ...healthTimes(check, 'health', { ...top.health, ...app.health }) };
  }
  const run = app.script !== undefined ? { module: resolve(base, app.script) } : { command: app.command as string | string[] };
  checkManageOptions(check, '', run.module ?? { command: run.command }, options);
  return { name: app.name, ...run, ...options };
}

function instances(check: Checks, value: unknown, fallback: number): number {
  if (value === 'max') return availableParallelism();
  return check.number('instances', value, fallback, { min: 1, whole: true, expected: "a whole number >= 1 or 'max'" });
}

/** A duration in ms from a number or `'15s'`; undefined when unset. */
function duration(check: Checks, key: string, value: unknown): number | undefined {
  if (typeof value !== 'string') return check.duration(key, value, undefined as unknown as number, 1);
  return parseDuration(value) ?? check.fail(key, value, "a duration: ms as a number, or a string like '500ms', '15s', '2m'");
}

function bytes(check: Checks, key: string, value: unknown): number | undefined {
  if (typeof value !== 'string')
    return check.number(key, value, undefined, { min: 1, whole: true, expected: "bytes, or a size like '512M'" });
  return parseBytes(value) ?? check.fail(key, value, "a size: bytes as a number, or a string like '512M', '1G'");
}

function healthTimes(check: Checks, key: string, value: PrimacyConfig['health']): { interval?: number; timeout?: number } {
  check.nested(key, value, ['interval', 'timeout', 'url']);
  const interval = duration(check, `${key}.interval`, value?.interval);
  const timeout = duration(check, `${key}.timeout`, value?.timeout);
  return { ...(interval === undefined ? {} : { interval }), ...(timeout === undefined ? {} : { timeout }) };
}

function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((key) => from[key] !== undefined).map((key) => [key, from[key]])) as Partial<Pick<T, K>>;
}
