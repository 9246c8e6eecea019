import type { HolderIdentity, LockAdapter, LockRecord } from '../src/adapter.js';
import { checksFor, optionKeys } from '../src/adapter-kit.js';

export interface EnvLockOptions {
  /**
   * A boolean variable that must be exactly `true` or `false`.
   * @default 'PRIMARY_WORKER' (when `instanceVariable` is not given)
   */
  variable?: string;
  /**
   * An instance-number variable instead, such as PM2's `NODE_APP_INSTANCE`: the process whose value
   * equals `primaryValue` is primary. Values are compared as strings, as the environment holds them.
   */
  instanceVariable?: string;
  /** The instance value that is primary, as a string. @default '0' */
  primaryValue?: string;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
}

const KEYS = optionKeys<EnvLockOptions>({ variable: true, instanceVariable: true, primaryValue: true, env: true });

/**
 * A static decision from the environment: no lock, no failover. If the primary dies, nobody takes
 * over until it is restarted. An unset or invalid variable is a loud error, never "every instance
 * is primary".
 */
export function envLock(options: EnvLockOptions = {}): LockAdapter {
  checksFor('envLock()', 'env').options(options, KEYS);
  const env = options.env ?? process.env;
  const { primary, location } = decide(options, env);
  let released = false;
  return {
    kind: 'env',
    async acquire(name, holder, ttl) {
      if (!primary) return null;
      released = false;
      const t = Date.now();
      return { name, token: 1, holder, acquiredAt: t, renewedAt: t, ttl };
    },
    async renew(lease, ttl) {
      if (!primary || released) return null;
      return { ...lease, renewedAt: Date.now(), ttl };
    },
    async release() {
      released = true;
    },
    async inspect(name): Promise<LockRecord> {
      // Only this process's own role is knowable: the primary elsewhere is not recorded anywhere.
      const holder: HolderIdentity | null = null;
      return {
        name,
        state: 'held',
        token: 1,
        holder,
        acquiredAt: null,
        renewedAt: null,
        expiresAt: null,
        alive: null,
        location: `${location} (this process: ${primary ? 'primary' : 'secondary'})`,
      };
    },
  };
}

/** Exported for `lock-status --env`: what this environment decides, or a config error. */
export function decide(options: EnvLockOptions, env: NodeJS.ProcessEnv): { primary: boolean; location: string } {
  const check = checksFor('envLock()', 'env');
  // Options of the other mode would be silently ignored: say so instead.
  if (options.instanceVariable === undefined && options.primaryValue !== undefined) {
    check.fail('primaryValue', options.primaryValue, 'used only with `instanceVariable` (pass both)');
  }
  if (options.instanceVariable !== undefined && options.variable !== undefined) {
    check.fail('variable', options.variable, 'left out when `instanceVariable` is given (they are two modes)');
  }
  if (options.instanceVariable !== undefined) {
    const variable = check.text('instanceVariable', options.instanceVariable, undefined, 'a non-empty variable name') as string;
    const primaryValue = options.primaryValue ?? '0';
    if (typeof primaryValue !== 'string') check.fail('primaryValue', primaryValue, "a string such as '0' (environment values are strings)");
    const value = env[variable];
    if (value === undefined || value === '') {
      // Scoped by the variable: the error is about the environment, not about an option.
      const expected = `set (this process's instance number, compared with ${JSON.stringify(primaryValue)})`;
      checksFor('envLock()', `env: ${variable}`).fail(variable, value, expected);
    }
    return { primary: value === primaryValue, location: `env ${variable}=${value} (primary: ${primaryValue})` };
  }
  const variable = check.text('variable', options.variable ?? undefined, 'PRIMARY_WORKER', 'a non-empty variable name');
  const value = env[variable];
  if (value !== 'true' && value !== 'false') {
    const expected = "exactly 'true' or 'false' (unset is not allowed: say which process is primary)";
    checksFor('envLock()', `env: ${variable}`).fail(variable, value, expected);
  }
  return { primary: value === 'true', location: `env ${variable}=${value}` };
}
