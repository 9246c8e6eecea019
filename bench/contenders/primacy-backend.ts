/**
 * A primacy contender on one of the network adapters (bench/backend-locks.ts) as a user would write
 * it: `elect({ name, lock })` with every default but, when given, the TTL (handleSignals true, so
 * SIGTERM releases the lock, then the signal is re-raised and the process exits).
 * argv: <backend> <lock name> <target url(s)> [ttl ms].
 */
import { elect } from '../../src/index.js';
import { isNetworkBackend, lockFor } from '../backend-locks.js';
import { emit } from './emit.js';

const [backend, name, target, ttl] = process.argv.slice(2);
if (!isNetworkBackend(backend) || !name || !target) throw new Error('usage: primacy-backend.ts <backend> <lock name> <target> [ttl ms]');

const election = elect({ name, lock: lockFor(backend, target), ...(ttl && { ttl: Number(ttl) }) });
election.on('elected', (lease) => emit('acquired', `token ${lease.token}`));
// As in primacy-file.ts: 'revoked' is stamped when isPrimary already reads false.
election.on('revoked', ({ reason }) => emit(reason === 'stopped' ? 'released' : 'lost', reason));
election.on('error', (error) => emit('error', error instanceof Error ? error.message : String(error)));
await election.ready;
emit('ready');
