/** `runOnce` outcomes: written only while the lock key is still attached to the writer's lease. */
import type { RunOutcome } from '../../src/adapter.js';
import { parseOutcome } from '../../src/adapter-kit.js';
import { type EtcdConnection, put, range, rangeAnswer } from './connection.js';
import type { LockKeys } from './keys.js';

export async function writeEtcdOutcome(connection: EtcdConnection, keys: LockKeys, leaseId: string, outcome: RunOutcome): Promise<boolean> {
  const written = await connection.txn('writeOutcome', {
    compare: [{ key: keys.lock, target: 'Lease', result: 'Equal', lease: leaseId }],
    success: [put(keys.outcome, JSON.stringify(outcome))],
  });
  return written.succeeded;
}

export async function readEtcdOutcome(connection: EtcdConnection, keys: LockKeys): Promise<RunOutcome | null> {
  const read = await connection.txn('readOutcome', { success: [range(keys.outcome)] });
  return parseOutcome(rangeAnswer(read, 0)?.value.toString());
}
