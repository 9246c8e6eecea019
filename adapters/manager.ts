/**
 * The lock inside workers run by primacy's manager: the manager holds the backend lease (the file
 * lock by default, or the lock it was started with) on behalf of one acked worker and answers over
 * IPC, so a crashed primary is replaced the moment the manager sees its process exit, and every
 * other process using the lock name on that backend still elects one primary with the workers.
 * `elect()` uses it by default when the process runs under the manager.
 */
import { randomUUID } from 'node:crypto';
import type { HolderIdentity, Lease, LockAdapter, LockRecord } from '../src/adapter.js';
import {
  asBackendError,
  checksFor,
  isManaged,
  isPrimacyMessage,
  type LockOp,
  type ManagerMessage,
  type WorkerMessage,
} from '../src/adapter-kit.js';
import { PrimacyBackendError } from '../src/errors.js';

export { isManaged };

/**
 * The lock a managed worker's elections use by default. It takes no options (the manager's lock is
 * configured where the manager is started); an options object passed anyway must be empty.
 */
export function managerLock(options: Record<string, never> = {}): LockAdapter {
  const check = checksFor('managerLock()', 'manager');
  check.options(options, [], 'absent');
  if (!isManaged()) check.fail('lock', 'managerLock()', 'used in a process started by the primacy manager (PRIMACY_MANAGED=1 with IPC)');
  return new ManagerLock();
}

type LockReply = Extract<ManagerMessage, { primacy: 'lock-reply' }>;

/**
 * Every open manager lock of this copy of primacy, served by one `message` listener (a worker may
 * run many elections: a listener each would trip Node's MaxListeners warning). Each lock finds its
 * own replies by their ids, which are unique across locks (and across copies of primacy).
 */
const openLocks = new Set<ManagerLock>();
const route = (message: unknown) => {
  if (!isPrimacyMessage(message)) return;
  for (const lock of openLocks) lock.receive(message as ManagerMessage);
};

class ManagerLock implements LockAdapter {
  readonly kind = 'manager';
  readonly #pending = new Map<string, (reply: LockReply) => void>();
  readonly #watchers = new Map<string, Set<() => void>>();
  /** `<name>:<token>` of leases the manager said it no longer holds for us. */
  readonly #lost = new Set<string>();
  /** Request ids are `<instance>:<n>`: two locks' request 4 once settled each other (a renew's reply elected a follower). */
  readonly #instance = randomUUID();
  #nextId = 1;

  constructor() {
    if (openLocks.size === 0) process.on('message', route);
    openLocks.add(this);
  }

  /** A message from the manager: ours if it answers one of our requests, or news about a lock name. */
  receive(m: ManagerMessage): void {
    if (m.primacy === 'lock-reply') {
      const settle = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      settle?.(m);
    } else if (m.primacy === 'lock-free') {
      this.#wake(m.name);
    } else if (m.primacy === 'lock-lost') {
      this.#lost.add(`${m.name}:${m.token}`);
      this.#wake(m.name); // the elector reads isIntact on a hint: the holder steps down now
    }
  }

  async acquire(name: string, holder: HolderIdentity, ttl: number): Promise<Lease | null> {
    const { grant } = await this.#ask('acquire', { name, holder, ttl });
    if (grant) this.#lost.delete(`${name}:${grant.token}`);
    if (!grant) return null;
    const data: GrantData = { grantId: grant.grantId };
    return { name, token: grant.token, holder, acquiredAt: grant.acquiredAt, renewedAt: grant.renewedAt, ttl, data };
  }

  async renew(lease: Lease, ttl: number): Promise<Lease | null> {
    const { grant } = await this.#ask('renew', { name: lease.name, token: lease.token, grantId: grantIdOf(lease), ttl });
    return grant ? { ...lease, renewedAt: grant.renewedAt, ttl } : null;
  }

  async release(lease: Lease): Promise<void> {
    await this.#ask('release', { name: lease.name, token: lease.token, grantId: grantIdOf(lease) });
  }

  isIntact(lease: Lease): boolean {
    return !this.#lost.has(`${lease.name}:${lease.token}`);
  }

  async inspect(name: string): Promise<LockRecord | null> {
    return (await this.#ask('inspect', { name })).record ?? null;
  }

  watch(name: string, onChange: () => void): () => void {
    const set = this.#watchers.get(name) ?? new Set();
    this.#watchers.set(name, set.add(onChange));
    return () => set.delete(onChange);
  }

  async close(): Promise<void> {
    openLocks.delete(this);
    if (openLocks.size === 0) process.off('message', route);
  }

  #wake(name: string): void {
    for (const onChange of this.#watchers.get(name) ?? []) onChange();
  }

  #ask(op: LockOp, fields: Omit<Extract<WorkerMessage, { primacy: 'lock' }>, 'primacy' | 'id' | 'op'>) {
    const id = `${this.#instance}:${this.#nextId++}`;
    return new Promise<LockReply>((resolve, reject) => {
      if (!process.connected || !process.send) {
        reject(new PrimacyBackendError('manager', op, 'the IPC channel to the manager is closed'));
        return;
      }
      this.#pending.set(id, (reply) =>
        reply.error === undefined ? resolve(reply) : reject(new PrimacyBackendError('manager', op, reply.error)),
      );
      process.send({ primacy: 'lock', id, op, ...fields } satisfies WorkerMessage, undefined, undefined, (error) => {
        if (!error) return;
        this.#pending.delete(id);
        reject(asBackendError('manager', op, error));
      });
    });
  }
}

/** What a lease from the manager carries: which of our acquires the manager granted it to. */
interface GrantData {
  readonly grantId: string;
}

function grantIdOf(lease: Lease): string {
  return (lease.data as GrantData | undefined)?.grantId ?? '';
}
