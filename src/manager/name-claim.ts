/**
 * A manager's name on its host. Its state and its inspector socket are named after it, so two
 * managers with one name would fight over both (the second used to take over the first one's
 * socket in silence). The name is a file lock in the state directory, held for the manager's
 * life: a crashed manager's claim is free at once (its pid is checked, guarded against reuse), a
 * live one's never, so a second manager with the same name refuses to start and names the holder.
 */
import { fileLock } from '../../adapters/file.js';
import type { Lease, LockAdapter, LockRecord } from '../adapter.js';
import { PrimacyError } from '../errors.js';
import { createHolderIdentity } from '../identity.js';

/** Long: a paused manager keeps its name; a dead one loses it at once to the pid check, not to expiry. */
const CLAIM_TTL = 60_000;
const RENEW_EVERY = 10_000;
/** How long a start waits for a claim that is being handed over (a previous manager stopping, a vanish wait). */
const HANDOVER_WAIT = 3000;

export class ManagerNameClaim {
  #renewer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly lock: LockAdapter,
    private lease: Lease,
    onLost: (message: string) => void,
  ) {
    this.#renewer = setInterval(() => {
      lock.renew(this.lease, CLAIM_TTL).then(
        (renewed) => {
          if (renewed) this.lease = renewed;
          else onLost(`[primacy] [manager] lost the claim on its name in ${lock.kind} lock ${this.lease.name}: another manager took it`);
        },
        (error: Error) => onLost(`[primacy] [manager] could not renew the claim on its name: ${error.message}`),
      );
    }, RENEW_EVERY);
    this.#renewer.unref();
  }

  /** Claims `name` in `stateDir`, or throws an error that says which process holds it. */
  static async take(stateDir: string, name: string, onLost: (message: string) => void): Promise<ManagerNameClaim> {
    const lock = fileLock({ dir: stateDir });
    const holder = createHolderIdentity(`primacy manager "${name}"`);
    const giveUpAt = performance.now() + HANDOVER_WAIT;
    for (;;) {
      const lease = await lock.acquire(name, holder, CLAIM_TTL);
      if (lease) return new ManagerNameClaim(lock, lease, onLost);
      const record = await lock.inspect(name);
      if ((record?.state === 'held' && record.alive !== false) || performance.now() > giveUpAt) {
        await lock.close?.();
        throw new PrimacyError('ERR_PRIMACY_MANAGER_NAME', alreadyRunning(name, stateDir, record));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async release(): Promise<void> {
    clearInterval(this.#renewer);
    await this.lock.release(this.lease).catch(() => undefined);
    await this.lock.close?.();
  }
}

function alreadyRunning(name: string, stateDir: string, record: LockRecord | null): string {
  const holder = record?.holder;
  const who = holder
    ? `pid ${holder.pid} on ${holder.hostname}${record.acquiredAt ? ` (since ${new Date(record.acquiredAt).toISOString()})` : ''}`
    : 'another process';
  return (
    `[primacy] [manager] a manager named "${name}" is already running: ${who}; its state is in ${stateDir}. ` +
    'Stop it first, or give this one another name (--name, or the `name` option).'
  );
}
