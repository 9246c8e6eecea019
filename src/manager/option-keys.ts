/** The manager's option keys: an unknown one, at the top or in a nested options object, fails with the nearest known. */
import { optionKeys, rejectUnknownKeys } from '../_internal/unknown-keys.js';
import { PrimacyConfigError } from '../errors.js';
import type { ManagerOptions } from './options.js';

const scope = 'manager';

type ProcessOptions = NonNullable<ManagerOptions['processes']>[number];

// Written out once (optionKeys: a key missing here or not in the type fails to compile).
const KEYS = optionKeys<ManagerOptions>({
  script: true,
  workers: true,
  args: true,
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
});
const NESTED_KEYS = {
  backoff: optionKeys<NonNullable<ManagerOptions['backoff']>>({ backoffInitial: true, backoffMax: true, stableAfter: true }),
  crashLoop: optionKeys<NonNullable<ManagerOptions['crashLoop']>>({ burst: true, window: true }),
  health: optionKeys<NonNullable<ManagerOptions['health']>>({ interval: true, timeout: true }),
};
const PROCESS_KEYS = optionKeys<ProcessOptions>({
  name: true,
  module: true,
  args: true,
  workers: true,
  transient: true,
  tracked: true,
  restartable: true,
});

/** Throws a PrimacyConfigError naming the first unknown key (`backoff.initial`) and the nearest known one. */
export function rejectUnknown(options: ManagerOptions): void {
  const call = 'new WorkerManager()';
  rejectUnknownKeys(options, KEYS, { call, scope });
  for (const path of ['backoff', 'crashLoop', 'health'] as const) {
    const nested: unknown = options[path];
    if (nested === undefined) continue;
    if (typeof nested !== 'object' || nested === null || Array.isArray(nested)) {
      throw new PrimacyConfigError(path, nested, `an object of ${NESTED_KEYS[path].join(', ')}`, scope);
    }
    rejectUnknownKeys(nested, NESTED_KEYS[path], { call, scope, path });
  }
  if (!Array.isArray(options.processes)) return;
  options.processes.forEach((entry, i) => {
    if (typeof entry === 'object' && entry !== null) rejectUnknownKeys(entry, PROCESS_KEYS, { call, scope, path: `processes[${i}]` });
  });
}
