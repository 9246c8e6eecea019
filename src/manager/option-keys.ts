/** The manager's option keys: an unknown one, at the top or in a nested options object, fails with the nearest known. */
import type { Checks } from '../_internal/checks.js';
import { optionKeys } from '../_internal/unknown-keys.js';
import type { ManagerOptions, ProcessOptions } from './options.js';

// Written out once (optionKeys: a key missing here or not in the type fails to compile).
export const MANAGER_OPTION_KEYS = optionKeys<ManagerOptions>({
  script: true,
  workers: true,
  args: true,
  workerName: true,
  env: true,
  cwd: true,
  maxMemory: true,
  server: true,
  name: true,
  stateDir: true,
  lock: true,
  ackOn: true,
  ackTimeout: true,
  heartbeatInterval: true,
  heartbeatTimeout: true,
  killTimeout: true,
  drainTime: true,
  restart: true,
  backoff: true,
  crashLoop: true,
  processes: true,
  healthCheck: true,
  health: true,
  output: true,
});
const NESTED_KEYS = {
  backoff: optionKeys<NonNullable<ManagerOptions['backoff']>>({ backoffInitial: true, backoffMax: true, stableAfter: true }),
  crashLoop: optionKeys<NonNullable<ManagerOptions['crashLoop']>>({ burst: true, window: true }),
  health: optionKeys<NonNullable<ManagerOptions['health']>>({ interval: true, timeout: true }),
  server: optionKeys<NonNullable<ManagerOptions['server']>>({ restart: true, killTimeout: true, maxMemory: true }),
};
/** A custom process's keys (`processes[i]`, `manage()` options). */
export const PROCESS_KEYS = optionKeys<ProcessOptions>({
  name: true,
  module: true,
  command: true,
  args: true,
  workers: true,
  env: true,
  cwd: true,
  transient: true,
  tracked: true,
  restartable: true,
  restart: true,
  killTimeout: true,
  maxMemory: true,
  health: true,
});

/** Throws a PrimacyConfigError naming the first unknown nested key (`backoff.initial`) and the nearest known one (`processes[i]`: see custom.ts). */
export function rejectUnknownNested(check: Checks, options: ManagerOptions): void {
  for (const path of ['backoff', 'crashLoop', 'health', 'server'] as const) check.nested(path, options[path], NESTED_KEYS[path]);
}
