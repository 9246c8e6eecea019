/**
 * Many idle elections of one lock in one process, for the idle-cost-per-lock measure: each election
 * has an adapter of its own (bench/backend-locks.ts), so its own connections, as if each were a
 * process of its own; 200 node processes would not fit the bench's 2 cores. Every default.
 * Emits `ready` once every election is ready, `acquired` / `lost` / `released` when one of them
 * wins or loses (detail: which), and `error` for any election error.
 * argv: <backend> <lock name> <elections> <target url(s)>.
 */
import { elect } from '../../src/index.js';
import { isNetworkBackend, lockFor } from '../backend-locks.js';
import { emit } from './emit.js';

const [backend, name, count, target] = process.argv.slice(2);
const elections = Number(count);
if (!isNetworkBackend(backend) || !name || !target || !Number.isInteger(elections) || elections < 1) {
  throw new Error('usage: idle-elections.ts <backend> <lock name> <elections> <target>');
}

const started = Array.from({ length: elections }, (_, i) => {
  const election = elect({ name, lock: lockFor(backend, target), handleSignals: false, logger: false });
  election.on('elected', (lease) => emit('acquired', `election ${i}, token ${lease.token}`));
  election.on('revoked', ({ reason }) => emit(reason === 'stopped' ? 'released' : 'lost', `election ${i}: ${reason}`));
  election.on('error', (error) => emit('error', `election ${i}: ${error instanceof Error ? error.message : String(error)}`));
  return election;
});
await Promise.all(started.map((election) => election.ready));
emit('ready');
